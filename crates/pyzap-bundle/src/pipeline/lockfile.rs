//! `lock` (resolve as `bundle` would, then write a PEP 751
//! `pylock.toml`) and the lock side of `bundle` with a lock file (the locked file
//! of each package for the target, with its hash). The format itself is
//! `pyzap_resolve::Lock`.
//!
//! A package lists every wheel of its version whose sha256 is known (the
//! index's digest, or computed for local files) and its sdist, so the lock
//! can be read for the same target on another machine; the file a plain
//! build would use is always there (it is downloaded, then hashed). Local
//! files are written relative to the lock file's directory; URLs lose any
//! credentials (they come from `~/.netrc` or the index URL at install time).
//!
//! With `--python-version` / `--platform`, each version × platform is
//! planned as `build` plans it (`targets::plan_cross`) and resolved on its
//! own, from wheels, or from an sdist whose PKG-INFO fixes its dependencies
//! (nothing is built); the resolutions are merged into one lock whose
//! packages carry markers (`pyzap_resolve::EnvironmentLock`). `build
//! --lock` then installs, for each of its targets, the entries whose
//! markers hold there.

use std::path::{Component, Path, PathBuf};

use pyzap_index::{DistFile, DistKind, FileLocation, IndexClient, Url};
use pyzap_python::Interpreter;
use pyzap_resolve::{EnvironmentLock, FileSource, Lock, LockedFile, LockedPackage, SdistBuilds};
use pyzap_spec::{FormatControl, PackageName, Target};

use super::hashes::HashCheck;
use super::locals::{Gather, Roots};
use super::resolution::ResolveFor;
use super::{index, inputs, resolution, targets};
use crate::{BundleError, LockOptions, Reporter, Result};

/// Resolves the inputs for the interpreter of `options.source.python`, or
/// for each `--python-version` × `--platform`, and writes the lock file.
pub fn lock(options: &LockOptions, reporter: &dyn Reporter) -> Result<()> {
    let cache = &options.cache_dir;
    let _hold = crate::cache::hold(cache)?;
    let source = &options.source;
    let work = pyzap_fs::ScratchDir::new(&cache.join(crate::cache::WORK_DIR), "lock-")?;
    let inputs = inputs::collect(source)?;
    if inputs.is_empty() {
        return Err(BundleError::NoInputs);
    }
    for warning in &inputs.warnings {
        reporter.warn(warning);
    }
    if let Some(dir) = inputs.locals.iter().find_map(|l| l.project_dir()) {
        return Err(BundleError::LockProject {
            dir: dir.to_path_buf(),
        });
    }
    let hash_check = HashCheck::from_inputs(&inputs, source.require_hashes)?;
    let (targets, cross) = lock_targets(options)?;
    for target in &targets {
        reporter.step(&format!("target: {}", target.describe()));
        if let Some(script) = &inputs.script {
            script.check_python(target)?;
        }
    }
    let index = index::client(source, &inputs, cache)?;
    let mut roots = Roots::new(&inputs);
    // Files only: a local distribution that needs a build is refused.
    let gather = Gather {
        index: &index,
        plan: None,
        environments: targets.iter().map(|t| &t.markers).collect(),
        work: work.path(),
        cache,
        pre: source.pre,
        reporter,
    };
    gather.pin_all(&inputs.locals, &mut roots)?;
    roots.add_requirements(&inputs);
    let resolve_for = ResolveFor {
        builds: if source.no_build {
            SdistBuilds::Refused
        } else if cross {
            SdistBuilds::CrossTarget
        } else {
            SdistBuilds::Allowed
        },
        static_sdists: cross && !source.no_build,
        pre: source.pre,
    };
    let mut locks = Vec::new();
    for target in &targets {
        let files =
            resolution::resolve_files(&inputs, target, &index, &roots, &resolve_for, reporter)?;
        let downloaded = super::download(&index, &files, reporter)?;
        let sha256s = hash_check.verify(&files, &downloaded)?;
        locks.push(EnvironmentLock {
            target,
            packages: packages(&index, &files, &downloaded, sha256s, &options.output)?,
        });
    }
    let lock = Lock::for_environments(
        format!("pyzap {}", env!("CARGO_PKG_VERSION")),
        locks,
        roots.top_level,
    )?;
    pyzap_fs::write_atomic(&options.output, lock.to_toml().as_bytes(), 0o644)?;
    let environments = match targets.as_slice() {
        [one] => one.describe(),
        several => format!("{} environments", several.len()),
    };
    reporter.info(&format!(
        "locked {} distributions for {environments} in {}",
        lock.packages.len(),
        options.output.display()
    ));
    reporter.wrote(&options.output);
    Ok(())
}

/// The targets of a lock: the interpreter of `--python` (or `python3`), or
/// each `--python-version` × `--platform` (true: a cross-target lock).
fn lock_targets(options: &LockOptions) -> Result<(Vec<Target>, bool)> {
    let python = options.source.python.as_deref();
    if options.python_versions.is_empty() && options.platforms.is_empty() {
        let python = Interpreter::find(python.unwrap_or("python3"))?;
        return Ok((vec![python.target], false));
    }
    let plan = targets::plan_cross(python, &options.python_versions, &options.platforms)?;
    Ok((plan.targets.into_iter().map(|t| t.target).collect(), true))
}

/// The lock's packages: each chosen file's version, paths relative to `output`'s directory.
fn packages(
    index: &IndexClient,
    files: &[DistFile],
    downloaded: &[PathBuf],
    sha256s: Vec<String>,
    output: &Path,
) -> Result<Vec<LockedPackage>> {
    let lock_dir = absolute(output.parent().unwrap_or(Path::new("")))?;
    let mut packages = Vec::new();
    for ((chosen, path), sha256) in files.iter().zip(downloaded).zip(sha256s) {
        packages.push(package(index, chosen, path, &sha256, &lock_dir)?);
    }
    Ok(packages)
}

/// The lock entry of `chosen`'s version: its wheels and sdist with known hashes.
fn package(
    index: &IndexClient,
    chosen: &DistFile,
    chosen_path: &Path,
    chosen_sha256: &str,
    lock_dir: &Path,
) -> Result<LockedPackage> {
    let mut wheels: Vec<LockedFile> = Vec::new();
    let mut sdist = None;
    let all = index.files(&chosen.name)?;
    let same_version = all
        .iter()
        .filter(|f| f.version == chosen.version && f.filename != chosen.filename)
        .filter(|f| f.yanked.is_none());
    for f in std::iter::once(chosen).chain(same_version) {
        let is_wheel = matches!(f.kind, DistKind::Wheel(_));
        if wheels.iter().any(|w| w.filename == f.filename) || (!is_wheel && sdist.is_some()) {
            continue;
        }
        let (sha256, size) = if f.filename == chosen.filename {
            let size = fs_err::metadata(chosen_path)?.len();
            (chosen_sha256.to_string(), Some(size))
        } else if let Some(p) = f.local_path() {
            (pyzap_fs::sha256_file(p)?, Some(fs_err::metadata(p)?.len()))
        } else if let Some(h) = &f.sha256 {
            (h.clone(), None)
        } else {
            continue; // no digest without downloading it: not locked
        };
        let source = match &f.location {
            FileLocation::Url(u) => FileSource::Url(bare_url(u)),
            FileLocation::Path(p) => FileSource::Path(relative(&absolute(p)?, lock_dir)),
        };
        let file = LockedFile {
            filename: f.filename.clone(),
            source,
            size,
            sha256,
        };
        if is_wheel {
            wheels.push(file);
        } else {
            sdist = Some(file);
        }
    }
    Ok(LockedPackage {
        name: chosen.name.clone(),
        version: chosen.version.clone(),
        marker: None,
        requires_python: chosen.requires_python.as_ref().map(ToString::to_string),
        wheels,
        sdist,
    })
}

/// A lock file read for `bundle` with a lock file.
pub(crate) struct LoadedLock {
    lock: Lock,
    dir: PathBuf,
    path: PathBuf,
}

pub(crate) fn read(path: &Path) -> Result<LoadedLock> {
    let text = fs_err::read_to_string(path)?;
    let lock = Lock::from_toml(&text).map_err(|source| BundleError::LockFile {
        path: path.to_path_buf(),
        source: Box::new(source),
    })?;
    Ok(LoadedLock {
        lock,
        dir: absolute(path.parent().unwrap_or(Path::new("")))?,
        path: path.to_path_buf(),
    })
}

impl LoadedLock {
    /// The lock as read.
    pub(crate) fn lock(&self) -> &Lock {
        &self.lock
    }

    /// The projects the lock's author asked for (entry-point detection).
    pub(crate) fn roots(&self) -> &[PackageName] {
        &self.lock.roots
    }

    /// The locked file of every package that applies to `target`, sorted by
    /// name, each carrying the lock's sha256.
    pub(crate) fn files_for(
        &self,
        target: &Target,
        builds: SdistBuilds,
        formats: &FormatControl,
    ) -> Result<Vec<DistFile>> {
        let choices = self
            .lock
            .select(target, builds, formats)
            .map_err(|source| BundleError::LockInstall {
                path: self.path.clone(),
                source: Box::new(source),
            })?;
        let mut files = Vec::new();
        for c in choices {
            let mut f = DistFile::from_path(Path::new(&c.file.filename))
                .filter(|f| f.name == c.package.name && f.version == c.package.version)
                .ok_or_else(|| BundleError::LockFileName {
                    filename: c.file.filename.clone(),
                    path: self.path.clone(),
                    name: c.package.name.clone(),
                    version: c.package.version.clone(),
                })?;
            f.location = match &c.file.source {
                FileSource::Url(u) => {
                    FileLocation::Url(Url::parse(u).map_err(|source| BundleError::LockUrl {
                        url: u.clone(),
                        source,
                    })?)
                }
                FileSource::Path(p) => FileLocation::Path(self.dir.join(p)),
            };
            f.sha256 = Some(c.file.sha256.clone());
            files.push(f);
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(files)
    }
}

/// `url` without credentials or fragment.
fn bare_url(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_fragment(None);
    u.to_string()
}

fn absolute(path: &Path) -> Result<PathBuf> {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    Ok(fs_err::canonicalize(path)?)
}

/// `path` relative to `base` (both absolute), with `..` as needed.
fn relative(path: &Path, base: &Path) -> String {
    let p: Vec<Component<'_>> = path.components().collect();
    let b: Vec<Component<'_>> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    out.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative(Path::new("/a/b/wheels/x.whl"), Path::new("/a/b")),
            "wheels/x.whl"
        );
        assert_eq!(
            relative(Path::new("/a/wheels/x.whl"), Path::new("/a/b/c")),
            "../../wheels/x.whl"
        );
    }

    #[test]
    fn urls_lose_credentials() {
        let u = Url::parse("https://bob:pw@example.org/f/x.whl#sha256=ab").unwrap();
        assert_eq!(bare_url(&u), "https://example.org/f/x.whl");
    }
}
