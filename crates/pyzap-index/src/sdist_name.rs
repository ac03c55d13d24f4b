//! Source distribution filenames (`name-version.tar.gz`, `.zip`): the name
//! may itself hold dashes, so the split is at the last dash that leaves a
//! valid version behind.

use std::str::FromStr;

use pyzap_spec::{PackageName, Version};

pub fn parse_sdist_filename(filename: &str) -> Option<(PackageName, Version)> {
    let stem = filename
        .strip_suffix(".tar.gz")
        .or_else(|| filename.strip_suffix(".zip"))?;
    let mut cut = stem.len();
    while let Some(pos) = stem[..cut].rfind('-') {
        if let (Ok(name), Ok(version)) = (
            PackageName::from_str(&stem[..pos]),
            Version::from_str(&stem[pos + 1..]),
        ) {
            return Some((name, version));
        }
        cut = pos;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_version() {
        let (n, v) = parse_sdist_filename("zope-interface-5.0.tar.gz").unwrap();
        assert_eq!(
            (n.as_ref(), v.to_string().as_str()),
            ("zope-interface", "5.0")
        );
        assert!(parse_sdist_filename("six.tar.gz").is_none());
        assert!(parse_sdist_filename("six-1.0.whl").is_none());
    }
}
