//! Code that is not a ready wheel: local projects and sdists (built with
//! PEP 517 after resolving their build requirements from the same places),
//! and `--src` directories copied in as they are.

use std::path::{Path, PathBuf};

use pyzap_index::IndexClient;
use pyzap_pep517::BuildRequest;
use pyzap_python::Interpreter;
use pyzap_resolve::ResolveOptions;
use pyzap_spec::PyProject;

use crate::index_provider::IndexProvider;
use crate::{BundleError, Result};

/// Builds the wheel of the project in `dir`.
pub(crate) fn build_project(
    python: &Interpreter,
    find_links: &IndexClient,
    dir: &Path,
    pyproject: &PyProject,
    work: &Path,
    pre: bool,
) -> Result<PathBuf> {
    let build_system = pyproject.build_system.clone();
    // PEP 517/518 defaults when [build-system] is absent: setuptools' legacy backend.
    let requires = build_system
        .as_ref()
        .map(|b| b.requires.clone())
        .unwrap_or_else(|| vec!["setuptools>=40.8.0".into()]);
    let reqs = requires
        .iter()
        .map(|r| pyzap_spec::parse_requirement(r))
        .collect::<Result<Vec<_>, _>>()?;
    // Build requirements are wheels only, whatever --no-binary says of them.
    let formats = pyzap_spec::FormatControl::default();
    let provider = IndexProvider {
        index: find_links,
        target: &python.target,
        allow_sdists: false,
        formats: &formats,
        prefetch_jobs: 8,
    };
    let resolution = pyzap_resolve::resolve(
        &provider,
        &reqs,
        &[],
        &python.target.markers,
        &ResolveOptions {
            allow_prereleases: pre,
        },
    )
    .map_err(|source| BundleError::BuildRequirements {
        dir: dir.to_path_buf(),
        requires: requires.join(", "),
        source: Box::new(source),
    })?;
    let mut files = Vec::new();
    for d in &resolution.dists {
        files.extend(provider.best_file(&d.name, &d.version)?);
    }
    let wheels = find_links
        .download_all(&files, 8, &pyzap_index::NoReporter)
        .into_iter()
        .collect::<Result<Vec<PathBuf>, _>>()?;
    let out_dir = scratch(work, "wheel-")?;
    let source_dir = fs_err::canonicalize(dir)?;
    let wheel = pyzap_pep517::build_wheel(&BuildRequest {
        python: &python.path,
        source_dir: &source_dir,
        backend: build_system
            .as_ref()
            .and_then(|b| b.build_backend.as_deref()),
        backend_path: build_system
            .as_ref()
            .map(|b| b.backend_path.as_slice())
            .unwrap_or(&[]),
        requirement_wheels: &wheels,
        out_dir: &out_dir,
        work_dir: work,
    })?;
    Ok(wheel)
}

/// Unpacks and builds an sdist.
pub(crate) fn build_sdist(
    python: &Interpreter,
    find_links: &IndexClient,
    sdist: &Path,
    work: &Path,
    pre: bool,
) -> Result<PathBuf> {
    let unpack = scratch(work, "sdist-")?;
    let dir = pyzap_pep517::unpack_sdist(sdist, &unpack)?;
    let pyproject_file = dir.join("pyproject.toml");
    let pyproject = if pyproject_file.is_file() {
        PyProject::parse(&fs_err::read_to_string(&pyproject_file)?)?
    } else {
        PyProject::default()
    };
    build_project(python, find_links, &dir, &pyproject, work, pre)
}

/// A new directory in the build's scratch space (removed with it).
fn scratch(work: &Path, prefix: &str) -> Result<PathBuf> {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(work)
        .map_err(|source| BundleError::Write {
            path: work.to_path_buf(),
            source,
        })?;
    Ok(dir.keep())
}

/// The files of `--src` directories, relative to each directory, and the
/// entry script: a `--src` directory's `__main__.py` or a PEP 723 script.
#[derive(Default)]
pub(crate) struct Src {
    pub files: Vec<(String, Vec<u8>)>,
    pub main: Option<Vec<u8>>,
    /// Where `main` comes from, as the entry-point note says it.
    pub main_origin: Option<String>,
}

impl Src {
    /// Makes the script the entry script; a `--src` directory's
    /// `__main__.py` would be a second one.
    pub(crate) fn set_script(&mut self, script: &super::script::Script) -> Result<()> {
        if self.main.is_some() {
            return Err(BundleError::ScriptAndSrcMain {
                script: script.path.clone(),
            });
        }
        self.main = Some(script.source.clone());
        self.main_origin = Some(format!("the script {}", script.path.display()));
        Ok(())
    }
}

pub(crate) fn collect_src(dirs: &[PathBuf]) -> Result<Src> {
    let mut out = Src::default();
    for dir in dirs {
        if !dir.is_dir() {
            return Err(BundleError::SrcNotADirectory { dir: dir.clone() });
        }
        walk(dir, dir, &mut out)?;
    }
    out.files.sort_by(|a, b| a.0.cmp(&b.0));
    for pair in out.files.windows(2) {
        if pair[0].0 == pair[1].0 {
            return Err(BundleError::SrcTwice {
                name: pair[0].0.clone(),
            });
        }
    }
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Src) -> Result<()> {
    let mut entries: Vec<_> = fs_err::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(fs_err::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let file_type = entry.file_type()?;
        if name == "__pycache__" || name.ends_with(".pyc") || name.starts_with(".git") {
            continue;
        }
        let rel = path
            .strip_prefix(root)
            .expect("walk stays under root")
            .to_string_lossy()
            .into_owned();
        // `--src` files go into the unpacked site beside these.
        if [
            pyzap_artifact::PYZAP_DIR,
            pyzap_artifact::SITE_ZIP,
            pyzap_artifact::SCRIPTS_DIR,
            pyzap_artifact::COMPLETE_MARKER,
            "pyzap_runtime",
        ]
        .contains(&rel.as_str())
        {
            return Err(BundleError::SrcReserved {
                dir: root.to_path_buf(),
                name: rel,
            });
        }
        if file_type.is_dir() {
            walk(root, &path, out)?;
        } else if rel == "__main__.py" {
            out.main = Some(fs_err::read(&path)?);
            out.main_origin = Some("__main__.py of the --src directory".into());
        } else {
            out.files.push((rel, fs_err::read(&path)?));
        }
    }
    Ok(())
}
