//! The cold path: unpack the payload's parts in parallel, streaming each
//! straight from the executable (positional reads, no temporary copy),
//! into a work directory, under a lock, then rename it into place.
//!
//! A tree is trusted only when its marker exists; the marker is written
//! last, inside the work directory, before the rename. The lock (an `flock`,
//! released by the kernel when a process dies) makes concurrent first runs
//! wait for one extraction instead of each doing it; a run killed midway
//! leaves only a work directory, which the next holder of the lock deletes.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::{LauncherError, Trailer};

/// The completion marker inside an extracted interpreter tree.
pub const MARKER: &str = ".pyzap-complete";

/// Reads `len` bytes of `file` from `pos` on, hashing them as they pass.
struct PartReader<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
    hash: Sha256,
}

impl Read for PartReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf.len().min((self.end - self.pos) as usize);
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.pos += n as u64;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Unpacks every part of the payload of `exe` (open as `file`) into `dest`,
/// checking each part's sha256.
pub fn unpack_payload(
    file: &File,
    exe: &Path,
    trailer: &Trailer,
    dest: &Path,
) -> Result<(), LauncherError> {
    let next = AtomicUsize::new(0);
    let failure: Mutex<Option<LauncherError>> = Mutex::new(None);
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(trailer.parts.len());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(part) = trailer.parts.get(i) else {
                    break;
                };
                if failure.lock().map_or(true, |f| f.is_some()) {
                    break;
                }
                if let Err(e) = unpack_part(file, exe, trailer, i, dest) {
                    if let Ok(mut f) = failure.lock() {
                        f.get_or_insert(e);
                    }
                    break;
                }
                let _ = part;
            });
        }
    });
    match failure.into_inner() {
        Ok(Some(e)) => Err(e),
        _ => Ok(()),
    }
}

fn unpack_part(
    file: &File,
    exe: &Path,
    trailer: &Trailer,
    index: usize,
    dest: &Path,
) -> Result<(), LauncherError> {
    let part = &trailer.parts[index];
    let start = trailer.payload_offset + part.offset;
    let mut reader = PartReader {
        file,
        pos: start,
        end: start + part.size,
        hash: Sha256::new(),
    };
    let unpack_err = |source| LauncherError::Unpack {
        path: dest.to_path_buf(),
        source,
    };
    let result = (|| -> io::Result<()> {
        let mut decoder = zstd::stream::read::Decoder::new(&mut reader)?;
        let mut archive = tar::Archive::new(&mut decoder);
        archive.set_preserve_mtime(true); // keeps the stdlib's .pyc files valid
        archive.set_preserve_permissions(true);
        archive.set_overwrite(false);
        for entry in archive.entries()? {
            entry?.unpack_in(dest)?;
        }
        io::copy(&mut decoder, &mut io::sink())?;
        Ok(())
    })();
    // Whatever went wrong, a damaged payload is the better explanation.
    io::copy(&mut reader, &mut io::sink()).map_err(|source| LauncherError::Read {
        path: exe.to_path_buf(),
        source,
    })?;
    let actual = hex(&reader.hash.finalize());
    if actual != part.sha256 {
        return Err(LauncherError::HashMismatch {
            exe: exe.to_path_buf(),
            part: index,
            actual,
            expected: part.sha256.clone(),
        });
    }
    result.map_err(unpack_err)
}

/// Makes `<root>/python/<id>` a complete interpreter tree, unpacking it when
/// needed. `root` must already be checked (`check_root`).
pub(crate) fn install(
    root: &Path,
    file: &File,
    exe: &Path,
    trailer: &Trailer,
    id: &str,
) -> Result<PathBuf, LauncherError> {
    let pythons = root.join("python");
    let tmp = root.join("tmp");
    let final_dir = pythons.join(id);
    let unpack_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LauncherError::Unpack { path, source }
    };
    for dir in [&pythons, &tmp] {
        std::fs::DirBuilder::new()
            .recursive(true)
            .create(dir)
            .map_err(unpack_err(dir))?;
    }
    let lock_path = pythons.join(format!(".{id}.lock"));
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(unpack_err(&lock_path))?;
    lock.lock().map_err(unpack_err(&lock_path))?;
    if final_dir.join(MARKER).exists() {
        return Ok(final_dir); // another process finished while we waited
    }
    // Only the lock holder writes work directories for this id: any left
    // are from killed runs.
    let prefix = format!("python-{id}.");
    if let Ok(entries) = tmp.read_dir() {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = remove_tree(&e.path());
            }
        }
    }
    let work = tmp.join(format!("{prefix}{}", std::process::id()));
    std::fs::DirBuilder::new()
        .create(&work)
        .map_err(unpack_err(&work))?;
    let result = unpack_payload(file, exe, trailer, &work).and_then(|()| {
        // Durable before trusted: the files reach the disk, then the marker,
        // then the rename — a power cut never leaves a marked, partial tree.
        sync_filesystem(&work).map_err(unpack_err(&work))?;
        File::create(work.join(MARKER))
            .and_then(|m| m.sync_all())
            .map_err(unpack_err(&work))?;
        if final_dir.exists() {
            // Incomplete (no marker): never used, moved aside and deleted.
            let aside = tmp.join(format!("{prefix}{}.old", std::process::id()));
            std::fs::rename(&final_dir, &aside).map_err(unpack_err(&final_dir))?;
            let _ = remove_tree(&aside);
        }
        std::fs::rename(&work, &final_dir).map_err(unpack_err(&final_dir))?;
        File::open(&pythons)
            .and_then(|d| d.sync_all())
            .map_err(unpack_err(&pythons))
    });
    if result.is_err() {
        let _ = remove_tree(&work);
    }
    result.map(|()| final_dir)
}

/// Flushes the file system holding `dir` with one `syncfs(2)`, instead of an
/// `fsync` per unpacked file (a CPython tree has a thousand or more).
fn sync_filesystem(dir: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let handle = File::open(dir)?;
    // SAFETY: syncfs takes a file descriptor we own for the duration of the call.
    if unsafe { libc::syncfs(handle.as_raw_fd()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn remove_tree(path: &Path) -> io::Result<()> {
    std::fs::remove_dir_all(path)
}
