//! `[tool.pyzap]` of the project being bundled: its keys fill the options
//! the command line left unset, so a bare `pyzap build` in a project
//! directory needs no flags. The project is the only local project
//! directory among the inputs, or, with no inputs at all, the current
//! directory when its `pyproject.toml` has a `[tool.pyzap]` table.
//!
//! "Unset" is what the options say: `None` and empty lists take the key's
//! value; a list flag given on the command line replaces the key (it does
//! not add to it); a switch (`no-index`, `standalone`, `no-compile`) is on
//! when either turns it on. Relative paths in the table are relative to the
//! project's directory, wherever pyzap runs.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use pyzap_spec::{LocalKind, LocalPath, ToolConfig};

use crate::{BundleError, BundleOptions, Result, StandaloneOptions};

/// `options` with the project's `[tool.pyzap]` applied, or as they are.
pub(crate) fn apply(options: &BundleOptions) -> Result<Cow<'_, BundleOptions>> {
    let Some((dir, implicit)) = project_dir(options) else {
        return Ok(Cow::Borrowed(options));
    };
    let pyproject = dir.join("pyproject.toml");
    let text = match fs_err::read_to_string(&pyproject) {
        Ok(text) => text,
        // Only a project named on the command line must be readable.
        Err(_) if implicit => return Ok(Cow::Borrowed(options)),
        Err(e) => return Err(e.into()),
    };
    let config = match ToolConfig::from_pyproject(&text) {
        Ok(Some(config)) => config,
        // Not TOML at all: reading the project says so later, as it always
        // did; the current directory only counts with a usable table.
        Ok(None) | Err(pyzap_spec::SpecError::PyProject(_)) => return Ok(Cow::Borrowed(options)),
        Err(_) if implicit => return Ok(Cow::Borrowed(options)),
        Err(source) => {
            return Err(BundleError::ToolConfig {
                path: pyproject,
                source,
            })
        }
    };
    let mut out = options.clone();
    if implicit {
        out.source.inputs.push(".".to_string());
    }
    merge(&mut out, config, &dir);
    Ok(Cow::Owned(out))
}

/// The project directory whose table counts, and whether it was implied
/// (no inputs at all: the current directory, which counts only when its
/// pyproject.toml has a table, as `apply` finds when it reads it).
fn project_dir(options: &BundleOptions) -> Option<(PathBuf, bool)> {
    let source = &options.source;
    let nothing_given = source.inputs.is_empty()
        && source.requirements.is_empty()
        && source.groups.is_empty()
        && options.src.is_empty()
        && options.lock.is_none();
    if nothing_given {
        return Some((PathBuf::from("."), true));
    }
    let mut dirs = source.inputs.iter().filter_map(|input| {
        if !LocalPath::looks_like(input) {
            return None;
        }
        let local = LocalPath::parse(input).ok()?;
        (local.kind() == LocalKind::Directory && local.path.join("pyproject.toml").is_file())
            .then_some(local.path)
    });
    let first = dirs.next()?;
    // Several projects: none of them speaks for the build.
    dirs.next().is_none().then_some((first, false))
}

fn merge(out: &mut BundleOptions, config: ToolConfig, dir: &Path) {
    let rel = |p: PathBuf| if p.is_absolute() { p } else { dir.join(p) };
    // Find-links entries that are paths are relative to the project too.
    let link = |l: String| {
        if l.contains("://") || Path::new(&l).is_absolute() {
            l
        } else {
            dir.join(&l).display().to_string()
        }
    };
    let source = &mut out.source;
    source.inputs.extend(config.requirements);
    fill_vec(
        &mut source.find_links,
        config.find_links.into_iter().map(link).collect(),
    );
    fill_vec(&mut source.extra_index_urls, config.extra_index_url);
    fill(&mut source.index_url, config.index_url);
    fill(&mut source.python, config.python);
    source.no_index |= config.no_index;
    fill(&mut out.console_script, config.console_script);
    fill(&mut out.entry_point, config.entry_point);
    fill(&mut out.shebang, config.shebang);
    fill_vec(&mut out.python_versions, config.python_version);
    fill_vec(&mut out.platforms, config.platform);
    fill_vec(&mut out.src, config.src.into_iter().map(rel).collect());
    out.no_compile |= config.no_compile;
    if out.output.as_os_str().is_empty() {
        if let Some(output) = config.output {
            out.output = rel(output);
        }
    }
    if out.standalone.is_none() && config.standalone {
        out.standalone = Some(StandaloneOptions {
            strip_stdlib: true,
            ..StandaloneOptions::default()
        });
    }
    if let Some(standalone) = &mut out.standalone {
        standalone.stdlib_sources |= config.stdlib_sources;
        if standalone.python_dist.is_empty() {
            if let Some(dist) = config.python_dist {
                standalone.python_dist = if dist.contains("://") {
                    dist
                } else {
                    rel(PathBuf::from(dist)).display().to_string()
                };
            }
        }
        fill(
            &mut standalone.python_dist_sha256,
            config.python_dist_sha256,
        );
    }
}

fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

fn fill_vec<T>(slot: &mut Vec<T>, value: Vec<T>) {
    if slot.is_empty() {
        *slot = value;
    }
}
