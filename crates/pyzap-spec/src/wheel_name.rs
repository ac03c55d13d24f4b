//! Wheel filenames (PEP 427 / binary distribution format): name, version,
//! optional build tag and the compressed tag sets.

use std::fmt;
use std::str::FromStr;

use crate::{PackageName, SpecError, Tag, Version};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WheelFilename {
    pub name: PackageName,
    pub version: Version,
    pub build: Option<String>,
    pub python_tags: Vec<String>,
    pub abi_tags: Vec<String>,
    pub platform_tags: Vec<String>,
    filename: String,
}

impl WheelFilename {
    /// Every tag the wheel claims, the cross product of its compressed sets.
    pub fn tags(&self) -> impl Iterator<Item = Tag> + '_ {
        self.python_tags.iter().flat_map(move |py| {
            self.abi_tags.iter().flat_map(move |abi| {
                self.platform_tags
                    .iter()
                    .map(move |plat| Tag::new(py, abi, plat))
            })
        })
    }

    /// True when the wheel is `*-none-any`: pure Python for every interpreter.
    pub fn is_universal(&self) -> bool {
        self.abi_tags.iter().all(|a| a == "none") && self.platform_tags.iter().all(|p| p == "any")
    }

    pub fn as_str(&self) -> &str {
        &self.filename
    }
}

/// The most tags one compressed set of a wheel name may hold.
const MAX_TAGS_PER_SET: usize = 32;

impl FromStr for WheelFilename {
    type Err = SpecError;

    fn from_str(filename: &str) -> Result<Self, SpecError> {
        let bad = || SpecError::WheelFilename(filename.to_string());
        let stem = filename.strip_suffix(".whl").ok_or_else(bad)?;
        let parts: Vec<&str> = stem.split('-').collect();
        let (name, version, build, py, abi, plat) = match parts.as_slice() {
            [n, v, py, abi, plat] => (n, v, None, py, abi, plat),
            [n, v, b, py, abi, plat] => (n, v, Some(b.to_string()), py, abi, plat),
            _ => return Err(bad()),
        };
        if build
            .as_ref()
            .is_some_and(|b| !b.starts_with(|c: char| c.is_ascii_digit()))
        {
            return Err(bad());
        }
        let split = |s: &str| s.split('.').map(str::to_string).collect::<Vec<_>>();
        let (python_tags, abi_tags, platform_tags) = (split(py), split(abi), split(plat));
        // Compressed tag sets (PEP 425) multiply out in `tags()`: a name from
        // a hostile index with a thousand tags in each set would make 10^9
        // tags to rank. Real wheels carry a handful per set.
        if [&python_tags, &abi_tags, &platform_tags]
            .iter()
            .any(|set| set.len() > MAX_TAGS_PER_SET || set.iter().any(String::is_empty))
        {
            return Err(bad());
        }
        Ok(WheelFilename {
            name: PackageName::from_str(name).map_err(|_| bad())?,
            version: crate::requirement::parse_version(version).map_err(|_| bad())?,
            build,
            python_tags,
            abi_tags,
            platform_tags,
            filename: filename.to_string(),
        })
    }
}

impl fmt::Display for WheelFilename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.filename)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_name_with_huge_tag_sets_is_refused() {
        let many = |p: &str| {
            (0..1000)
                .map(|i| format!("{p}{i}"))
                .collect::<Vec<_>>()
                .join(".")
        };
        let name = format!("a-1.0-{}-{}-{}.whl", many("py"), many("abi"), many("plat"));
        assert!(name.parse::<super::WheelFilename>().is_err());
        assert!("a-1.0-py3..py2-none-any.whl"
            .parse::<super::WheelFilename>()
            .is_err());
        let ok = "pyyaml-6.0.3-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl";
        assert_eq!(
            ok.parse::<super::WheelFilename>().unwrap().tags().count(),
            2
        );
    }

    use super::*;

    #[test]
    fn parses_compressed_tag_sets() {
        let w: WheelFilename =
            "PyYAML-6.0.3-cp38-cp38-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
                .parse()
                .unwrap();
        assert_eq!(w.name.as_ref(), "pyyaml");
        assert_eq!(w.version.to_string(), "6.0.3");
        assert_eq!(w.tags().count(), 2);
        assert!(!w.is_universal());
    }

    #[test]
    fn parses_build_tag_and_universal() {
        let w: WheelFilename = "six-1.17.0-1-py2.py3-none-any.whl".parse().unwrap();
        assert_eq!(w.build.as_deref(), Some("1"));
        assert!(w.is_universal());
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "six.whl",
            "six-1.0-py3-none.whl",
            "a-b-c-d-e-f-g.whl",
            "six-1.0-x-py3-none-any.whl",
        ] {
            assert!(bad.parse::<WheelFilename>().is_err(), "{bad}");
        }
    }

    #[test]
    fn odd_versions_and_unicode_in_wheel_names_do_not_panic() {
        for bad in [
            "foo.-1.0-py3-none-any.whl",
            "foo-1.é-py3-none-any.whl",
            "é-1.0-py3-none-any.whl",
            "foo-1.0-é-py3-none-any.whl",
        ] {
            assert_eq!(
                bad.parse::<WheelFilename>().unwrap_err().to_string(),
                format!("`{bad}` is not a valid wheel filename")
            );
        }
        let w: WheelFilename = "foo-1.18446744073709551615-py3-none-any.whl"
            .parse()
            .unwrap();
        assert_eq!(w.to_string().parse::<WheelFilename>().unwrap(), w);
    }
}
