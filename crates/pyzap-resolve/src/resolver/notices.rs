//! What a successful resolution tells the user beside the versions: a
//! yanked version chosen through an `==` pin (pip warns too), an extra the
//! chosen version does not provide (pip and uv warn), and requirements left
//! out because their markers are false for the target (a detail for `-v`).

use std::fmt;

use pubgrub::VersionSet;
use pyzap_spec::{ExtraName, PackageName, Requirement, Version};

use super::State;
use crate::{CandidateMetadata, Provider, Resolution};

/// Something a resolution did that the user may not expect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A yanked version (PEP 592), chosen because `pin` names it.
    YankedPin {
        name: PackageName,
        version: Version,
        pin: String,
        reason: Option<String>,
    },
    /// `name[extra]` was asked for, but `name version` has no such extra.
    UnknownExtra {
        name: PackageName,
        version: Version,
        extra: ExtraName,
        provided: Vec<ExtraName>,
    },
    /// A requirement whose marker is false for the target: yours, or one
    /// of the distribution `of`.
    MarkerFalse {
        requirement: String,
        of: Option<(PackageName, Version)>,
    },
}

impl Notice {
    /// Whether the user should act on it; the others are details (`-v`).
    pub fn is_warning(&self) -> bool {
        !matches!(self, Notice::MarkerFalse { .. })
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::YankedPin {
                name,
                version,
                pin,
                reason,
            } => {
                write!(f, "{name} {version} is yanked")?;
                if let Some(reason) = reason.as_deref().filter(|r| !r.trim().is_empty()) {
                    write!(f, " (reason: {})", reason.trim())?;
                }
                write!(f, "; it is used because `{pin}` pins it")
            }
            Notice::UnknownExtra {
                name,
                version,
                extra,
                provided,
            } => {
                write!(f, "{name} {version} does not provide the extra `{extra}`")?;
                if provided.is_empty() {
                    write!(f, " (it has no extras)")
                } else {
                    let names: Vec<String> = provided.iter().map(ToString::to_string).collect();
                    write!(f, " (its extras: {})", names.join(", "))
                }
            }
            Notice::MarkerFalse {
                requirement,
                of: None,
            } => write!(
                f,
                "left out `{requirement}`: its marker is false for the target"
            ),
            Notice::MarkerFalse {
                requirement,
                of: Some((name, version)),
            } => write!(
                f,
                "left out `{requirement}` (a dependency of {name} {version}): its marker is false for the target"
            ),
        }
    }
}

impl<P: Provider> State<'_, P> {
    /// The notices of `resolution`, in the order of the requirements, then
    /// of the distributions.
    pub(super) fn notices(&self, resolution: &Resolution) -> Vec<Notice> {
        let mut out = Vec::new();
        for requirement in &self.root {
            if self.left_out(requirement, &[]) {
                push_once(
                    &mut out,
                    Notice::MarkerFalse {
                        requirement: requirement.to_string(),
                        of: None,
                    },
                );
            }
        }
        for dist in &resolution.dists {
            let (name, version) = (&dist.name, &dist.version);
            if self.provider.yanked(name, version) {
                if let Some(pin) = self.pin_of(name, version) {
                    out.push(Notice::YankedPin {
                        name: name.clone(),
                        version: version.clone(),
                        pin,
                        reason: self.provider.yank_reason(name, version),
                    });
                }
            }
            let Ok(metadata) = self.metadata(name, version) else {
                continue;
            };
            for extra in dist.extras.iter().filter(|e| !provides(&metadata, e)) {
                out.push(Notice::UnknownExtra {
                    name: name.clone(),
                    version: version.clone(),
                    extra: extra.clone(),
                    provided: metadata.provides_extra.clone(),
                });
            }
            let extras: Vec<ExtraName> = dist.extras.iter().cloned().collect();
            for requirement in &metadata.requires_dist {
                if self.left_out(requirement, &extras) {
                    push_once(
                        &mut out,
                        Notice::MarkerFalse {
                            requirement: requirement.to_string(),
                            of: Some((name.clone(), version.clone())),
                        },
                    );
                }
            }
        }
        out
    }

    /// Whether `requirement` would apply under `extras` in some environment
    /// but its marker is false for the target's. A requirement of an extra
    /// nobody asked for is not left out: it was never asked for.
    fn left_out(&self, requirement: &Requirement, extras: &[ExtraName]) -> bool {
        let asked = |extras: &[ExtraName]| requirement.marker.evaluate_extras(extras);
        let holds = |extras: &[ExtraName]| requirement.evaluate_markers(self.markers, extras);
        let each = || std::iter::once(&[][..]).chain(extras.iter().map(std::slice::from_ref));
        each().any(asked) && !each().any(holds)
    }

    /// The pin that admits `name==version`, as written.
    fn pin_of(&self, name: &PackageName, version: &Version) -> Option<String> {
        let pins = self.pins.borrow();
        let pin = pins.get(name)?.iter().find(|pin| pin.contains(version))?;
        Some(pin.requirement(name.as_ref()))
    }
}

/// Whether `metadata` declares `extra` (`Provides-Extra`), or at least a
/// requirement names it (metadata older than 2.1 may not declare them).
fn provides(metadata: &CandidateMetadata, extra: &ExtraName) -> bool {
    metadata.provides_extra.contains(extra)
        || metadata.requires_dist.iter().any(|r| {
            !r.marker.evaluate_extras(&[]) && r.marker.evaluate_extras(std::slice::from_ref(extra))
        })
}

fn push_once(out: &mut Vec<Notice>, notice: Notice) {
    if !out.contains(&notice) {
        out.push(notice);
    }
}
