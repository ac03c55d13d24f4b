//! The oldest glibc a standalone executable runs on: the newest that any of
//! its parts needs. The launcher stub and the CPython say it in their ELF
//! version needs (`elf.rs`: every ELF file the payload packs counts, since
//! an extension module that needs more fails when imported); a wheel says
//! it in its manylinux tags, as `compat.rs` reads them for `.pyz` artifacts
//! (its oldest tag for the target's machine), and a `linux_<arch>` wheel,
//! built on this machine, is taken to need the target's glibc.
//! python-build-standalone's CPython needs 2.17; a static stub needs none.

use std::fmt;

use pyzap_spec::{PlatformTag, WheelFilename};

use crate::standalone::{ElfFacts, Payload};
use crate::Manifest;

/// A glibc version as symbol versions (`GLIBC_2.17`) and manylinux tags
/// (`manylinux_2_17`) name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GlibcVersion {
    pub major: u32,
    pub minor: u32,
}

impl fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl From<(u32, u32)> for GlibcVersion {
    fn from((major, minor): (u32, u32)) -> Self {
        GlibcVersion { major, minor }
    }
}

/// The newest glibc one part needs, and the file that needs it (a path in
/// the CPython's tree, or a wheel's filename).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlibcNeed {
    pub version: GlibcVersion,
    pub file: String,
}

impl GlibcNeed {
    /// The newer of two needs; of two equal ones, the file that sorts
    /// first, so the answer does not depend on the order they were found in.
    pub(crate) fn newer(a: Option<Self>, b: Option<Self>) -> Option<Self> {
        match (a, b) {
            (Some(a), Some(b)) => {
                let a_wins = a.version > b.version || (a.version == b.version && a.file <= b.file);
                Some(if a_wins { a } else { b })
            }
            (a, b) => a.or(b),
        }
    }
}

/// What a standalone executable asks of the machine's glibc, part by part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlibcFloor {
    /// The launcher stub's newest version need; `None`: it needs no glibc
    /// (a static stub).
    pub launcher: Option<GlibcVersion>,
    /// The CPython's: the newest need among the ELF files of the payload.
    pub python: Option<GlibcNeed>,
    /// The wheels': the newest among each wheel's oldest glibc tag.
    pub wheels: Option<GlibcNeed>,
}

impl GlibcFloor {
    /// The floor of an executable made of the stub `launcher`, `payload`
    /// and the artifact of `manifest` (a single-target one).
    pub fn new(launcher: &ElfFacts, payload: &Payload, manifest: &Manifest) -> Self {
        GlibcFloor {
            launcher: launcher.glibc,
            python: payload.glibc.clone(),
            wheels: wheels_need(
                &manifest.target.platform,
                manifest.distributions.iter().map(|d| d.filename.as_str()),
            ),
        }
    }

    /// The oldest glibc the executable runs on, and the part that makes it
    /// so (`the CPython's bin/python3.11`); `None` when no part needs glibc.
    pub fn newest(&self) -> Option<(GlibcVersion, String)> {
        let launcher = self.launcher.map(|version| GlibcNeed {
            version,
            file: String::new(),
        });
        let parts = [
            (launcher, "the launcher stub"),
            (self.python.clone(), "the CPython's"),
            (self.wheels.clone(), "the wheel"),
        ];
        let mut newest: Option<(GlibcVersion, String)> = None;
        for (need, what) in parts {
            if let Some(need) = need {
                if newest.as_ref().is_none_or(|(v, _)| need.version > *v) {
                    let by = format!("{what} {}", need.file);
                    newest = Some((need.version, by.trim_end().to_string()));
                }
            }
        }
        newest
    }
}

/// `runs on glibc 2.35 or later: the CPython needs 2.35 (bin/python3.11),
/// the wheels 2.17 (…), the launcher none`.
impl fmt::Display for GlibcFloor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((floor, _)) = self.newest() else {
            return write!(f, "needs no glibc: no part links it");
        };
        let need = |n: &Option<GlibcNeed>| match n {
            Some(n) => format!("{} ({})", n.version, n.file),
            None => "none".to_string(),
        };
        write!(
            f,
            "runs on glibc {floor} or later: the CPython needs {}, the wheels {}, the launcher {}",
            need(&self.python),
            need(&self.wheels),
            self.launcher.map_or("none".to_string(), |v| v.to_string())
        )
    }
}

/// The wheels' need: for each wheel, the oldest glibc among its platform
/// tags for the machine of `platform`, the target's best tag (a
/// `linux_<arch>` tag: the target's own glibc); the newest over all wheels.
fn wheels_need<'a>(
    platform: &str,
    filenames: impl IntoIterator<Item = &'a str>,
) -> Option<GlibcNeed> {
    let target: PlatformTag = platform.parse().ok()?;
    let target_glibc = match target.libc {
        Some(("glibc", v)) => Some(GlibcVersion::from(v)),
        _ => None,
    };
    let mut newest = None;
    for filename in filenames {
        let Ok(wheel) = filename.parse::<WheelFilename>() else {
            continue;
        };
        let oldest = wheel
            .tags()
            .filter_map(|t| t.platform.parse::<PlatformTag>().ok())
            .filter(|p| p.arch == target.arch)
            .filter_map(|p| match p.libc {
                Some(("glibc", v)) => Some(GlibcVersion::from(v)),
                None => target_glibc,
                Some(_) => None,
            })
            .min();
        let need = oldest.map(|version| GlibcNeed {
            version,
            file: filename.to_string(),
        });
        newest = GlibcNeed::newer(newest, need);
    }
    newest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(major: u32, minor: u32, file: &str) -> Option<GlibcNeed> {
        Some(GlibcNeed {
            version: GlibcVersion { major, minor },
            file: file.into(),
        })
    }

    const PYYAML: &str = "pyyaml-6.0.3-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl";
    const LXML: &str = "lxml-5.3.0-cp311-cp311-manylinux_2_28_x86_64.whl";
    const PURE: &str = "six-1.17.0-py2.py3-none-any.whl";
    const BUILT_HERE: &str = "ext-1.0-cp311-cp311-linux_x86_64.whl";

    #[test]
    fn a_wheel_needs_its_oldest_tag_and_the_newest_wheel_counts() {
        let host = "manylinux_2_36_x86_64";
        assert_eq!(wheels_need(host, [PURE]), None);
        assert_eq!(wheels_need(host, [PYYAML, PURE]), need(2, 17, PYYAML));
        assert_eq!(wheels_need(host, [PYYAML, LXML]), need(2, 28, LXML));
        // Built on this machine: as new as the target's glibc.
        assert_eq!(
            wheels_need(host, [PYYAML, BUILT_HERE]),
            need(2, 36, BUILT_HERE)
        );
        // Another machine's tags say nothing.
        let other = "lxml-5.3.0-cp311-cp311-manylinux_2_17_x86_64.manylinux_2_31_aarch64.whl";
        assert_eq!(wheels_need(host, [other]), need(2, 17, other));
    }

    #[test]
    fn the_floor_is_its_newest_part_and_says_every_part() {
        let floor = GlibcFloor {
            launcher: None,
            python: need(2, 35, "bin/python3.11"),
            wheels: need(2, 17, PYYAML),
        };
        assert_eq!(
            floor.newest(),
            Some(((2, 35).into(), "the CPython's bin/python3.11".into()))
        );
        assert_eq!(
            floor.to_string(),
            format!(
                "runs on glibc 2.35 or later: the CPython needs 2.35 (bin/python3.11), \
                 the wheels 2.17 ({PYYAML}), the launcher none"
            )
        );
        let stub = GlibcFloor {
            launcher: Some((2, 34).into()),
            python: need(2, 17, "bin/python3.11"),
            wheels: None,
        };
        assert_eq!(
            stub.newest(),
            Some(((2, 34).into(), "the launcher stub".into()))
        );
        let wheel = GlibcFloor {
            launcher: None,
            wheels: need(2, 28, LXML),
            ..stub.clone()
        };
        assert_eq!(wheel.newest().unwrap().1, format!("the wheel {LXML}"));
        let none = GlibcFloor {
            launcher: None,
            python: None,
            wheels: None,
        };
        assert_eq!(none.newest(), None);
        assert_eq!(none.to_string(), "needs no glibc: no part links it");
    }

    #[test]
    fn of_two_equal_needs_the_first_file_wins_whatever_the_order() {
        let (a, b) = (need(2, 17, "bin/python3.11"), need(2, 17, "lib/x.so"));
        assert_eq!(GlibcNeed::newer(a.clone(), b.clone()), a);
        assert_eq!(GlibcNeed::newer(b.clone(), a.clone()), a);
        assert_eq!(
            GlibcNeed::newer(b.clone(), need(2, 28, "z")),
            need(2, 28, "z")
        );
        assert_eq!(GlibcNeed::newer(None, b.clone()), b);
    }
}
