//! The build cache: where it is, the lock that keeps `clean` and `prune`
//! away from running builds, and those two commands.
//!
//! The build cache (`default_cache_dir()`) holds pyzap's own entries: `index/`
//! (simple-API pages, core metadata, downloaded files by sha256, among them
//! `--python-dist` archives), `verified/`, `bytecode/`, `python-dist*/`,
//! `python-payload/` (packed standalone payloads), `built/` (wheels built
//! from sdists, `BuiltWheels`). The runtime cache of built apps
//! defaults to the same directory and holds `site/`, `venv/`, `python/` and
//! `tmp/`: apps may be running from those, so `clean` and `prune` never
//! touch them (`runtime_cache` lists and prunes them, keeping what runs).
//!
//! Builds hold a shared lock on `build.lock`; `clean` and `prune` take it
//! exclusively, so they wait for running builds and no build starts while
//! they work. A directory holding anything else than the names above is not
//! treated as a pyzap cache: nothing is removed from it.
//!
//! Prune rule: with no build running, every temporary leftover of a killed
//! build goes (`index/tmp-*`, `.pyzap-tmp-*`, `.unpack-*`, `.tmp-*`, an
//! interrupted clean's `.pyzap-trash-*`); an entry goes when it was last
//! used more than `--days` days ago, "used" being the newest access or
//! modification time of the files in it and the modification time of its
//! directories (reads update access times daily under Linux's default
//! `relatime`; on `noatime` mounts this is the time the entry was written;
//! a directory's access time is not a use: the prune's own walk lists it).
//! Entries are the children of `index/*/`,
//! `verified/`, `bytecode/`, `python-dist*/`, `python-payload/` and `built/`.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use pyzap_fs::CacheLock;

use crate::{BundleError, Reporter, Result};

/// The builds' scratch space inside the build cache.
pub(crate) const WORK_DIR: &str = "work";
/// Wheels built from sdists, one directory per key.
const BUILT_DIR: &str = "built";
/// Entries pyzap builds write.
const BUILD_ENTRIES: &[&str] = &[
    "index",
    BUILT_DIR,
    "verified",
    "bytecode",
    "python-dist",
    "python-dist-bytecode",
    "python-payload",
    // Where earlier builds downloaded `--python-dist` archives (now in
    // `index/`): still pyzap's to clean and prune.
    "python-dist-downloads",
    WORK_DIR,
];
/// Entries of the apps' runtime cache, kept.
const RUNTIME_ENTRIES: &[&str] = &["site", "venv", "python", "tmp"];
const LOCK_FILE: &str = "build.lock";
const TRASH_PREFIX: &str = ".pyzap-trash-";
const TEMP_PREFIXES: &[&str] = &[".pyzap-tmp-", ".unpack-", ".tmp-", "tmp-", TRASH_PREFIX];

/// Wheels built from sdists: `built/<key>/<wheel>`, the key being the
/// sdist's sha256 and what else the build depends on (the builder makes
/// it), and `built/<key>.lock`, held while one is built. An entry is written whole or not at all: its wheel is put in a
/// `.tmp-` directory beside the entries (a killed build's is a leftover
/// `prune` removes), flushed, and the directory renamed to its key.
pub(crate) struct BuiltWheels {
    dir: PathBuf,
}

impl BuiltWheels {
    pub(crate) fn new(cache: &Path) -> Self {
        BuiltWheels {
            dir: cache.join(BUILT_DIR),
        }
    }

    /// The wheel kept under `key`.
    pub(crate) fn get(&self, key: &str) -> Option<PathBuf> {
        fs_err::read_dir(self.dir.join(key))
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "whl"))
    }

    /// Locks `key` for building (`built/<key>.lock`), waiting for another
    /// build of it. The locked file is returned for the build backend to
    /// inherit: the lock then lasts until the backend and its children
    /// exit too, even when pyzap is killed first.
    pub(crate) fn lock(&self, key: &str) -> Result<fs_err::File> {
        let (file, path) = self.lock_file(key)?;
        file.file()
            .lock()
            .map_err(|source| BundleError::Write { path, source })?;
        Ok(file)
    }

    /// The lock of `key` when nothing holds it: no build of it is running.
    pub(crate) fn try_lock(&self, key: &str) -> Result<Option<fs_err::File>> {
        let (file, path) = self.lock_file(key)?;
        match file.file().try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(source)) => Err(BundleError::Write { path, source }),
        }
    }

    fn lock_file(&self, key: &str) -> Result<(fs_err::File, PathBuf)> {
        fs_err::create_dir_all(&self.dir)?;
        let path = self.dir.join(format!("{key}.lock"));
        let file = fs_err::OpenOptions::new()
            .create(true)
            .truncate(false)
            // Readable: as the backend's stdin it reads as empty.
            .read(true)
            .write(true)
            .open(&path)?;
        Ok((file, path))
    }

    /// Keeps a copy of `wheel` under `key` and returns its path there.
    pub(crate) fn put(&self, key: &str, wheel: &Path) -> Result<PathBuf> {
        let name = wheel
            .file_name()
            .ok_or_else(|| BundleError::NotAWheelName {
                path: wheel.to_path_buf(),
            })?;
        fs_err::create_dir_all(&self.dir)?;
        let staging = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempdir_in(&self.dir)
            .map_err(|source| BundleError::Write {
                path: self.dir.clone(),
                source,
            })?;
        let staged = staging.path().join(name);
        fs_err::copy(wheel, &staged)?;
        fs_err::File::open(&staged)?.sync_all()?;
        let entry = self.dir.join(key);
        match fs_err::rename(staging.path(), &entry) {
            Ok(()) => {
                // Renamed away: nothing is left for the guard to remove.
                let _ = staging.keep();
                Ok(entry.join(name))
            }
            // Kept by another build meanwhile: the same wheel, or as good.
            Err(e) => match self.get(key) {
                Some(kept) => Ok(kept),
                None => Err(e.into()),
            },
        }
    }
}

/// The build cache: `$PYZAP_CACHE_DIR`, else `$XDG_CACHE_HOME/pyzap`, else
/// `~/.cache/pyzap`; created private (0700) and checked to be the user's.
pub fn default_cache_dir() -> Result<PathBuf> {
    let dir = if let Some(d) = std::env::var_os("PYZAP_CACHE_DIR").filter(|d| !d.is_empty()) {
        PathBuf::from(d)
    } else if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        PathBuf::from(d).join("pyzap")
    } else if let Some(home) = std::env::var_os("HOME") {
        PathBuf::from(home).join(".cache/pyzap")
    } else {
        return Err(BundleError::NoCacheDir);
    };
    prepare(&dir)?;
    Ok(dir)
}

fn prepare(dir: &Path) -> Result<()> {
    pyzap_fs::ensure_private_dir(dir).map_err(|source| BundleError::CacheDir {
        path: dir.to_path_buf(),
        source,
    })
}

/// A shared hold on the cache for the length of a build, so `clean` and
/// `prune` wait for it.
pub(crate) fn hold(dir: &Path) -> Result<CacheLock> {
    prepare(dir)?;
    Ok(CacheLock::shared(&dir.join(LOCK_FILE))?)
}

fn exclusive(dir: &Path, reporter: &dyn Reporter) -> Result<CacheLock> {
    check_looks_like_cache(dir)?;
    let path = dir.join(LOCK_FILE);
    if let Some(lock) = CacheLock::try_exclusive(&path)? {
        return Ok(lock);
    }
    reporter.info("waiting for running builds to finish…");
    Ok(CacheLock::exclusive(&path)?)
}

/// Refuses a directory that holds something pyzap does not write there.
fn check_looks_like_cache(dir: &Path) -> Result<()> {
    for entry in fs_err::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let known = BUILD_ENTRIES.contains(&name.as_str())
            || RUNTIME_ENTRIES.contains(&name.as_str())
            || name == LOCK_FILE
            || name == ".lock"
            || name.starts_with(TRASH_PREFIX);
        if !known {
            return Err(BundleError::NotACache {
                dir: dir.to_path_buf(),
                name,
            });
        }
    }
    Ok(())
}

/// Removes the build cache's entries (waiting for running builds); the
/// runtime cache of apps is kept.
pub fn clean(dir: &Path, reporter: &dyn Reporter) -> Result<()> {
    let _lock = exclusive(dir, reporter)?;
    let mut total = 0;
    for name in BUILD_ENTRIES {
        let path = dir.join(name);
        if !path.exists() {
            continue;
        }
        let size = usage(&path)?.0;
        remove_tree(dir, &path)?;
        total += size;
        reporter.info(&format!("removed {name}/ ({})", mb(size)));
    }
    for trash in leftovers_in(dir)? {
        remove_tree(dir, &trash)?;
    }
    let kept: Vec<&str> = RUNTIME_ENTRIES
        .iter()
        .copied()
        .filter(|n| dir.join(n).exists())
        .collect();
    reporter.info(&format!("cleaned {}: {} freed", dir.display(), mb(total)));
    if !kept.is_empty() {
        reporter.info(&format!(
            "kept {} (the runtime cache of apps, which may be running)",
            kept.iter()
                .map(|k| format!("{k}/"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    Ok(())
}

/// Removes entries unused for `max_age` and every leftover of a killed
/// build (waiting for running builds); the runtime cache is kept.
pub fn prune(dir: &Path, max_age: Duration, reporter: &dyn Reporter) -> Result<()> {
    let _lock = exclusive(dir, reporter)?;
    let cutoff = SystemTime::now()
        .checked_sub(max_age)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let (mut count, mut freed, mut temps) = (0u64, 0u64, 0u64);
    for trash in leftovers_in(dir)? {
        freed += usage(&trash)?.0;
        remove_tree(dir, &trash)?;
        temps += 1;
    }
    for name in BUILD_ENTRIES {
        let top = dir.join(name);
        if !top.is_dir() {
            continue;
        }
        let groups: Vec<PathBuf> = if *name == "index" {
            children(&top)?.into_iter().filter(|p| p.is_dir()).collect()
        } else {
            vec![top.clone()]
        };
        for group in groups {
            for entry in children(&group)? {
                let (size, last_used) = usage(&entry)?;
                // With the lock held no build runs: all scratch space is left over.
                let leftover = is_leftover(&entry) || is_leftover(&group) || *name == WORK_DIR;
                if leftover || last_used < cutoff {
                    remove_tree(dir, &entry)?;
                    freed += size;
                    if leftover {
                        temps += 1;
                    } else {
                        count += 1;
                    }
                }
            }
        }
    }
    reporter.info(&format!(
        "pruned {}: {count} entries unused for {} days and {temps} leftovers of killed builds, {} freed (runtime cache kept)",
        dir.display(),
        max_age.as_secs() / 86_400,
        mb(freed)
    ));
    Ok(())
}

fn is_leftover(path: &Path) -> bool {
    path.file_name()
        .map(|n| n.to_string_lossy())
        .is_some_and(|n| TEMP_PREFIXES.iter().any(|p| n.starts_with(p)))
}

fn leftovers_in(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(children(dir)?
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(TRASH_PREFIX))
        })
        .collect())
}

fn children(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs_err::read_dir(dir)? {
        out.push(entry?.path());
    }
    out.sort();
    Ok(out)
}

/// Bytes under `path` and its last use: the newest access or modification
/// time of a file in it, or modification time of a directory (listing a
/// directory, as this walk does, updates its access time).
fn usage(path: &Path) -> Result<(u64, SystemTime)> {
    let meta = fs_err::symlink_metadata(path)?;
    let accessed = (!meta.is_dir()).then(|| meta.accessed().ok()).flatten();
    let mut newest = [accessed, meta.modified().ok()]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut size = meta.len();
    if meta.is_dir() {
        size = 0;
        for child in children(path)? {
            let (s, t) = usage(&child)?;
            size += s;
            newest = newest.max(t);
        }
    }
    Ok((size, newest))
}

/// Renames `path` aside first, so no reader sees half a tree, then deletes it.
fn remove_tree(cache: &Path, path: &Path) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let aside = if name.starts_with(TRASH_PREFIX) {
        path.to_path_buf()
    } else {
        let aside = cache.join(format!("{TRASH_PREFIX}{}-{name}", std::process::id()));
        fs_err::rename(path, &aside)?;
        aside
    };
    if fs_err::symlink_metadata(&aside)?.is_dir() {
        fs_err::remove_dir_all(&aside)?;
    } else {
        fs_err::remove_file(&aside)?;
    }
    Ok(())
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_keeps_the_runtime_cache_and_refuses_strangers() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        for d in [
            "index/files-v1/ab",
            "verified",
            "site/x",
            "venv/v",
            "python/y",
        ] {
            fs_err::create_dir_all(dir.join(d)).unwrap();
        }
        fs_err::write(dir.join("index/files-v1/ab/f.whl"), b"x").unwrap();
        clean(dir, &crate::Silent).unwrap();
        assert!(!dir.join("index").exists() && !dir.join("verified").exists());
        for kept in ["site/x", "venv/v", "python/y"] {
            assert!(dir.join(kept).exists(), "{kept}");
        }

        fs_err::write(dir.join("thesis.tex"), b"precious").unwrap();
        let err = clean(dir, &crate::Silent).unwrap_err().to_string();
        assert!(err.contains("does not look like a pyzap cache"), "{err}");
        assert!(dir.join("thesis.tex").exists());
    }

    #[test]
    fn prune_drops_old_entries_and_leftovers() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        for d in [
            "index/files-v1/old",
            "index/files-v1/new",
            "index/tmp-v1/dl-1",
            "verified",
        ] {
            fs_err::create_dir_all(dir.join(d)).unwrap();
        }
        let old = dir.join("index/files-v1/old/a.whl");
        fs_err::write(&old, b"x").unwrap();
        fs_err::write(dir.join("index/files-v1/new/b.whl"), b"y").unwrap();
        fs_err::write(dir.join("verified/.pyzap-tmp-123"), b"").unwrap();
        let long_ago = SystemTime::now() - Duration::from_secs(90 * 86_400);
        for p in [old.clone(), old.parent().unwrap().to_path_buf()] {
            let times = std::fs::FileTimes::new()
                .set_accessed(long_ago)
                .set_modified(long_ago);
            fs_err::File::open(&p)
                .unwrap()
                .file()
                .set_times(times)
                .unwrap();
        }
        prune(dir, Duration::from_secs(30 * 86_400), &crate::Silent).unwrap();
        assert!(!dir.join("index/files-v1/old").exists());
        assert!(dir.join("index/files-v1/new/b.whl").exists());
        assert!(!dir.join("index/tmp-v1/dl-1").exists());
        assert!(!dir.join("verified/.pyzap-tmp-123").exists());
    }

    #[test]
    fn built_wheels_are_kept_whole_and_go_with_clean() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("cache");
        fs_err::create_dir_all(&dir).unwrap();
        let wheel = tmp.path().join("demo-1.0-py3-none-any.whl");
        fs_err::write(&wheel, b"wheel").unwrap();
        let built = BuiltWheels::new(&dir);
        assert_eq!(built.get("k"), None);
        let kept = built.put("k", &wheel).unwrap();
        assert_eq!(kept, dir.join("built/k/demo-1.0-py3-none-any.whl"));
        assert_eq!(built.get("k"), Some(kept.clone()));
        assert_eq!(fs_err::read(&kept).unwrap(), b"wheel");
        // A second build of the same key finds the entry there.
        assert_eq!(built.put("k", &wheel).unwrap(), kept);
        let staging: Vec<_> = children(&dir.join("built")).unwrap();
        assert_eq!(staging, vec![dir.join("built/k")], "no staging left");

        // A killed build's staging directory is a leftover for prune.
        fs_err::create_dir_all(dir.join("built/.tmp-dead")).unwrap();
        prune(&dir, Duration::from_secs(30 * 86_400), &crate::Silent).unwrap();
        assert!(!dir.join("built/.tmp-dead").exists());
        assert!(kept.exists());
        clean(&dir, &crate::Silent).unwrap();
        assert!(!dir.join("built").exists());
    }

    /// A prune lists the directories of the entries it keeps, which updates
    /// their access times: that is no use, or every prune would make the
    /// entries it looked at young again and none would ever go.
    #[test]
    fn a_prune_does_not_make_the_entries_it_keeps_look_used() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let entry = dir.join("index/files-v1/ab");
        fs_err::create_dir_all(&entry).unwrap();
        fs_err::write(entry.join("a.whl"), b"x").unwrap();
        let twenty_days_ago = SystemTime::now() - Duration::from_secs(20 * 86_400);
        for p in [entry.join("a.whl"), entry.clone()] {
            let times = std::fs::FileTimes::new()
                .set_accessed(twenty_days_ago)
                .set_modified(twenty_days_ago);
            fs_err::File::open(&p)
                .unwrap()
                .file()
                .set_times(times)
                .unwrap();
        }
        prune(dir, Duration::from_secs(30 * 86_400), &crate::Silent).unwrap();
        assert!(entry.join("a.whl").exists());
        prune(dir, Duration::from_secs(10 * 86_400), &crate::Silent).unwrap();
        assert!(!entry.exists());
    }
}
