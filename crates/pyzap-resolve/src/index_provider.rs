//! A `Provider` over find-links directories for one target: a version is a
//! candidate when it has a wheel whose tags the target accepts (or an sdist,
//! when source builds are allowed); the best-ranked file is the one chosen.

use std::collections::BTreeSet;

use pyzap_index::{DistFile, DistKind, FindLinks, IndexError};
use pyzap_spec::{PackageName, Target, Version};

use crate::{CandidateMetadata, Provider};

pub struct FindLinksProvider<'a> {
    pub find_links: &'a FindLinks,
    pub target: &'a Target,
    /// Accept sdists for versions without a compatible wheel.
    pub allow_sdists: bool,
}

impl<'a> FindLinksProvider<'a> {
    /// The file to install for `name==version`: the wheel with the best tag
    /// rank, else the sdist when allowed.
    pub fn best_file(&self, name: &PackageName, version: &Version) -> Option<&'a DistFile> {
        let files = self.find_links.files(name);
        let wheel = files
            .iter()
            .filter(|f| &f.version == version)
            .filter_map(|f| {
                let rank = self.target.tags.best(f.wheel()?.tags())?;
                Some((rank, f))
            })
            .min_by_key(|(rank, f)| {
                (
                    *rank,
                    std::cmp::Reverse(f.wheel().and_then(|w| w.build.clone())),
                )
            })
            .map(|(_, f)| f);
        wheel.or_else(|| {
            self.allow_sdists
                .then(|| {
                    files
                        .iter()
                        .find(|f| &f.version == version && f.kind == DistKind::Sdist)
                })
                .flatten()
        })
    }
}

impl Provider for FindLinksProvider<'_> {
    type Err = IndexError;

    fn versions(&self, name: &PackageName) -> Result<Vec<Version>, IndexError> {
        let versions: BTreeSet<&Version> = self
            .find_links
            .files(name)
            .iter()
            .map(|f| &f.version)
            .collect();
        Ok(versions
            .into_iter()
            .filter(|v| self.best_file(name, v).is_some())
            .cloned()
            .collect())
    }

    fn unavailable_reason(&self, name: &PackageName) -> Option<String> {
        let files = self.find_links.files(name);
        if files.is_empty() {
            let dirs: Vec<String> = self
                .find_links
                .dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect();
            return Some(format!(
                "no distribution named `{name}` was found in {}",
                dirs.join(", ")
            ));
        }
        // Versions that exist but offer no file this target can use, newest first.
        let mut unusable: Vec<&Version> = files
            .iter()
            .map(|f| &f.version)
            .filter(|v| self.best_file(name, v).is_none())
            .collect();
        unusable.sort_unstable_by(|a, b| b.cmp(a));
        unusable.dedup();
        if unusable.is_empty() {
            return None;
        }
        let shown: Vec<String> = unusable.iter().take(3).map(|v| v.to_string()).collect();
        let listed: Vec<&str> = files
            .iter()
            .filter(|f| unusable.iter().take(3).any(|v| *v == &f.version))
            .map(|f| f.filename.as_str())
            .collect();
        let tried: Vec<String> = self
            .target
            .tags
            .iter()
            .take(4)
            .map(ToString::to_string)
            .collect();
        let sdists = !self.allow_sdists && listed.iter().any(|f| !f.ends_with(".whl"));
        Some(format!(
            "{name} {} has no file that fits {}: tags tried (best first) {}, … ({} in all); files found: {}{}",
            shown.join(", "),
            self.target.describe(),
            tried.join(", "),
            self.target.tags.len(),
            listed.join(", "),
            if sdists { " (building sdists is disabled)" } else { "" }
        ))
    }

    fn metadata(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<CandidateMetadata, IndexError> {
        let Some(file) = self.best_file(name, version) else {
            return Ok(CandidateMetadata::default());
        };
        match file.kind {
            DistKind::Wheel(_) => {
                let m = file.wheel_metadata()?;
                Ok(CandidateMetadata {
                    requires_dist: m.requires_dist,
                    requires_python: m.requires_python,
                })
            }
            // Sdist metadata needs a PEP 517 build; the builder supplies it before resolution.
            DistKind::Sdist => {
                let m = file.sdist_metadata()?;
                Ok(CandidateMetadata {
                    requires_dist: m.requires_dist,
                    requires_python: m.requires_python,
                })
            }
        }
    }
}
