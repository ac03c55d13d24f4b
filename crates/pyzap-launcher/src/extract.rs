//! The cold path: unpack the payload's parts in parallel, streaming each
//! straight from the executable (positional reads, no temporary copy),
//! into a work directory, under a lock, then rename it into place.
//!
//! A tree is trusted only when its marker is there (`is_complete`); the
//! marker is written last, inside the work directory, before the rename.
//! The lock (an `flock`, released by the kernel when a process dies) makes
//! concurrent first runs wait for one extraction instead of each doing it;
//! a run killed midway leaves only a work directory, which the next holder
//! of the lock deletes. The steps are those of `docs/artifact-format.md`,
//! "Runtime cache protocol", 5 to 9.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::{cache, LauncherError, Trailer};

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
        .map_or(2, std::num::NonZero::get)
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

/// Whether the tree at `dir` is complete (step 5 of the protocol): its
/// marker is, by `lstat`, a regular file owned by the effective uid. A
/// symlink is not a marker, whatever it points to.
pub fn is_complete(dir: &Path) -> bool {
    marker_of(dir, MARKER, cache::euid()).is_some()
}

/// This boot's id (`/proc/sys/kernel/random/boot_id`), read once; `None`
/// where Linux gives none. A tree written in this boot lives in its page
/// cache, flushed or not (step 5).
pub fn boot_id() -> Option<&'static str> {
    static BOOT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    BOOT.get_or_init(|| {
        let text = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        let id = text.trim();
        let plain = id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        (!id.is_empty() && id.len() <= 40 && plain).then(|| id.to_string())
    })
    .as_deref()
}

/// The file that makes the tree at `dir` complete (step 5): its marker
/// `name`, else the marker's unflushed name of this boot
/// (`<name>.<boot id>`: complete, maybe not on disk yet); each, by
/// `lstat`, a regular file owned by `owner`. `None` when neither is.
pub fn marker_of(dir: &Path, name: &str, owner: u32) -> Option<PathBuf> {
    let is_marker = |path: &Path| {
        path.symlink_metadata()
            .is_ok_and(|m| m.file_type().is_file() && m.uid() == owner)
    };
    let marker = dir.join(name);
    if is_marker(&marker) {
        return Some(marker);
    }
    let unflushed = dir.join(format!("{name}.{}", boot_id()?));
    is_marker(&unflushed).then_some(unflushed)
}

/// Whether the interpreter tree at `dir` can run: complete, and its
/// interpreter still there (a marker over a tree that lost files is not
/// trusted forever, step 8).
pub fn usable(dir: &Path, interpreter: &str) -> bool {
    is_complete(dir) && dir.join(interpreter).symlink_metadata().is_ok()
}

/// Deletes the entries of `tmp` whose own modification time is more than a
/// day before `now`: leftovers of killed runs (step 9). A symlink or a
/// file is unlinked, never followed.
pub fn sweep(tmp: &Path, now: SystemTime) {
    let Some(cutoff) = now.checked_sub(Duration::from_secs(24 * 3600)) else {
        return;
    };
    let Ok(entries) = tmp.read_dir() else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = path.symlink_metadata() else {
            continue; // gone meanwhile
        };
        if meta.modified().is_ok_and(|t| t < cutoff) {
            let _ = if meta.is_dir() {
                remove_tree(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}

/// Makes `<root>/python/<id>` a usable interpreter tree, unpacking it when
/// it is not (step 6). `root` must already be checked (`check_root`).
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
    // A write past `ulimit -f` would kill us with SIGXFSZ: ignored, the
    // write fails with EFBIG and becomes one line (step 10).
    let _xfsz = IgnoreXfsz::new();
    cache::make_dirs(&pythons, cache::dir_mode()).map_err(unpack_err(&pythons))?;
    cache::make_dirs(&tmp, 0o700).map_err(unpack_err(&tmp))?;
    let lock_path = pythons.join(format!(".{id}.lock"));
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(unpack_err(&lock_path))?;
    lock.lock().map_err(unpack_err(&lock_path))?;
    if usable(&final_dir, &trailer.interpreter) {
        return Ok(final_dir); // another process finished while we waited
    }
    sweep(&tmp, SystemTime::now());
    // Only the lock holder writes work directories for this id: any left
    // are from killed runs, whatever their age.
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
        .mode(0o700)
        .create(&work)
        .map_err(unpack_err(&work))?;
    let result = unpack_payload(file, exe, trailer, &work).and_then(|()| {
        set_tree_modes(&work).map_err(unpack_err(&work))?;
        // Durable before trusted: the files reach the disk, then the marker,
        // then the rename — a power cut never leaves a marked, partial tree.
        sync_filesystem(&work).map_err(unpack_err(&work))?;
        write_marker(&work).map_err(unpack_err(&work))?;
        if final_dir.symlink_metadata().is_ok() {
            // Not usable (no marker, or a tree that lost its interpreter):
            // never used, moved aside and deleted, under our lock.
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

/// Gives every entry of an unpacked tree its mode (step 3): directories
/// 0755, files 0644, or 0755 when any executable bit is set, exactly,
/// whatever the umask or the archive said: readable by every user (root's
/// cache serves servers that switch user), writable by its owner only.
fn set_tree_modes(dir: &Path) -> io::Result<()> {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            set_tree_modes(&entry.path())?;
        } else if kind.is_file() {
            let mode = entry.metadata()?.mode() & 0o7777;
            let want = if mode & 0o111 != 0 { 0o755 } else { 0o644 };
            if mode != want {
                std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(want))?;
            }
        } // a symlink has no mode of its own
    }
    Ok(())
}

/// Writes the marker into `dir`, 0644 exactly, and flushes it.
fn write_marker(dir: &Path) -> io::Result<()> {
    let marker = File::options()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(dir.join(MARKER))?;
    marker.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    marker.sync_all()
}

/// Ignores `SIGXFSZ` while it lives, then restores the disposition it
/// found: an ignored signal would stay ignored in the Python we exec.
pub(crate) struct IgnoreXfsz(Option<libc::sigaction>);

impl IgnoreXfsz {
    pub(crate) fn new() -> Self {
        // SAFETY: all-zero `sigaction`s are valid (no handler, empty mask);
        // SIG_IGN needs no handler to stay alive.
        unsafe {
            let mut ignore: libc::sigaction = std::mem::zeroed();
            ignore.sa_sigaction = libc::SIG_IGN;
            let mut old: libc::sigaction = std::mem::zeroed();
            let ok = libc::sigaction(libc::SIGXFSZ, &ignore, &mut old) == 0;
            Self(ok.then_some(old))
        }
    }
}

impl Drop for IgnoreXfsz {
    fn drop(&mut self) {
        if let Some(old) = &self.0 {
            // SAFETY: `old` is the disposition sigaction gave us.
            unsafe { libc::sigaction(libc::SIGXFSZ, old, std::ptr::null_mut()) };
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn disposition() -> libc::sighandler_t {
        // SAFETY: a null new action only reads the current one.
        unsafe {
            let mut now: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGXFSZ, std::ptr::null(), &mut now);
            now.sa_sigaction
        }
    }

    /// The guard ignores SIGXFSZ while extracting and gives back what it
    /// found, so the interpreter we exec starts with the caller's.
    #[test]
    fn sigxfsz_is_ignored_then_restored() {
        // SAFETY: SIG_DFL needs no handler; nothing else in this binary
        // touches SIGXFSZ.
        unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_DFL) };
        {
            let _guard = IgnoreXfsz::new();
            assert_eq!(disposition(), libc::SIG_IGN);
        }
        assert_eq!(disposition(), libc::SIG_DFL);
    }
}
