//! The target: the interpreter an artifact will run on, described by the
//! facts a probe reports (version, ABI, platform, libc) and everything derived
//! from them: wheel tags and the PEP 508 marker environment. A target can also
//! be named on the command line (`--python-version 3.9 --platform
//! manylinux_2_28_x86_64`) for an interpreter the build machine does not have:
//! see [`Target::cross`] and `cross.rs`.

use serde::{Deserialize, Serialize};

use crate::tags::{manylinux_platforms, musllinux_platforms};
use crate::{MarkerEnvironment, SpecError, TagPriority};

/// What an interpreter says about itself; serialised by the probe script and
/// kept in the manifest so `pyzap info` can say what an artifact targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterpreterFacts {
    pub implementation_name: String,
    pub implementation_version: String,
    pub python_full_version: String,
    pub python_version: String,
    pub os_name: String,
    pub platform_machine: String,
    pub platform_python_implementation: String,
    pub platform_release: String,
    pub platform_system: String,
    pub platform_version: String,
    pub sys_platform: String,
    /// `sys.implementation.cache_tag`, e.g. `cpython-311`.
    pub cache_tag: String,
    /// `sys.abiflags` (`""`, `"t"` for free-threaded, `"d"` for debug).
    pub abiflags: String,
    /// `("glibc", "2.36")`, `("musl", "1.2")` or empty for other platforms.
    pub libc: (String, String),
    /// Magic number of the interpreter's bytecode, hex (`importlib.util.MAGIC_NUMBER`).
    pub pyc_magic: String,
}

/// Where an artifact will run.
#[derive(Debug, Clone)]
pub struct Target {
    pub facts: InterpreterFacts,
    pub major: u32,
    pub minor: u32,
    pub markers: MarkerEnvironment,
    pub tags: TagPriority,
}

impl Target {
    pub fn from_facts(facts: InterpreterFacts) -> Result<Self, SpecError> {
        if facts.implementation_name != "cpython" {
            return Err(SpecError::Interpreter(format!(
                "only CPython is supported, not {}",
                facts.implementation_name
            )));
        }
        let (major, minor) = parse_major_minor(&facts.python_version)?;
        let markers = marker_environment(&facts)?;
        let platforms = platform_tags(&facts)?;
        Self::with_platforms(facts, major, minor, markers, &platforms)
    }

    pub(crate) fn with_platforms(
        facts: InterpreterFacts,
        major: u32,
        minor: u32,
        markers: MarkerEnvironment,
        platforms: &[String],
    ) -> Result<Self, SpecError> {
        let abi = format!("cp{major}{minor}{}", facts.abiflags.replace('m', ""));
        let tags = TagPriority::cpython(major, minor, &abi, platforms);
        Ok(Target {
            facts,
            major,
            minor,
            markers,
            tags,
        })
    }

    /// `3.11`
    pub fn version_string(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }

    /// The platform of the target's most specific tag
    /// (`manylinux_2_36_x86_64`); `None` for a target without tags.
    pub fn best_platform(&self) -> Option<&str> {
        self.tags.iter().next().map(|t| t.platform.as_str())
    }

    /// A one-line description for messages: `CPython 3.11.7 (cp311, manylinux_2_36_x86_64)`.
    pub fn describe(&self) -> String {
        let best = self.best_platform().unwrap_or("?");
        format!(
            "CPython {} (cp{}{}{}, {best})",
            self.facts.python_full_version, self.major, self.minor, self.facts.abiflags
        )
    }
}

pub(crate) fn marker_environment(facts: &InterpreterFacts) -> Result<MarkerEnvironment, SpecError> {
    let builder = pep508_rs::MarkerEnvironmentBuilder {
        implementation_name: &facts.implementation_name,
        implementation_version: &facts.implementation_version,
        os_name: &facts.os_name,
        platform_machine: &facts.platform_machine,
        platform_python_implementation: &facts.platform_python_implementation,
        platform_release: &facts.platform_release,
        platform_system: &facts.platform_system,
        platform_version: &facts.platform_version,
        python_full_version: &facts.python_full_version,
        python_version: &facts.python_version,
        sys_platform: &facts.sys_platform,
    };
    // The builder parses the versions with pep440_rs: guarded like every foreign parse.
    crate::requirement::guard(|| MarkerEnvironment::try_from(builder))
        .map_err(SpecError::Interpreter)?
        .map_err(|e| SpecError::Interpreter(e.to_string()))
}

/// The largest minor version (of Python, glibc or musl) pyzap accepts. Tag
/// lists grow with the minor version (`py30` … `py3N`, `manylinux_2_5` …
/// `manylinux_2_N`), so `3.4000000000` would ask for billions of tags.
pub(crate) const MAX_MINOR: u32 = 99;

pub(crate) fn parse_major_minor(version: &str) -> Result<(u32, u32), SpecError> {
    let mut it = version.split('.').map(str::parse::<u32>);
    match (it.next(), it.next()) {
        (Some(Ok(a)), Some(Ok(b))) if b <= MAX_MINOR => Ok((a, b)),
        _ => Err(SpecError::Interpreter(format!(
            "bad python_version `{version}`"
        ))),
    }
}

fn platform_tags(facts: &InterpreterFacts) -> Result<Vec<String>, SpecError> {
    let arch = facts.platform_machine.as_str();
    if facts.sys_platform != "linux" {
        return Err(SpecError::Interpreter(format!(
            "platform `{}` is not supported yet (Linux only)",
            facts.sys_platform
        )));
    }
    let (kind, version) = (&facts.libc.0, &facts.libc.1);
    let parsed = parse_major_minor(version).ok();
    Ok(match (kind.as_str(), parsed) {
        ("glibc", Some(v)) => manylinux_platforms(v, arch),
        ("musl", Some((1, m))) => musllinux_platforms(m, arch),
        _ => vec![format!("linux_{arch}")],
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn facts_311() -> InterpreterFacts {
        InterpreterFacts {
            implementation_name: "cpython".into(),
            implementation_version: "3.11.7".into(),
            python_full_version: "3.11.7".into(),
            python_version: "3.11".into(),
            os_name: "posix".into(),
            platform_machine: "x86_64".into(),
            platform_python_implementation: "CPython".into(),
            platform_release: "6.1.0".into(),
            platform_system: "Linux".into(),
            platform_version: "#1 SMP".into(),
            sys_platform: "linux".into(),
            cache_tag: "cpython-311".into(),
            abiflags: String::new(),
            libc: ("glibc".into(), "2.36".into()),
            pyc_magic: "a70d0d0a".into(),
        }
    }

    #[test]
    fn target_from_facts() {
        let t = Target::from_facts(facts_311()).unwrap();
        assert_eq!(t.version_string(), "3.11");
        assert_eq!(
            t.tags.iter().next().unwrap().to_string(),
            "cp311-cp311-manylinux_2_36_x86_64"
        );
        let req = crate::parse_requirement("tomli; python_version < '3.11'").unwrap();
        assert!(!req.evaluate_markers(&t.markers, &[]));
    }

    #[test]
    fn rejects_pypy() {
        let mut f = facts_311();
        f.implementation_name = "pypy".into();
        assert!(Target::from_facts(f)
            .unwrap_err()
            .to_string()
            .contains("only CPython"));
    }

    #[test]
    fn huge_minor_version_does_not_exhaust_memory() {
        let mut f = facts_311();
        f.python_version = "3.4000000000".into();
        let err = Target::from_facts(f).unwrap_err().to_string();
        assert!(err.contains("`3.4000000000`"), "{err}");
        let mut f = facts_311();
        f.libc = ("glibc".into(), "2.4000000000".into());
        let t = Target::from_facts(f).unwrap();
        assert_eq!(t.tags.iter().next().unwrap().platform, "linux_x86_64");
    }
}
