//! Choosing the entry point: `-c` names a console script of any bundled
//! distribution, or else a script one ships in `.data/scripts/` (awscli's
//! `aws`), `-e` names a module (checked to exist in the bundle), and
//! with neither the entry script (a `--src` directory's `__main__.py` or a
//! PEP 723 script), or else the project's (or single top-level
//! requirement's) only script, is used — and said so.

use pyzap_artifact::{EntryKind, EntryPointRecord};
use pyzap_spec::{EntryPoint, PackageName};
use pyzap_wheel::InstalledDist;

use crate::{BundleError, Result};

pub(crate) struct EntryInputs<'a> {
    pub console_script: Option<&'a str>,
    pub entry_point: Option<&'a str>,
    pub dists: &'a [InstalledDist],
    /// Distributions the user asked for by name (projects first).
    pub top_level: &'a [PackageName],
    /// Where the entry script comes from, when there is one (a `--src`
    /// directory's `__main__.py`, a PEP 723 script).
    pub main_script: Option<&'a str>,
    /// Every file path the artifact's import roots will hold.
    pub importable: &'a dyn Fn(&str) -> bool,
}

fn record(ep: &EntryPoint, script: Option<&str>) -> EntryPointRecord {
    EntryPointRecord {
        kind: if ep.function.is_some() {
            EntryKind::Function
        } else {
            EntryKind::Module
        },
        module: Some(ep.module.clone()),
        function: ep.function.clone(),
        script: script.map(str::to_string),
    }
}

/// The scripts the distributions ship in `.data/scripts/`, with their owner.
fn data_scripts(dists: &[InstalledDist]) -> Vec<(String, &PackageName)> {
    dists
        .iter()
        .flat_map(|d| {
            d.scheme_files
                .iter()
                .filter_map(|f| f.dest.strip_prefix("scripts/"))
                .filter(|s| !s.contains('/'))
                .map(move |s| (s.to_string(), &d.name))
        })
        .collect()
}

/// Returns the entry point and a sentence saying how it was chosen (for auto-detection).
pub(crate) fn choose(inp: &EntryInputs<'_>) -> Result<(EntryPointRecord, Option<String>)> {
    let all_scripts = || {
        inp.dists
            .iter()
            .flat_map(|d| {
                d.entry_points
                    .scripts()
                    .map(move |(n, ep)| (n.clone(), ep.clone(), d.name.clone()))
            })
            .collect::<Vec<_>>()
    };
    if let Some(name) = inp.console_script {
        let scripts = all_scripts();
        if let Some((_, ep, _)) = scripts.iter().find(|(n, _, _)| n == name) {
            return Ok((record(ep, Some(name)), None));
        }
        let data_scripts = data_scripts(inp.dists);
        if data_scripts.iter().any(|(n, _)| n == name) {
            return Ok((
                EntryPointRecord {
                    kind: EntryKind::DataScript,
                    module: None,
                    function: None,
                    script: Some(name.to_string()),
                },
                None,
            ));
        }
        let available: Vec<String> = scripts
            .iter()
            .map(|(n, _, d)| format!("{n} ({d})"))
            .chain(
                data_scripts
                    .iter()
                    .map(|(n, d)| format!("{n} ({d}, a script file)")),
            )
            .collect();
        return Err(BundleError::NoConsoleScript {
            name: name.to_string(),
            available: if available.is_empty() {
                "none".to_string()
            } else {
                available.join(", ")
            },
        });
    }
    if let Some(text) = inp.entry_point {
        let ep: EntryPoint = text.parse()?;
        let path = ep.module.replace('.', "/");
        if !(inp.importable)(&path) {
            return Err(BundleError::NoEntryModule { module: ep.module });
        }
        return Ok((record(&ep, None), None));
    }
    if let Some(origin) = inp.main_script {
        return Ok((
            EntryPointRecord {
                kind: EntryKind::Script,
                module: None,
                function: None,
                script: None,
            },
            Some(format!("using {origin} as the entry point")),
        ));
    }
    for top in inp.top_level {
        let Some(dist) = inp.dists.iter().find(|d| &d.name == top) else {
            continue;
        };
        let scripts: Vec<(&String, &EntryPoint)> = dist.entry_points.scripts().collect();
        match scripts.as_slice() {
            [(name, ep)] => {
                return Ok((
                    record(ep, Some(name)),
                    Some(format!(
                        "using console script `{name}` of {} as the entry point",
                        dist.name
                    )),
                ))
            }
            [] => continue,
            many => {
                let names: Vec<&str> = many.iter().map(|(n, _)| n.as_str()).collect();
                return Err(BundleError::AmbiguousEntryPoint {
                    dist: dist.name.clone(),
                    scripts: names.join(", "),
                });
            }
        }
    }
    Err(BundleError::NoEntryPoint)
}
