//! Standalone executables (`--standalone --python-dist`): built once from the
//! relocatable CPython in ../shared/python-dist and run with no Python on
//! `PATH`, no `PYTHONHOME`/`PYTHONPATH`, and — where `unshare` works — with
//! every other Python on the machine hidden.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::*;

fn python_dist() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/python-dist");
    fs_err::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("install_only.tar.gz"))
        .expect("../shared/python-dist holds the CPython fixture")
}

/// `pyzap build ARGS --standalone --python-dist FIXTURE -o OUT`.
pub(crate) fn build_standalone(out: &Path, args: &[&str]) -> String {
    let out = run_ok(
        pyzap()
            .arg("build")
            .args(args)
            .arg("-f")
            .arg(wheelhouse())
            .arg("--no-index")
            .arg("--standalone")
            .arg("--python-dist")
            .arg(python_dist())
            .arg("-o")
            .arg(out),
    );
    stderr(&out)
}

pub(crate) fn standalone_black() -> PathBuf {
    shared_artifact("standalone-black", |out| {
        let log = build_standalone(out, &["black", "-c", "black"]);
        assert!(log.contains("stripped the stdlib"), "{log}");
        fs_err::write(build_log(out), log).unwrap();
    })
}

/// Where `standalone_black` keeps its build's output.
fn build_log(exe: &Path) -> PathBuf {
    exe.with_extension("log")
}

/// Runs `exe` as a user on a machine without Python would: a `PATH` with no
/// interpreter, no Python variables, a private cache.
pub(crate) fn run_bare(exe: &Path, root: &Path) -> Command {
    let mut cmd = Command::new(exe);
    cmd.env_clear()
        .env("PATH", "/nonexistent")
        .env("PYZAP_ROOT", root)
        .env("HOME", root);
    cmd
}

#[test]
fn black_runs_without_any_python() {
    let exe = standalone_black();
    let root = fresh_dir("sa-root-");
    for _ in 0..2 {
        // cold, then warm
        let out = run_ok(run_bare(&exe, &root).arg("--version"));
        assert!(
            stdout(&out).contains("(CPython) 3.11.2"),
            "{}",
            stdout(&out)
        );
    }
    let python_dirs: Vec<_> = fs_err::read_dir(root.join("python"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(python_dirs.len(), 1, "{python_dirs:?}");
    // Exit codes pass through.
    let dir = fresh_dir("sa-src-");
    fs_err::write(dir.join("ugly.py"), "x = ( 1 )\n").unwrap();
    let status = run_bare(&exe, &root)
        .arg("--check")
        .arg(dir.join("ugly.py"))
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
}

#[test]
fn interpreter_and_children_come_from_the_cache() {
    let exe = standalone_black();
    let root = fresh_dir("sa-root-");
    let code = "import os, subprocess, sys\n\
        print(sys.executable)\n\
        print(os.path.realpath(sys.executable))\n\
        print(sys.argv[0])\n\
        print(os.environ['PYZAP_ARTIFACT'])\n\
        print('LD_LIBRARY_PATH' in os.environ)\n\
        r = subprocess.run([sys.executable, '-c', 'import black, sys; print(black.__name__, sys.prefix)'], capture_output=True, text=True)\n\
        print(r.returncode, r.stdout.strip(), r.stderr.strip())\n";
    let out = run_ok(
        run_bare(&exe, &root)
            .env("PYZAP_INTERPRETER", "1")
            .args(["-c", code]),
    );
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    // sys.executable is the bundle venv's python, a link to the unpacked
    // CPython; a child started with it imports the bundle.
    let (venv_dir, python_dir) = (root.join("venv"), root.join("python"));
    assert!(lines[0].starts_with(venv_dir.to_str().unwrap()), "{text}");
    assert!(lines[1].starts_with(python_dir.to_str().unwrap()), "{text}");
    assert_eq!(lines[2], "-c", "{text}");
    assert_eq!(lines[3], exe.to_str().unwrap(), "{text}");
    assert_eq!(lines[4], "False", "{text}");
    assert!(lines[5].starts_with("0 black "), "{text}");
    assert!(lines[5].contains(venv_dir.to_str().unwrap()), "{text}");
}

/// The fixture ships no stdlib bytecode: pyzap compiles it at build time, so
/// a warm start where bytecode cannot be written compiles nothing.
#[test]
fn stdlib_bytecode_is_precompiled() {
    let exe = standalone_black();
    let root = fresh_dir("sa-root-");
    let code = "import importlib.util, json.decoder, sys\n\
        print(json.decoder.__cached__)\n\
        print(sys.dont_write_bytecode)\n";
    let out = run_ok(
        run_bare(&exe, &root)
            .env("PYZAP_INTERPRETER", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .args(["-c", code]),
    );
    let text = stdout(&out);
    let mut lines = text.lines();
    let cached = std::path::PathBuf::from(lines.next().unwrap());
    assert!(
        cached.is_file(),
        "no bytecode for json.decoder at {}",
        cached.display()
    );
    assert!(cached.starts_with(root.join("python")), "{text}");
    assert_eq!(lines.next(), Some("True"));
    let pyc = fs_err::read(&cached).unwrap();
    assert_eq!(
        u32::from_le_bytes(pyc[4..8].try_into().unwrap()),
        0b01,
        "unchecked hash-based pyc"
    );
}

/// By default the stdlib ships as bytecode only: each module a sourceless
/// `X.pyc` compiled by pyzap (so its code names the file relative to the
/// distribution, not a path of the machine that built it) and no `X.py`;
/// tracebacks still name the file and line. `--stdlib-sources` keeps the
/// sources, and tracebacks then show the line's text.
#[test]
fn stdlib_ships_as_bytecode_unless_sources_are_asked_for() {
    let code = "import json, os, sys, traceback\n\
        d = os.path.dirname(json.__file__)\n\
        print(json.__file__)\n\
        print(os.path.exists(os.path.join(d, 'decoder.py')), os.path.exists(os.path.join(d, 'decoder.pyc')))\n\
        try:\n    json.loads('{')\n\
        except ValueError:\n    traceback.print_exc(file=sys.stdout)\n";
    let run = |exe: &Path| {
        let root = fresh_dir("sa-root-");
        stdout(&run_ok(
            run_bare(exe, &root)
                .env("PYZAP_INTERPRETER", "1")
                .args(["-c", code]),
        ))
    };
    let text = run(&standalone_black());
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].ends_with("/lib/python3.11/json/__init__.pyc"),
        "{text}"
    );
    assert_eq!(lines[1], "False True", "{text}");
    assert!(
        text.contains("File \"lib/python3.11/json/decoder.py\", line "),
        "{text}"
    );
    let log = fs_err::read_to_string(build_log(&standalone_black())).unwrap();
    assert!(log.contains("stdlib as bytecode only: "), "{log}");

    let dir = fresh_dir("sa-sources-");
    let exe = dir.join("six-sources");
    let log = build_standalone(&exe, &["six", "-e", "six", "--stdlib-sources"]);
    assert!(!log.contains("stdlib as bytecode only"), "{log}");
    let text = run(&exe);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].ends_with("/lib/python3.11/json/__init__.py"),
        "{text}"
    );
    assert_eq!(lines[1], "True False", "{text}");
    // The line's text, read from the source.
    assert!(
        text.contains("obj, end = self.raw_decode(s, idx=_w(s, 0).end())"),
        "{text}"
    );
}

#[test]
fn info_and_extract_read_standalone_files() {
    let exe = standalone_black();
    let out = run_ok(pyzap().arg("info").arg(&exe));
    let text = stdout(&out);
    assert!(text.contains("standalone:   launcher"), "{text}");
    assert!(text.contains("CPython 3.11.2 payload"), "{text}");
    let dir = fresh_dir("sa-extract-").join("tree");
    run_ok(pyzap().arg("extract").arg(&exe).arg(&dir));
    assert!(dir.join("__main__.py").is_file());
    assert!(dir.join("__pyzap__/manifest.json").is_file());
}

/// The build states the oldest glibc the executable runs on, part by part,
/// and `pyzap info` reads it back from the trailer. The fixture is Debian
/// 12's CPython, whose interpreter needs glibc 2.35: it sets the floor,
/// above black's wheel (manylinux2014, glibc 2.17) and the launcher (none
/// when static; `pyzap-bundle`'s tests hold it to 2.17 at most).
#[test]
fn the_build_and_info_state_the_glibc_floor() {
    let exe = standalone_black();
    let log = fs_err::read_to_string(build_log(&exe)).unwrap();
    let floor = log
        .lines()
        .find(|l| l.starts_with("runs on glibc "))
        .unwrap_or_else(|| panic!("no glibc floor in the build's output:\n{log}"));
    assert!(
        floor.starts_with(
            "runs on glibc 2.35 or later: the CPython needs 2.35 (bin/python3.11), \
             the wheels 2.17 (black-26.10.1-cp311-cp311-manylinux2014_x86_64."
        ),
        "{floor}"
    );
    let info = stdout(&run_ok(pyzap().arg("info").arg(&exe)));
    let standalone = info
        .lines()
        .find(|l| l.starts_with("standalone:"))
        .unwrap_or_default();
    assert!(
        standalone.ends_with("; runs on glibc 2.35 or later"),
        "{info}"
    );
}

#[test]
fn concurrent_first_runs_and_killed_runs_leave_a_usable_cache() {
    let exe = standalone_black();
    let root = fresh_dir("sa-root-");
    // Kills mid-extraction, at several points.
    for delay in [5u64, 40, 120] {
        let mut child = run_bare(&exe, &root)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
    }
    let children: Vec<_> = (0..32)
        .map(|_| {
            run_bare(&exe, &root)
                .arg("--version")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success() && stdout(&out).contains("(CPython) 3.11.2"),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
    }
    let leftovers: Vec<_> = fs_err::read_dir(root.join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with("python-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Copies the shared executable so a test can damage its copy.
fn damaged_copy(name: &str, damage: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let mut bytes = fs_err::read(standalone_black()).unwrap();
    damage(&mut bytes);
    let path = fresh_dir("sa-bad-").join(name);
    fs_err::write(&path, bytes).unwrap();
    fs_err::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn one_line_error(mut cmd: Command) -> String {
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("pyzap: error: "), "{err}");
    err
}

#[test]
fn failure_modes_are_one_line() {
    let root = fresh_dir("sa-root-");
    let cut = damaged_copy("cut", |b| b.truncate(b.len() - 100));
    let err = one_line_error(run_bare(&cut, &root));
    assert!(err.contains("not a pyzap standalone executable"), "{err}");

    let flipped = damaged_copy("flipped", |b| {
        let t = pyzap_launcher::Trailer::parse(b, b.len() as u64).unwrap();
        let at = t.payload_offset + t.payload_size / 2;
        b[at as usize] ^= 0xff;
    });
    let err = one_line_error(run_bare(&flipped, &root));
    assert!(err.contains("sha256"), "{err}");
    assert!(
        !root.join("python").exists()
            || fs_err::read_dir(root.join("python")).unwrap().all(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')),
        "a damaged payload was installed"
    );

    let exe = standalone_black();
    let mut cmd = run_bare(&exe, &root);
    cmd.env("PYZAP_ROOT", "/dev/null/pyzap");
    let err = one_line_error(cmd);
    assert!(err.contains("set PYZAP_ROOT"), "{err}");
}

/// Runs `script` as root in a private mount namespace; `None` where the
/// sandbox does not allow it.
pub(crate) fn in_private_mounts(script: &str) -> Option<std::process::Output> {
    let probe = Command::new("unshare")
        .args(["-m", "true"])
        .stderr(Stdio::null())
        .status()
        .ok()?;
    if !probe.success() {
        pyzap_test_support::skip("unshare -m is not allowed here");
        return None;
    }
    Some(
        Command::new("unshare")
            .args(["-m", "sh", "-c", script])
            .output()
            .unwrap(),
    )
}

#[test]
fn runs_with_every_other_python_hidden() {
    let exe = standalone_black();
    let root = fresh_dir("sa-root-");
    let mut hide = String::new();
    for dir in ["/root/.pyenv", "/usr/lib/python3", "/usr/local/lib"] {
        if Path::new(dir).is_dir() {
            hide.push_str(&format!("mount -t tmpfs none {dir} && "));
        }
    }
    for entry in fs_err::read_dir("/usr/lib").unwrap() {
        let p = entry.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("python3.")
        {
            hide.push_str(&format!("mount -t tmpfs none {} && ", p.display()));
        }
    }
    let script = format!(
        "{hide} env -i PATH=/nonexistent PYZAP_ROOT={} {} --version",
        root.display(),
        exe.display()
    );
    if let Some(out) = in_private_mounts(&script) {
        assert!(
            out.status.success() && stdout(&out).contains("(CPython) 3.11.2"),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
    }
}

#[test]
fn noexec_cache_is_refused() {
    let exe = standalone_black();
    let mnt = fresh_dir("sa-noexec-");
    let script = format!(
        "mount -t tmpfs -o noexec,mode=0700 none {mnt} && env -i PATH=/nonexistent PYZAP_ROOT={mnt}/root {exe}",
        mnt = mnt.display(),
        exe = exe.display()
    );
    if let Some(out) = in_private_mounts(&script) {
        assert!(!out.status.success());
        let err = stderr(&out);
        assert!(
            err.contains("noexec") && err.contains("PYZAP_ROOT"),
            "{err}"
        );
    }
}

#[test]
fn echo_wsgi_app_serves_without_python() {
    use std::io::Read;
    let exe = shared_artifact("standalone-echo", |out| {
        let project =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/echo-wsgi");
        build_standalone(out, &[project.to_str().unwrap()]);
    });
    let activate = Path::new("/usr/bin/systemd-socket-activate");
    assert!(activate.exists(), "systemd-socket-activate is missing");
    let port = free_port();
    let root = fresh_dir("sa-root-");
    let mut child = Command::new(activate)
        .env_clear()
        .env("PATH", "/nonexistent")
        .arg("-l")
        .arg(format!("127.0.0.1:{port}"))
        .arg("-E")
        .arg(format!("PYZAP_ROOT={}", root.display()))
        .arg(&exe)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let body = http_get(port, "/hello?x=1");
    let _ = child.kill();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let _ = child.wait();
    assert!(body.contains("\"path\": \"/hello\""), "{body}{err}");
}

/// Two builds from separate, cold build caches give the same bytes
/// (payload parts included: generated stdlib bytecode has a fixed mtime).
#[test]
fn standalone_builds_are_reproducible() {
    let dir = fresh_dir("sa-repro-");
    let outputs: Vec<Vec<u8>> = ["a", "b"]
        .iter()
        .map(|name| {
            let out = dir.join(name);
            run_ok(
                pyzap()
                    .env("PYZAP_CACHE_DIR", dir.join(format!("cache-{name}")))
                    .args([
                        "build",
                        "six",
                        "-e",
                        "six",
                        "--no-index",
                        "--standalone",
                        "-f",
                    ])
                    .arg(wheelhouse())
                    .arg("--python-dist")
                    .arg(python_dist())
                    .arg("-o")
                    .arg(&out),
            );
            fs_err::read(&out).unwrap()
        })
        .collect();
    assert!(outputs[0] == outputs[1], "standalone builds differ");
}

/// The launcher execs the interpreter: a signal that kills the app kills
/// the process the caller started, and exit codes are the app's own.
#[test]
fn signals_and_exit_codes_pass_through() {
    use std::os::unix::process::ExitStatusExt;
    let exe = standalone_black();
    let root = fresh_dir("sa-root-");
    let status = run_bare(&exe, &root)
        .env("PYZAP_INTERPRETER", "1")
        .args([
            "-c",
            "import os, signal; os.kill(os.getpid(), signal.SIGTERM)",
        ])
        .status()
        .unwrap();
    assert_eq!(status.signal(), Some(15), "{status:?}");
    let status = run_bare(&exe, &root)
        .env("PYZAP_INTERPRETER", "1")
        .args(["-c", "import sys; sys.exit(42)"])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(42));
}
