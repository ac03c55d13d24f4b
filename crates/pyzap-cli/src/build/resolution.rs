//! What to install for one target: the distributions a resolution picks,
//! each as the one file the target will use. `pyzap build` and `pyzap lock`
//! share this, so a lock holds what a plain build would install.

use anyhow::{Context, Result};
use pyzap_index::{DistFile, IndexClient};
use pyzap_resolve::{IndexProvider, ResolveOptions};
use pyzap_spec::{Requirement, Target};

use super::inputs::Inputs;
use crate::cli::BuildArgs;
use crate::ui::Ui;

/// Resolves `roots` (with the inputs' constraints) for `target`; the chosen
/// files, sorted by project name.
pub fn resolve_files(
    args: &BuildArgs,
    inputs: &Inputs,
    target: &Target,
    find_links: &IndexClient,
    roots: &[Requirement],
    allow_sdists: bool,
    ui: &Ui,
) -> Result<Vec<DistFile>> {
    let provider = IndexProvider {
        index: find_links,
        target,
        allow_sdists,
        formats: &inputs.formats,
        prefetch_jobs: 8,
    };
    find_links.prefetch(&roots.iter().map(|r| r.name.clone()).collect::<Vec<_>>(), 8);
    let resolution = pyzap_resolve::resolve(
        &provider,
        roots,
        &inputs.constraints,
        &target.markers,
        &ResolveOptions {
            allow_prereleases: args.source.pre,
        },
    )
    .map_err(super::resolve_error)?;
    ui.step(&format!(
        "resolved {} distributions for {}",
        resolution.dists.len(),
        target.name()
    ));
    let mut files = Vec::new();
    for dist in &resolution.dists {
        let file = provider
            .best_file(&dist.name, &dist.version)?
            .with_context(|| format!("no file for {} {}", dist.name, dist.version))?;
        files.push(file);
    }
    Ok(files)
}
