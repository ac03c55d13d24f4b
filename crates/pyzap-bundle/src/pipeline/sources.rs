//! Code that is not a ready wheel: local projects and sdists (built with
//! PEP 517 after resolving their build requirements from the same places),
//! and `--src` directories copied in as they are.
//!
//! A local project is built from a copy in the build's scratch space
//! (`pyzap_pep517::copy_source_tree` says what is left out and why), so
//! nothing is written into the user's directory and nothing stale there is
//! built in. It is built anew each time: its files change under the same
//! path. An sdist is unpacked and built in a directory named after its
//! cache key (the same path every time, under a lock that its backend
//! inherits; what a killed build leaves there the next build removes,
//! `sweep_sdist_builds`) and its wheel is
//! kept in the cache (`BuiltWheels`), keyed by the sdist's sha256 and what
//! else the build depends on (`sdist_key`): a second build reuses it,
//! byte for byte. As in pip's and uv's caches, the versions the build
//! requirements resolve to are not part of the key (resolving them is what
//! a reuse saves); `pyzap cache clean` forgets every built wheel.

use std::path::{Path, PathBuf};

use pyzap_index::IndexClient;
use pyzap_pep517::BuildRequest;
use pyzap_python::Interpreter;
use pyzap_resolve::ResolveOptions;
use pyzap_spec::PyProject;

use crate::cache::{BuiltWheels, WORK_DIR};
use crate::index_provider::IndexProvider;
use crate::{BundleError, Reporter, Result};

/// The prefix of an sdist's build directory in the cache's scratch space
/// (`work/sdist-<key>`).
const SDIST_BUILD: &str = "sdist-";

/// Bump when what a key stands for changes.
const KEY_LAYOUT: &str = "pyzap built wheel 1";

/// Environment variables that change what a compiler makes of an sdist:
/// part of its cache key when set.
const BUILD_ENVIRONMENT: &[&str] = &[
    "CC",
    "CXX",
    "CPP",
    "CFLAGS",
    "CXXFLAGS",
    "CPPFLAGS",
    "LDFLAGS",
    "LDSHARED",
    "AR",
    "ARFLAGS",
    "RUSTFLAGS",
    "MACOSX_DEPLOYMENT_TARGET",
];

/// What building a wheel needs.
pub(crate) struct Builder<'a> {
    pub(crate) python: &'a Interpreter,
    /// Where build requirements come from.
    pub(crate) index: &'a IndexClient,
    /// The build's scratch space.
    pub(crate) work: &'a Path,
    /// The build cache (wheels built from sdists, their build directories).
    pub(crate) cache: &'a Path,
    pub(crate) pre: bool,
    pub(crate) reporter: &'a dyn Reporter,
}

impl Builder<'_> {
    /// Builds the wheel of the project in `dir`, from a copy of it.
    pub(crate) fn project(&self, dir: &Path, pyproject: &PyProject) -> Result<PathBuf> {
        let original = fs_err::canonicalize(dir)?;
        let build = scratch(self.work, "project-")?;
        // The copy keeps the directory's name, which a setup.py may read,
        // in `src/`: beside `env/`, `tmp/` and `out/` it could be one of them.
        let name = original.file_name().unwrap_or("project".as_ref());
        let copy = build.join("src").join(name);
        fs_err::create_dir(build.join("src"))?;
        pyzap_pep517::copy_source_tree(&original, &copy)?;
        self.run(&copy, dir, pyproject, &build, None)
    }

    /// The wheel of an sdist: the one an earlier build made for the same
    /// key, else built now (in the directory of its key) and kept.
    pub(crate) fn sdist(&self, sdist: &Path) -> Result<PathBuf> {
        let filename = sdist
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let key = self.sdist_key(sdist)?;
        let built = BuiltWheels::new(self.cache);
        if let Some(wheel) = built.get(&key) {
            self.reporter
                .step(&format!("reusing wheel built from {filename}"));
            return Ok(wheel);
        }
        let dir = self
            .cache
            .join(WORK_DIR)
            .join(format!("{SDIST_BUILD}{key}"));
        let lock = built.lock(&key)?;
        // Another build may have made it while this one waited.
        if let Some(wheel) = built.get(&key) {
            self.reporter
                .step(&format!("reusing wheel built from {filename}"));
            return Ok(wheel);
        }
        self.reporter
            .step(&format!("building {filename} from source"));
        // The lock covers a killed build's backend too: nothing still
        // writes in what is left of its directory.
        let dir = BuildDir::fresh(dir)?;
        let source = pyzap_pep517::unpack_sdist(sdist, &dir.0.join("src"))?;
        let pyproject_file = source.join("pyproject.toml");
        let pyproject = if pyproject_file.is_file() {
            PyProject::parse(&fs_err::read_to_string(&pyproject_file)?)?
        } else {
            PyProject::default()
        };
        let wheel = self.run(&source, sdist, &pyproject, &dir.0, Some(&lock))?;
        built.put(&key, &wheel)
    }

    /// An sdist's cache key: its sha256, the interpreter that builds it,
    /// the settings and environment the build sees.
    fn sdist_key(&self, sdist: &Path) -> Result<String> {
        let target = &self.python.target;
        let mut material = format!(
            "{KEY_LAYOUT}\nsdist {}\npython {} {} abiflags={:?} libc={:?}\npre {}\nSOURCE_DATE_EPOCH {}\n",
            pyzap_fs::sha256_file(sdist)?,
            self.python.path.display(),
            target.describe(),
            target.facts.abiflags,
            target.facts.libc,
            self.pre,
            pyzap_fs::source_date_epoch(),
        );
        for name in BUILD_ENVIRONMENT {
            if let Some(value) = std::env::var_os(name) {
                material.push_str(&format!("{name}={}\n", value.to_string_lossy()));
            }
        }
        Ok(pyzap_fs::sha256_hex(material.as_bytes()))
    }

    /// Resolves and fetches the build requirements of the project in
    /// `source`, then builds its wheel in `build` (the directory of this
    /// build alone, holding `source`); messages name it `origin`. The
    /// backend inherits `lock` (see `BuildRequest::hold`).
    fn run(
        &self,
        source: &Path,
        origin: &Path,
        pyproject: &PyProject,
        build: &Path,
        lock: Option<&fs_err::File>,
    ) -> Result<PathBuf> {
        let build_system = pyproject.build_system.as_ref();
        // PEP 517/518 defaults when [build-system] is absent: setuptools' legacy backend.
        let requires = build_system
            .map(|b| b.requires.clone())
            .unwrap_or_else(|| vec!["setuptools>=40.8.0".into()]);
        let wheels = self.requirement_wheels(origin, &requires)?;
        let wheel = pyzap_pep517::build_wheel(&BuildRequest {
            python: &self.python.path,
            source_dir: source,
            origin,
            backend: build_system.and_then(|b| b.build_backend.as_deref()),
            backend_path: build_system
                .map(|b| b.backend_path.as_slice())
                .unwrap_or(&[]),
            requirement_wheels: &wheels,
            out_dir: &build.join("out"),
            work_dir: build,
            hold: lock,
        })?;
        Ok(wheel)
    }

    /// The wheels of the resolved build requirements, downloaded.
    fn requirement_wheels(&self, origin: &Path, requires: &[String]) -> Result<Vec<PathBuf>> {
        let reqs = requires
            .iter()
            .map(|r| pyzap_spec::parse_requirement(r))
            .collect::<Result<Vec<_>, _>>()?;
        // Build requirements are wheels only, whatever --no-binary says of them.
        let formats = pyzap_spec::FormatControl::default();
        let provider = IndexProvider {
            index: self.index,
            target: &self.python.target,
            allow_sdists: false,
            formats: &formats,
            prefetch_jobs: 8,
        };
        let resolution = pyzap_resolve::resolve(
            &provider,
            &reqs,
            &[],
            &self.python.target.markers,
            &ResolveOptions {
                allow_prereleases: self.pre,
            },
        )
        .map_err(|source| BundleError::BuildRequirements {
            dir: origin.to_path_buf(),
            requires: requires.join(", "),
            source: Box::new(source),
        })?;
        let mut files = Vec::new();
        for d in &resolution.dists {
            files.extend(provider.best_file(&d.name, &d.version)?);
        }
        Ok(self
            .index
            .download_all(&files, 8, &pyzap_index::NoReporter)
            .into_iter()
            .collect::<Result<Vec<PathBuf>, _>>()?)
    }
}

/// Removes the build directories of sdists whose build was killed (no
/// process holds their key's lock, so no orphaned backend writes there).
/// A failure is left for `pyzap cache prune`.
pub(crate) fn sweep_sdist_builds(cache: &Path) {
    let Ok(entries) = fs_err::read_dir(cache.join(WORK_DIR)) else {
        return;
    };
    let built = BuiltWheels::new(cache);
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(key) = name.strip_prefix(SDIST_BUILD) else {
            continue;
        };
        if let Ok(Some(_lock)) = built.try_lock(key) {
            tracing::debug!(
                "removing {}, left by a killed build",
                entry.path().display()
            );
            let _ = fs_err::remove_dir_all(entry.path());
        }
    }
}

/// An sdist's build directory: emptied first (a killed build may have
/// left it), removed when the build is done, whether it worked or not.
struct BuildDir(PathBuf);

impl BuildDir {
    fn fresh(path: PathBuf) -> Result<Self> {
        if path.exists() {
            fs_err::remove_dir_all(&path)?;
        }
        fs_err::create_dir_all(&path)?;
        Ok(BuildDir(path))
    }
}

impl Drop for BuildDir {
    fn drop(&mut self) {
        let _ = fs_err::remove_dir_all(&self.0);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_killed_sdist_build_is_swept_a_running_one_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = tmp.path();
        let work = cache.join(WORK_DIR);
        for key in ["running", "killed"] {
            fs_err::create_dir_all(work.join(format!("{SDIST_BUILD}{key}/src"))).unwrap();
        }
        let other = work.join("build-abc");
        fs_err::create_dir_all(&other).unwrap();
        let _running = BuiltWheels::new(cache).lock("running").unwrap();
        sweep_sdist_builds(cache);
        assert!(work.join("sdist-running/src").exists());
        assert!(!work.join("sdist-killed").exists());
        assert!(other.exists(), "not an sdist build");
    }
}
