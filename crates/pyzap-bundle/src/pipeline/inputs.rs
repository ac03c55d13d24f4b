//! Sorting the user's inputs: requirement specs, requirements files,
//! dependency groups, local paths (projects with their extras, wheels,
//! sdists), `git+` repositories, PEP 508 direct references and a PEP 723
//! script, plus the find-links directories and index options they imply.
//!
//! What is a path follows pip: text with a `/` or starting with `.`, or
//! named like an archive (`LocalPath::looks_like`). A bare name is a
//! requirement even when a directory of that name is here, as in pip; the
//! build says so in a warning, since building that directory is what
//! pyzap used to do.

use std::path::{Path, PathBuf};

use pyzap_spec::{
    DirectReference, FormatChoice, FormatControl, LocalKind, LocalPath, PyProject, Requirement,
    RequirementsFile,
};

use super::locals::Local;
use super::script::{self, Script};
use crate::{BundleError, Result, SourceOptions};

#[derive(Debug, Default)]
pub(crate) struct Inputs {
    /// Requirements named by versions (a direct reference is a `Local`).
    pub requirements: Vec<Requirement>,
    pub constraints: Vec<Requirement>,
    /// Distributions named by where they are, in the order given.
    pub locals: Vec<Local>,
    /// A PEP 723 script: the entry script, its dependencies in `requirements`.
    pub script: Option<Script>,
    /// `-f` locations: the command line's, then the requirements files'.
    pub find_links: Vec<String>,
    /// `--index-url` / `--extra-index-url` / `--no-index` from requirements files.
    pub index_urls: Vec<String>,
    pub extra_index_urls: Vec<String>,
    pub no_index: bool,
    pub hashes: Vec<(String, Vec<String>)>,
    /// A requirements file said `--require-hashes`.
    pub require_hashes: bool,
    /// `--no-binary` / `--only-binary`: the command line's, then the files'.
    pub formats: FormatControl,
    /// What the user should hear about how an input was read.
    pub warnings: Vec<String>,
}

impl Inputs {
    /// Nothing to install was named: no requirement (constraints only
    /// narrow them), no local or remote distribution, no script.
    pub(crate) fn is_empty(&self) -> bool {
        self.requirements.is_empty() && self.locals.is_empty() && self.script.is_none()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Project {
    pub dir: PathBuf,
    pub pyproject: PyProject,
}

/// Reads the inputs (nothing is downloaded, cloned or built yet).
pub(crate) fn collect(source: &SourceOptions) -> Result<Inputs> {
    let mut out = Inputs {
        find_links: source.find_links.clone(),
        ..Default::default()
    };
    for (option, value) in &source.binary_options {
        out.formats.apply(&FormatChoice::parse(*option, value)?);
    }
    for input in &source.inputs {
        if input.starts_with("git+") {
            out.locals.push(Local::git(input));
        } else if LocalPath::looks_like(input) {
            add_path(&mut out, LocalPath::parse(input)?)?;
        } else {
            let requirement = pyzap_spec::parse_requirement(input)?;
            if requirement.version_or_url.is_none() && Path::new(input).is_dir() {
                out.warnings.push(format!(
                    "`{input}` is read as a package name; write `./{input}` for the directory"
                ));
            }
            add_requirement(&mut out, requirement)?;
        }
    }
    let mut read = |p: &Path| fs_err::read_to_string(p);
    for file in &source.requirements {
        let parsed = RequirementsFile::parse(file, &mut read)?;
        absorb(&mut out, parsed, false)?;
    }
    for file in &source.constraints {
        let parsed = RequirementsFile::parse(file, &mut read)?;
        absorb(&mut out, parsed, true)?;
    }
    for group in &source.groups {
        add_group(&mut out, group)?;
    }
    Ok(out)
}

/// A requirement, sorted: a direct reference is a local distribution.
fn add_requirement(out: &mut Inputs, requirement: Requirement) -> Result<()> {
    match DirectReference::from_requirement(&requirement)? {
        Some(reference) => out.locals.push(Local::from_reference(reference)?),
        None => out.requirements.push(requirement),
    }
    Ok(())
}

fn add_path(out: &mut Inputs, local: LocalPath) -> Result<()> {
    if local.kind() != LocalKind::Script {
        out.locals.push(Local::from_path(local)?);
        return Ok(());
    }
    if let Some(first) = &out.script {
        return Err(BundleError::ScriptTwice {
            first: first.path.clone(),
            second: local.path,
        });
    }
    let (script, dependencies) = script::read(&local.path)?;
    out.script = Some(script);
    for requirement in dependencies {
        add_requirement(out, requirement)?;
    }
    Ok(())
}

fn absorb(out: &mut Inputs, parsed: RequirementsFile, as_constraints: bool) -> Result<()> {
    out.index_urls.extend(parsed.index_urls);
    out.extra_index_urls.extend(parsed.extra_index_urls);
    out.no_index |= parsed.no_index;
    out.require_hashes |= parsed.require_hashes;
    for choice in &parsed.format_choices {
        out.formats.apply(choice);
    }
    out.find_links.extend(parsed.find_links);
    for e in parsed.requirements {
        if !e.hashes.is_empty() {
            out.hashes
                .push((e.requirement.name.to_string(), e.hashes.clone()));
        }
        if as_constraints {
            out.constraints.push(e.requirement);
        } else {
            add_requirement(out, e.requirement)?;
        }
    }
    out.constraints
        .extend(parsed.constraints.into_iter().map(|e| e.requirement));
    for local in parsed.paths {
        add_path(out, local)?;
    }
    Ok(())
}

/// `--group [PATH:]NAME` (pip's syntax): the PEP 735 dependency group of
/// PATH, a `pyproject.toml`. Without PATH: the only local project's, else
/// the one in the current directory (pip's default).
fn add_group(out: &mut Inputs, value: &str) -> Result<()> {
    let (file, name) = match value.rsplit_once(':') {
        Some((path, name)) => (PathBuf::from(path), name),
        None => {
            let mut dirs = out.locals.iter().filter_map(Local::project_dir);
            let file = match (dirs.next(), dirs.next()) {
                (Some(dir), None) => dir.join("pyproject.toml"),
                _ => PathBuf::from("pyproject.toml"),
            };
            (file, value)
        }
    };
    if !file.is_file() {
        return Err(BundleError::NoGroupFile {
            group: value.to_string(),
            path: file,
        });
    }
    let pyproject = read_pyproject(&file)?;
    let requirements =
        pyproject
            .dependency_group(name)
            .map_err(|source| BundleError::PyProject {
                path: file.clone(),
                source,
            })?;
    for requirement in requirements {
        add_requirement(out, requirement)?;
    }
    Ok(())
}

pub(crate) fn read_project(dir: &Path) -> Result<Project> {
    let file = dir.join("pyproject.toml");
    if !dir.is_dir() {
        return Err(BundleError::NotADirectory {
            dir: dir.to_path_buf(),
        });
    }
    if !file.is_file() {
        if !dir.join("setup.py").is_file() {
            return Err(BundleError::NotAProject {
                dir: dir.to_path_buf(),
            });
        }
        return Ok(Project {
            dir: dir.to_path_buf(),
            pyproject: PyProject::default(),
        });
    }
    Ok(Project {
        dir: dir.to_path_buf(),
        pyproject: read_pyproject(&file)?,
    })
}

fn read_pyproject(file: &Path) -> Result<PyProject> {
    let text = fs_err::read_to_string(file)?;
    PyProject::parse(&text).map_err(|source| BundleError::PyProject {
        path: file.to_path_buf(),
        source,
    })
}
