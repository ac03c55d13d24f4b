//! What a snap needs to know of an artifact: how it runs (standalone or by
//! an interpreter, for which Python, machine and C library), and the
//! bundled project it is the app of (name, version, summary, description,
//! console scripts), read from the manifest and that project's
//! `.dist-info`.

use std::collections::BTreeSet;
use std::path::Path;
use std::str::FromStr;

use pyzap_artifact::{DistInfoFiles, Manifest};
use pyzap_spec::{EntryPoints, ExtraName, Metadata, PackageName};

use crate::DeployError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ArtifactFacts {
    /// The artifact's file name (`black.pyz`), for messages.
    pub(crate) file_name: String,
    pub(crate) runner: Runner,
    /// The entry point's console script, if it came from one.
    pub(crate) entry_script: Option<String>,
    pub(crate) project: Project,
}

/// How the artifact starts, and what it asks of the system it runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Runner {
    /// A standalone executable: its own CPython, built for `arch` (Rust's
    /// name, `x86_64`) and needing at least `glibc` (`2.17`).
    Standalone { arch: String, glibc: Option<String> },
    /// A `.pyz`: one entry per target, each a Python version (`3.12`), and
    /// for native code the machine and C library it was built for.
    Zipapp { targets: Vec<ZipappTarget> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ZipappTarget {
    pub(crate) python: String,
    /// `x86_64` when the target has native code, else `None`.
    pub(crate) machine: Option<String>,
    /// `glibc 2.17`, `musl 1.2`, or `None` when any C library will do.
    pub(crate) libc: Option<String>,
}

/// The bundled distribution the snap is made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Project {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) summary: Option<String>,
    /// The long description (the METADATA body), as written.
    pub(crate) description: Option<String>,
    /// Its console scripts, by name.
    pub(crate) scripts: Vec<Script>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Script {
    pub(crate) name: String,
    /// `module:function`, what `PYZAP_ENTRY_POINT` takes.
    pub(crate) entry: String,
    /// For each extra the script declares (`blackd = blackd:main [d]`)
    /// whose requirements are not all bundled: the extra and what is missing.
    pub(crate) missing: Vec<(String, Vec<String>)>,
}

impl ArtifactFacts {
    /// Reads the facts of the artifact at `path`; `standalone` is the
    /// architecture and glibc floor of a standalone executable's CPython,
    /// `dist` names the project when the manifest does not tell.
    pub(crate) fn read(
        path: &Path,
        manifest: &Manifest,
        standalone: Option<(&str, Option<&str>)>,
        dist: Option<&str>,
    ) -> Result<Self, DeployError> {
        let runner = match standalone {
            Some((arch, glibc)) => Runner::Standalone {
                arch: arch.to_string(),
                glibc: max_glibc(glibc, manifest.libc.as_deref()),
            },
            None => Runner::Zipapp {
                targets: zipapp_targets(manifest),
            },
        };
        let infos = read_infos(path, manifest)?;
        let chosen = choose_project(path, manifest, &infos, dist)?;
        let bundled: BTreeSet<String> = infos.iter().map(|i| i.name.clone()).collect();
        Ok(ArtifactFacts {
            file_name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            runner,
            entry_script: manifest.entry_point.script.clone(),
            project: Project::of(chosen, &bundled)?,
        })
    }
}

/// One bundled distribution's dist-info, parsed.
struct DistInfo {
    /// Normalized (`mypy-extensions`).
    name: String,
    version: String,
    files: DistInfoFiles,
    metadata: Metadata,
    entry_points: EntryPoints,
}

fn read_infos(path: &Path, manifest: &Manifest) -> Result<Vec<DistInfo>, DeployError> {
    let mut infos = Vec::new();
    for dist in &manifest.distributions {
        let Some(files) = pyzap_artifact::read_dist_info(path, &dist.name)? else {
            continue;
        };
        let metadata =
            Metadata::parse(&files.metadata).map_err(|source| DeployError::Metadata {
                dir: files.dir.clone(),
                source,
            })?;
        let entry_points = files
            .entry_points
            .as_deref()
            .map(EntryPoints::parse)
            .unwrap_or_default();
        infos.push(DistInfo {
            name: metadata.name.to_string(),
            version: dist.version.clone(),
            files,
            metadata,
            entry_points,
        });
    }
    Ok(infos)
}

/// The project the artifact is the app of: the one `--dist` names, else
/// the one that declares the entry point's console script, else the only
/// bundled distribution no other one requires.
fn choose_project<'a>(
    path: &Path,
    manifest: &Manifest,
    infos: &'a [DistInfo],
    dist: Option<&str>,
) -> Result<&'a DistInfo, DeployError> {
    if let Some(wanted) = dist {
        let wanted_name = PackageName::from_str(wanted).map(|n| n.to_string());
        return infos
            .iter()
            .find(|i| wanted_name.as_ref().is_ok_and(|w| *w == i.name))
            .ok_or_else(|| DeployError::DistNotBundled(wanted.to_string()));
    }
    if let Some(script) = &manifest.entry_point.script {
        if let Some(found) = infos
            .iter()
            .find(|i| i.entry_points.console_scripts.contains_key(script))
        {
            return Ok(found);
        }
    }
    let required: BTreeSet<String> = infos
        .iter()
        .flat_map(|i| i.metadata.requires_dist.iter().map(|r| r.name.to_string()))
        .collect();
    let roots: Vec<&DistInfo> = infos
        .iter()
        .filter(|i| !required.contains(&i.name))
        .collect();
    match roots.as_slice() {
        [one] => Ok(one),
        _ => Err(DeployError::NoProject {
            path: path.display().to_string(),
            candidates: roots
                .iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

impl Project {
    fn of(info: &DistInfo, bundled: &BTreeSet<String>) -> Result<Self, DeployError> {
        let extras = script_extras(info.files.entry_points.as_deref().unwrap_or(""));
        let scripts = info
            .entry_points
            .console_scripts
            .iter()
            .map(|(name, entry)| Script {
                name: name.clone(),
                entry: entry.to_string(),
                missing: extras
                    .iter()
                    .filter(|(script, _)| script == name)
                    .flat_map(|(_, list)| list.iter())
                    .filter_map(|extra| {
                        let missing = missing_for_extra(&info.metadata, extra, bundled);
                        (!missing.is_empty()).then(|| (extra.clone(), missing))
                    })
                    .collect(),
            })
            .collect();
        let (summary, description) = summary_and_body(&info.files.metadata);
        Ok(Project {
            name: info.name.clone(),
            version: info.version.clone(),
            summary,
            description,
            scripts,
        })
    }
}

/// The extras each console script names in brackets (`blackd =
/// blackd:patched_main [d]`), which `EntryPoints` leaves out: such a
/// script imports what only its extras bring.
fn script_extras(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut section = "";
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim();
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        if section != "console_scripts" {
            continue;
        }
        let extras = value
            .split_once('[')
            .and_then(|(_, rest)| rest.split_once(']'))
            .map(|(inside, _)| {
                inside
                    .split(',')
                    .map(|e| e.trim().to_string())
                    .filter(|e| !e.is_empty())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        if !extras.is_empty() {
            out.push((name.trim().to_string(), extras));
        }
    }
    out
}

/// The names of the requirements that `extra` adds and `bundled` lacks.
fn missing_for_extra(metadata: &Metadata, extra: &str, bundled: &BTreeSet<String>) -> Vec<String> {
    let Ok(extra) = ExtraName::from_str(extra) else {
        return Vec::new();
    };
    metadata
        .requires_dist
        .iter()
        .filter(|r| {
            r.marker.evaluate_extras(std::slice::from_ref(&extra)) && !r.marker.evaluate_extras(&[])
        })
        .map(|r| r.name.to_string())
        .filter(|name| !bundled.contains(name))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// METADATA's `Summary` header and its body (the long description), each
/// `None` when empty.
fn summary_and_body(text: &str) -> (Option<String>, Option<String>) {
    let text = text.replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let summary = head
        .lines()
        .find_map(|l| {
            let (key, value) = l.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case("summary")
                .then(|| value.trim().to_string())
        })
        .filter(|s| !s.is_empty());
    let body = body.trim();
    (summary, (!body.is_empty()).then(|| body.to_string()))
}

/// Each target of a `.pyz`, from its manifest.
fn zipapp_targets(manifest: &Manifest) -> Vec<ZipappTarget> {
    if manifest.targets.is_empty() {
        return vec![ZipappTarget {
            python: manifest.target.python.clone(),
            machine: manifest.native.then(|| manifest.machine.clone()).flatten(),
            libc: manifest.libc.clone(),
        }];
    }
    manifest
        .targets
        .iter()
        .map(|t| ZipappTarget {
            python: t.target.python.clone(),
            machine: manifest.native.then(|| t.machine.clone()),
            libc: (!t.libc.is_empty()).then(|| t.libc.clone()),
        })
        .collect()
}

/// The newer of the standalone's own glibc floor (`2.17`) and that of its
/// native wheels (`glibc 2.28`), as `2.28`.
fn max_glibc(own: Option<&str>, wheels: Option<&str>) -> Option<String> {
    let wheels = wheels.and_then(|l| l.strip_prefix("glibc "));
    let key = |v: &str| -> Vec<u32> { v.split('.').filter_map(|p| p.parse().ok()).collect() };
    match (own, wheels) {
        (Some(a), Some(b)) => Some(if key(a) >= key(b) { a } else { b }.to_string()),
        (a, b) => a.or(b).map(str::to_string),
    }
}

#[cfg(test)]
pub(crate) fn project_for_tests(name: &str, scripts: &[(&str, &str)]) -> Project {
    Project {
        name: name.to_string(),
        version: "26.10.1".to_string(),
        summary: Some("The uncompromising code formatter.".to_string()),
        description: Some("Black is the uncompromising Python code formatter.\n\nBy using it, you agree to cede control.".to_string()),
        scripts: scripts
            .iter()
            .map(|(n, e)| Script {
                name: n.to_string(),
                entry: e.to_string(),
                missing: Vec::new(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_extras_reads_brackets_of_console_scripts_only() {
        let text = "[console_scripts]\nblack = black:patched_main\nblackd = blackd:patched_main [d, x]\n\n[gui_scripts]\ng = a:b [y]\n";
        assert_eq!(
            script_extras(text),
            vec![("blackd".to_string(), vec!["d".to_string(), "x".to_string()])]
        );
    }

    #[test]
    fn an_extra_whose_requirements_are_not_bundled_is_missing() {
        let metadata = Metadata::parse(
            "Name: black\nVersion: 1\nRequires-Dist: click\nRequires-Dist: aiohttp>=3.10; extra == 'd'\n\
             Requires-Dist: uvloop; sys_platform != 'win32' and extra == 'uvloop'\n",
        )
        .unwrap();
        let bundled: BTreeSet<String> = ["black", "click", "uvloop"].map(String::from).into();
        assert_eq!(missing_for_extra(&metadata, "d", &bundled), vec!["aiohttp"]);
        assert!(missing_for_extra(&metadata, "uvloop", &bundled).is_empty());
    }

    #[test]
    fn summary_and_body_come_from_header_and_body() {
        let (summary, body) =
            summary_and_body("Name: x\nVersion: 1\nSummary:  Formats code. \n\n\nLong text.\n");
        assert_eq!(summary.as_deref(), Some("Formats code."));
        assert_eq!(body.as_deref(), Some("Long text."));
        assert_eq!(summary_and_body("Name: x\n"), (None, None));
    }

    #[test]
    fn the_newer_glibc_floor_wins() {
        assert_eq!(
            max_glibc(Some("2.17"), Some("glibc 2.28")).as_deref(),
            Some("2.28")
        );
        assert_eq!(
            max_glibc(Some("2.34"), Some("glibc 2.28")).as_deref(),
            Some("2.34")
        );
        assert_eq!(max_glibc(None, Some("musl 1.2")), None);
    }
}
