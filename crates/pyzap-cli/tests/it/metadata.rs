//! Runtime issue, item 1: a bundle has its distributions' metadata, in its
//! own process and in its children, so plugins found through entry points
//! work — flake8's checkers and pytest's plugins — exactly as where the
//! same wheels are importable directly; pure or native, `.pyz` or
//! standalone.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

/// The wheel files the artifact bundles, from `pyzap info --json`.
fn bundled_wheels(artifact: &Path) -> Vec<PathBuf> {
    let info = run_ok(pyzap().args(["info", "--json"]).arg(artifact));
    let manifest: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    manifest["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| wheelhouse().join(d["filename"].as_str().unwrap()))
        .collect()
}

/// `python -m MODULE ARGS` with only `wheels` importable (pure wheels are
/// zips, and importlib.metadata reads the root of a zip on sys.path).
fn reference(wheels: &[PathBuf], module: &str, args: &[&str], cwd: &Path) -> std::process::Output {
    let path = std::env::join_paths(wheels).unwrap();
    Command::new(&py311().path)
        .env_clear()
        .env("PYTHONPATH", path)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .args(["-s", "-m", module])
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

#[test]
fn flake8_finds_its_plugins_from_a_pure_bundle_and_in_children() {
    let dir = fresh_dir("flake8-");
    let artifact = dir.join("flake8");
    build(&py311().path, &artifact, &["flake8", "-c", "flake8"]);
    fs_err::write(
        dir.join("bad.py"),
        "import os\nx=1\ndef f( a ):\n    return undefined\n",
    )
    .unwrap();
    let ours = run_artifact(&py311().path, &artifact, &dir.join("root"))
        .arg("bad.py")
        .current_dir(&dir)
        .output()
        .unwrap();
    let theirs = reference(&bundled_wheels(&artifact), "flake8", &["bad.py"], &dir);
    assert_eq!(stderr(&ours), stderr(&theirs));
    assert_eq!(stdout(&ours), stdout(&theirs));
    assert_eq!(ours.status.code(), theirs.status.code());
    for code in ["F401", "E225", "F821"] {
        assert!(stdout(&ours).contains(code), "{}", stdout(&ours));
    }
    // A child started with sys.executable, and the venv's console script
    // on PATH, see the same plugins.
    let child = run_artifact(&py311().path, &artifact, &dir.join("root"))
        .env("PYZAP_INTERPRETER", "1")
        .args([
            "-c",
            "import subprocess, sys\n\
             a = subprocess.run([sys.executable, '-m', 'flake8', 'bad.py'], capture_output=True, text=True)\n\
             b = subprocess.run(['flake8', 'bad.py'], capture_output=True, text=True)\n\
             sys.stdout.write(a.stdout + '--\\n' + b.stdout)",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(
        stdout(&child),
        format!("{}--\n{}", stdout(&theirs), stdout(&theirs)),
        "{}",
        stderr(&child)
    );
}

#[test]
fn pytest_loads_pytest_timeout_from_a_pure_bundle() {
    let dir = fresh_dir("pytest-");
    let artifact = dir.join("pytest");
    build(
        &py311().path,
        &artifact,
        &["pytest", "pytest-timeout", "-c", "pytest"],
    );
    fs_err::write(dir.join("test_one.py"), "def test_ok():\n    assert 1\n").unwrap();
    let out = run_artifact(&py311().path, &artifact, &dir.join("root"))
        .args(["--timeout", "30", "-p", "no:cacheprovider", "test_one.py"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("1 passed"), "{}", stdout(&out));
    assert!(stdout(&out).contains("timeout: 30.0s"), "{}", stdout(&out));
}

/// The same plugins and `importlib.metadata.version()` from a bundle with
/// native code, as a `.pyz` and as a standalone executable.
#[test]
fn plugins_and_versions_from_a_native_bundle_and_a_standalone() {
    let dir = fresh_dir("plugins-native-");
    fs_err::write(
        dir.join("bad.py"),
        "import os\nx=1\ndef f( a ):\n    return undefined\n",
    )
    .unwrap();
    fs_err::write(dir.join("test_one.py"), "def test_ok():\n    assert 1\n").unwrap();
    let inputs = [
        "flake8",
        "pytest",
        "pytest-timeout",
        "markupsafe",
        "-c",
        "flake8",
    ];
    let pyz = dir.join("tools.pyz");
    build(&py311().path, &pyz, &inputs);
    let exe = dir.join("tools");
    crate::standalone::build_standalone(&exe, &inputs);
    let theirs = reference(&bundled_wheels(&pyz), "flake8", &["bad.py"], &dir);
    for (kind, mut run) in [
        ("pyz", run_artifact(&py311().path, &pyz, &dir.join("root"))),
        (
            "standalone",
            crate::standalone::run_bare(&exe, &dir.join("root-sa")),
        ),
    ] {
        let flake8 = run.arg("bad.py").current_dir(&dir).output().unwrap();
        assert_eq!(
            stdout(&flake8),
            stdout(&theirs),
            "{kind}: {}",
            stderr(&flake8)
        );
        let mut interp = if kind == "pyz" {
            run_artifact(&py311().path, &pyz, &dir.join("root"))
        } else {
            crate::standalone::run_bare(&exe, &dir.join("root-sa"))
        };
        let out = run_ok(
            interp
                .env("PYZAP_INTERPRETER", "1")
                .args([
                    "-c",
                    "import importlib.metadata as m, subprocess, sys\n\
                     print(m.version('pytest-timeout'), m.version('markupsafe'), flush=True)\n\
                     sys.exit(subprocess.call([sys.executable, '-m', 'pytest', '--timeout', '30', '-p', 'no:cacheprovider', '-q', 'test_one.py']))",
                ])
                .current_dir(&dir),
        );
        let text = stdout(&out);
        assert!(text.starts_with("2.4.0 "), "{kind}: {text}");
        assert!(text.contains("1 passed"), "{kind}: {text}");
    }
}
