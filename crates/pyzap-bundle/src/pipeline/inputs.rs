//! Sorting the user's inputs: requirement specs, requirements files, local
//! wheels and project directories, plus the find-links directories they imply.

use std::path::{Path, PathBuf};

use pyzap_spec::{FormatChoice, FormatControl, PyProject, Requirement, RequirementsFile};

use crate::{BundleError, Result, SourceOptions};

#[derive(Debug, Default)]
pub struct Inputs {
    pub requirements: Vec<Requirement>,
    pub constraints: Vec<Requirement>,
    pub wheel_files: Vec<PathBuf>,
    pub projects: Vec<Project>,
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
    /// Clones of `git+` inputs, kept until the build is done.
    pub checkouts: Vec<super::vcs::Checkout>,
}

#[derive(Debug)]
pub struct Project {
    pub dir: PathBuf,
    pub pyproject: PyProject,
}

fn is_path_like(s: &str) -> bool {
    s == "."
        || s == ".."
        || s.starts_with("./")
        || s.starts_with("../")
        || s.starts_with('/')
        || s.ends_with(".whl")
        || Path::new(s).is_dir()
}

/// Reads the inputs; git repositories are cloned into `work`.
pub fn collect(source: &SourceOptions, work: &Path) -> Result<Inputs> {
    let mut out = Inputs {
        find_links: source.find_links.clone(),
        ..Default::default()
    };
    for (option, value) in &source.binary_options {
        out.formats.apply(&FormatChoice::parse(*option, value)?);
    }
    for input in &source.inputs {
        if input.starts_with("git+") {
            let checkout = super::vcs::checkout(input, work)?;
            out.projects.push(read_project(&checkout.path)?);
            out.checkouts.push(checkout);
            continue;
        }
        if is_path_like(input) {
            let path = PathBuf::from(input);
            if input.ends_with(".whl") {
                if !path.is_file() {
                    return Err(BundleError::NoWheelFile { path });
                }
                out.wheel_files.push(path);
            } else {
                out.projects.push(read_project(&path)?);
            }
            continue;
        }
        out.requirements.push(pyzap_spec::parse_requirement(input)?);
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
    Ok(out)
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
            out.requirements.push(e.requirement);
        }
    }
    out.constraints
        .extend(parsed.constraints.into_iter().map(|e| e.requirement));
    for p in parsed.paths {
        if p.extension().is_some_and(|e| e == "whl") {
            out.wheel_files.push(p);
        } else {
            out.projects.push(read_project(&p)?);
        }
    }
    Ok(())
}

pub fn read_project(dir: &Path) -> Result<Project> {
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
    let text = fs_err::read_to_string(&file)?;
    let pyproject = PyProject::parse(&text).map_err(|source| BundleError::PyProject {
        path: file.clone(),
        source,
    })?;
    Ok(Project {
        dir: dir.to_path_buf(),
        pyproject,
    })
}
