//! `pyzap cache prune --runtime`: remove the trees no app has used lately.
//!
//! A tree goes when nothing running uses it (`processes`), no venv that
//! stays names it, and it was last used before the cut-off (`--days`; a
//! day for incomplete trees). Entries of `tmp/` go after a day, as the
//! runtimes' own sweep does.
//!
//! Removal is safe against an app starting meanwhile: each tree is first
//! renamed into a fresh directory of `tmp/` (atomic: a start sees the whole
//! tree or none, and then makes it again), under the lock its runtime takes
//! to move a tree (the bootstrap's `flock` on `site/`, the launcher's
//! `python/.<id>.lock`; a CPython being unpacked right now is left alone).
//! Then the processes are read again: a tree a process started using in
//! between (found under its new name too, since `maps`, `fd` and `cwd`
//! follow renames) is put back, with the site and interpreter of a venv
//! put back; only the rest is deleted.

use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use fs_err::os::unix::fs::OpenOptionsExt;

use super::layout::{is_gone, RuntimeCache, TreeKind};
use super::listing::{age, count, human_size, users_text};
use super::processes::Processes;
use crate::{BundleError, Reporter, Result};

/// A day: the age after which incomplete trees and `tmp/` entries are
/// leftovers (`docs/artifact-format.md`, "Runtime cache protocol", step 9).
const DAY: Duration = Duration::from_secs(86_400);

/// What a runtime prune did.
#[derive(Debug, Default, Clone)]
pub struct RuntimePruned {
    /// The trees removed, by path.
    pub removed: Vec<PathBuf>,
    /// The entries of `tmp/` removed.
    pub leftovers: Vec<PathBuf>,
    /// Trees old enough to go that running processes use, kept.
    pub in_use: Vec<PathBuf>,
    /// Bytes freed.
    pub freed: u64,
}

/// Removes the trees of the runtime cache at `root` (absolute) unused for
/// `max_age`, incomplete trees and `tmp/` entries untouched for a day;
/// never a tree a running process uses.
pub fn prune_runtime(
    root: &Path,
    max_age: Duration,
    reporter: &dyn Reporter,
) -> Result<RuntimePruned> {
    let mut done = RuntimePruned::default();
    if !check_root(root)? {
        reporter.info(&format!("no runtime cache at {}", root.display()));
        return Ok(done);
    }
    let cache = RuntimeCache::read(root, &Processes::scan()?, SystemTime::now())?;
    let plan = Plan::new(&cache, max_age);
    for &i in &plan.in_use {
        let tree = &cache.trees[i];
        done.in_use.push(tree.path.clone());
        reporter.info(&format!(
            "kept {}/{}: {}",
            tree.kind.dir(),
            tree.name,
            users_text(&tree.users)
        ));
    }
    for &l in &plan.leftovers {
        let leftover = &cache.leftovers[l];
        if remove(&leftover.path)? {
            done.freed += leftover.size;
            done.leftovers.push(leftover.path.clone());
        }
    }
    let failure = if plan.remove.is_empty() {
        None
    } else {
        remove_trees(&cache, &plan.remove, &mut done, reporter).err()
    };
    report(&done, &cache, max_age, reporter);
    match failure {
        Some(e) => Err(e),
        None => Ok(done),
    }
}

/// Moves `trees` aside, looks again, puts back those a process
/// started using, deletes the rest. A failure stops the moves, but what
/// was moved is still settled; the first failure is returned.
fn remove_trees(
    cache: &RuntimeCache,
    trees: &[usize],
    done: &mut RuntimePruned,
    reporter: &dyn Reporter,
) -> Result<()> {
    let aside = Aside::new(&cache.root)?;
    let mut failure = None;
    let mut moved = Vec::new();
    for &i in trees {
        match aside.take(cache, i) {
            Ok(Some(at)) => moved.push((i, at)),
            Ok(None) => {}
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let back = second_look(cache, &aside, &moved);
    for ((i, at), back) in moved.iter().zip(back) {
        let tree = &cache.trees[*i];
        if back {
            if let Err(e) = aside.put_back(cache, *i, at) {
                failure.get_or_insert(e);
                continue;
            }
            done.in_use.push(tree.path.clone());
            reporter.info(&format!(
                "kept {}/{}: an app started using it",
                tree.kind.dir(),
                tree.name
            ));
            continue;
        }
        match remove(at) {
            Ok(true) => {
                done.freed += tree.size;
                done.removed.push(tree.path.clone());
                let app = cache
                    .artifacts_of(*i)
                    .first()
                    .map(|a| format!(", {}", a.display()))
                    .unwrap_or_default();
                reporter.info(&format!(
                    "removed {}/{} ({}, {}{app})",
                    tree.kind.dir(),
                    tree.name,
                    human_size(tree.size),
                    age(cache.now, tree.last_used)
                ));
            }
            Ok(false) => {}
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    }
    aside.finish();
    failure.map_or(Ok(()), Err)
}

/// Which of the `moved` trees to put back: those a process uses now (an
/// app that started between the first look and the moves), under their
/// old names or their new ones, and what a venv put back names. All of
/// them when the processes cannot be read again.
fn second_look(cache: &RuntimeCache, aside: &Aside, moved: &[(usize, PathBuf)]) -> Vec<bool> {
    let Ok(processes) = Processes::scan() else {
        return vec![true; moved.len()];
    };
    let mut back: Vec<bool> = moved
        .iter()
        .map(|(i, at)| {
            let mut spellings = cache.spellings_of(*i);
            spellings.extend(aside.spellings(at));
            !processes
                .users(&spellings, &cache.artifacts_of(*i))
                .is_empty()
        })
        .collect();
    for k in 0..moved.len() {
        let v = moved[k].0;
        if back[k] && cache.trees[v].kind == TreeKind::Venv {
            for named in [cache.site_of(v), cache.python_of(v)].into_iter().flatten() {
                if let Some(j) = moved.iter().position(|(i, _)| *i == named) {
                    back[j] = true;
                }
            }
        }
    }
    back
}

/// Which trees and leftovers go, and which would but are in use.
struct Plan {
    remove: Vec<usize>,
    leftovers: Vec<usize>,
    in_use: Vec<usize>,
}

impl Plan {
    fn new(cache: &RuntimeCache, max_age: Duration) -> Self {
        let ago = |age| cache.now.checked_sub(age).unwrap_or(SystemTime::UNIX_EPOCH);
        let (cutoff, day_ago) = (ago(max_age), ago(DAY));
        let trees = &cache.trees;
        let mut keep = vec![false; trees.len()];
        let mut in_use = Vec::new();
        for (i, tree) in trees.iter().enumerate() {
            let recent = tree.last_used >= if tree.complete { cutoff } else { day_ago };
            keep[i] = recent || !tree.users.is_empty();
            if !recent && !tree.users.is_empty() {
                in_use.push(i);
            }
        }
        // A venv that stays keeps the site it adds and the CPython it runs.
        for v in 0..trees.len() {
            if keep[v] && trees[v].kind == TreeKind::Venv {
                for named in [cache.site_of(v), cache.python_of(v)].into_iter().flatten() {
                    keep[named] = true;
                }
            }
        }
        let leftovers = (0..cache.leftovers.len())
            .filter(|&l| {
                let leftover = &cache.leftovers[l];
                leftover.modified < day_ago && leftover.users.is_empty()
            })
            .collect();
        Plan {
            remove: (0..trees.len()).filter(|&i| !keep[i]).collect(),
            leftovers,
            in_use,
        }
    }
}

/// A fresh directory of `<root>/tmp/` that trees are moved into before
/// they are deleted: new, so no runtime's sweep of `tmp/` takes it for a
/// leftover while we work.
struct Aside {
    dir: PathBuf,
    real: Option<PathBuf>,
}

impl Aside {
    fn new(root: &Path) -> Result<Self> {
        let tmp = root.join("tmp");
        match make_dir(&tmp) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            other => other.map_err(|source| BundleError::Write {
                path: tmp.clone(),
                source,
            })?,
        }
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = tmp.join(format!("prune.{}.{nanos:09}", std::process::id()));
        make_dir(&dir).map_err(|source| BundleError::Write {
            path: dir.clone(),
            source,
        })?;
        let real = fs_err::canonicalize(&dir).ok().filter(|r| *r != dir);
        Ok(Aside { dir, real })
    }

    /// Where tree `i` goes.
    fn place(&self, cache: &RuntimeCache, i: usize) -> PathBuf {
        let tree = &cache.trees[i];
        self.dir.join(format!("{}-{}", tree.kind.dir(), tree.name))
    }

    /// `at` through every spelling of this directory.
    fn spellings(&self, at: &Path) -> Vec<PathBuf> {
        let mut out = vec![at.to_path_buf()];
        if let (Some(real), Some(name)) = (&self.real, at.file_name()) {
            out.push(real.join(name));
        }
        out
    }

    /// Moves tree `i` here, under its runtime's lock; `None` when it is
    /// gone, or a CPython being unpacked right now.
    fn take(&self, cache: &RuntimeCache, i: usize) -> Result<Option<PathBuf>> {
        let tree = &cache.trees[i];
        let Some(_lock) = lock_for(cache, i, false)? else {
            return Ok(None);
        };
        let at = self.place(cache, i);
        match fs_err::rename(&tree.path, &at) {
            Ok(()) => Ok(Some(at)),
            Err(e) if is_gone(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Moves tree `i` back from `at`. When a start has made it again
    /// meanwhile, the new one serves, and the moved copy stays in `tmp/`
    /// for the runtimes' sweep (a process may still hold a file in it).
    fn put_back(&self, cache: &RuntimeCache, i: usize, at: &Path) -> Result<()> {
        let _lock = lock_for(cache, i, true)?;
        match fs_err::rename(at, &cache.trees[i].path) {
            Ok(()) => Ok(()),
            Err(e) if cache.trees[i].path.exists() => {
                tracing::debug!("{e}: a new tree is in place; the old one stays in tmp/");
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Removes the directory when nothing was left in it.
    fn finish(self) {
        let _ = fs_err::remove_dir(&self.dir);
    }
}

/// A lock held until dropped.
struct Held {
    _file: Option<fs_err::File>,
}

/// The lock a runtime holds while it moves tree `i` (`wait`: for it; else
/// `None` when it is held): the bootstrap's `flock` on `site/` (in
/// `_move_aside`), the launcher's `python/.<id>.lock` (held while it
/// unpacks). Venvs have none: they are only ever renamed into place whole.
fn lock_for(cache: &RuntimeCache, i: usize, wait: bool) -> Result<Option<Held>> {
    let tree = &cache.trees[i];
    let (path, file) = match tree.kind {
        TreeKind::Venv => return Ok(Some(Held { _file: None })),
        TreeKind::Site => {
            let path = cache.root.join("site");
            let file = fs_err::File::open(&path)?;
            (path, file)
        }
        TreeKind::Python => {
            let path = cache
                .root
                .join("python")
                .join(format!(".{}.lock", tree.name));
            let file = fs_err::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .mode(0o600)
                .open(&path)?;
            (path, file)
        }
    };
    let locked = if wait {
        file.file().lock().map(|()| true)
    } else {
        match file.file().try_lock() {
            Ok(()) => Ok(true),
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    };
    match locked {
        Ok(true) => Ok(Some(Held { _file: Some(file) })),
        Ok(false) => Ok(None),
        Err(source) => Err(BundleError::RuntimeLock { path, source }),
    }
}

/// Whether `root` exists; refuses one that is not a directory of ours.
fn check_root(root: &Path) -> Result<bool> {
    let meta = match fs_err::metadata(root) {
        Ok(meta) => meta,
        Err(e) if is_gone(&e) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    if !meta.is_dir() {
        return Err(BundleError::RuntimeNotADirectory {
            path: root.to_path_buf(),
        });
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(BundleError::RuntimeOwner {
            path: root.to_path_buf(),
            owner: meta.uid(),
            me,
        });
    }
    Ok(true)
}

/// A private directory (0700, as the runtimes make `tmp/`).
fn make_dir(path: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new().mode(0o700).create(path)
}

/// Deletes `path` (a tree, or a file), not following symlinks; false when
/// it was gone already (a runtime's sweep got there first).
fn remove(path: &Path) -> Result<bool> {
    let meta = match fs_err::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if is_gone(&e) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let removed = if meta.is_dir() {
        fs_err::remove_dir_all(path)
    } else {
        fs_err::remove_file(path)
    };
    match removed {
        Ok(()) => Ok(true),
        Err(e) if is_gone(&e) => Ok(true),
        Err(e) => Err(e.into()),
    }
}

fn report(done: &RuntimePruned, cache: &RuntimeCache, max_age: Duration, reporter: &dyn Reporter) {
    reporter.info(&format!(
        "pruned runtime cache {}: removed {} (unused for {} days, or incomplete) and {} of tmp/, {} freed; kept {} in use",
        cache.root.display(),
        count(done.removed.len(), "tree"),
        max_age.as_secs() / 86_400,
        count(done.leftovers.len(), "leftover"),
        human_size(done.freed),
        count(done.in_use.len(), "tree")
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trees moved aside while a process entered one (here a venv, by its
    /// working directory, which follows the rename): the second look puts
    /// back that venv and the site it names, not an unrelated tree.
    #[test]
    fn the_second_look_puts_back_what_a_process_entered_meanwhile() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let site = root.join("site/aaaa");
        let other = root.join("site/bbbb");
        let venv = root.join("venv/0123456789abcdef");
        for (tree, marker) in [(&site, ".pyzap-complete"), (&other, ".pyzap-complete")] {
            fs_err::create_dir_all(tree).unwrap();
            fs_err::write(tree.join(marker), "/srv/app.pyz\n").unwrap();
        }
        fs_err::create_dir_all(venv.join("bin")).unwrap();
        let recipe = format!(
            "pyzap-venv 1\nexecutable=/usr/bin/python3\nsite={}\n",
            site.display()
        );
        fs_err::write(venv.join(".pyzap-venv"), recipe).unwrap();
        let cache =
            RuntimeCache::read(root, &Processes::scan().unwrap(), SystemTime::now()).unwrap();
        let names: Vec<&str> = cache.trees.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["aaaa", "bbbb", "0123456789abcdef"]);

        let aside = Aside::new(root).unwrap();
        let moved: Vec<(usize, PathBuf)> = (0..3)
            .map(|i| (i, aside.take(&cache, i).unwrap().expect("moved")))
            .collect();
        assert!(!site.exists() && !other.exists() && !venv.exists());
        let mut child = std::process::Command::new("sleep")
            .arg("60")
            .current_dir(moved[2].1.join("bin"))
            .spawn()
            .unwrap();
        let back = second_look(&cache, &aside, &moved);
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(back, [true, false, true]);

        aside.put_back(&cache, 0, &moved[0].1).unwrap();
        aside.put_back(&cache, 2, &moved[2].1).unwrap();
        assert!(site.join(".pyzap-complete").is_file());
        assert!(venv.join(".pyzap-venv").is_file());
    }
}
