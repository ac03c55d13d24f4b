//! The runtime cache root, with the bootstrap's rules
//! (`docs/artifact-format.md`, "Runtime cache protocol", steps 1 to 3):
//! where the root is, that it is a directory of ours nobody else can write
//! to, and the modes of the directories we make, set whatever the umask.
//! `docs/cache-root-vectors.json` holds the cases both runtimes must agree
//! on; `tests/it/protocol.rs` runs them through these functions.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::LauncherError;

/// Root's cache root: a system location rather than root's home, so that a
/// server started as root that switches user (gunicorn `--user`, Apache's
/// workers) can still read the trees (step 3 of the protocol).
pub const SYSTEM_ROOT: &str = "/var/cache/pyzap";

/// What choosing the root reads from the process. A trait so that the
/// shared test vectors can give each input; [`cache_root`] reads the real ones.
pub trait RootInputs {
    /// An environment variable.
    fn var(&self, name: &str) -> Option<OsString>;
    /// The effective uid.
    fn euid(&self) -> u32;
    /// The current directory, read only to make a relative path absolute.
    fn cwd(&self) -> Option<PathBuf>;
    /// The home directory of the real uid's passwd entry, read only when
    /// `HOME` is unset (where Python's `os.path.expanduser` looks).
    fn passwd_home(&self) -> Option<PathBuf>;
}

struct Process;

impl RootInputs for Process {
    fn var(&self, name: &str) -> Option<OsString> {
        std::env::var_os(name)
    }

    fn euid(&self) -> u32 {
        euid()
    }

    fn cwd(&self) -> Option<PathBuf> {
        std::env::current_dir().ok()
    }

    fn passwd_home(&self) -> Option<PathBuf> {
        passwd_home()
    }
}

/// Where the cache lives; nothing is touched.
pub fn cache_root() -> Result<PathBuf, LauncherError> {
    root_for(&Process)
}

/// The cache root for `inputs` (step 1 of the protocol); a variable set to
/// the empty string counts as unset.
pub fn root_for(inputs: &dyn RootInputs) -> Result<PathBuf, LauncherError> {
    let var = |name| inputs.var(name).filter(|v| !v.is_empty());
    if let Some(root) = var("PYZAP_ROOT") {
        return absolute(inputs, &root);
    }
    if let Some(dirs) = var("CACHE_DIRECTORY") {
        // systemd joins several directories with `:`; the first one is ours.
        let first = dirs
            .as_bytes()
            .split(|&b| b == b':')
            .next()
            .unwrap_or_default();
        if !first.is_empty() {
            return Ok(absolute(inputs, OsStr::from_bytes(first))?.join("pyzap"));
        }
    }
    if inputs.euid() == 0 {
        return Ok(PathBuf::from(SYSTEM_ROOT));
    }
    if let Some(xdg) = var("XDG_CACHE_HOME").map(PathBuf::from) {
        // The XDG spec says to ignore a relative value.
        if xdg.is_absolute() {
            return Ok(xdg.join("pyzap"));
        }
    }
    // A relative HOME is refused, not replaced by the passwd entry, as
    // Python's `expanduser` would use it. Never a shared temporary
    // directory: another user could plant code there first.
    var("HOME")
        .map(PathBuf::from)
        .or_else(|| inputs.passwd_home())
        .filter(|home| home.is_absolute())
        .map(|home| home.join(".cache/pyzap"))
        .ok_or(LauncherError::NoCacheRoot)
}

/// `path` made absolute as Python's `os.path.abspath` does: joined to the
/// current directory when relative, then normalised lexically.
fn absolute(inputs: &dyn RootInputs, path: &OsStr) -> Result<PathBuf, LauncherError> {
    let path = path.as_bytes();
    let joined = if path.starts_with(b"/") {
        path.to_vec()
    } else {
        let mut cwd = inputs
            .cwd()
            .ok_or(LauncherError::NoCacheRoot)?
            .into_os_string()
            .into_vec();
        if !cwd.ends_with(b"/") {
            cwd.push(b'/');
        }
        cwd.extend_from_slice(path);
        cwd
    };
    Ok(PathBuf::from(OsString::from_vec(normpath(&joined))))
}

/// Python's `posixpath.normpath`: `.`, `..` and repeated `/` removed without
/// looking at the file system; two leading slashes are kept (POSIX gives
/// them a meaning of their own), three or more become one.
fn normpath(path: &[u8]) -> Vec<u8> {
    let leading = if path.starts_with(b"//") && !path.starts_with(b"///") {
        2
    } else {
        usize::from(path.starts_with(b"/"))
    };
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in path.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." if leading > 0 || parts.last().is_some_and(|p| *p != b"..") => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    let mut out = vec![b'/'; leading];
    out.extend(parts.join(&b'/'));
    if out.is_empty() {
        out.push(b'.');
    }
    out
}

/// The home directory in the passwd entry of the real uid.
fn passwd_home() -> Option<PathBuf> {
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: an all-zero `passwd` is a valid out-parameter (null pointers).
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found = std::ptr::null_mut();
        // SAFETY: `buf` outlives the call and its length is passed;
        // `entry` and `found` are valid out-parameters.
        let rc = unsafe {
            libc::getpwuid_r(
                libc::getuid(),
                &mut entry,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut found,
            )
        };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        if rc != 0 || found.is_null() || entry.pw_dir.is_null() {
            return None;
        }
        // SAFETY: on success `pw_dir` points to a NUL-terminated string in `buf`.
        let dir = unsafe { std::ffi::CStr::from_ptr(entry.pw_dir) };
        return Some(PathBuf::from(OsStr::from_bytes(dir.to_bytes())));
    }
}

pub(crate) fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The mode of the cache's own directories (the root, its missing parents,
/// `python/`): private, except as root, whose trees every user must be able
/// to read (step 3 of the protocol).
pub(crate) fn dir_mode() -> u32 {
    if euid() == 0 {
        0o755
    } else {
        0o700
    }
}

/// Creates `path` and its missing parents, each with exactly `mode`: a
/// chmod follows the mkdir, whose mode passes through the umask (002 would
/// leave group-writable directories, 077 a root cache other users cannot
/// read). Existing directories are left as they are.
pub(crate) fn make_dirs(path: &Path, mode: u32) -> io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            make_dirs(parent, mode)?;
        }
    }
    match std::fs::DirBuilder::new().mode(mode).create(path) {
        Ok(()) => std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)),
        // Made meanwhile by another process.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates `root` when it is missing (step 3's modes) and checks that it is
/// a directory of ours that nobody else can write to (step 2).
pub fn check_root(root: &Path) -> Result<(), LauncherError> {
    let create = |source| LauncherError::CacheCreate {
        path: root.to_path_buf(),
        source,
    };
    let meta = match root.metadata() {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            make_dirs(root, dir_mode()).map_err(create)?;
            root.metadata().map_err(create)?
        }
        Err(e) => return Err(create(e)),
    };
    if !meta.is_dir() {
        return Err(LauncherError::CacheNotDir(root.to_path_buf()));
    }
    let me = euid();
    if meta.uid() != me {
        return Err(LauncherError::CacheOwner {
            path: root.to_path_buf(),
            owner: meta.uid(),
            me,
        });
    }
    if meta.mode() & 0o022 != 0 {
        return Err(LauncherError::CacheMode {
            path: root.to_path_buf(),
            mode: meta.mode() & 0o777,
        });
    }
    Ok(())
}

/// Is `dir` on a file system mounted `noexec`?
pub(crate) fn is_noexec(dir: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a properly sized out-parameter.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        libc::statvfs(c.as_ptr(), &mut st) == 0 && st.f_flag & libc::ST_NOEXEC != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normpath_is_pythons() {
        for (path, want) in [
            ("/a/./b/../c/", "/a/c"),
            ("//a//b", "//a/b"),
            ("///a", "/a"),
            ("/..", "/"),
            ("a/../..", ".."),
            ("", "."),
        ] {
            assert_eq!(normpath(path.as_bytes()), want.as_bytes(), "{path}");
        }
    }

    /// The process's own passwd entry, against `/etc/passwd` when the uid is
    /// listed there (the vectors give the inputs; this reads the real one).
    #[test]
    fn passwd_home_reads_the_real_uids_entry() {
        // SAFETY: getuid has no preconditions.
        let uid = unsafe { libc::getuid() }.to_string();
        let listed = std::fs::read_to_string("/etc/passwd")
            .unwrap_or_default()
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.len() > 5 && f[2] == uid)
            .map(|f| PathBuf::from(f[5]));
        if let Some(home) = listed {
            assert_eq!(passwd_home(), Some(home));
        }
    }
}
