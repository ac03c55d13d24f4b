//! Shared fixtures: the pyzap binary, a per-process scratch directory, and
//! artifacts built once and reused by every test that needs them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, OnceLock};

pub(crate) use pyzap_test_support::wheelhouse;
use pyzap_test_support::{Interpreter, ScratchDir};

pub(crate) fn pyzap() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pyzap"));
    cmd.env("PYZAP_CACHE_DIR", scratch().join("build-cache"));
    // Standalone builds pack the CPython at a low zstd level: level 19
    // takes seconds per cold build cache (the payload cache's tests cover it).
    cmd.env("PYZAP_TEST_PAYLOAD_LEVEL", "3");
    cmd.env_remove("SOURCE_DATE_EPOCH");
    cmd
}

/// One scratch directory for the whole test process, under cargo's
/// `target/tmp`. A static is never dropped, so the directory outlives the
/// run; it is held with a lock while the process lives, and the next run
/// removes those whose process is gone (`ScratchDir`), so at most one
/// finished run's scratch stays on disk.
pub(crate) fn scratch() -> &'static Path {
    static DIR: OnceLock<ScratchDir> = OnceLock::new();
    DIR.get_or_init(|| {
        ScratchDir::new(Path::new(env!("CARGO_TARGET_TMPDIR")), "pyzap-it-")
            .expect("a scratch directory under CARGO_TARGET_TMPDIR")
    })
    .path()
}

pub(crate) fn fresh_dir(name: &str) -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix(name)
        .tempdir_in(scratch())
        .unwrap()
        .keep();
    dir
}

pub(crate) fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "command failed: {cmd:?}\nstatus: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `pyzap build ARGS -f wheelhouse --no-index --python PY -o OUT` and fails on error.
pub(crate) fn build(python: &Path, out: &Path, args: &[&str]) {
    let wh = wheelhouse();
    run_ok(
        pyzap()
            .arg("build")
            .args(args)
            .arg("-f")
            .arg(&wh)
            .arg("--no-index")
            .arg("--python")
            .arg(python)
            .arg("-o")
            .arg(out),
    );
}

/// A command that runs `artifact` with `python`, a private runtime cache and
/// none of the caller's Python environment.
pub(crate) fn run_artifact(python: &Path, artifact: &Path, root: &Path) -> Command {
    let mut cmd = Command::new(python);
    cmd.arg(artifact)
        .env("PYZAP_ROOT", root)
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .env_remove("PYZAP_ENTRY_POINT")
        .env_remove("PYZAP_INTERPRETER");
    cmd
}

/// Every CPython 3.8–3.13 on the machine; a missing one is a skip of the
/// calling test (a failure in CI).
#[track_caller]
pub(crate) fn pythons() -> &'static [Interpreter] {
    static ALL: OnceLock<Vec<Interpreter>> = OnceLock::new();
    let found = ALL.get_or_init(pyzap_test_support::interpreters);
    for minor in 8..=13 {
        if !found.iter().any(|i| i.version == (3, minor)) {
            pyzap_test_support::skip(&format!(
                "no python3.{minor} on this machine; its end-to-end tests did not run"
            ));
        }
    }
    found
}

/// The 3.11 interpreter most tests use (the machine's default).
pub(crate) fn py311() -> &'static Interpreter {
    pythons()
        .iter()
        .find(|i| i.version == (3, 11))
        .or_else(|| pythons().last())
        .expect("no CPython 3.8-3.13 on this machine")
}

/// Artifacts built once per test binary, by key. Each key has its own
/// lock: tests wanting the same artifact wait for its one build, while
/// artifacts of other keys build at the same time.
pub(crate) fn shared_artifact(key: &str, make: impl FnOnce(&Path)) -> PathBuf {
    type Cells = Mutex<HashMap<String, Arc<OnceLock<PathBuf>>>>;
    static BUILT: OnceLock<Cells> = OnceLock::new();
    let cell = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(key.to_string())
        .or_default()
        .clone();
    // A build that panics leaves the cell empty: the next caller retries.
    cell.get_or_init(|| {
        let path = scratch().join(format!("{key}.pyz"));
        make(&path);
        path
    })
    .clone()
}

/// The flask + gunicorn + certifi + jaraco bundle used by several runtime tests.
pub(crate) fn web_bundle() -> PathBuf {
    shared_artifact("web", |out| {
        let src = scratch().join("web-src");
        fs_err::create_dir_all(&src).unwrap();
        fs_err::write(
            src.join("webapp.py"),
            "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef hello():\n    return 'hello from flask'\n",
        )
        .unwrap();
        build(
            &py311().path,
            out,
            &[
                "flask",
                "gunicorn",
                "certifi",
                "jaraco.functools",
                "jaraco.context",
                "-c",
                "gunicorn",
                "--src",
                src.to_str().unwrap(),
            ],
        );
    })
}

/// A free TCP port on 127.0.0.1.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET `path` from 127.0.0.1:port, retrying while the server starts (bounded).
pub(crate) fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
            write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
            let mut body = String::new();
            if s.read_to_string(&mut body).is_ok() && !body.is_empty() {
                return body;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no HTTP answer on port {port}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A server a test started: on drop, SIGTERM to it and to its process
/// group when it leads one (gunicorn's master and workers, a reloader and
/// its child, Apache's children), a moment to stop, then SIGKILL.
pub(crate) struct Server(pub(crate) std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let (pid, group) = (self.0.id().to_string(), format!("-{}", self.0.id()));
        let signal = |sig: &str| {
            for target in [&group, &pid] {
                let _ = Command::new("kill")
                    .args([sig, "--", target])
                    .stderr(std::process::Stdio::null())
                    .status();
            }
        };
        signal("-TERM");
        for _ in 0..40 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        signal("-KILL");
        let _ = self.0.wait();
    }
}

/// Runs `git ARGS` in `repo`, as a test's own committer (no global git
/// configuration needed), and fails the test when git fails.
pub(crate) fn git_in(repo: &Path, args: &[&str]) {
    run_ok(
        Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.invalid",
                "-C",
            ])
            .arg(repo)
            .args(args),
    );
}
