//! Cross-target builds (`--python-version`, `--platform`): artifacts for an
//! interpreter that did not build them, and multi-target artifacts whose
//! bootstrap picks each interpreter's own wheels.

use std::path::{Path, PathBuf};

use crate::common::*;
use pyzap_test_support::Interpreter;

#[track_caller]
fn python(minor: u32) -> Option<&'static Interpreter> {
    let found = pythons().iter().find(|p| p.version == (3, minor));
    if found.is_none() {
        pyzap_test_support::skip(&format!(
            "no python3.{minor}: the cross-build tests need it"
        ));
    }
    found
}

/// A PATH holding only `python3` and `python3.11` (the build machine's
/// Python), so nothing can find a 3.9 behind our back.
fn only_311_on_path(py311: &Path) -> PathBuf {
    let dir = fresh_dir("path-311-");
    for name in ["python3", "python3.11"] {
        fs_err::os::unix::fs::symlink(py311, dir.join(name)).unwrap();
    }
    dir
}

/// `pyzap build ARGS --no-index -f WHEELHOUSE -o OUT`, with `PATH` set to
/// `path` when given (so no other Python can be found behind our back).
fn build_offline(path: Option<&Path>, args: &[&str], out: &Path) -> std::process::Output {
    let mut cmd = pyzap();
    if let Some(path) = path {
        cmd.env("PATH", path);
    }
    run_ok(
        cmd.arg("build")
            .args(args)
            .args(["--no-index", "-f"])
            .arg(wheelhouse())
            .arg("-o")
            .arg(out),
    )
}

/// black for CPython 3.9 on manylinux_2_28_x86_64: a target given in full,
/// so no interpreter is needed.
const BLACK_FOR_39: [&str; 7] = [
    "black",
    "-c",
    "black",
    "--python-version",
    "3.9",
    "--platform",
    "manylinux_2_28_x86_64",
];

fn black_version(python: &Path, artifact: &Path, root: &Path) -> String {
    let out = run_ok(run_artifact(python, artifact, root).arg("--version"));
    stdout(&out)
}

/// The bootstrap's refusal: exactly one `pyzap: error:` line, status 1.
fn refused(python: &Path, artifact: &Path, root: &Path) -> String {
    let out = run_artifact(python, artifact, root)
        .arg("--version")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("pyzap: error: "), "{err}");
    err
}

#[test]
fn build_for_39_with_only_311_runs_under_39() {
    let (Some(py39), Some(py311)) = (python(9), python(11)) else {
        return;
    };
    let out = scratch().join("black-cross-39.pyz");
    let path = only_311_on_path(&py311.path);
    build_offline(
        Some(&path),
        &[
            "black",
            "-c",
            "black",
            "--python-version",
            "3.9",
            "--python",
            py311.path.to_str().unwrap(),
        ],
        &out,
    );
    let root = fresh_dir("root-");
    // black's 3.9 wheel (25.11.0) differs from its 3.11 one (26.x).
    let version = black_version(&py39.path, &out, &root);
    assert!(version.contains("25.11.0"), "{version}");
    assert!(version.contains("3.9."), "{version}");
    let err = refused(&py311.path, &out, &root);
    assert!(err.contains("built for Python 3.9 (cpython-39)"), "{err}");
    let info = stdout(&run_ok(pyzap().arg("info").arg(&out)));
    assert!(info.contains("bytecode:     none"), "{info}");
    assert!(info.contains("(format 1)"), "{info}");
    assert!(info.contains("25.11.0"), "{info}");
    // Built without bytecode: the first run compiled it into the cache.
    assert!(
        extracted_file(&root, "__pycache__/_black_version.cpython-39.pyc").is_file(),
        "no bytecode compiled at the first run"
    );
}

/// `rel` inside the one extracted site dir under `root`.
fn extracted_file(root: &Path, rel: &str) -> PathBuf {
    let sites: Vec<PathBuf> = fs_err::read_dir(root.join("site"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(sites.len(), 1, "{sites:?}");
    sites[0].join(rel)
}

#[test]
fn pure_cross_build_is_extracted_and_compiled_once() {
    // No 3.9 to precompile with: a zipped site would compile its imports at
    // every start, so pyzap extracts it and the first run compiles it once.
    let (Some(py39), Some(py311)) = (python(9), python(11)) else {
        return;
    };
    let out = scratch().join("six-cross-39.pyz");
    let path = only_311_on_path(&py311.path);
    let build = build_offline(
        Some(&path),
        &[
            "six",
            "-e",
            "six",
            "--python-version",
            "3.9",
            "--python",
            py311.path.to_str().unwrap(),
        ],
        &out,
    );
    assert!(
        stderr(&build).contains("the first run compiles it"),
        "{}",
        stderr(&build)
    );
    let info = stdout(&run_ok(pyzap().arg("info").arg(&out)));
    assert!(
        info.lines()
            .any(|l| l.contains("six") && l.contains("extract")),
        "{info}"
    );
    let root = fresh_dir("root-");
    for _ in 0..2 {
        let run = run_ok(
            run_artifact(&py39.path, &out, &root)
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .env("PYZAP_INTERPRETER", "1")
                .args(["-c", "import six; print(six.__file__)"]),
        );
        assert!(
            stdout(&run).starts_with(root.to_str().unwrap()),
            "{}",
            stdout(&run)
        );
    }
    assert!(extracted_file(&root, "__pycache__/six.cpython-39.pyc").is_file());
}

#[test]
fn wheel_only_cross_build_needs_no_python() {
    let Some(py39) = python(9) else {
        return;
    };
    let out = scratch().join("black-cross-nopython.pyz");
    let empty = fresh_dir("path-empty-");
    build_offline(Some(&empty), &BLACK_FOR_39, &out);
    let version = black_version(&py39.path, &out, &fresh_dir("root-"));
    assert!(version.contains("25.11.0"), "{version}");
}

#[test]
fn multi_target_artifact_picks_the_running_interpreters_wheels() {
    let (Some(py39), Some(py311)) = (python(9), python(11)) else {
        return;
    };
    let out = scratch().join("black-multi.pyz");
    build(
        &py311.path,
        &out,
        &[
            "black",
            "-c",
            "black",
            "--python-version",
            "3.9",
            "--python-version",
            "3.11",
            "--platform",
            "manylinux_2_28_x86_64",
        ],
    );
    let root = fresh_dir("root-");
    for _ in 0..2 {
        // cold, then warm (each target has its own extracted dir)
        let v39 = black_version(&py39.path, &out, &root);
        assert!(v39.contains("25.11.0") && v39.contains("3.9."), "{v39}");
        let v311 = black_version(&py311.path, &out, &root);
        assert!(v311.contains("26.10.1") && v311.contains("3.11."), "{v311}");
    }
    let info = stdout(&run_ok(pyzap().arg("info").arg(&out)));
    assert!(info.contains("(format 2)"), "{info}");
    assert!(
        info.contains("target:       cp39-manylinux_2_28_x86_64")
            && info.contains("target:       cp311-manylinux_2_28_x86_64"),
        "{info}"
    );
    let Some(py312) = python(12) else {
        return;
    };
    let err = refused(&py312.path, &out, &root);
    assert!(
        err.contains("is built for cp39-manylinux_2_28_x86_64, cp311-manylinux_2_28_x86_64;")
            && err.contains("is Python 3.12 (cpython-312)"),
        "{err}"
    );
}

#[test]
fn no_compile_means_no_bytecode_at_the_first_run_either() {
    let Some(py39) = python(9) else {
        return;
    };
    let out = scratch().join("black-cross-nocompile.pyz");
    build_offline(None, &[&BLACK_FOR_39[..], &["--no-compile"]].concat(), &out);
    let root = fresh_dir("root-");
    let version = black_version(&py39.path, &out, &root);
    assert!(version.contains("25.11.0"), "{version}");
    assert!(!extracted_file(&root, "__pycache__/_black_version.cpython-39.pyc").exists());
}

/// A pure artifact whose dependency needs Python 3.11 (more-itertools
/// 11.2.1: `Requires-Python: >=3.11`), started by 3.9: one line naming the
/// bound and the interpreter, instead of an error deep inside the package.
#[test]
fn an_interpreter_outside_requires_python_gets_one_line() {
    let Some(py39) = python(9) else { return };
    let dir = fresh_dir("requires-python-");
    let artifact = dir.join("mi.pyz");
    build(
        &py311().path,
        &artifact,
        &["more-itertools", "-e", "more_itertools"],
    );
    let root = dir.join("root");
    let err = refused(&py39.path, &artifact, &root);
    assert!(err.contains("needs Python >=3.11"), "{err}");
    assert!(
        err.contains(&py39.path.display().to_string()) || err.contains("3.9."),
        "{err}"
    );
    let ok = run_ok(
        run_artifact(&py311().path, &artifact, &root)
            .env("PYZAP_INTERPRETER", "1")
            .args([
                "-c",
                "import more_itertools; print(more_itertools.__version__)",
            ]),
    );
    assert_eq!(stdout(&ok).trim(), "11.2.1");
}

/// A bundle whose only native wheel is a stable-ABI one
/// (charset_normalizer cp37-abi3), built on 3.11, runs under every CPython
/// 3.8–3.13 on the machine: abi3 code loads on any later CPython.
#[test]
fn stable_abi_bundle_runs_under_every_later_cpython() {
    let dir = fresh_dir("abi3-");
    let artifact = dir.join("cn.pyz");
    // The wheel file itself: the index also has a cp311-only wheel, which a
    // resolution rightly prefers.
    let wheel = wheelhouse().join(
        "charset_normalizer-3.5.2-cp37-abi3-manylinux1_x86_64.manylinux_2_28_x86_64.manylinux_2_5_x86_64.whl",
    );
    build(
        &py311().path,
        &artifact,
        &[wheel.to_str().unwrap(), "-e", "charset_normalizer"],
    );
    let info = stdout(&run_ok(pyzap().args(["info", "--json"]).arg(&artifact)));
    assert!(info.contains("\"abi3\": \"3.7\""), "{info}");
    for python in pythons() {
        let out = run_ok(
            run_artifact(&python.path, &artifact, &dir.join("root"))
                .env("PYZAP_INTERPRETER", "1")
                .args([
                    "-c",
                    "import charset_normalizer as c; print(c.from_bytes(b'hello').best().encoding)",
                ]),
        );
        assert_eq!(stdout(&out).trim(), "ascii", "{:?}", python.version);
    }
}
