//! Packed payloads, kept in the build cache: compressing the CPython at
//! zstd's high levels is slow (about 17 s of one core for the 31 MB of a
//! CPython 3.11 at level 19), so it is done once per distribution and
//! options. An entry is `<cache>/python-payload/<key>/`: the parts
//! (`part-N.zst`) and `payload.json` (what `Payload` says besides its
//! bytes). The key hashes every input file's path, size, mtime and link
//! target (distribution and overlay) and the options; an entry is written
//! into a temporary directory and renamed into place, and read only when
//! every part has the sha256 its metadata records — a damaged or partial
//! entry is packed again and replaced.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::standalone::payload::{collect, pack_collected};
use crate::standalone::{GlibcNeed, Payload, PayloadOptions, PythonDist};
use crate::ArtifactError;

/// Bumped whenever what a payload holds (the strip rules included), or how
/// it is laid out, changes: entries are keyed by inputs and options, not by
/// the code that packed them.
const FORMAT: &str = "pyzap-python-payload-4";
const DIR: &str = "python-payload";
const METADATA: &str = "payload.json";

/// `payload.json`.
#[derive(Debug, Serialize, Deserialize)]
struct Metadata {
    format: String,
    interpreter: String,
    arch: String,
    python: String,
    files: usize,
    bytes: u64,
    stripped_files: usize,
    stripped_bytes: u64,
    sourceless_files: usize,
    sourceless_bytes: u64,
    glibc: Option<GlibcNeedRecord>,
    /// Each part's sha256, in order.
    parts: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct GlibcNeedRecord {
    major: u32,
    minor: u32,
    file: String,
}

fn part_name(i: usize) -> String {
    format!("part-{i}.zst")
}

/// `build_payload`, through the build cache under `cache`: an intact entry
/// for the same inputs and options is read back (the same bytes a fresh
/// pack gives); otherwise `on_pack` is called, the payload packed and stored.
pub fn cached_payload(
    dist: &PythonDist,
    opts: &PayloadOptions,
    cache: &Path,
    on_pack: &dyn Fn(),
) -> Result<Payload, ArtifactError> {
    let collected = collect(dist, opts)?;
    // Every option, as `Debug` spells them, so a new one is part of the key.
    let key = format!(
        "{FORMAT}\n{opts:?}\ninterpreter={} arch={}\n{}",
        dist.interpreter, dist.arch, collected.fingerprint
    );
    let entry = cache
        .join(DIR)
        .join(&pyzap_fs::sha256_hex(key.as_bytes())[..32]);
    match read_entry(&entry) {
        Ok(payload) => return Ok(payload),
        Err(why) if entry.exists() => {
            tracing::warn!("packing again: {why}");
        }
        Err(_) => {}
    }
    on_pack();
    let payload = pack_collected(dist, opts, collected)?;
    store(&entry, &payload)?;
    Ok(payload)
}

/// The payload stored in `entry`, or why it cannot be trusted.
fn read_entry(entry: &Path) -> Result<Payload, String> {
    let text = fs_err::read(entry.join(METADATA)).map_err(|e| e.to_string())?;
    let meta: Metadata = serde_json::from_slice(&text)
        .map_err(|e| format!("{} is not valid: {e}", entry.join(METADATA).display()))?;
    if meta.format != FORMAT {
        return Err(format!("{} has format {}", entry.display(), meta.format));
    }
    let mut parts = Vec::with_capacity(meta.parts.len());
    for (i, sha256) in meta.parts.into_iter().enumerate() {
        let path = entry.join(part_name(i));
        let bytes = fs_err::read(&path).map_err(|e| e.to_string())?;
        let actual = pyzap_fs::sha256_hex(&bytes);
        if actual != sha256 {
            return Err(format!(
                "{} has sha256 {actual}, its metadata says {sha256}",
                path.display()
            ));
        }
        parts.push((bytes, sha256));
    }
    Ok(Payload {
        parts,
        interpreter: meta.interpreter,
        arch: meta.arch,
        python: meta.python,
        files: meta.files,
        bytes: meta.bytes,
        stripped_files: meta.stripped_files,
        stripped_bytes: meta.stripped_bytes,
        sourceless_files: meta.sourceless_files,
        sourceless_bytes: meta.sourceless_bytes,
        glibc: meta.glibc.map(|g| GlibcNeed {
            version: (g.major, g.minor).into(),
            file: g.file,
        }),
    })
}

/// Writes `payload` as `entry`: into a temporary directory beside it, then
/// renamed into place. A damaged entry there is removed first; when another
/// build stored the entry meanwhile, its copy is kept and this one dropped.
fn store(entry: &Path, payload: &Payload) -> Result<(), ArtifactError> {
    let cache_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ArtifactError::Cache { path, source }
    };
    let parent = entry.parent().expect("an entry lives in the cache");
    fs_err::create_dir_all(parent).map_err(cache_err(parent))?;
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-payload-")
        .tempdir_in(parent)
        .map_err(cache_err(parent))?;
    for (i, (bytes, _)) in payload.parts.iter().enumerate() {
        let path = tmp.path().join(part_name(i));
        fs_err::write(&path, bytes).map_err(cache_err(&path))?;
    }
    let meta = Metadata {
        format: FORMAT.to_string(),
        interpreter: payload.interpreter.clone(),
        arch: payload.arch.clone(),
        python: payload.python.clone(),
        files: payload.files,
        bytes: payload.bytes,
        stripped_files: payload.stripped_files,
        stripped_bytes: payload.stripped_bytes,
        sourceless_files: payload.sourceless_files,
        sourceless_bytes: payload.sourceless_bytes,
        glibc: payload.glibc.as_ref().map(|g| GlibcNeedRecord {
            major: g.version.major,
            minor: g.version.minor,
            file: g.file.clone(),
        }),
        parts: payload.parts.iter().map(|(_, sha)| sha.clone()).collect(),
    };
    let path = tmp.path().join(METADATA);
    let json = serde_json::to_vec_pretty(&meta).expect("plain data serializes");
    fs_err::write(&path, json).map_err(cache_err(&path))?;
    if entry.exists() && read_entry(entry).is_err() {
        remove_damaged(entry);
    }
    let tmp: PathBuf = tmp.keep();
    if fs_err::rename(&tmp, entry).is_err() {
        // Another build stored it first (a rename onto a non-empty
        // directory fails): keep that one.
        let _ = fs_err::remove_dir_all(&tmp);
    }
    Ok(())
}

/// Moves a damaged entry aside and removes it, so a reader never sees it
/// half removed.
fn remove_damaged(entry: &Path) {
    let Some(parent) = entry.parent() else {
        return;
    };
    let Ok(trash) = tempfile::Builder::new()
        .prefix(".tmp-trash-")
        .tempdir_in(parent)
    else {
        return;
    };
    let trash = trash.keep();
    let aside = trash.join("entry");
    if fs_err::rename(entry, &aside).is_ok() {
        let _ = fs_err::remove_dir_all(&trash);
    } else {
        let _ = fs_err::remove_dir_all(entry);
        let _ = fs_err::remove_dir_all(&trash);
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;

    use super::*;
    use crate::standalone::build_payload;

    /// A small tree laid out like a distribution.
    fn dist(dir: &Path) -> PythonDist {
        let root = dir.join("python");
        let files = [
            ("bin/python3.11", "not really an interpreter"),
            ("lib/python3.11/os.py", "'''os docs'''\nimport sys\n"),
            (
                "lib/python3.11/__pycache__/os.cpython-311.pyc",
                "os docs sys",
            ),
            ("lib/python3.11/json/__init__.py", "'''json docs'''\n"),
            (
                "lib/python3.11/json/__pycache__/__init__.cpython-311.pyc",
                "json docs",
            ),
            ("lib/python3.11/pydoc_data/topics.py", "topics = {}\n"),
            ("include/python3.11/Python.h", "#pragma once\n"),
        ];
        for (rel, text) in files {
            let path = root.join(rel);
            fs_err::create_dir_all(path.parent().unwrap()).unwrap();
            fs_err::write(path, text.repeat(50)).unwrap();
        }
        fs_err::os::unix::fs::symlink("python3.11", root.join("bin/python3")).unwrap();
        PythonDist {
            root,
            interpreter: "bin/python3.11".into(),
            arch: "x86_64".into(),
        }
    }

    fn options() -> PayloadOptions {
        PayloadOptions {
            strip_stdlib: true,
            cache_tag: "cpython-311".into(),
            python: "3.11.2".into(),
            parts: 2,
            level: 3,
            overlay: None,
            sourceless_stdlib: false,
        }
    }

    fn summary(p: &Payload) -> String {
        format!(
            "{} {} {} {} {} {} {:?} {:?}",
            p.interpreter,
            p.arch,
            p.python,
            p.files,
            p.bytes,
            p.stripped_files,
            p.stripped_bytes,
            p.glibc
        )
    }

    fn assert_same(a: &Payload, b: &Payload) {
        assert_eq!(a.parts, b.parts);
        assert_eq!(summary(a), summary(b));
    }

    /// Packs through the cache; whether it packed.
    fn cached(dist: &PythonDist, cache: &Path) -> (Payload, bool) {
        let packed = Cell::new(false);
        let payload = cached_payload(dist, &options(), cache, &|| packed.set(true)).unwrap();
        (payload, packed.get())
    }

    fn entry(cache: &Path) -> PathBuf {
        let mut entries: Vec<PathBuf> = fs_err::read_dir(cache.join(DIR))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(entries.len(), 1, "{entries:?}");
        entries.pop().unwrap()
    }

    #[test]
    fn an_intact_entry_is_read_back_as_packed() {
        let dir = tempfile::tempdir().unwrap();
        let dist = dist(dir.path());
        let cache = dir.path().join("cache");
        let fresh = build_payload(&dist, &options()).unwrap();
        let (first, packed) = cached(&dist, &cache);
        assert!(packed);
        assert_same(&first, &fresh);
        assert_eq!(first.stripped_files, 2, "{}", summary(&first));
        let meta = entry(&cache).join(METADATA);
        let before = fs_err::metadata(&meta).unwrap();
        let (second, packed) = cached(&dist, &cache);
        assert!(!packed, "an intact entry is packed again");
        assert_same(&second, &fresh);
        let after = fs_err::metadata(&meta).unwrap();
        assert_eq!(
            (before.ino(), before.mtime(), before.mtime_nsec()),
            (after.ino(), after.mtime(), after.mtime_nsec())
        );
    }

    #[test]
    fn a_damaged_or_partial_entry_is_packed_again_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let dist = dist(dir.path());
        let cache = dir.path().join("cache");
        let fresh = build_payload(&dist, &options()).unwrap();
        cached(&dist, &cache);
        let part = entry(&cache).join(part_name(1));
        let mut bytes = fs_err::read(&part).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        fs_err::write(&part, &bytes).unwrap();
        let (repacked, packed) = cached(&dist, &cache);
        assert!(packed, "a damaged part was trusted");
        assert_same(&repacked, &fresh);
        let (again, packed) = cached(&dist, &cache);
        assert!(!packed, "the damaged entry was not replaced");
        assert_same(&again, &fresh);

        fs_err::remove_file(entry(&cache).join(part_name(0))).unwrap();
        let (repacked, packed) = cached(&dist, &cache);
        assert!(packed, "a partial entry was trusted");
        assert_same(&repacked, &fresh);
        fs_err::write(entry(&cache).join(METADATA), "{").unwrap();
        assert!(cached(&dist, &cache).1, "unreadable metadata was trusted");
        assert!(!cached(&dist, &cache).1);
    }

    #[test]
    fn a_changed_input_is_another_entry() {
        let dir = tempfile::tempdir().unwrap();
        let dist = dist(dir.path());
        let cache = dir.path().join("cache");
        cached(&dist, &cache);
        // A stripped file counts too: the summary reports its size.
        fs_err::write(dist.root.join("lib/python3.11/pydoc_data/topics.py"), "x").unwrap();
        let (payload, packed) = cached(&dist, &cache);
        assert!(packed);
        assert_eq!(
            payload.stripped_bytes,
            1 + "#pragma once\n".len() as u64 * 50,
            "{}",
            summary(&payload)
        );
        assert_eq!(fs_err::read_dir(cache.join(DIR)).unwrap().count(), 2);
    }

    /// Each part is a tar stream where every `.pyc` directly follows its source.
    #[test]
    fn bytecode_follows_its_source_in_the_part() {
        let dir = tempfile::tempdir().unwrap();
        let dist = dist(dir.path());
        let payload = build_payload(&dist, &options()).unwrap();
        let mut seen = Vec::new();
        for (bytes, _) in &payload.parts {
            let mut tar = Vec::new();
            zstd::stream::read::Decoder::new(bytes.as_slice())
                .unwrap()
                .read_to_end(&mut tar)
                .unwrap();
            let mut names = Vec::new();
            for entry in tar::Archive::new(tar.as_slice()).entries().unwrap() {
                names.push(entry.unwrap().path().unwrap().display().to_string());
            }
            for (i, name) in names.iter().enumerate() {
                if let Some(pos) = name.find("__pycache__/") {
                    let module = name[pos + 12..].split('.').next().unwrap();
                    assert_eq!(
                        names[i - 1],
                        format!("{}{module}.py", &name[..pos]),
                        "{names:?}"
                    );
                }
            }
            seen.extend(names);
        }
        seen.sort();
        assert_eq!(
            seen,
            [
                "bin/python3",
                "bin/python3.11",
                "lib/python3.11/__pycache__/os.cpython-311.pyc",
                "lib/python3.11/json/__init__.py",
                "lib/python3.11/json/__pycache__/__init__.cpython-311.pyc",
                "lib/python3.11/os.py",
            ]
        );
    }
}
