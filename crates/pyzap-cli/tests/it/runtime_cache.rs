//! The runtime cache across users and limits (`docs/artifact-format.md`,
//! "Runtime cache protocol"): a server started as root that switches user
//! still imports from the cache; nothing in it is group-writable under a
//! umask of 002; the launcher does not trust a symlinked marker, a tree
//! that lost its interpreter or an unflushed marker of another boot, gives
//! the first run's marker its name once flushed, survives `ulimit -f` with
//! one line, and finds the home directory without `HOME`. Tests that need root skip without it.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::*;
use crate::standalone::{in_private_mounts, run_bare, standalone_black};

/// `nobody` and `nogroup` on Debian; `nobody`'s passwd home is `/nonexistent`.
const NOBODY: u32 = 65534;
/// Debian's interpreter: every user can run it, unlike the pyenv ones below `/root`.
const SYSTEM_PYTHON: &str = "/usr/bin/python3.11";

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Whether the test can go on as root; a visible skip otherwise.
fn require_root(what: &str) -> bool {
    if !is_root() {
        pyzap_test_support::skip(&format!("{what} needs root"));
    }
    is_root()
}

/// A directory every user can enter, in the system temporary directory
/// (whose parents every user can walk through); removed when dropped.
fn open_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("pyzap-it-users-")
        .tempdir()
        .unwrap();
    fs_err::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// `file` copied into `dir`, readable and runnable by every user.
fn open_copy(file: &Path, dir: &Path) -> PathBuf {
    let copy = dir.join(file.file_name().unwrap());
    fs_err::copy(file, &copy).unwrap();
    fs_err::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    copy
}

/// `(path relative to top, st_mode)` of `top` and everything below it, by
/// `lstat`, leaving out the top-level names in `skip`.
fn walk(top: &Path) -> Vec<(PathBuf, u32)> {
    let mut out = vec![(
        PathBuf::from("."),
        fs_err::symlink_metadata(top).unwrap().mode(),
    )];
    let mut todo = vec![top.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in fs_err::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(top).unwrap().to_path_buf();
            let meta = fs_err::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                todo.push(path);
            }
            out.push((rel, meta.mode()));
        }
    }
    out
}

fn mode_of(entries: &[(PathBuf, u32)], rel: &str) -> String {
    let (_, mode) = entries
        .iter()
        .find(|(p, _)| p == Path::new(rel))
        .unwrap_or_else(|| panic!("{rel} is not in the cache"));
    format!("{:04o}", mode & 0o7777)
}

/// The one interpreter tree below `<root>/python/`.
fn python_tree(root: &Path) -> PathBuf {
    let trees: Vec<PathBuf> = fs_err::read_dir(root.join("python"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert_eq!(trees.len(), 1, "{trees:?}");
    trees[0].clone()
}

/// Whether the interpreter tree's marker is under its name, and whether any
/// unflushed name (`<marker>.<boot id>`, protocol step 5) is left.
fn markers(tree: &Path) -> (bool, bool) {
    let unflushed = fs_err::read_dir(tree).unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".pyzap-complete.")
    });
    (tree.join(".pyzap-complete").is_file(), unflushed)
}

/// Waits for the detached flusher the first run started (protocol step
/// 6.6) to give the interpreter tree's marker its name: up to a minute, for
/// a loaded machine. Right after the run the tree has either name,
/// deliberately: the flusher may or may not be done.
fn wait_flushed(tree: &Path) {
    let boot = fs_err::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    // The unflushed name first: a rename in between is seen as both names,
    // never as neither.
    let unflushed = tree
        .join(format!(".pyzap-complete.{}", boot.trim()))
        .is_file();
    assert!(
        unflushed || tree.join(".pyzap-complete").is_file(),
        "no marker in {}",
        tree.display()
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while markers(tree) != (true, false) {
        assert!(
            std::time::Instant::now() < deadline,
            "never flushed: {:?}",
            markers(tree)
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn one_line_error(out: &std::process::Output) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{:?}: {err}", out.status);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("pyzap: error: "), "{err}");
    err
}

const WSGI_APP: &str = "import os\n\
from markupsafe import _speedups\n\n\
def app(environ, start_response):\n    \
    body = 'uid %d speedups %s' % (os.geteuid(), _speedups.__file__)\n    \
    start_response('200 OK', [('Content-Type', 'text/plain')])\n    \
    return [body.encode()]\n";

/// A plain WSGI app that imports markupsafe's native code (so it comes
/// from the extracted tree in the cache), run by gunicorn.
fn wsgi_bundle() -> PathBuf {
    shared_artifact("wsgi-markupsafe", |out| {
        let src = scratch().join("wsgi-src");
        fs_err::create_dir_all(&src).unwrap();
        fs_err::write(src.join("wsgiapp.py"), WSGI_APP).unwrap();
        build(
            &py311().path,
            out,
            &[
                "gunicorn",
                "markupsafe",
                "-c",
                "gunicorn",
                "--src",
                src.to_str().unwrap(),
            ],
        );
    })
}

/// A server stopped with SIGTERM (gunicorn's master then stops its
/// workers), then killed, when the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let pid = libc::pid_t::try_from(self.0.id()).unwrap();
        // SAFETY: kill has no memory-safety preconditions; the pid is our child's.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        for _ in 0..30 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// gunicorn started as root with `--user nobody`, without `PYZAP_ROOT`, by
/// an interpreter every user can run: the cache is `/var/cache/pyzap` (a
/// tmpfs in a private mount namespace here), written under umask 077, and
/// the worker, running as nobody, imports markupsafe's native code from it.
#[test]
fn gunicorn_started_as_root_serves_as_nobody_from_the_system_cache() {
    if !require_root("running gunicorn with --user nobody") {
        return;
    }
    let dir = open_dir();
    let artifact = open_copy(&wsgi_bundle(), dir.path());
    let port = free_port();
    let script = "mount -t tmpfs -o mode=0755 none /var/cache && umask 077 && \
        exec \"$0\" \"$1\" wsgiapp:app --user nobody --group nogroup --workers 1 --bind \"$2\"";
    let probe = Command::new("unshare").args(["-m", "true"]).status();
    if !probe.is_ok_and(|s| s.success()) {
        pyzap_test_support::skip("unshare -m is not allowed here");
        return;
    }
    let log = dir.path().join("server.log");
    let child = Command::new("unshare")
        .args(["-m", "sh", "-c", script, SYSTEM_PYTHON])
        .arg(&artifact)
        .arg(format!("127.0.0.1:{port}"))
        .current_dir(dir.path())
        .env_remove("PYZAP_ROOT")
        .env_remove("CACHE_DIRECTORY")
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .env_remove("PYZAP_ENTRY_POINT")
        .env_remove("PYZAP_INTERPRETER")
        .stdout(Stdio::null())
        .stderr(fs_err::File::create(&log).unwrap().into_parts().0)
        .spawn()
        .unwrap();
    let _server = Server(child);
    let body = std::panic::catch_unwind(|| http_get(port, "/")).unwrap_or_else(|e| {
        eprintln!("{}", fs_err::read_to_string(&log).unwrap_or_default());
        std::panic::resume_unwind(e)
    });
    assert!(
        body.contains(&format!("uid {NOBODY} speedups /var/cache/pyzap/site/")),
        "{body}\n{}",
        fs_err::read_to_string(&log).unwrap_or_default()
    );
}

/// Without `HOME`, the cache root is below the passwd entry's home, for the
/// bootstrap and the launcher alike: nobody's is `/nonexistent`, so both
/// refuse in one line naming it, with the hint for a directory they cannot
/// write.
#[test]
fn without_home_the_passwd_entry_gives_the_home() {
    if !require_root("running as nobody") {
        return;
    }
    let dir = open_dir();
    let artifact = open_copy(&wsgi_bundle(), dir.path());
    let exe = open_copy(&standalone_black(), dir.path());
    let mut pyz = Command::new(SYSTEM_PYTHON);
    pyz.arg(&artifact).arg("--version");
    for cmd in [&mut pyz, &mut Command::new(&exe)] {
        cmd.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .current_dir(dir.path())
            .uid(NOBODY)
            .gid(NOBODY);
        let err = one_line_error(&cmd.output().unwrap());
        assert!(
            err.contains("cannot create the cache directory /nonexistent/.cache/pyzap")
                && err.contains("under systemd, set CacheDirectory= in the unit"),
            "{err}"
        );
    }
}

/// A standalone executable run by an ordinary user (nobody, when the tests
/// run as root) under umask 002, with a root shared with a group that
/// cannot write: the launcher's interpreter tree and the bootstrap's site
/// tree hold nothing group- or other-writable. (`venv/` is the bootstrap's
/// virtual environment, not checked here.)
#[test]
fn nothing_in_the_cache_is_group_writable_under_umask_002() {
    let dir = open_dir();
    let exe = open_copy(&standalone_black(), dir.path());
    let root = dir.path().join("cache");
    fs_err::create_dir(&root).unwrap();
    let mut cmd = run_bare(&exe, &root);
    cmd.arg("--version");
    if is_root() {
        std::os::unix::fs::chown(&root, Some(NOBODY), Some(NOBODY)).unwrap();
        cmd.uid(NOBODY).gid(NOBODY);
    }
    fs_err::set_permissions(&root, std::fs::Permissions::from_mode(0o750)).unwrap();
    // SAFETY: umask is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0o002);
            Ok(())
        });
    }
    run_ok(&mut cmd);
    wait_flushed(&python_tree(&root));
    let entries = walk(&root);
    let writable: Vec<String> = entries
        .iter()
        .filter(|(_, m)| m & libc::S_IFMT != libc::S_IFLNK && m & 0o022 != 0)
        .map(|(p, m)| format!("{} {:o}", p.display(), m & 0o7777))
        .collect();
    assert!(
        writable.is_empty(),
        "group- or other-writable: {writable:?}"
    );
    let tree = python_tree(&root);
    let tree = tree.strip_prefix(&root).unwrap().to_str().unwrap();
    assert_eq!(
        mode_of(&entries, "."),
        "0750",
        "an existing root keeps its mode"
    );
    assert_eq!(mode_of(&entries, "python"), "0700");
    assert_eq!(mode_of(&entries, "tmp"), "0700");
    assert_eq!(mode_of(&entries, "site"), "0700");
    assert_eq!(mode_of(&entries, tree), "0755");
    assert_eq!(
        mode_of(&entries, &format!("{tree}/.pyzap-complete")),
        "0644"
    );
    assert_eq!(mode_of(&entries, &format!("{tree}/bin/python3.11")), "0755");
}

/// As root, without `PYZAP_ROOT`, the launcher unpacks into
/// `/var/cache/pyzap` (a tmpfs in a private mount namespace), under umask
/// 077, a tree every user can run: nobody starts the cached interpreter
/// and imports from its stdlib.
#[test]
fn as_root_the_interpreter_tree_is_readable_by_every_user() {
    if !require_root("the root rule") {
        return;
    }
    let exe = standalone_black();
    let script = format!(
        "mount -t tmpfs -o mode=0755 none /var/cache && umask 077 && \
         env -i PATH=/nonexistent {exe} --version && \
         setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups \
         /var/cache/pyzap/python/*/bin/python3.11 -c 'import decimal, json; print(\"nobody imports\", json.__file__)'",
        exe = exe.display()
    );
    if let Some(out) = in_private_mounts(&script) {
        let text = stdout(&out);
        assert!(
            out.status.success()
                && text.contains("(CPython) 3.11.2")
                && text.contains("nobody imports /var/cache/pyzap/python/"),
            "{text}{}",
            stderr(&out)
        );
    }
}

/// A marker that is a symlink is not a marker: the tree is unpacked again
/// and marked with a regular file.
#[test]
fn a_symlinked_marker_is_not_trusted() {
    let exe = standalone_black();
    let root = fresh_dir("sa-root-");
    run_ok(run_bare(&exe, &root).arg("--version"));
    let tree = python_tree(&root);
    wait_flushed(&tree);
    let marker = tree.join(".pyzap-complete");
    let planted = root.join("planted");
    fs_err::File::create(&planted).unwrap();
    fs_err::remove_file(&marker).unwrap();
    fs_err::os::unix::fs::symlink(&planted, &marker).unwrap();
    let before = fs_err::metadata(&tree).unwrap().ino();
    run_ok(run_bare(&exe, &root).arg("--version"));
    wait_flushed(&tree);
    assert!(fs_err::symlink_metadata(&marker).unwrap().is_file());
    assert_ne!(
        fs_err::metadata(&tree).unwrap().ino(),
        before,
        "not unpacked again"
    );
}

/// The first run marks the tree under the marker's unflushed name and
/// execs Python without waiting for the disk; its detached flusher gives
/// the marker its name (protocol steps 6.4 to 6.6).
#[test]
fn the_first_run_s_marker_ends_under_its_name() {
    let exe = standalone_black();
    let root = fresh_dir("sa-root-");
    run_ok(run_bare(&exe, &root).arg("--version"));
    wait_flushed(&python_tree(&root));
}

/// The unflushed name of another boot is not a marker (the machine went
/// down before the flush): the tree is unpacked again, and flushed.
#[test]
fn an_unflushed_marker_of_another_boot_is_unpacked_again() {
    let exe = standalone_black();
    let root = fresh_dir("sa-root-");
    run_ok(run_bare(&exe, &root).arg("--version"));
    let tree = python_tree(&root);
    wait_flushed(&tree);
    fs_err::rename(
        tree.join(".pyzap-complete"),
        tree.join(".pyzap-complete.00000000-0000-4000-8000-000000000000"),
    )
    .unwrap();
    let before = fs_err::metadata(&tree).unwrap().ino();
    let out = run_ok(run_bare(&exe, &root).arg("--version"));
    assert!(
        stdout(&out).contains("(CPython) 3.11.2"),
        "{}",
        stdout(&out)
    );
    assert_ne!(
        fs_err::metadata(&tree).unwrap().ino(),
        before,
        "not unpacked again"
    );
    wait_flushed(&tree);
}

/// A marker over a tree that lost its interpreter is not trusted forever:
/// the next run unpacks the tree again.
#[test]
fn a_tree_that_lost_its_interpreter_is_unpacked_again() {
    let exe = standalone_black();
    let root = fresh_dir("sa-root-");
    run_ok(run_bare(&exe, &root).arg("--version"));
    let python = python_tree(&root).join("bin/python3.11");
    fs_err::remove_file(&python).unwrap();
    let out = run_ok(run_bare(&exe, &root).arg("--version"));
    assert!(
        stdout(&out).contains("(CPython) 3.11.2"),
        "{}",
        stdout(&out)
    );
    assert!(python.is_file());
}

/// A write past `ulimit -f` fails with EFBIG instead of killing the
/// launcher with SIGXFSZ: one line with the hint, nothing left in the
/// cache, and the next run without the limit works.
#[test]
fn a_file_size_limit_is_one_line_not_a_signal() {
    let exe = standalone_black();
    let root = fresh_dir("sa-root-");
    let mut cmd = run_bare(&exe, &root);
    cmd.arg("--version");
    // SAFETY: setrlimit is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 1 << 20,
                rlim_max: 1 << 20,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
            Ok(())
        });
    }
    let err = one_line_error(&cmd.output().unwrap());
    assert!(
        err.contains("File too large") && err.contains("file size limit (ulimit -f)"),
        "{err}"
    );
    let left: Vec<_> = fs_err::read_dir(root.join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let trees = fs_err::read_dir(root.join("python"))
        .unwrap()
        .filter(|e| {
            !e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .count();
    assert_eq!(trees, 0);
    run_ok(run_bare(&exe, &root).arg("--version"));
}
