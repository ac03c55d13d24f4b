//! Core metadata (`METADATA`, `PKG-INFO`): the RFC 822-style header block,
//! read by hand because only a handful of fields matter and some repeat
//! (`Requires-Dist`, `Provides-Extra`), which general mail parsers fold away.

use std::str::FromStr;

use crate::requirement::{parse_specifiers, parse_version};
use crate::{ExtraName, PackageName, Requirement, SpecError, Version, VersionSpecifiers};

#[derive(Debug, Clone)]
pub struct Metadata {
    pub name: PackageName,
    pub version: Version,
    pub requires_dist: Vec<Requirement>,
    pub requires_python: Option<VersionSpecifiers>,
    pub provides_extra: Vec<ExtraName>,
    /// PEP 643: from metadata 2.2 on, a field `Dynamic` does not name is
    /// what every wheel built from an sdist will say. True when that holds
    /// for the fields resolution reads (`Requires-Dist`, `Requires-Python`,
    /// `Provides-Extra`), so an sdist's dependencies are known unbuilt.
    pub static_dependencies: bool,
}

impl Metadata {
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in text.lines() {
            if line.is_empty() {
                break; // the body (long description) starts here
            }
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = headers.last_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                continue;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let one = |key: &str| {
            headers
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let all = |key: &'static str| {
            headers
                .iter()
                .filter(move |(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let name = one("name").ok_or(SpecError::MetadataField("Name"))?;
        let version = one("version").ok_or(SpecError::MetadataField("Version"))?;
        let static_dependencies = one("metadata-version")
            .and_then(|v| {
                let (major, minor) = v.split_once('.')?;
                Some((
                    major.trim().parse::<u32>().ok()?,
                    minor.trim().parse::<u32>().ok()?,
                ))
            })
            .is_some_and(|v| v >= (2, 2))
            && !all("dynamic").any(|field| {
                ["requires-dist", "requires-python", "provides-extra"]
                    .contains(&field.to_ascii_lowercase().as_str())
            });
        let requires_python = match one("requires-python") {
            Some(s) if !s.is_empty() => Some(parse_specifiers(s)?),
            _ => None,
        };
        Ok(Metadata {
            name: PackageName::from_str(name).map_err(|_| SpecError::Requirement {
                text: name.to_string(),
                message: "not a valid project name".into(),
            })?,
            version: parse_version(version)?,
            requires_dist: all("requires-dist")
                .map(crate::parse_requirement)
                .collect::<Result<_, _>>()?,
            requires_python,
            provides_extra: all("provides-extra")
                .filter_map(|e| ExtraName::from_str(e).ok())
                .collect(),
            static_dependencies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_repeated_and_folded_fields() {
        let text = "Metadata-Version: 2.1\nName: Requests\nVersion: 2.32.5\n\
            Requires-Python: >=3.8\nRequires-Dist: idna<4,>=2.5\n\
            Requires-Dist: PySocks!=1.5.7,>=1.5.6; extra == \"socks\"\n\
            Provides-Extra: socks\nSummary: a\n  folded line\n\nRequires-Dist: body-not-header\n";
        let m = Metadata::parse(text).unwrap();
        assert_eq!(m.name.as_ref(), "requests");
        assert_eq!(m.requires_dist.len(), 2);
        assert_eq!(m.provides_extra.len(), 1);
        assert!(m.requires_python.is_some());
    }

    #[test]
    fn dependencies_are_static_from_metadata_2_2_unless_dynamic() {
        let parse = |head: &str| {
            Metadata::parse(&format!("{head}Name: x\nVersion: 1\n"))
                .unwrap()
                .static_dependencies
        };
        assert!(parse("Metadata-Version: 2.2\n"));
        assert!(parse("Metadata-Version: 2.4\nDynamic: summary\n"));
        assert!(!parse("Metadata-Version: 2.1\n"));
        assert!(!parse(""));
        assert!(!parse("Metadata-Version: 2.4\nDynamic: Requires-Dist\n"));
        assert!(!parse("Metadata-Version: 2.4\nDynamic: requires-python\n"));
    }

    #[test]
    fn missing_version_is_an_error() {
        let err = Metadata::parse("Name: x\n").unwrap_err();
        assert_eq!(err.to_string(), "METADATA has no `Version` field");
    }

    #[test]
    fn metadata_requires_dist_foo_dot_ge_does_not_panic() {
        let err = Metadata::parse("Name: x\nVersion: 1\nRequires-Dist: foo.>=1\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid requirement `foo.>=1`: name `foo.` must end with a letter or digit"
        );
    }

    #[test]
    fn bad_name_version_and_requires_python_name_the_value() {
        let err = Metadata::parse("Name: a b\nVersion: 1\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid requirement `a b`: not a valid project name"
        );
        let err = Metadata::parse("Name: x\nVersion: 1é\n").unwrap_err();
        assert!(err.to_string().starts_with("invalid version `1é`"), "{err}");
        let err = Metadata::parse("Name: x\nVersion: 1\nRequires-Python: >=é\n").unwrap_err();
        assert!(
            err.to_string().starts_with("invalid version `>=é`"),
            "{err}"
        );
    }
}
