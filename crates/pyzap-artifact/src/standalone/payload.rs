//! The CPython payload: the distribution's files (the stdlib stripped of what
//! no application imports), split into parts of about equal size, each a
//! deterministic tar stream compressed with zstd, so the launcher can unpack
//! them in parallel. Modification times are kept: the stdlib's `.pyc` files
//! record their source's mtime and would otherwise be recompiled. Each ELF
//! file packed is read for the glibc it needs, on the way (`glibc.rs`).

use std::collections::HashSet;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::standalone::elf::is_elf;
use crate::standalone::part_plan::balance;
use crate::standalone::stdlib_bytecode::sourceless_rel;
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
    /// The overlay holds the stdlib as sourceless `X.pyc` files
    /// (`StdlibBytecode::InsteadOfSources`): each stdlib `X.py` it has
    /// bytecode for is left out, with that module's `__pycache__` files.
    pub sourceless_stdlib: bool,
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
    /// The stdlib sources (and their `__pycache__` files) that
    /// `sourceless_stdlib` left out, and their size.
    pub sourceless_files: usize,
    pub sourceless_bytes: u64,
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

/// One file to pack.
pub(crate) struct Item {
    /// Its path in the payload, relative to the distribution root.
    pub(crate) rel: String,
    pub(crate) path: PathBuf,
    pub(crate) size: u64,
    pub(crate) link: Option<PathBuf>,
    /// A fixed modification time for generated files (hash-based pycs carry
    /// no source mtime), so the payload does not depend on when they were made.
    pub(crate) mtime: Option<u64>,
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

/// Top-level stdlib packages no program imports: `pydoc_data` holds the
/// texts `help()` shows for keywords and topics (it says they are missing).
const STRIP_TOP_PACKAGES: &[&str] = &["pydoc_data"];

/// Directories of `lib/` in a python-build-standalone tree holding the Tcl/Tk
/// script libraries (`tcl8.6`, `tcl8`, `tk8.6`, `itcl4.2.3`, `thread2.8.7`):
/// only tkinter, stripped, reads them.
const STRIP_LIB_PREFIXES: &[&str] = &["tcl8", "tk8", "itcl", "thread2"];

/// Whether `rel` (relative to the distribution root: `bin/`, `lib/`) is left out.
pub(crate) fn stripped(rel: &str, cache_tag: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    match stdlib_inner(&parts) {
        Some(inner) => stripped_in_stdlib(inner, cache_tag),
        None => stripped_outside_stdlib(&parts),
    }
}

/// The parts of a path below `lib/python3.X/` (the interpreter's
/// `site-packages` included), or `None` for a path elsewhere.
fn stdlib_inner<'a>(parts: &'a [&'a str]) -> Option<&'a [&'a str]> {
    match parts {
        ["lib", std, inner @ ..] if std.starts_with("python3.") => Some(inner),
        _ => None,
    }
}

/// The rest of a python-build-standalone tree: C headers and pkg-config
/// files (only for compiling extensions), manual pages, the Tcl/Tk script
/// libraries. `share/terminfo` (curses reads it) and every shared library
/// stay.
fn stripped_outside_stdlib(parts: &[&str]) -> bool {
    let file = parts.last().copied().unwrap_or("");
    if file.ends_with(".so") || file.contains(".so.") {
        return false;
    }
    match parts {
        ["include", _, ..] | ["share", "man", _, ..] | ["lib", "pkgconfig", _, ..] => true,
        ["lib", dir, _, ..] => STRIP_LIB_PREFIXES.iter().any(|p| dir.starts_with(p)),
        _ => false,
    }
}

/// `inner`: the path below `lib/python3.X/`, split at `/`.
fn stripped_in_stdlib(inner: &[&str], cache_tag: &str) -> bool {
    // The interpreter's own site-packages (python-build-standalone ships
    // pip, setuptools: a thousand files): the bootstrap runs the app in the
    // bundle's venv, which does not see them, and forgets what their .pth
    // hooks imported at start-up (setuptools' `distutils-precedence.pth`
    // runs on every start of the interpreter).
    if inner.first() == Some(&"site-packages") {
        return inner.len() > 1;
    }
    let dirs = &inner[..inner.len().saturating_sub(1)];
    if dirs.iter().any(|d| STRIP_DIRS.contains(d)) {
        return true;
    }
    if dirs.first().is_some_and(|d| STRIP_TOP_PACKAGES.contains(d)) {
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

/// What `collect` found: the files to pack, what stripping left out, and a
/// fingerprint of every file looked at (path, size, mtime, link target), for
/// the payload cache's key.
pub(crate) struct Collected {
    items: Vec<Item>,
    stripped_files: usize,
    stripped_bytes: u64,
    sourceless_files: usize,
    sourceless_bytes: u64,
    pub(crate) fingerprint: String,
}

fn fingerprint_line(out: &mut String, rel: &str, meta: &std::fs::Metadata, link: Option<&Path>) {
    use std::fmt::Write;
    let _ = writeln!(
        out,
        "{rel}\t{}\t{}.{}\t{}",
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec(),
        link.map(|l| l.to_string_lossy()).unwrap_or_default()
    );
}

pub(crate) fn collect(
    dist: &PythonDist,
    opts: &PayloadOptions,
) -> Result<Collected, ArtifactError> {
    let root = &dist.root;
    let io = |source: std::io::Error| ArtifactError::PythonDistIo {
        path: root.clone(),
        source,
    };
    // The overlay first: its names say which stdlib sources it replaces.
    let mut overlay_files = Vec::new();
    let mut overlay_print = String::from("overlay\n");
    if let Some(overlay) = &opts.overlay {
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
            if !entry.file_type().is_file() || rel == ".complete" {
                continue;
            }
            let meta = entry.metadata().map_err(|e| io(e.into()))?;
            fingerprint_line(&mut overlay_print, &rel, &meta, None);
            overlay_files.push((rel, entry.path().to_path_buf(), meta.len()));
        }
    }
    let replacing: HashSet<&str> = if opts.sourceless_stdlib {
        overlay_files.iter().map(|(rel, ..)| rel.as_str()).collect()
    } else {
        HashSet::new()
    };
    let mut items = Vec::new();
    let mut fingerprint = String::from("dist\n");
    let (mut stripped_files, mut stripped_bytes) = (0, 0);
    let (mut sourceless_files, mut sourceless_bytes) = (0, 0);
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
        let link = if entry.file_type().is_symlink() {
            Some(fs_err::read_link(entry.path()).map_err(io)?)
        } else {
            None
        };
        fingerprint_line(&mut fingerprint, &rel, &meta, link.as_deref());
        if opts.strip_stdlib && stripped(&rel, &opts.cache_tag) {
            stripped_files += 1;
            stripped_bytes += meta.len();
            continue;
        }
        if replaced_by_bytecode(&rel, &replacing) {
            sourceless_files += 1;
            sourceless_bytes += meta.len();
            continue;
        }
        if let Some(target) = &link {
            if let Err(why) = check_link(&rel, target) {
                // Debian links sitecustomize.py to /etc: the copy would either
                // dangle or run the host's code, so it is left out.
                tracing::warn!("leaving out {why}");
                continue;
            }
        }
        items.push(Item {
            rel,
            path: entry.path().to_path_buf(),
            size: if link.is_some() { 0 } else { meta.len() },
            link,
            mtime: None,
        });
    }
    if opts.overlay.is_some() {
        fingerprint.push_str(&overlay_print);
        let known: HashSet<String> = items.iter().map(|i| i.rel.clone()).collect();
        for (rel, path, size) in overlay_files {
            if known.contains(&rel) || (opts.strip_stdlib && stripped(&rel, &opts.cache_tag)) {
                continue;
            }
            items.push(Item {
                size,
                rel,
                path,
                link: None,
                mtime: Some(pyzap_fs::ZIP_EPOCH),
            });
        }
    }
    Ok(Collected {
        items,
        stripped_files,
        stripped_bytes,
        sourceless_files,
        sourceless_bytes,
        fingerprint,
    })
}

/// Whether the distribution's file `rel` is a stdlib source, or its
/// `__pycache__` bytecode, for which the overlay (whose files are
/// `overlay`) holds the sourceless `X.pyc`: CPython imports that one when
/// `X.py` is not there, and never reads `__pycache__` for a module without
/// source.
fn replaced_by_bytecode(rel: &str, overlay: &HashSet<&str>) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    let in_stdlib = matches!(stdlib_inner(&parts), Some([first, ..]) if *first != "site-packages");
    if !in_stdlib || overlay.is_empty() {
        return false;
    }
    let (dir, file) = rel.rsplit_once('/').expect("at least three parts");
    let sourceless = if file.ends_with(".py") {
        sourceless_rel(rel)
    } else if let (Some(pkg), true) = (dir.strip_suffix("/__pycache__"), file.ends_with(".pyc")) {
        // `m.cpython-311[.opt-1].pyc`: the module is what precedes the tag.
        let stem = file.split('.').next().unwrap_or(file);
        format!("{pkg}/{stem}.pyc")
    } else {
        return false;
    };
    overlay.contains(sourceless.as_str())
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
    pack_collected(dist, opts, collect(dist, opts)?)
}

/// Packs what `collect` found.
pub(crate) fn pack_collected(
    dist: &PythonDist,
    opts: &PayloadOptions,
    collected: Collected,
) -> Result<Payload, ArtifactError> {
    let Collected {
        items,
        stripped_files,
        stripped_bytes,
        sourceless_files,
        sourceless_bytes,
        ..
    } = collected;
    let n = opts.parts.clamp(1, items.len().max(1));
    let groups = balance(&items, n);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Packed>>> = Mutex::new((0..n).map(|_| None).collect());
    let threads = std::thread::available_parallelism()
        .map_or(2, std::num::NonZero::get)
        .min(n);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(members) = groups.get(i) else {
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
        sourceless_files,
        sourceless_bytes,
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
    fn sources_and_their_pycache_give_way_to_sourceless_bytecode() {
        let overlay = HashSet::from(["lib/python3.11/os.pyc", "lib/python3.11/json/decoder.pyc"]);
        let r = |rel| replaced_by_bytecode(rel, &overlay);
        assert!(r("lib/python3.11/os.py"));
        assert!(r("lib/python3.11/__pycache__/os.cpython-311.pyc"));
        assert!(r("lib/python3.11/__pycache__/os.cpython-311.opt-2.pyc"));
        assert!(r("lib/python3.11/json/decoder.py"));
        assert!(r("lib/python3.11/json/__pycache__/decoder.cpython-311.pyc"));
        // No bytecode for it: the source stays.
        assert!(!r("lib/python3.11/json/__init__.py"));
        assert!(!r(
            "lib/python3.11/json/__pycache__/__init__.cpython-311.pyc"
        ));
        // Not the stdlib, or not a module.
        assert!(!r("lib/python3.11/site-packages/os.py"));
        assert!(!r("bin/os.py"));
        assert!(!r("lib/python3.11/json/decoder.txt"));
        assert!(!r(
            "lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so"
        ));
    }

    /// What `collect` packs of a tree with a sourceless overlay and an
    /// interpreter site-packages: the overlay's bytecode in place of the
    /// sources it covers (and of their `__pycache__`), nothing of
    /// site-packages, the rest as it is.
    #[test]
    fn collect_packs_sourceless_bytecode_and_no_site_packages() {
        let dir = tempfile::tempdir().unwrap();
        let write = |root: &Path, rel: &str| {
            let path = root.join(rel);
            fs_err::create_dir_all(path.parent().unwrap()).unwrap();
            fs_err::write(path, rel).unwrap();
        };
        let root = dir.path().join("python");
        for rel in [
            "bin/python3.11",
            "lib/python3.11/os.py",
            "lib/python3.11/__pycache__/os.cpython-311.pyc",
            "lib/python3.11/json/__init__.py",
            "lib/python3.11/lib2to3/Grammar.txt",
            "lib/python3.11/broken_py2.py",
            "lib/python3.11/site-packages/pip/__init__.py",
            "lib/python3.11/site-packages/distutils-precedence.pth",
        ] {
            write(&root, rel);
        }
        let overlay = dir.path().join("overlay");
        for rel in ["lib/python3.11/os.pyc", "lib/python3.11/json/__init__.pyc"] {
            write(&overlay, rel);
        }
        let dist = PythonDist {
            root,
            interpreter: "bin/python3.11".into(),
            arch: "x86_64".into(),
        };
        let opts = PayloadOptions {
            strip_stdlib: true,
            cache_tag: "cpython-311".into(),
            python: "3.11.2".into(),
            parts: 1,
            level: 1,
            overlay: Some(overlay),
            sourceless_stdlib: true,
        };
        let collected = collect(&dist, &opts).unwrap();
        let mut packed: Vec<&str> = collected.items.iter().map(|i| i.rel.as_str()).collect();
        packed.sort_unstable();
        assert_eq!(
            packed,
            [
                "bin/python3.11",
                "lib/python3.11/broken_py2.py",
                "lib/python3.11/json/__init__.pyc",
                "lib/python3.11/lib2to3/Grammar.txt",
                "lib/python3.11/os.pyc",
            ]
        );
        assert_eq!(collected.sourceless_files, 3);
        assert_eq!(collected.stripped_files, 2);
    }

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
        assert!(!s("lib/python3.11/unittest/case.py"));
        assert!(!s("bin/python3.11"));
        assert!(s("lib/python3.11/pydoc_data/topics.py"));
        assert!(s(
            "lib/python3.11/pydoc_data/__pycache__/topics.cpython-311.pyc"
        ));
        assert!(!s("lib/python3.11/pydoc.py"));
        // The interpreter's own site-packages: the bundle's venv never sees it.
        assert!(s("lib/python3.11/site-packages/pip/__init__.py"));
        assert!(s("lib/python3.11/site-packages/distutils-precedence.pth"));
        assert!(s(
            "lib/python3.11/site-packages/_distutils_hack/__init__.py"
        ));
        assert!(!s("lib/python3.11/site-packages"));
        // python-build-standalone's tree around the stdlib.
        assert!(s("lib/tcl8.6/init.tcl"));
        assert!(s("lib/tcl8/8.5/msgcat-1.6.1.tm"));
        assert!(s("lib/tk8.6/ttk/ttk.tcl"));
        assert!(s("lib/itcl4.2.3/itcl.tcl"));
        assert!(s("lib/thread2.8.8/pkgIndex.tcl"));
        assert!(!s("lib/itcl4.2.3/libitcl4.2.3.so"));
        assert!(!s("lib/thread2.8.8/libthread2.8.8.so"));
        assert!(s("include/python3.11/Python.h"));
        assert!(s("include/python3.11/cpython/object.h"));
        assert!(s("lib/pkgconfig/python3.pc"));
        assert!(s("share/man/man1/python3.11.1"));
        assert!(!s("share/terminfo/x/xterm"));
        assert!(!s("lib/libpython3.11.so.1.0"));
        assert!(!s("lib/libpython3.11.so"));
        assert!(!s("lib/libpython3.so"));
        assert!(!s("lib/tclish_library_name.so"));
        assert!(!s("bin/python3"));
    }

    #[test]
    fn links_stay_inside() {
        assert!(check_link("bin/python3", Path::new("python3.11")).is_ok());
        assert!(check_link("lib/libpython.so", Path::new("../lib/x.so")).is_ok());
        assert!(check_link("bin/python3", Path::new("../../etc/passwd")).is_err());
        assert!(check_link("bin/python3", Path::new("/usr/bin/python3")).is_err());
    }
}
