//! What to install for one target: the distributions a resolution picks,
//! each as the one file the target will use. `bundle` and `lock` share
//! this, so a lock holds what a plain build would install.

use pyzap_index::{DistFile, IndexClient};
use pyzap_resolve::ResolveOptions;
use pyzap_spec::{Requirement, Target};

use super::inputs::Inputs;
use crate::index_provider::IndexProvider;
use crate::{BundleError, Reporter, Result};

/// Resolves `roots` (with the inputs' constraints) for `target`; the chosen
/// files, sorted by project name.
pub fn resolve_files(
    inputs: &Inputs,
    target: &Target,
    index: &IndexClient,
    roots: &[Requirement],
    options: &ResolveFor,
    reporter: &dyn Reporter,
) -> Result<Vec<DistFile>> {
    let provider = IndexProvider {
        index,
        target,
        allow_sdists: options.allow_sdists,
        formats: &inputs.formats,
        prefetch_jobs: 8,
    };
    index.prefetch(&roots.iter().map(|r| r.name.clone()).collect::<Vec<_>>(), 8);
    let resolution = pyzap_resolve::resolve(
        &provider,
        roots,
        &inputs.constraints,
        &target.markers,
        &ResolveOptions {
            allow_prereleases: options.pre,
        },
    )?;
    reporter.step(&format!(
        "resolved {} distributions for {}",
        resolution.dists.len(),
        target.name()
    ));
    let mut files = Vec::new();
    for dist in &resolution.dists {
        let file = provider
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
pub struct ResolveFor {
    /// Accept sdists (built from source) for versions without a fitting wheel.
    pub allow_sdists: bool,
    /// Allow pre-releases.
    pub pre: bool,
}
