//! What to install for one target: the distributions a resolution picks,
//! each as the one file the target will use. `bundle` and `lock` share
//! this, so a lock holds what a plain build would install. What the
//! resolution noticed on the way (a yanked pin, an unknown extra: warnings;
//! requirements left out by their markers: details for `-v`) goes to the
//! `Reporter`.
//!
//! A direct reference (`name @ URL`) in a candidate's metadata names a
//! project pinned beforehand to the file at that URL (`locals.rs`); the
//! resolver, which knows versions only, is shown it as a plain requirement
//! on that project.

use std::collections::BTreeSet;

use pyzap_index::{DistFile, IndexClient, IndexError};
use pyzap_resolve::{CandidateMetadata, Exclusion, Provider, ResolveOptions};
use pyzap_spec::{PackageName, Target, Version};

use super::inputs::Inputs;
use super::locals::Roots;
use crate::index_provider::IndexProvider;
use crate::{BundleError, Reporter, Result};

/// Resolves `roots` (with the inputs' constraints) for `target`; the chosen
/// files, sorted by project name.
pub(crate) fn resolve_files(
    inputs: &Inputs,
    target: &Target,
    index: &IndexClient,
    roots: &Roots,
    options: &ResolveFor,
    reporter: &dyn Reporter,
) -> Result<Vec<DistFile>> {
    let provider = PinnedReferences {
        inner: IndexProvider {
            index,
            target,
            allow_sdists: options.allow_sdists,
            formats: &inputs.formats,
            prefetch_jobs: 8,
        },
        pinned: &roots.pinned,
    };
    let requirements = &roots.requirements;
    index.prefetch(
        &requirements
            .iter()
            .map(|r| r.name.clone())
            .collect::<Vec<_>>(),
        8,
    );
    let resolved = pyzap_resolve::resolve(
        &provider,
        requirements,
        &inputs.constraints,
        &target.markers,
        &ResolveOptions {
            allow_prereleases: options.pre,
        },
    );
    for (host, why) in index.cache_fallback() {
        reporter.warn(&format!(
            "{host} is unreachable ({why}): using the index pages an earlier build cached, \
             as --offline does; they may be out of date"
        ));
    }
    let resolution = resolved?;
    reporter.step(&format!(
        "resolved {} distributions for {}",
        resolution.dists.len(),
        target.name()
    ));
    for notice in &resolution.notices {
        if notice.is_warning() {
            reporter.warn(&notice.to_string());
        } else {
            reporter.detail(&notice.to_string());
        }
    }
    let mut files = Vec::new();
    for dist in &resolution.dists {
        let file = provider
            .inner
            .best_file(&dist.name, &dist.version)?
            .ok_or_else(|| BundleError::NoFile {
                name: dist.name.clone(),
                version: dist.version.clone(),
            })?;
        files.push(file);
    }
    Ok(files)
}

/// The choices a resolution follows beyond the inputs.
pub(crate) struct ResolveFor {
    /// Accept sdists (built from source) for versions without a fitting wheel.
    pub allow_sdists: bool,
    /// Allow pre-releases.
    pub pre: bool,
}

/// The `IndexProvider`, with each direct reference to a pinned project read
/// as a plain requirement on it.
struct PinnedReferences<'a> {
    inner: IndexProvider<'a>,
    pinned: &'a BTreeSet<PackageName>,
}

impl Provider for PinnedReferences<'_> {
    type Err = IndexError;

    fn versions(&self, name: &PackageName) -> Result<Vec<Version>, IndexError> {
        self.inner.versions(name)
    }

    fn unavailable_reason(&self, name: &PackageName) -> Option<String> {
        self.inner.unavailable_reason(name)
    }

    fn excluded(&self, name: &PackageName) -> Vec<(Version, Exclusion)> {
        self.inner.excluded(name)
    }

    fn yanked(&self, name: &PackageName, version: &Version) -> bool {
        self.inner.yanked(name, version)
    }

    fn yank_reason(&self, name: &PackageName, version: &Version) -> Option<String> {
        self.inner.yank_reason(name, version)
    }

    fn metadata(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<CandidateMetadata, IndexError> {
        let mut metadata = self.inner.metadata(name, version)?;
        for requirement in &mut metadata.requires_dist {
            if self.pinned.contains(&requirement.name) {
                requirement.clear_url();
            }
        }
        Ok(metadata)
    }
}
