//! Reading the runtime cache: its trees, what their markers say, how much
//! disk they take, when they were last used, and which app each belongs to.
//!
//! Nothing here changes a time the next reading depends on: markers are
//! read with `O_NOATIME` (a read would make every tree look used today),
//! and a directory's access time, which listing it updates, is not a use:
//! only the access and modification times of files and symlinks, and the
//! modification time of directories, count.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use fs_err::os::unix::fs::OpenOptionsExt;

use super::processes::{normalize, Processes, TreeUser};
use crate::Result;

/// The marker of a complete site tree (the bootstrap's `_MARKER`); its text
/// is the path of the artifact that wrote it.
pub(crate) const SITE_MARKER: &str = ".pyzap-complete";
/// The marker of a bundle's virtual environment (the bootstrap's
/// `_VENV_MARKER`), holding the recipe its name was derived from.
pub(crate) const VENV_MARKER: &str = ".pyzap-venv";

/// What a tree of the runtime cache is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TreeKind {
    /// `site/<extract hash>/`: an extracted site.
    Site,
    /// `venv/<16 hex>/`: a virtual environment of a bundle for one interpreter.
    Venv,
    /// `python/<id>/`: a CPython unpacked by a standalone executable.
    Python,
}

impl TreeKind {
    /// Its directory under the root.
    pub fn dir(self) -> &'static str {
        match self {
            TreeKind::Site => "site",
            TreeKind::Venv => "venv",
            TreeKind::Python => "python",
        }
    }

    fn marker(self) -> &'static str {
        match self {
            TreeKind::Site => SITE_MARKER,
            TreeKind::Venv => VENV_MARKER,
            TreeKind::Python => pyzap_launcher::MARKER,
        }
    }

    const ALL: [TreeKind; 3] = [TreeKind::Site, TreeKind::Venv, TreeKind::Python];
}

/// One tree of the runtime cache.
#[derive(Debug, Clone)]
pub struct Tree {
    pub kind: TreeKind,
    /// Its directory's name.
    pub name: String,
    pub path: PathBuf,
    /// Whether its marker is there (a regular file of the root's owner).
    pub complete: bool,
    /// A site tree's artifact, as its marker names it.
    pub artifact: Option<PathBuf>,
    /// A venv's site tree, as its marker names it (`site=`).
    pub site: Option<PathBuf>,
    /// A venv's interpreter, as its marker names it (`executable=`).
    pub interpreter: Option<PathBuf>,
    /// Bytes on disk.
    pub size: u64,
    /// The newest use of anything in it (see the module's doc).
    pub last_used: SystemTime,
    /// The running processes that use it.
    pub users: Vec<TreeUser>,
}

/// An entry of `tmp/`: work of a running extraction, or a leftover of a
/// killed one.
#[derive(Debug, Clone)]
pub struct Leftover {
    pub path: PathBuf,
    pub size: u64,
    /// Its own modification time, the one the runtimes' sweep reads.
    pub modified: SystemTime,
    pub users: Vec<TreeUser>,
}

/// The runtime cache as read at one moment.
#[derive(Debug, Clone)]
pub struct RuntimeCache {
    pub root: PathBuf,
    pub trees: Vec<Tree>,
    pub leftovers: Vec<Leftover>,
    /// When it was read.
    pub now: SystemTime,
    /// The root as given, and its real path when that differs.
    spellings: Vec<PathBuf>,
    /// Per tree: for a venv, the site tree and the interpreter tree its
    /// marker names, when they are in this cache.
    links: Vec<(Option<usize>, Option<usize>)>,
}

/// The trees of one app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub artifact: PathBuf,
    /// Whether the artifact is still there.
    pub exists: bool,
    /// Indexes into `RuntimeCache::trees`: its site trees, the venvs naming
    /// them and the interpreters those venvs run.
    pub trees: Vec<usize>,
}

/// Why a complete tree belongs to no app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Orphan {
    /// A site tree whose marker names no artifact.
    NoArtifact,
    /// A venv naming a site tree that is gone (or not in this cache).
    SiteGone(PathBuf),
    /// A venv whose marker names no site tree.
    NoSite,
    /// An interpreter that no venv names.
    Unnamed,
}

impl RuntimeCache {
    /// Reads the cache at `root` (absolute); a root that does not exist is
    /// an empty cache.
    pub(crate) fn read(root: &Path, processes: &Processes, now: SystemTime) -> Result<Self> {
        let mut spellings = vec![normalize(root)];
        match fs_err::canonicalize(root) {
            Ok(real) if real != spellings[0] => spellings.push(real),
            _ => {}
        }
        let mut cache = RuntimeCache {
            root: root.to_path_buf(),
            trees: Vec::new(),
            leftovers: Vec::new(),
            now,
            spellings,
            links: Vec::new(),
        };
        let owner = match fs_err::metadata(root) {
            Ok(meta) => meta.uid(),
            Err(e) if is_gone(&e) => return Ok(cache),
            Err(e) => return Err(e.into()),
        };
        for kind in TreeKind::ALL {
            for path in subdirs(&root.join(kind.dir()))? {
                cache.trees.push(read_tree(kind, path, owner)?);
            }
        }
        cache.read_leftovers(processes)?;
        cache.links = (0..cache.trees.len())
            .map(|i| {
                let tree = &cache.trees[i];
                let find = |p: &Option<PathBuf>, kind| {
                    let found = p.as_deref().and_then(|p| cache.locate(p));
                    found.filter(|&t| cache.trees[t].kind == kind)
                };
                (
                    find(&tree.site, TreeKind::Site),
                    find(&tree.interpreter, TreeKind::Python),
                )
            })
            .collect();
        for i in 0..cache.trees.len() {
            let users = processes.users(&cache.spellings_of(i), &cache.artifacts_of(i));
            cache.trees[i].users = users;
        }
        Ok(cache)
    }

    /// The entries of `tmp/`.
    fn read_leftovers(&mut self, processes: &Processes) -> Result<()> {
        for path in entries(&self.root.join("tmp"))? {
            let Some((size, _)) = usage(&path)? else {
                continue;
            };
            let modified = match fs_err::symlink_metadata(&path) {
                Ok(meta) => meta.modified()?,
                Err(e) if is_gone(&e) => continue,
                Err(e) => return Err(e.into()),
            };
            let users = processes.users(&self.spelled(Path::new("tmp"), &path), &[]);
            self.leftovers.push(Leftover {
                path,
                size,
                modified,
                users,
            });
        }
        Ok(())
    }

    /// The tree `i`'s path through every spelling of the root.
    pub(crate) fn spellings_of(&self, i: usize) -> Vec<PathBuf> {
        let tree = &self.trees[i];
        self.spelled(Path::new(tree.kind.dir()), &tree.path)
    }

    /// `<root>/<dir>/<the name of path>` through every spelling of the root.
    fn spelled(&self, dir: &Path, path: &Path) -> Vec<PathBuf> {
        let name = path.file_name().unwrap_or_default();
        self.spellings
            .iter()
            .map(|root| root.join(dir).join(name))
            .collect()
    }

    /// The tree of this cache at `path` (or holding it), whatever spelling
    /// of the root the path uses.
    fn locate(&self, path: &Path) -> Option<usize> {
        let mut candidates = vec![normalize(path)];
        if let Some(real) = real_path(path) {
            candidates.push(real);
        }
        for candidate in &candidates {
            for root in &self.spellings {
                let Ok(rest) = candidate.strip_prefix(root) else {
                    continue;
                };
                let mut parts = rest.iter();
                let (Some(dir), Some(name)) = (parts.next(), parts.next()) else {
                    continue;
                };
                if let Some(i) = self
                    .trees
                    .iter()
                    .position(|t| t.kind.dir() == dir && t.path.file_name() == Some(name))
                {
                    return Some(i);
                }
            }
        }
        None
    }

    /// The site tree venv `i` names, when it is in this cache.
    pub fn site_of(&self, i: usize) -> Option<usize> {
        self.links.get(i).and_then(|l| l.0)
    }

    /// The interpreter tree venv `i` runs, when it is in this cache.
    pub fn python_of(&self, i: usize) -> Option<usize> {
        self.links.get(i).and_then(|l| l.1)
    }

    /// The venvs that name tree `i` (as their site or their interpreter).
    pub fn venvs_naming(&self, i: usize) -> Vec<usize> {
        (0..self.trees.len())
            .filter(|&v| self.trees[v].kind == TreeKind::Venv)
            .filter(|&v| self.site_of(v) == Some(i) || self.python_of(v) == Some(i))
            .collect()
    }

    /// The artifacts tree `i` serves: a site tree's own, a venv's site
    /// tree's, an interpreter's venvs'.
    pub fn artifacts_of(&self, i: usize) -> Vec<PathBuf> {
        let tree = &self.trees[i];
        let mut artifacts: Vec<PathBuf> = match tree.kind {
            TreeKind::Site => tree.artifact.iter().cloned().collect(),
            TreeKind::Venv => self
                .site_of(i)
                .and_then(|s| self.trees[s].artifact.clone())
                .into_iter()
                .collect(),
            TreeKind::Python => self
                .venvs_naming(i)
                .into_iter()
                .filter_map(|v| self.site_of(v))
                .filter_map(|s| self.trees[s].artifact.clone())
                .collect(),
        };
        artifacts.sort();
        artifacts.dedup();
        artifacts
    }

    /// The apps, by artifact path, with their complete trees.
    pub fn apps(&self) -> Vec<App> {
        let mut apps: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
        for (i, tree) in self.trees.iter().enumerate() {
            if tree.complete {
                for artifact in self.artifacts_of(i) {
                    apps.entry(artifact).or_default().push(i);
                }
            }
        }
        apps.into_iter()
            .map(|(artifact, trees)| App {
                exists: artifact.exists(),
                artifact,
                trees,
            })
            .collect()
    }

    /// The complete trees that belong to no app, and why.
    pub fn orphans(&self) -> Vec<(usize, Orphan)> {
        let mut orphans = Vec::new();
        for (i, tree) in self.trees.iter().enumerate() {
            if !tree.complete || !self.artifacts_of(i).is_empty() {
                continue;
            }
            let why = match tree.kind {
                TreeKind::Site => Orphan::NoArtifact,
                TreeKind::Venv => match &tree.site {
                    Some(site) if self.site_of(i).is_none() => Orphan::SiteGone(site.clone()),
                    // A site tree that names no artifact: both are orphans.
                    Some(_) => Orphan::NoArtifact,
                    None => Orphan::NoSite,
                },
                TreeKind::Python if self.venvs_naming(i).is_empty() => Orphan::Unnamed,
                TreeKind::Python => Orphan::NoArtifact,
            };
            orphans.push((i, why));
        }
        orphans
    }
}

/// Reads one tree: its marker, its size and last use.
fn read_tree(kind: TreeKind, path: PathBuf, owner: u32) -> Result<Tree> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // As the runtimes trust a marker: by lstat, a regular file of the
    // cache's owner, under its name or its unflushed name of this boot
    // (`docs/artifact-format.md`, protocol step 5).
    let marker = pyzap_launcher::marker_of(&path, kind.marker(), owner);
    let complete = marker.is_some();
    let mut tree = Tree {
        kind,
        name,
        complete,
        artifact: None,
        site: None,
        interpreter: None,
        size: 0,
        last_used: SystemTime::UNIX_EPOCH,
        users: Vec::new(),
        path,
    };
    if let Some((size, last_used)) = usage(&tree.path)? {
        tree.size = size;
        tree.last_used = last_used;
    }
    if let Some(marker) = marker.filter(|_| kind != TreeKind::Python) {
        let text = read_marker(&marker);
        if kind == TreeKind::Site {
            let artifact = text.trim_end_matches('\n');
            tree.artifact = (!artifact.is_empty()).then(|| PathBuf::from(artifact));
        } else if text.starts_with("pyzap-venv ") {
            for line in text.lines() {
                if let Some(site) = line.strip_prefix("site=") {
                    tree.site = Some(PathBuf::from(site));
                } else if let Some(exe) = line.strip_prefix("executable=") {
                    tree.interpreter = Some(PathBuf::from(exe));
                }
            }
        }
    }
    Ok(tree)
}

/// A marker's text without touching its access time (the bootstrap reads
/// the venv marker at every start, which makes that time a use); empty
/// when it cannot be read.
fn read_marker(path: &Path) -> String {
    let open = |flags| {
        fs_err::OpenOptions::new()
            .read(true)
            .custom_flags(flags | libc::O_NOFOLLOW)
            .open(path)
    };
    // O_NOATIME is refused (EPERM) on a file of another user.
    let file = open(libc::O_NOATIME).or_else(|_| open(0));
    let mut text = String::new();
    if let Ok(file) = file {
        let _ = file.take(64 * 1024).read_to_string(&mut text);
    }
    text
}

/// Bytes on disk under `path` and its newest use, without following
/// symlinks; `None` when it is gone.
pub(crate) fn usage(path: &Path) -> Result<Option<(u64, SystemTime)>> {
    let meta = match fs_err::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if is_gone(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut size = meta.blocks() * 512;
    let mut newest = last_use(&meta);
    if meta.is_dir() {
        for child in entries(path)? {
            if let Some((s, t)) = usage(&child)? {
                size += s;
                newest = newest.max(t);
            }
        }
    }
    Ok(Some((size, newest)))
}

/// When a file was last used: its newest access or modification; for a
/// directory, its modification only (reading the tree lists directories).
fn last_use(meta: &std::fs::Metadata) -> SystemTime {
    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    if meta.is_dir() {
        return modified;
    }
    meta.accessed().map_or(modified, |a| a.max(modified))
}

/// The real path of `path`, or of its nearest existing ancestor with the
/// rest appended; `None` when that is `path` itself.
fn real_path(path: &Path) -> Option<PathBuf> {
    let mut rest = Vec::new();
    let mut head = path;
    loop {
        if let Ok(real) = fs_err::canonicalize(head) {
            let full = rest.iter().rev().fold(real, |p: PathBuf, c| p.join(c));
            return (full != path).then_some(full);
        }
        rest.push(head.file_name()?);
        head = head.parent()?;
    }
}

/// Whether an error only says that a path is gone.
pub(crate) fn is_gone(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::NotFound
}

/// The entries of `dir`, sorted; none when it does not exist.
fn entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let read = match fs_err::read_dir(dir) {
        Ok(read) => read,
        Err(e) if is_gone(&e) => return Ok(out),
        Err(e) => return Err(e.into()),
    };
    for entry in read {
        out.push(entry?.path());
    }
    out.sort();
    Ok(out)
}

/// The directories among the entries of `dir`, not through symlinks, and
/// not hidden (the launcher's lock files, `.<id>.lock`, live beside its trees).
fn subdirs(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(entries(dir)?
        .into_iter()
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.as_encoded_bytes().starts_with(b"."))
        })
        .filter(|p| fs_err::symlink_metadata(p).is_ok_and(|m| m.is_dir()))
        .collect())
}
