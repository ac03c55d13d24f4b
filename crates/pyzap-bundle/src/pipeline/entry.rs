//! Choosing the entry point: `-c` names a console script of any bundled
//! distribution, or else a script one ships in `.data/scripts/` (awscli's
//! `aws`), `-e` names a module (checked to exist in the bundle) and maybe
//! a function (checked to be defined at the module's top level by reading
//! its source, `defines.rs`; what reading cannot tell is said, and left to
//! run time), and with neither the entry script (a `--src` directory's
//! `__main__.py` or a PEP 723 script), or else the project's (or single
//! top-level requirement's) only script, is used — and said so.

mod defines;

use pyzap_artifact::{EntryKind, EntryPointRecord};
use pyzap_spec::{EntryPoint, PackageName};
use pyzap_wheel::InstalledDist;

use self::defines::{defines, Defines};
use crate::{BundleError, Result};

/// The largest module source read to check an entry function (larger
/// ones are left to run time).
const MAX_MODULE_SOURCE: u64 = 8 << 20;

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
    /// The Python source of a module path (`pkg/mod`) and where it comes
    /// from, when the bundle holds one (`module_source`).
    pub module_source: &'a dyn Fn(&str) -> Option<(String, String)>,
}

/// The entry point, and what to tell the user about it.
pub(crate) struct Chosen {
    pub record: EntryPointRecord,
    /// How it was detected, when it was.
    pub note: Option<String>,
    /// What could not be checked before run time.
    pub warning: Option<String>,
}

/// The source of module path `path` (`pkg/mod`) among `--src` files, then
/// the distributions' site files: `path/__init__.py` or `path.py`, with
/// where it comes from (for messages). `None` for a native extension, a
/// namespace package, or a source larger than `MAX_MODULE_SOURCE`.
pub(crate) fn module_source(
    dists: &[InstalledDist],
    src_files: &[(String, Vec<u8>)],
    path: &str,
) -> Option<(String, String)> {
    for candidate in [format!("{path}/__init__.py"), format!("{path}.py")] {
        if let Some((_, bytes)) = src_files.iter().find(|(name, _)| *name == candidate) {
            let text = String::from_utf8_lossy(bytes).into_owned();
            return Some((text, format!("{candidate} of --src")));
        }
        for dist in dists {
            if let Ok(Some(bytes)) = dist.read_site_file(&candidate, MAX_MODULE_SOURCE) {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                return Some((text, format!("{candidate} of {}", dist.filename)));
            }
        }
    }
    None
}

/// Checks that `ep`'s function (its first name, for `mod:Class.method`)
/// is bound at the top level of its module's source: an error when it is
/// not, a warning when reading cannot tell.
fn check_function(ep: &EntryPoint, path: &str, inp: &EntryInputs<'_>) -> Result<Option<String>> {
    let Some(function) = &ep.function else {
        return Ok(None);
    };
    let name = function.split('.').next().unwrap_or(function);
    let cannot_tell = |why: &str| {
        format!(
            "cannot tell whether module `{}` has `{name}` without running it ({why}): \
             `{ep}` is checked when the app starts",
            ep.module
        )
    };
    let Some((source, origin)) = (inp.module_source)(path) else {
        return Ok(Some(cannot_tell(
            "it has no Python source in the bundle: a native extension or a namespace package",
        )));
    };
    match defines(&source, name) {
        Defines::Yes => Ok(None),
        Defines::Unknown(why) => Ok(Some(cannot_tell(&why))),
        Defines::No { functions } => Err(BundleError::NoEntryFunction {
            module: ep.module.clone(),
            function: function.clone(),
            origin,
            functions,
        }),
    }
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

/// The entry point, a sentence saying how it was chosen (for
/// auto-detection), and what could not be checked.
pub(crate) fn choose(inp: &EntryInputs<'_>) -> Result<Chosen> {
    let (record, note) = choose_record(inp)?;
    let warning = match inp.entry_point {
        Some(text) => {
            let ep: EntryPoint = text.parse()?;
            check_function(&ep, &ep.module.replace('.', "/"), inp)?
        }
        None => None,
    };
    Ok(Chosen {
        record,
        note,
        warning,
    })
}

fn choose_record(inp: &EntryInputs<'_>) -> Result<(EntryPointRecord, Option<String>)> {
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
