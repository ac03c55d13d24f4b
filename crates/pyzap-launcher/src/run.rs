//! The stub's `main`: trailer, warm or cold path, exec.
//!
//! Warm path: a `stat` of the cache root (ours, writable by nobody else)
//! and an `lstat` of the marker (a regular file of ours: a symlink or a
//! tree planted by somebody else is never trusted), then `execve` of the
//! interpreter with the executable's own path as the script, so the zip at
//! the end of the file runs through the artifact's bootstrap, unchanged.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use crate::extract::Installed;
use crate::trailer::{Trailer, FOOTER_LEN};
use crate::{cache, extract, LauncherError};

/// Runs the launcher; returns only on failure (after printing one line).
#[allow(
    clippy::print_stderr,
    reason = "the stub is its own top level: nothing above it reports the error"
)]
pub fn main() -> std::process::ExitCode {
    let err = match launch() {
        Ok(never) => match never {},
        Err(e) => e,
    };
    eprintln!("pyzap: error: {}", err.one_line());
    std::process::ExitCode::FAILURE
}

enum Never {}

fn launch() -> Result<Never, LauncherError> {
    let exe = PathBuf::from("/proc/self/exe");
    let read_err = |source| LauncherError::Read {
        path: exe.clone(),
        source,
    };
    let mut file = File::open(&exe).map_err(read_err)?;
    let len = file.metadata().map_err(read_err)?.len();
    let trailer = read_trailer(&mut file, len).map_err(|e| LauncherError::NotStandalone {
        exe: std::fs::read_link(&exe).unwrap_or(exe.clone()),
        why: e.to_string(),
    })?;
    if trailer.arch != std::env::consts::ARCH {
        return Err(LauncherError::Arch {
            exe: std::fs::read_link(&exe).unwrap_or(exe.clone()),
            payload: trailer.arch.clone(),
            machine: std::env::consts::ARCH.to_string(),
        });
    }
    let root = cache::cache_root()?;
    // On every start: the interpreter runs from here.
    cache::check_root(&root)?;
    let id = trailer.id();
    let dir = root.join("python").join(&id);
    let python = dir.join(&trailer.interpreter);
    let mut installed = Installed::Durably;
    if !extract::is_complete(&dir) {
        installed = unpack(&root, &file, &exe, &trailer, &id)?;
    }
    let mut err = exec(
        &python,
        (installed == Installed::Unflushed).then_some(&*dir),
    );
    if err.kind() == std::io::ErrorKind::NotFound && python.symlink_metadata().is_err() {
        // A marker over a tree that lost its interpreter (deleted by hand,
        // or by a cleaner): not trusted forever, unpacked again once.
        installed = unpack(&root, &file, &exe, &trailer, &id)?;
        err = exec(
            &python,
            (installed == Installed::Unflushed).then_some(&*dir),
        );
    }
    if err.kind() == std::io::ErrorKind::PermissionDenied && cache::is_noexec(&root) {
        return Err(LauncherError::Noexec(root));
    }
    Err(LauncherError::Exec {
        path: python,
        source: err,
    })
}

/// The cold path: unpacks the interpreter tree into the checked `root`.
fn unpack(
    root: &Path,
    file: &File,
    exe: &Path,
    trailer: &Trailer,
    id: &str,
) -> Result<Installed, LauncherError> {
    if cache::is_noexec(root) {
        return Err(LauncherError::Noexec(root.to_path_buf()));
    }
    let real = std::fs::read_link(exe).unwrap_or(exe.to_path_buf());
    extract::install(root, file, &real, trailer, id)
}

fn read_trailer(file: &mut File, len: u64) -> Result<Trailer, LauncherError> {
    let io = |e: std::io::Error| LauncherError::Trailer(e.to_string());
    let mut tail = vec![0u8; len.min(4096) as usize];
    file.seek(SeekFrom::End(-(tail.len() as i64))).map_err(io)?;
    file.read_exact(&mut tail).map_err(io)?;
    let need = Trailer::len_from_footer(&tail)?;
    if need > tail.len() && (need as u64) <= len {
        tail = vec![0u8; need];
        file.seek(SeekFrom::End(-(need as i64))).map_err(io)?;
        file.read_exact(&mut tail).map_err(io)?;
    }
    debug_assert!(FOOTER_LEN <= tail.len());
    Trailer::parse(&tail, len)
}

/// The path the user ran: `argv[0]` when it names a file, else the entry
/// of `PATH` that is this very file, else the resolved executable.
fn self_path() -> OsString {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    if argv0.as_encoded_bytes().contains(&b'/') {
        return argv0;
    }
    let me = std::fs::metadata("/proc/self/exe").ok();
    if let (Some(me), Some(path)) = (me, std::env::var_os("PATH")) {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(&argv0);
            if let Ok(m) = candidate.metadata() {
                if m.dev() == me.dev() && m.ino() == me.ino() {
                    return candidate.into_os_string();
                }
            }
        }
    }
    std::fs::read_link("/proc/self/exe")
        .map(PathBuf::into_os_string)
        .unwrap_or(argv0)
}

/// `execve(python, [python, <self>, args…])`: same process, so exit codes and
/// signals are the app's. `PYTHONHOME` is dropped (it would point the bundled
/// interpreter at another stdlib); nothing else in the environment changes.
/// Returns only when the exec failed. (The executable's own file is closed by
/// the exec: Rust opens files close-on-exec.)
///
/// `unflushed`, a tree this process just put in place with its marker's
/// unflushed name, gets its detached flusher first (step 6.6): as late as
/// can be, so the application's start does not wait for it. The launcher
/// has one thread by then (`unpack_payload`'s threads are scoped, so
/// joined), which is what a `fork` needs.
fn exec(python: &Path, unflushed: Option<&Path>) -> std::io::Error {
    if let Some(tree) = unflushed {
        crate::flush_later(tree);
    }
    std::process::Command::new(python)
        .arg0(python)
        .arg(self_path())
        .args(std::env::args_os().skip(1))
        .env_remove(OsStr::new("PYTHONHOME"))
        .exec()
}
