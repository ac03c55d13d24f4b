//! From an artifact's facts and the options to what the snap says: its
//! name and version in snapd's rules, the base whose Python runs the
//! artifact, the architectures, the apps and what each one runs.

use super::facts::{ArtifactFacts, Runner, ZipappTarget};
use super::SnapOptions;
use crate::DeployError;

/// The bases whose Python a `.pyz` can run on: each is an Ubuntu LTS, with
/// its `python3` and its glibc (a native wheel's manylinux floor must not
/// be newer).
const BASES: [Base; 3] = [
    Base {
        name: "core24",
        python: "3.12",
        glibc: (2, 39),
    },
    Base {
        name: "core22",
        python: "3.10",
        glibc: (2, 35),
    },
    Base {
        name: "core20",
        python: "3.8",
        glibc: (2, 31),
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Base {
    pub(crate) name: &'static str,
    pub(crate) python: &'static str,
    pub(crate) glibc: (u32, u32),
}

/// Everything `meta/snap.yaml` and the files beside it say, decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SnapPlan {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) summary: String,
    pub(crate) description: String,
    pub(crate) base: Base,
    pub(crate) architectures: Vec<String>,
    pub(crate) classic: bool,
    pub(crate) plugs: Vec<String>,
    /// Where the artifact goes in the snap (`app/black`).
    pub(crate) artifact: String,
    /// For a `.pyz`: the base's interpreter the wrapper runs it with.
    pub(crate) interpreter: Option<String>,
    pub(crate) apps: Vec<App>,
    /// What was changed or left out to fit snapd's rules, one line each.
    pub(crate) notes: Vec<String>,
    /// The artifact's file name, for the header comment.
    pub(crate) source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct App {
    pub(crate) name: String,
    /// `PYZAP_ENTRY_POINT`, or `None` for the artifact's own entry point.
    pub(crate) entry: Option<String>,
}

/// Where the wrapper that runs a `.pyz` lives in the snap.
pub(crate) const WRAPPER: &str = "bin/pyzap-run";

/// The snap store's limits: a summary of one line of at most 78
/// characters, a description of at most 4096.
const SUMMARY_MAX: usize = 78;
const DESCRIPTION_MAX: usize = 4096;

impl SnapPlan {
    pub(crate) fn plan(facts: &ArtifactFacts, options: &SnapOptions) -> Result<Self, DeployError> {
        let mut notes = Vec::new();
        let project = &facts.project;
        let name = match &options.name {
            Some(name) => {
                check_snap_name(name)?;
                name.clone()
            }
            None => {
                let name = sanitize_snap_name(&project.name)
                    .ok_or_else(|| DeployError::SnapName(project.name.clone()))?;
                if name != project.name {
                    notes.push(format!(
                        "the snap is named `{name}`: snap names are lowercase letters, digits and `-` (choose another with --name)"
                    ));
                }
                name
            }
        };
        let version = snap_version(&project.version)?;
        if version != project.version {
            notes.push(format!(
                "version {} is `{version}` in the snap: snap versions have no `!`",
                project.version
            ));
        }
        let summary = one_line(project.summary.as_deref().unwrap_or(&name), SUMMARY_MAX);
        let description = project
            .description
            .as_deref()
            .map(|d| cut_at_paragraph(d, DESCRIPTION_MAX))
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| summary.clone());
        let (base, architectures, interpreter) = match &facts.runner {
            Runner::Standalone { arch, glibc } => {
                let base = standalone_base(&facts.file_name, glibc.as_deref())?;
                (base, vec![snap_arch(arch)?], None)
            }
            Runner::Zipapp { targets } => {
                if options.classic {
                    return Err(DeployError::ClassicZipapp(facts.file_name.clone()));
                }
                let (base, archs) = zipapp_base(&facts.file_name, targets)?;
                (base, archs, Some(format!("/usr/bin/python{}", base.python)))
            }
        };
        for plug in &options.plugs {
            check_plug(plug)?;
        }
        let apps = apps(facts, options, &name, &mut notes)?;
        // Named after the first app, without an extension: the artifact's
        // `sys.argv[0]` is its path, so that app's usage and `--version`
        // name the command the user typed (`black`, not `black.pyz`).
        let artifact = format!("app/{}", apps[0].name);
        Ok(SnapPlan {
            name,
            version,
            summary,
            description,
            base,
            architectures,
            classic: options.classic,
            plugs: if options.classic {
                Vec::new()
            } else {
                options.plugs.clone()
            },
            artifact,
            interpreter,
            apps,
            notes,
            source: facts.file_name.clone(),
        })
    }

    /// What the first word of each app's `command:` runs, relative to `$SNAP`.
    pub(crate) fn command(&self) -> &str {
        if self.interpreter.is_some() {
            WRAPPER
        } else {
            &self.artifact
        }
    }

    /// `black_26.10.1_amd64.snap`, as `snap pack` names it.
    pub(crate) fn file_name(&self) -> String {
        let arch = match self.architectures.as_slice() {
            [one] => one.clone(),
            _ => "multi".to_string(),
        };
        format!("{}_{}_{arch}.snap", self.name, self.version)
    }
}

/// One app per console script of the project (those `--app` names, or
/// all whose extras the artifact bundles); the artifact's own entry point
/// when the project declares none.
fn apps(
    facts: &ArtifactFacts,
    options: &SnapOptions,
    snap_name: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<App>, DeployError> {
    let scripts = &facts.project.scripts;
    for wanted in &options.apps {
        if !scripts.iter().any(|s| &s.name == wanted) {
            return Err(DeployError::UnknownApp {
                name: wanted.clone(),
                project: facts.project.name.clone(),
                scripts: scripts
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    if scripts.is_empty() {
        return Ok(vec![App {
            name: snap_name.to_string(),
            entry: None,
        }]);
    }
    let mut apps: Vec<App> = Vec::new();
    for script in scripts {
        let asked = options.apps.contains(&script.name);
        if !options.apps.is_empty() && !asked {
            continue;
        }
        for (extra, missing) in &script.missing {
            let what = format!(
                "the app `{}`: it needs the extra `{extra}` of {} ({}), which the artifact does not bundle",
                script.name,
                facts.project.name,
                missing.join(", ")
            );
            if asked {
                notes.push(format!("{what}: the app will fail to start"));
            } else {
                notes.push(format!(
                    "left out {what} (build with `{}[{extra}]` to include it)",
                    facts.project.name
                ));
            }
        }
        if !asked && !script.missing.is_empty() {
            continue;
        }
        let name = sanitize_app_name(&script.name)
            .ok_or_else(|| DeployError::AppName(script.name.clone()))?;
        if name != script.name {
            notes.push(format!(
                "the app of `{}` is named `{name}`: app names are letters, digits and `-`",
                script.name
            ));
        }
        if apps.iter().any(|a| a.name == name) {
            return Err(DeployError::AppName(script.name.clone()));
        }
        apps.push(App {
            name,
            entry: Some(script.entry.clone()),
        });
    }
    if apps.is_empty() {
        return Err(DeployError::NoApps(facts.project.name.clone()));
    }
    Ok(apps)
}

/// The base for a `.pyz`: the newest whose `python3` is one of the
/// artifact's targets, with a glibc new enough for its native wheels; and
/// the architectures of those targets (`all` when nothing is native).
fn zipapp_base(
    file_name: &str,
    targets: &[ZipappTarget],
) -> Result<(Base, Vec<String>), DeployError> {
    let versions = || {
        let mut v: Vec<&str> = targets.iter().map(|t| t.python.as_str()).collect();
        v.dedup();
        v.join(", ")
    };
    let base = BASES
        .iter()
        .find(|b| targets.iter().any(|t| t.python == b.python))
        .ok_or_else(|| DeployError::NoBase {
            path: file_name.to_string(),
            python: versions(),
        })?;
    let matching: Vec<&ZipappTarget> = targets.iter().filter(|t| t.python == base.python).collect();
    for target in &matching {
        if let Some(libc) = &target.libc {
            check_libc(file_name, libc, base)?;
        }
    }
    let mut archs = Vec::new();
    for target in &matching {
        match &target.machine {
            Some(machine) => {
                let arch = snap_arch(machine)?;
                if !archs.contains(&arch) {
                    archs.push(arch);
                }
            }
            None => return Ok((*base, vec!["all".to_string()])),
        }
    }
    Ok((*base, archs))
}

/// The base of a standalone executable. It brings its own CPython, so any
/// base's Python will do; but that CPython (python-build-standalone's) is
/// linked against glibc, which `bare` lacks (it has no C library, and no
/// `/bin/sh` either), so the base is the oldest core with a glibc at least
/// the executable's floor: core22 (glibc 2.35) for the usual 2.17, core24
/// when a native wheel asks for more.
fn standalone_base(file_name: &str, glibc: Option<&str>) -> Result<Base, DeployError> {
    let oldest_first = BASES.iter().rev().filter(|b| b.name != "core20");
    for base in oldest_first {
        let fits = glibc.is_none_or(|g| parse_glibc(g).is_some_and(|v| v <= base.glibc));
        if fits {
            return Ok(*base);
        }
    }
    Err(DeployError::Libc {
        path: file_name.to_string(),
        libc: format!("glibc {}", glibc.unwrap_or("?")),
        base: "core24",
    })
}

/// Refuses a C library the base does not have, or has too old.
fn check_libc(file_name: &str, libc: &str, base: &Base) -> Result<(), DeployError> {
    let fits = libc
        .strip_prefix("glibc ")
        .and_then(parse_glibc)
        .is_some_and(|v| v <= base.glibc);
    if fits {
        Ok(())
    } else {
        Err(DeployError::Libc {
            path: file_name.to_string(),
            libc: libc.to_string(),
            base: base.name,
        })
    }
}

fn parse_glibc(version: &str) -> Option<(u32, u32)> {
    let (major, minor) = version.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The snap architecture (Debian's name) of a machine, as `uname -m` or
/// Rust's `ARCH` spell it.
fn snap_arch(machine: &str) -> Result<String, DeployError> {
    let arch = match machine {
        "x86_64" | "amd64" => "amd64",
        "aarch64" | "arm64" => "arm64",
        "armv7l" | "armv7" | "arm" => "armhf",
        "ppc64le" | "powerpc64le" | "powerpc64" => "ppc64el",
        "s390x" => "s390x",
        "riscv64" | "riscv64gc" => "riscv64",
        "i686" | "i386" | "x86" => "i386",
        other => return Err(DeployError::Machine(other.to_string())),
    };
    Ok(arch.to_string())
}

/// snapd's rule for a snap name: 2 to 40 lowercase letters, digits and
/// hyphens, at least one letter, no hyphen at either end or twice in a row.
pub(crate) fn check_snap_name(name: &str) -> Result<(), DeployError> {
    let ok = (2..=40).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.bytes().any(|b| b.is_ascii_lowercase())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--");
    if ok {
        Ok(())
    } else {
        Err(DeployError::SnapName(name.to_string()))
    }
}

/// snapd's rule for an interface name: lowercase letters and digits, with
/// single inner hyphens, starting with a letter.
fn check_plug(plug: &str) -> Result<(), DeployError> {
    let ok = plug.starts_with(|c: char| c.is_ascii_lowercase())
        && !plug.ends_with('-')
        && !plug.contains("--")
        && plug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(DeployError::PlugName(plug.to_string()))
    }
}

/// A project name made into a snap name: lowercase, `_` and `.` (and
/// anything else) as single hyphens, at most 40 characters; `None` when
/// nothing valid is left.
pub(crate) fn sanitize_snap_name(project: &str) -> Option<String> {
    let mut out = String::new();
    for c in project.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(40);
    let out = out.trim_end_matches('-').to_string();
    check_snap_name(&out).ok().map(|()| out)
}

/// An app name in snapd's rule: letters, digits and single inner hyphens.
fn sanitize_app_name(script: &str) -> Option<String> {
    let mut out = String::new();
    for c in script.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    (!out.is_empty()).then_some(out)
}

/// A PEP 440 version in snapd's rule (at most 32 of letters, digits and
/// `:.+~-`, starting with a letter or digit): the epoch's `!` becomes `:`,
/// as in Debian's versions.
fn snap_version(version: &str) -> Result<String, DeployError> {
    let out = version.replace('!', ":");
    let ok = (1..=32).contains(&out.len())
        && out.starts_with(|c: char| c.is_ascii_alphanumeric())
        && !out.ends_with(['.', ':', '-'])
        && out
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":.+~-".contains(c));
    if ok {
        Ok(out)
    } else {
        Err(DeployError::SnapVersion(version.to_string()))
    }
}

/// `text` on one line, at most `max` characters (cut at a word, with `…`).
fn one_line(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let mut cut: String = line.chars().take(max - 1).collect();
    if let Some(space) = cut.rfind(' ') {
        cut.truncate(space);
    }
    format!("{cut}…")
}

/// The leading paragraphs of `text` that fit in `max` characters (at least
/// the first one, cut), with control characters other than newlines
/// dropped: YAML cannot carry them.
fn cut_at_paragraph(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect();
    let mut out = String::new();
    for paragraph in clean.split("\n\n") {
        let next = if out.is_empty() {
            paragraph.to_string()
        } else {
            format!("{out}\n\n{paragraph}")
        };
        if next.chars().count() > max {
            break;
        }
        out = next;
    }
    if out.is_empty() {
        out = clean.chars().take(max).collect();
    }
    out.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snap_names_follow_snapds_rule() {
        assert_eq!(sanitize_snap_name("black").as_deref(), Some("black"));
        assert_eq!(
            sanitize_snap_name("My_Tool.cli").as_deref(),
            Some("my-tool-cli")
        );
        assert_eq!(sanitize_snap_name("a__b").as_deref(), Some("a-b"));
        assert_eq!(sanitize_snap_name("_x_").as_deref(), None);
        assert_eq!(sanitize_snap_name("123").as_deref(), None);
        assert_eq!(
            sanitize_snap_name(&"a".repeat(50)).map(|n| n.len()),
            Some(40)
        );
        assert!(check_snap_name("my_tool").is_err());
        assert!(check_snap_name("ok-name").is_ok());
    }

    #[test]
    fn versions_keep_pep440_spelling_but_the_epoch() {
        assert_eq!(snap_version("26.10.1").unwrap(), "26.10.1");
        assert_eq!(snap_version("1!2.0+local.1").unwrap(), "1:2.0+local.1");
        assert!(snap_version(&"1.".repeat(20)).is_err());
    }

    #[test]
    fn a_pyz_gets_the_base_of_its_python_and_its_machine() {
        let target = |python: &str, machine: Option<&str>, libc: Option<&str>| ZipappTarget {
            python: python.to_string(),
            machine: machine.map(str::to_string),
            libc: libc.map(str::to_string),
        };
        let (base, archs) = zipapp_base(
            "a.pyz",
            &[target("3.12", Some("x86_64"), Some("glibc 2.17"))],
        )
        .unwrap();
        assert_eq!((base.name, archs), ("core24", vec!["amd64".to_string()]));
        let (base, archs) = zipapp_base("a.pyz", &[target("3.10", None, None)]).unwrap();
        assert_eq!((base.name, archs), ("core22", vec!["all".to_string()]));
        let (base, _) = zipapp_base("a.pyz", &[target("3.8", None, None)]).unwrap();
        assert_eq!(base.name, "core20");
        let err = zipapp_base("a.pyz", &[target("3.11", None, None)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a.pyz is for Python 3.11, which no snap base has (core20: 3.8, core22: 3.10, core24: 3.12)"
        );
        let err = zipapp_base(
            "a.pyz",
            &[target("3.10", Some("aarch64"), Some("glibc 2.39"))],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "a.pyz needs glibc 2.39, which core22 does not have"
        );
        let err =
            zipapp_base("a.pyz", &[target("3.12", Some("x86_64"), Some("musl 1.2"))]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a.pyz needs musl 1.2, which core24 does not have"
        );
    }

    #[test]
    fn a_standalone_gets_the_oldest_core_with_its_glibc() {
        assert_eq!(standalone_base("x", Some("2.17")).unwrap().name, "core22");
        assert_eq!(standalone_base("x", None).unwrap().name, "core22");
        assert_eq!(standalone_base("x", Some("2.38")).unwrap().name, "core24");
        assert!(standalone_base("x", Some("2.41")).is_err());
    }

    #[test]
    fn summaries_fit_one_line_and_descriptions_whole_paragraphs() {
        assert_eq!(one_line("a\n  b", 78), "a b");
        let long = "word ".repeat(30);
        let cut = one_line(&long, 78);
        assert!(cut.chars().count() <= 78 && cut.ends_with("word…"), "{cut}");
        assert_eq!(
            cut_at_paragraph("one\n\ntwo two\n\nthree", 12),
            "one\n\ntwo two"
        );
        assert_eq!(cut_at_paragraph("abcdef", 3), "abc");
        assert_eq!(cut_at_paragraph("a\u{7}b  \nc", 10), "ab\nc");
    }
}
