//! What to install for one target: the distributions a resolution picks,
//! each as the one file the target will use. `bundle` and `lock` share
//! this, so a lock holds what a plain build would install. What the
//! resolution noticed on the way (a yanked pin, an unknown extra: warnings;
//! requirements left out by their markers: details for `-v`) goes to the
//! `Reporter`.
//!
//! When a version is left out because only its sdist fits and this build
//! does not build sdists, the failure says why: `--no-build`, or a
//! cross-target build, whose target's Python is not here to build it. A
//! cross-target lock takes such an sdist when its PKG-INFO fixes its
//! dependencies (PEP 643), and refuses it, naming it, when it does not.
//!
//! A direct reference (`name @ URL`) in a candidate's metadata names a
//! project pinned beforehand to the file at that URL (`locals.rs`); the
//! resolver, which knows versions only, is shown it as a plain requirement
//! on that project.

use std::collections::BTreeSet;

use pyzap_index::{DistFile, DistKind, IndexClient, IndexError};
use pyzap_resolve::{
    CandidateMetadata, Exclusion, Provider, ResolveError, ResolveOptions, SdistBuilds,
};
use pyzap_spec::{PackageName, Target, Version};

use super::inputs::Inputs;
use super::locals::Roots;
use crate::index_provider::{IndexProvider, SDIST_NOT_BUILT};
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
            allow_sdists: options.builds == SdistBuilds::Allowed || options.static_sdists,
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
    let resolution = resolved.map_err(|e| why_sdists_are_not_built(e, options.builds))?;
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
        if options.static_sdists && matches!(file.kind, DistKind::Sdist) {
            let metadata = index.metadata(&file)?;
            if !metadata.static_dependencies {
                return Err(BundleError::DynamicSdist {
                    filename: file.filename.clone(),
                    target: target.describe(),
                });
            }
        }
        files.push(file);
    }
    Ok(files)
}

/// A failure's hints, with why sdists are not built when a version was
/// left out for it.
fn why_sdists_are_not_built(mut error: ResolveError, builds: SdistBuilds) -> ResolveError {
    if let ResolveError::NoSolution { hints, .. } = &mut error {
        let why = match builds {
            SdistBuilds::Allowed => None,
            SdistBuilds::Refused => {
                Some("--no-build refuses to build sdists: drop it to build them")
            }
            SdistBuilds::CrossTarget => Some(
                "a cross-target build (--python-version, --platform) uses wheels only: \
                 an sdist must be built by the target's own Python, which does not run here",
            ),
        };
        if let Some(why) = why.filter(|_| hints.iter().any(|h| h.contains(SDIST_NOT_BUILT))) {
            hints.push(why.to_string());
        }
    }
    error
}

/// The choices a resolution follows beyond the inputs.
pub(crate) struct ResolveFor {
    /// Accept sdists (built from source) for versions without a fitting
    /// wheel, or why not.
    pub builds: SdistBuilds,
    /// A cross-target lock: sdists count too, their dependencies read from
    /// their PKG-INFO when it fixes them (PEP 643, metadata 2.2); the lock
    /// lists the sdist, which a build for that target then refuses.
    pub static_sdists: bool,
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
