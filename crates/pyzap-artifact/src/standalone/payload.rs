//! The CPython payload: the distribution's files (the stdlib stripped of what
//! no application imports), split into parts of about equal size, each a
//! deterministic tar stream compressed with zstd, so the launcher can unpack
//! them in parallel. Modification times are kept: the stdlib's `.pyc` files
//! record their source's mtime and would otherwise be recompiled. Each ELF
//! file packed is read for the glibc it needs, on the way (`glibc.rs`).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::standalone::elf::is_elf;
use crate::standalone::{ElfFacts, GlibcNeed, PythonDist};
use crate::ArtifactError;

#[derive(Debug, Clone)]
pub struct PayloadOptions {
    /// Drop test suites, idlelib, tkinter (and turtle), ensurepip and other
    /// versions' bytecode.
    pub strip_stdlib: bool,
    /// `sys.implementation.cache_tag` of the interpreter (`cpython-311`).
    pub cache_tag: String,
    /// Its full version (`3.11.2`), recorded in the trailer.
    pub python: String,
    pub parts: usize,
    /// zstd level.
    pub level: i32,
    /// Extra files laid out like the distribution (precompiled stdlib
    /// bytecode), added where the distribution has no file of that name.
    pub overlay: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Payload {
    /// Compressed parts and their sha256.
    pub parts: Vec<(Vec<u8>, String)>,
    pub interpreter: String,
    pub arch: String,
    pub python: String,
    /// Files kept and their total size, uncompressed.
    pub files: usize,
    pub bytes: u64,
    /// What `strip_stdlib` left out.
    pub stripped_files: usize,
    pub stripped_bytes: u64,
    /// The newest glibc the packed files need, and the file that needs it
    /// (`bin/python3.11`); `None` when none links glibc.
    pub glibc: Option<GlibcNeed>,
}

impl Payload {
    pub fn compressed_size(&self) -> u64 {
        self.parts.iter().map(|(b, _)| b.len() as u64).sum()
    }
}

/// One compressed part, its sha256 and the newest glibc its files need, or
/// why it could not be packed.
type Packed = Result<(Vec<u8>, String, Option<GlibcNeed>), ArtifactError>;

struct Item {
    rel: String,
    path: PathBuf,
    size: u64,
    link: Option<PathBuf>,
    /// A fixed modification time for generated files (hash-based pycs carry
    /// no source mtime), so the payload does not depend on when they were made.
    mtime: Option<u64>,
}

/// Directories of the stdlib that only tests, IDEs and GUIs use.
const STRIP_DIRS: &[&str] = &[
    "test",
    "tests",
    "idle_test",
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
];
/// Extension modules that exist only for the test suite or Tk.
const STRIP_MODULES: &[&str] = &[
    "_test",
    "_ctypes_test",
    "_tkinter",
    "xxlimited",
    "_xxtestfuzz",
    "xxsubtype",
];

/// Top-level stdlib modules that only work with what is stripped: turtle
/// draws through tkinter.
const STRIP_TOP_MODULES: &[&str] = &["turtle"];

/// Whether `rel` (relative to the distribution root) is left out.
fn stripped(rel: &str, cache_tag: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    let Some(std) = parts.iter().position(|p| p.starts_with("python3.")) else {
        return false;
    };
    if parts.first() != Some(&"lib") || std != 1 || parts.get(2) == Some(&"site-packages") {
        return false;
    }
    let inner = &parts[2..];
    let dirs = &inner[..inner.len().saturating_sub(1)];
    if dirs.iter().any(|d| STRIP_DIRS.contains(d)) {
        return true;
    }
    let file = inner.last().copied().unwrap_or("");
    if dirs == ["lib-dynload"] && STRIP_MODULES.iter().any(|m| file.starts_with(m)) {
        return true;
    }
    // `turtle.py`, and its bytecode `__pycache__/turtle.<tag>[.opt-N].pyc`.
    let module = file.split('.').next().unwrap_or("");
    let top = (dirs.is_empty() && file.ends_with(".py")) || dirs == ["__pycache__"];
    if top && STRIP_TOP_MODULES.contains(&module) {
        return true;
    }
    // `__pycache__/mod.<tag>[.opt-N].pyc` of another interpreter version.
    dirs.last() == Some(&"__pycache__")
        && file.ends_with(".pyc")
        && file.split('.').nth(1) != Some(cache_tag)
}

fn collect(
    dist: &PythonDist,
    opts: &PayloadOptions,
) -> Result<(Vec<Item>, usize, u64), ArtifactError> {
    let root = &dist.root;
    let io = |source: std::io::Error| ArtifactError::PythonDistIo {
        path: root.clone(),
        source,
    };
    let mut items = Vec::new();
    let (mut stripped_files, mut stripped_bytes) = (0, 0);
    for entry in walkdir::WalkDir::new(root).sort_by_file_name().min_depth(1) {
        let entry = entry.map_err(|e| io(e.into()))?;
        let rel = entry
            .path()
            .strip_prefix(root)
            .expect("walkdir stays under its root")
            .to_string_lossy()
            .into_owned();
        if rel == crate::COMPLETE_MARKER || entry.file_type().is_dir() {
            continue;
        }
        let meta = entry.metadata().map_err(|e| io(e.into()))?;
        if opts.strip_stdlib && stripped(&rel, &opts.cache_tag) {
            stripped_files += 1;
            stripped_bytes += meta.len();
            continue;
        }
        let link = if entry.file_type().is_symlink() {
            let target = fs_err::read_link(entry.path()).map_err(io)?;
            if let Err(why) = check_link(&rel, &target) {
                // Debian links sitecustomize.py to /etc: the copy would either
                // dangle or run the host's code, so it is left out.
                tracing::warn!("leaving out {why}");
                continue;
            }
            Some(target)
        } else {
            None
        };
        items.push(Item {
            rel,
            path: entry.path().to_path_buf(),
            size: if link.is_some() { 0 } else { meta.len() },
            link,
            mtime: None,
        });
    }
    if let Some(overlay) = &opts.overlay {
        let known: std::collections::HashSet<String> =
            items.iter().map(|i| i.rel.clone()).collect();
        for entry in walkdir::WalkDir::new(overlay)
            .sort_by_file_name()
            .min_depth(1)
        {
            let entry = entry.map_err(|e| io(e.into()))?;
            let rel = entry
                .path()
                .strip_prefix(overlay)
                .expect("walkdir stays under its root")
                .to_string_lossy()
                .into_owned();
            if !entry.file_type().is_file() || rel == ".complete" || known.contains(&rel) {
                continue;
            }
            if opts.strip_stdlib && stripped(&rel, &opts.cache_tag) {
                continue;
            }
            items.push(Item {
                size: entry.metadata().map_err(|e| io(e.into()))?.len(),
                rel,
                path: entry.path().to_path_buf(),
                link: None,
                mtime: Some(pyzap_fs::ZIP_EPOCH),
            });
        }
    }
    Ok((items, stripped_files, stripped_bytes))
}

/// A symlink must point inside the tree, relatively, or the extracted copy breaks.
fn check_link(rel: &str, target: &Path) -> Result<(), String> {
    let mut depth = rel.split('/').count() as i64 - 1;
    for c in target.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::ParentDir => depth -= 1,
            Component::CurDir => {}
            _ => depth = -1,
        }
        if depth < 0 {
            return Err(format!(
                "symlink {rel} points outside the distribution: {}",
                target.display()
            ));
        }
    }
    Ok(())
}

/// Packs the distribution into compressed parts.
pub fn build_payload(dist: &PythonDist, opts: &PayloadOptions) -> Result<Payload, ArtifactError> {
    let (items, stripped_files, stripped_bytes) = collect(dist, opts)?;
    let n = opts.parts.clamp(1, items.len().max(1));
    // Longest processing time first: biggest files to the lightest part.
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(items[i].size), items[i].rel.clone()));
    let mut groups: Vec<(u64, Vec<usize>)> = vec![(0, Vec::new()); n];
    for i in order {
        let lightest = groups
            .iter_mut()
            .min_by_key(|(load, _)| *load)
            .expect("at least one part");
        lightest.0 += items[i].size + 512;
        lightest.1.push(i);
    }
    for g in &mut groups {
        g.1.sort_by(|a, b| items[*a].rel.cmp(&items[*b].rel));
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Packed>>> = Mutex::new((0..n).map(|_| None).collect());
    let threads = std::thread::available_parallelism()
        .map_or(2, std::num::NonZero::get)
        .min(n);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((_, members)) = groups.get(i) else {
                    break;
                };
                let r = pack(&items, members, opts.level, &dist.root);
                results.lock().expect("no panics while packing")[i] = Some(r);
            });
        }
    });
    let mut parts = Vec::with_capacity(n);
    let mut glibc = None;
    for packed in results.into_inner().expect("no panics while packing") {
        let (bytes, sha256, need) = packed.expect("every part packed")?;
        parts.push((bytes, sha256));
        glibc = GlibcNeed::newer(glibc, need);
    }
    Ok(Payload {
        parts,
        interpreter: dist.interpreter.clone(),
        arch: dist.arch.clone(),
        python: opts.python.clone(),
        files: items.len(),
        bytes: items.iter().map(|i| i.size).sum(),
        stripped_files,
        stripped_bytes,
        glibc,
    })
}

fn pack(items: &[Item], members: &[usize], level: i32, root: &Path) -> Packed {
    let io = |source: std::io::Error| ArtifactError::PythonDistIo {
        path: root.to_path_buf(),
        source,
    };
    let encoder = zstd::stream::write::Encoder::new(Vec::new(), level).map_err(io)?;
    let mut tar = tar::Builder::new(encoder);
    let mut glibc = None;
    for &i in members {
        let item = &items[i];
        let meta = fs_err::symlink_metadata(&item.path).map_err(io)?;
        let mut header = tar::Header::new_gnu();
        header.set_mtime(item.mtime.unwrap_or(meta.mtime().max(0) as u64));
        header.set_uid(0);
        header.set_gid(0);
        if let Some(target) = &item.link {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_mode(0o777);
            header.set_size(0);
            tar.append_link(&mut header, &item.rel, target)
                .map_err(io)?;
        } else {
            let exec = meta.permissions().mode() & 0o111 != 0;
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(if exec { 0o755 } else { 0o644 });
            let data = fs_err::read(&item.path).map_err(io)?;
            header.set_size(data.len() as u64);
            glibc = GlibcNeed::newer(glibc, glibc_need(&item.rel, &data));
            tar.append_data(&mut header, &item.rel, data.as_slice())
                .map_err(io)?;
        }
    }
    let bytes = tar.into_inner().map_err(io)?.finish().map_err(io)?;
    let sha = pyzap_fs::sha256_hex(&bytes);
    Ok((bytes, sha, glibc))
}

/// The glibc the file `rel` needs, when it is an ELF file that says so. An
/// ELF file that cannot be read as one (an object file of some other
/// layout) says nothing: the loader would not load it either.
fn glibc_need(rel: &str, data: &[u8]) -> Option<GlibcNeed> {
    if !is_elf(data) {
        return None;
    }
    match ElfFacts::parse(data) {
        Ok(facts) => facts.glibc.map(|version| GlibcNeed {
            version,
            file: rel.to_string(),
        }),
        Err(why) => {
            tracing::debug!("{rel} {why}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_rules() {
        let s = |p| stripped(p, "cpython-311");
        assert!(s("lib/python3.11/test/test_os.py"));
        assert!(s("lib/python3.11/idlelib/run.py"));
        assert!(s("lib/python3.11/tkinter/__init__.py"));
        assert!(s("lib/python3.11/ensurepip/_bundled/pip.whl"));
        assert!(s("lib/python3.11/unittest/test/test_case.py"));
        assert!(s(
            "lib/python3.11/lib-dynload/_testcapi.cpython-311-x86_64-linux-gnu.so"
        ));
        assert!(s("lib/python3.11/__pycache__/os.cpython-310.pyc"));
        assert!(!s("lib/python3.11/__pycache__/os.cpython-311.pyc"));
        assert!(!s("lib/python3.11/__pycache__/os.cpython-311.opt-1.pyc"));
        assert!(!s("lib/python3.11/os.py"));
        assert!(s("lib/python3.11/turtle.py"));
        assert!(s("lib/python3.11/__pycache__/turtle.cpython-311.pyc"));
        assert!(!s("lib/python3.11/turtledemo_is_not_a_module.py"));
        assert!(!s("lib/python3.11/site-packages/turtle.py"));
        assert!(!s("lib/python3.11/unittest/case.py"));
        assert!(!s("lib/python3.11/site-packages/foo/tests/x.py"));
        assert!(!s("bin/python3.11"));
    }

    #[test]
    fn links_stay_inside() {
        assert!(check_link("bin/python3", Path::new("python3.11")).is_ok());
        assert!(check_link("lib/libpython.so", Path::new("../lib/x.so")).is_ok());
        assert!(check_link("bin/python3", Path::new("../../etc/passwd")).is_err());
        assert!(check_link("bin/python3", Path::new("/usr/bin/python3")).is_err());
    }
}
