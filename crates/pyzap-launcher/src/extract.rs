//! The cold path: unpack the payload's parts in parallel, streaming each
//! straight from the executable (positional reads, no temporary copy),
//! into a work directory, under a lock, then rename it into place.
//!
//! A tree is trusted only when its marker is there (`is_complete`); the
//! marker is written last, inside the work directory, before the rename:
//! where Linux gives a boot id, under its unflushed name and without
//! waiting for the disk (`flush.rs` renames it once the tree is flushed).
//! Files get their modes as they are created, not in a second walk.
//! The lock (an `flock`, released by the kernel when a process dies) makes
//! concurrent first runs wait for one extraction instead of each doing it;
//! a run killed midway leaves only a work directory, which the next holder
//! of the lock deletes. The steps are those of `docs/artifact-format.md`,
//! "Runtime cache protocol", 5 to 9.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::{cache, LauncherError, Trailer};

/// How much of a file is decompressed and written at a time.
const COPY_CHUNK: usize = 256 << 10;

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

/// Unpacks every part of the payload of `exe` (open as `file`) into the
/// existing directory `dest`, checking each part's sha256. Everything below
/// `dest` gets its mode as it is made (step 3): directories 0755, files
/// 0644, or 0755 when the archive gives any executable bit.
pub fn unpack_payload(
    file: &File,
    exe: &Path,
    trailer: &Trailer,
    dest: &Path,
) -> Result<(), LauncherError> {
    let umask = current_umask();
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
                if let Err(e) = unpack_part(file, exe, trailer, i, dest, umask) {
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
    umask: u32,
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
        let mut writer = TreeWriter::new(dest, umask);
        for entry in tar::Archive::new(&mut decoder).entries()? {
            writer.write(&mut entry?)?;
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

/// Writes the entries of one part below `dest`, each made with its final
/// mode and (files) modification time, in as few system calls as can be:
/// a CPython tree is a thousand files, and the first run waits for them.
///
/// Nothing is written outside `dest`, whatever the archive says (it is
/// hashed only once read through): entry paths are plain relative names,
/// and nothing is written through a symlink, since every directory on the
/// way is one this writer made or found to be a directory by `lstat`, and
/// files are created exclusively (`O_EXCL` does not follow a symlink).
struct TreeWriter<'a> {
    dest: &'a Path,
    /// The process's umask: a mode it would narrow is set again.
    umask: u32,
    /// Directories known to be real directories below `dest`.
    dirs: HashSet<PathBuf>,
    buf: Vec<u8>,
}

impl<'a> TreeWriter<'a> {
    fn new(dest: &'a Path, umask: u32) -> Self {
        Self {
            dest,
            umask,
            dirs: HashSet::new(),
            buf: Vec::new(),
        }
    }

    fn write<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> io::Result<()> {
        let rel = entry.path()?.into_owned();
        let mut plain = rel.components().filter(|c| *c != Component::CurDir);
        if !plain.all(|c| matches!(c, Component::Normal(_))) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("archive entry outside the tree: {}", rel.display()),
            ));
        }
        let header = entry.header();
        let kind = header.entry_type();
        let exec = header.mode()? & 0o111 != 0;
        let mtime = header.mtime()?;
        if kind.is_dir() {
            return self.make_dirs(&rel);
        }
        if let Some(parent) = rel.parent() {
            self.make_dirs(parent)?;
        }
        let path = self.dest.join(&rel);
        if kind.is_symlink() {
            let target = entry.link_name()?.ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, "symlink without a target")
            })?;
            return std::os::unix::fs::symlink(target, &path);
        }
        if !kind.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unexpected archive entry {}: {kind:?}", rel.display()),
            ));
        }
        let mode = if exec { 0o755 } else { 0o644 };
        let mut out = File::options()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)?;
        // In pieces through one buffer: a whole-file buffer would grow to
        // the largest file (the interpreter, megabytes), all of it fresh
        // memory the kernel zeroes first.
        if self.buf.is_empty() {
            self.buf = vec![0; COPY_CHUNK];
        }
        loop {
            let n = match entry.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            out.write_all(&self.buf[..n])?;
        }
        if mode & self.umask != 0 {
            out.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        // The stdlib's .pyc files record their source's mtime.
        let modified = SystemTime::UNIX_EPOCH + Duration::from_secs(mtime);
        out.set_times(std::fs::FileTimes::new().set_modified(modified))
    }

    /// Makes `rel` and its parents below `dest`, 0755, or checks that they
    /// are directories (not symlinks) when they exist.
    fn make_dirs(&mut self, rel: &Path) -> io::Result<()> {
        if rel.as_os_str().is_empty() || self.dirs.contains(rel) {
            return Ok(());
        }
        if let Some(parent) = rel.parent() {
            self.make_dirs(parent)?;
        }
        let path = self.dest.join(rel);
        match std::fs::DirBuilder::new().mode(0o755).create(&path) {
            Ok(()) if 0o755 & self.umask != 0 => {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
            }
            Ok(()) => {}
            // Another part's thread made it, or an entry of ours did.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if !path.symlink_metadata()?.is_dir() {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
        self.dirs.insert(rel.to_path_buf());
        Ok(())
    }
}

/// The process's umask, read without changing it (`umask(2)` cannot), from
/// `/proc/self/status`; where that says nothing, every mode is set again.
fn current_umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Umask:"))?;
            u32::from_str_radix(line["Umask:".len()..].trim(), 8).ok()
        })
        .unwrap_or(0o777)
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

/// How the tree `install` made usable is marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Installed {
    /// Under the marker's name, or by another process (which flushes it).
    Durably,
    /// By this process, under the marker's unflushed name: `flush_later`
    /// must make it durable (step 6.6).
    Unflushed,
}

/// Makes `<root>/python/<id>` a usable interpreter tree, unpacking it when
/// it is not (step 6). `root` must already be checked (`check_root`).
pub(crate) fn install(
    root: &Path,
    file: &File,
    exe: &Path,
    trailer: &Trailer,
    id: &str,
) -> Result<Installed, LauncherError> {
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
        // Another process finished while we waited (and flushes it).
        return Ok(Installed::Durably);
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
    // Durable before trusted: a power cut never leaves a tree that a later
    // boot trusts. With a boot id the marker gets its unflushed name (this
    // boot's page cache holds the tree, flushed or not) and `flush_later`
    // renames it once the tree is on disk, while the application runs;
    // without one, the files reach the disk, then the marker, then the
    // rename (step 6.4).
    let boot = boot_id();
    let result = unpack_payload(file, exe, trailer, &work).and_then(|()| {
        // Private while it was filled; every entry below has its mode.
        std::fs::set_permissions(&work, std::fs::Permissions::from_mode(0o755))
            .map_err(unpack_err(&work))?;
        if boot.is_none() {
            sync_filesystem(&work).map_err(unpack_err(&work))?;
        }
        write_marker(&work, boot).map_err(unpack_err(&work))?;
        if final_dir.symlink_metadata().is_ok() {
            // Not usable (no marker, or a tree that lost its interpreter):
            // never used, moved aside and deleted, under our lock.
            let aside = tmp.join(format!("{prefix}{}.old", std::process::id()));
            std::fs::rename(&final_dir, &aside).map_err(unpack_err(&final_dir))?;
            let _ = remove_tree(&aside);
        }
        std::fs::rename(&work, &final_dir).map_err(unpack_err(&final_dir))?;
        if boot.is_some() {
            return Ok(()); // the flusher's syncfs covers the rename
        }
        File::open(&pythons)
            .and_then(|d| d.sync_all())
            .map_err(unpack_err(&pythons))
    });
    if result.is_err() {
        let _ = remove_tree(&work);
    }
    result.map(|()| match boot {
        Some(_) => Installed::Unflushed,
        None => Installed::Durably,
    })
}

/// Writes the marker into `dir`, 0644 exactly: under its unflushed name
/// of `boot` when there is one, else under its name, flushed.
fn write_marker(dir: &Path, boot: Option<&str>) -> io::Result<()> {
    let name = match boot {
        Some(boot) => format!("{MARKER}.{boot}"),
        None => MARKER.to_string(),
    };
    let marker = File::options()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(dir.join(name))?;
    marker.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    if boot.is_none() {
        marker.sync_all()?;
    }
    Ok(())
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
