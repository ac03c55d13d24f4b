//! Targets named on the command line instead of probed (`--python-version
//! 3.9`, `--platform manylinux_2_28_x86_64`): the facts and marker environment
//! of an interpreter the build machine does not have.
//!
//! Choices, where pip leaves room or differs:
//! - `python_full_version` (and `implementation_version`) is the version as
//!   given, padded to three parts: `3.9` means `3.9.0`, as pip's
//!   `--python-version` does for `Requires-Python`; give `3.9.18` to be exact.
//! - A manylinux tag means that glibc: `manylinux_2_28_x86_64` accepts every
//!   older manylinux tag too (`manylinux_2_27` … `manylinux1`, the legacy
//!   aliases after their equivalents), as an interpreter on glibc 2.28 would.
//!   pip 23 expands only the legacy aliases and takes PEP 600 tags literally;
//!   for the tags it does list, the order is the same. `musllinux_1_2` accepts
//!   `musllinux_1_1` and `_1_0` likewise. `linux_<arch>` (wheels built on some
//!   machine for itself) is accepted only when it is the tag given.
//! - `platform_machine` is the tag's architecture, `sys_platform` `linux`,
//!   `platform_system` `Linux`, `os_name` `posix`, `implementation_name`
//!   `cpython`; `platform_release` and `platform_version` (a kernel's) are
//!   unknown and left empty, so markers on them compare against `""`.
//! - Without `--platform`, the platform is the build machine's (taken from
//!   the interpreter pyzap probed there: its libc, architecture, kernel).

use crate::tags::{manylinux_platforms, musllinux_platforms};
use crate::target::{marker_environment, parse_major_minor};
use crate::{InterpreterFacts, SpecError, Target};

/// A platform tag given with `--platform`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformTag {
    pub tag: String,
    pub arch: String,
    /// `("glibc", (2, 28))`, `("musl", (1, 2))`, or `None` for `linux_<arch>`.
    pub libc: Option<(&'static str, (u32, u32))>,
}

impl std::str::FromStr for PlatformTag {
    type Err = SpecError;

    fn from_str(tag: &str) -> Result<Self, SpecError> {
        let bad = || {
            SpecError::Interpreter(format!(
                "unsupported platform tag `{tag}` (expected manylinux_2_28_x86_64, \
                 manylinux2014_x86_64, musllinux_1_2_x86_64 or linux_x86_64)"
            ))
        };
        let versioned = |rest: &str| -> Option<((u32, u32), String)> {
            let mut parts = rest.splitn(3, '_');
            let major = parts.next()?.parse().ok()?;
            let minor = parts
                .next()?
                .parse()
                .ok()
                .filter(|m| *m <= crate::target::MAX_MINOR)?;
            Some(((major, minor), parts.next()?.to_string()))
        };
        let legacy = [
            ("manylinux2014_", (2, 17)),
            ("manylinux2010_", (2, 12)),
            ("manylinux1_", (2, 5)),
        ];
        let (libc, arch) = if let Some(rest) = tag.strip_prefix("manylinux_") {
            let (v, arch) = versioned(rest).ok_or_else(bad)?;
            (Some(("glibc", v)), arch)
        } else if let Some(rest) = tag.strip_prefix("musllinux_") {
            let (v, arch) = versioned(rest).ok_or_else(bad)?;
            (Some(("musl", v)), arch)
        } else if let Some((prefix, v)) = legacy.iter().find(|(p, _)| tag.starts_with(p)) {
            (Some(("glibc", *v)), tag[prefix.len()..].to_string())
        } else if let Some(arch) = tag.strip_prefix("linux_") {
            (None, arch.to_string())
        } else {
            return Err(bad());
        };
        if arch.is_empty() || !arch.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(bad());
        }
        Ok(PlatformTag {
            tag: tag.to_string(),
            arch,
            libc,
        })
    }
}

impl PlatformTag {
    /// The platform tags it accepts, most specific first.
    pub fn platforms(&self) -> Vec<String> {
        let mut out = match self.libc {
            Some(("glibc", v)) => manylinux_platforms(v, &self.arch),
            Some((_, (1, m))) => musllinux_platforms(m, &self.arch),
            _ => return vec![self.tag.clone()],
        };
        out.retain(|p| !p.starts_with("linux_"));
        out
    }
}

impl Target {
    /// CPython `version` (`3.9` or `3.9.18`) on `platform`, or, without one,
    /// on the platform of `host` (an interpreter probed on the build machine).
    pub fn cross(
        version: &str,
        platform: Option<&PlatformTag>,
        host: Option<&InterpreterFacts>,
    ) -> Result<Self, SpecError> {
        let (major, minor) = parse_major_minor(version)?;
        let parts = version.split('.').count();
        if major != 3
            || minor < 8
            || parts > 3
            || version.split('.').any(|p| p.parse::<u32>().is_err())
        {
            return Err(SpecError::Interpreter(format!(
                "unsupported Python version `{version}` (pyzap targets CPython 3.8 and later: 3.9, 3.12.4)"
            )));
        }
        let full = if parts == 2 {
            format!("{version}.0")
        } else {
            version.to_string()
        };
        let mut facts = InterpreterFacts {
            implementation_name: "cpython".into(),
            implementation_version: full.clone(),
            python_full_version: full,
            python_version: format!("{major}.{minor}"),
            os_name: "posix".into(),
            platform_machine: String::new(),
            platform_python_implementation: "CPython".into(),
            platform_release: String::new(),
            platform_system: "Linux".into(),
            platform_version: String::new(),
            sys_platform: "linux".into(),
            cache_tag: format!("cpython-{major}{minor}"),
            abiflags: String::new(),
            libc: (String::new(), String::new()),
            pyc_magic: String::new(),
        };
        let platforms = match (platform, host) {
            (Some(p), _) => {
                facts.platform_machine = p.arch.clone();
                if let Some((kind, (a, b))) = p.libc {
                    facts.libc = (kind.to_string(), format!("{a}.{b}"));
                }
                p.platforms()
            }
            (None, Some(host)) => {
                facts.platform_machine = host.platform_machine.clone();
                facts.platform_release = host.platform_release.clone();
                facts.platform_version = host.platform_version.clone();
                facts.libc = host.libc.clone();
                if host.sys_platform != "linux" {
                    return Err(SpecError::Interpreter(format!(
                        "platform `{}` is not supported yet (Linux only)",
                        host.sys_platform
                    )));
                }
                return Target::from_facts(facts);
            }
            (None, None) => {
                return Err(SpecError::Interpreter(
                    "no platform: give --platform, or an interpreter of the build machine".into(),
                ))
            }
        };
        let markers = marker_environment(&facts)?;
        Target::with_platforms(facts, major, minor, markers, &platforms)
    }

    /// A short name for one of several targets: `cp39-manylinux_2_28_x86_64`.
    pub fn name(&self) -> String {
        let platform = self.best_platform().unwrap_or("any");
        format!(
            "cp{}{}{}-{platform}",
            self.major, self.minor, self.facts.abiflags
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `pip debug --verbose --python-version 3.9 --platform
    /// manylinux_2_28_x86_64` (pip 23.2.1): the same 33 tags in the same
    /// order, which is ours restricted to that one platform.
    const PIP_39_MANYLINUX_2_28: &str = "cp39-cp39-manylinux_2_28_x86_64 cp39-abi3-manylinux_2_28_x86_64 \
        cp39-none-manylinux_2_28_x86_64 cp38-abi3-manylinux_2_28_x86_64 cp37-abi3-manylinux_2_28_x86_64 \
        cp36-abi3-manylinux_2_28_x86_64 cp35-abi3-manylinux_2_28_x86_64 cp34-abi3-manylinux_2_28_x86_64 \
        cp33-abi3-manylinux_2_28_x86_64 cp32-abi3-manylinux_2_28_x86_64 py39-none-manylinux_2_28_x86_64 \
        py3-none-manylinux_2_28_x86_64 py38-none-manylinux_2_28_x86_64 py37-none-manylinux_2_28_x86_64 \
        py36-none-manylinux_2_28_x86_64 py35-none-manylinux_2_28_x86_64 py34-none-manylinux_2_28_x86_64 \
        py33-none-manylinux_2_28_x86_64 py32-none-manylinux_2_28_x86_64 py31-none-manylinux_2_28_x86_64 \
        py30-none-manylinux_2_28_x86_64 cp39-none-any py39-none-any py3-none-any py38-none-any \
        py37-none-any py36-none-any py35-none-any py34-none-any py33-none-any py32-none-any \
        py31-none-any py30-none-any";

    fn target(version: &str, platform: &str) -> Target {
        Target::cross(version, Some(&platform.parse().unwrap()), None).unwrap()
    }

    #[test]
    fn tags_match_pip_for_the_platform_given() {
        let t = target("3.9", "manylinux_2_28_x86_64");
        let ours: Vec<String> = t
            .tags
            .iter()
            .filter(|t| t.platform == "manylinux_2_28_x86_64" || t.platform == "any")
            .map(std::string::ToString::to_string)
            .collect();
        let pip: Vec<&str> = PIP_39_MANYLINUX_2_28.split_whitespace().collect();
        assert_eq!(ours, pip);
    }

    #[test]
    fn manylinux_implies_older_glibc_tags_but_not_linux() {
        let t = target("3.9", "manylinux_2_28_x86_64");
        let has = |s: &str| {
            let p: Vec<&str> = s.split('-').collect();
            t.tags.rank(&crate::Tag::new(p[0], p[1], p[2])).is_some()
        };
        assert!(has("cp39-cp39-manylinux_2_17_x86_64"));
        assert!(has("cp39-cp39-manylinux2014_x86_64"));
        assert!(has("cp39-cp39-manylinux1_x86_64"));
        assert!(!has("cp39-cp39-manylinux_2_29_x86_64"));
        assert!(!has("cp39-cp39-linux_x86_64"));
        assert!(!has("cp311-cp311-manylinux_2_17_x86_64"));
        assert!(!has("cp39-cp39-manylinux_2_28_aarch64"));
        assert_eq!(t.name(), "cp39-manylinux_2_28_x86_64");
        assert_eq!(t.facts.libc, ("glibc".into(), "2.28".into()));
        assert_eq!(t.facts.cache_tag, "cpython-39");
    }

    #[test]
    fn legacy_musl_and_plain_linux_tags() {
        let legacy: PlatformTag = "manylinux2014_aarch64".parse().unwrap();
        assert_eq!(legacy.libc, Some(("glibc", (2, 17))));
        assert_eq!(legacy.arch, "aarch64");
        assert_eq!(legacy.platforms()[0], "manylinux_2_17_aarch64");
        let musl = target("3.12", "musllinux_1_2_x86_64");
        let plats: Vec<&str> = musl
            .tags
            .iter()
            .take(3)
            .map(|t| t.platform.as_str())
            .collect();
        assert_eq!(
            plats,
            [
                "musllinux_1_2_x86_64",
                "musllinux_1_1_x86_64",
                "musllinux_1_0_x86_64"
            ]
        );
        assert_eq!(musl.facts.libc.0, "musl");
        let linux = target("3.10", "linux_x86_64");
        assert_eq!(
            linux.tags.iter().next().unwrap().to_string(),
            "cp310-cp310-linux_x86_64"
        );
        assert_eq!(linux.facts.libc.0, "");
        for bad in [
            "win_amd64",
            "manylinux_x_28_x86_64",
            "manylinux_2_28_",
            "macosx_11_0_arm64",
        ] {
            assert!(bad.parse::<PlatformTag>().is_err(), "{bad}");
        }
    }

    #[test]
    fn markers_for_the_target_not_the_build_machine() {
        let t = target("3.9", "manylinux_2_28_aarch64");
        let eval = |m: &str| {
            crate::parse_requirement(&format!("x; {m}"))
                .unwrap()
                .evaluate_markers(&t.markers, &[])
        };
        assert!(eval("python_version < '3.11'"));
        assert!(eval("python_full_version == '3.9.0'"));
        assert!(eval("platform_machine == 'aarch64'"));
        assert!(eval(
            "sys_platform == 'linux' and platform_system == 'Linux'"
        ));
        assert!(eval(
            "implementation_name == 'cpython' and os_name == 'posix'"
        ));
        let exact = target("3.9.18", "manylinux_2_28_x86_64");
        assert_eq!(exact.markers.python_full_version().to_string(), "3.9.18");
        for bad in ["2.7", "3.7", "3", "3.x", "3.9.1.2"] {
            assert!(
                Target::cross(bad, Some(&"linux_x86_64".parse().unwrap()), None).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn version_alone_takes_the_build_machines_platform() {
        let host = crate::target::tests::facts_311();
        let t = Target::cross("3.9", None, Some(&host)).unwrap();
        assert_eq!(
            t.tags.iter().next().unwrap().to_string(),
            "cp39-cp39-manylinux_2_36_x86_64"
        );
        assert_eq!(t.facts.platform_release, "6.1.0");
        assert_eq!(t.facts.python_full_version, "3.9.0");
        assert!(Target::cross("3.9", None, None).is_err());
    }

    #[test]
    fn huge_minor_versions_are_refused_not_expanded() {
        let linux = Some("linux_x86_64".parse::<PlatformTag>().unwrap());
        let err = Target::cross("3.4000000000", linux.as_ref(), None).unwrap_err();
        assert!(err.to_string().contains("`3.4000000000`"), "{err}");
        for bad in [
            "manylinux_2_4000000000_x86_64",
            "musllinux_1_4000000000_x86_64",
        ] {
            let err = bad.parse::<PlatformTag>().unwrap_err().to_string();
            assert!(err.contains(bad), "{err}");
        }
        assert!(Target::cross("3.99", linux.as_ref(), None).is_ok());
    }
}
