//! `pyzap lock` then `pyzap build --lock`: the same artifact as a plain
//! build, byte for byte; a tampered lock fails; one universal lock for
//! several Python versions, built from for two of them and run under each.
//! (`--require-hashes` as pip, platforms that differ, and every lock file
//! error: in process, in `pyzap-bundle`'s tests.)

use std::path::Path;

use crate::common::*;

fn lock(py: &Path, lockfile: &Path, args: &[&str]) {
    run_ok(
        pyzap()
            .arg("lock")
            .args(args)
            .arg("-f")
            .arg(wheelhouse())
            .arg("--no-index")
            .arg("--python")
            .arg(py)
            .arg("-o")
            .arg(lockfile),
    );
}

fn build_locked(py: &Path, lockfile: &Path, out: &Path) -> std::process::Output {
    pyzap()
        .args(["build", "-c", "flask", "--lock"])
        .arg(lockfile)
        .arg("--python")
        .arg(py)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap()
}

/// The sha256 the lock gives the wheel named `filename`.
fn locked_hash(text: &str, filename: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.contains(&format!("name = \"{filename}\"")))
        .unwrap_or_else(|| panic!("{filename} not in {text}"));
    let at = line.find("sha256 = \"").unwrap() + 10;
    line[at..at + 64].to_string()
}

#[test]
fn lock_round_trip_gives_the_same_artifact() {
    let py = &py311().path;
    let dir = fresh_dir("lock-");
    let plain = dir.join("plain.pyz");
    build(py, &plain, &["flask", "-c", "flask"]);
    let lockfile = dir.join("pylock.toml");
    lock(py, &lockfile, &["flask"]);
    let text = fs_err::read_to_string(&lockfile).unwrap();
    assert!(text.starts_with("lock-version = \"1.0\"\n"), "{text}");
    assert!(text.contains("[tool.pyzap]\nroots = [\"flask\"]"), "{text}");
    // Deterministic: locking again writes the same bytes.
    lock(py, &lockfile, &["flask"]);
    assert_eq!(fs_err::read_to_string(&lockfile).unwrap(), text);

    let locked = dir.join("locked.pyz");
    let out = build_locked(py, &lockfile, &locked);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        fs_err::read(&plain).unwrap() == fs_err::read(&locked).unwrap(),
        "build --lock differs from the plain build"
    );
    let out = run_ok(run_artifact(py, &locked, &dir.join("root")).arg("--version"));
    assert!(stdout(&out).contains("Flask 3.1.3"), "{}", stdout(&out));

    // A tampered hash fails, naming the file and both hashes.
    let good = locked_hash(&text, "flask-3.1.3-py3-none-any.whl");
    let bad = "0".repeat(64);
    let tampered = dir.join("tampered.toml");
    fs_err::write(&tampered, text.replace(&good, &bad)).unwrap();
    let out = build_locked(py, &tampered, &dir.join("never.pyz"));
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("do not match the hashes from the lock file")
            && err.contains("flask-3.1.3-py3-none-any.whl")
            && err.contains(&bad)
            && err.contains(&good),
        "{err}"
    );
}

/// The wheelhouse's black differs by version: 25.11.0 for 3.9, 26.10.1
/// for 3.10 on, and 3.9 and 3.10 also need tomli and typing-extensions.
#[test]
fn universal_lock_builds_for_each_of_its_versions() {
    let python = |minor| {
        let found = pythons().iter().find(|p| p.version == (3, minor));
        if found.is_none() {
            pyzap_test_support::skip(&format!(
                "no python3.{minor}: the universal lock test runs it"
            ));
        }
        found
    };
    let (Some(py39), Some(py313)) = (python(9), python(13)) else {
        return;
    };
    let dir = fresh_dir("lock-universal-");
    let lockfile = dir.join("pylock.toml");
    let mut args = vec!["black"];
    for version in ["3.9", "3.10", "3.11", "3.12", "3.13"] {
        args.extend(["--python-version", version]);
    }
    args.extend(["--platform", "manylinux_2_28_x86_64"]);
    lock(&py311().path, &lockfile, &args);
    let text = fs_err::read_to_string(&lockfile).unwrap();
    assert!(
        text.contains("requires-python = \">=3.9, <3.14\"\n"),
        "{text}"
    );
    for entry in [
        "name = \"black\"\nversion = \"25.11.0\"\nmarker = \"python_version < '3.10'\"\n",
        "name = \"black\"\nversion = \"26.10.1\"\nmarker = \"python_version >= '3.10'\"\n",
        "name = \"tomli\"\nversion = \"2.5.0\"\nmarker = \"python_version < '3.11'\"\n",
        "name = \"pathspec\"\nversion = \"1.1.1\"\nwheels",
    ] {
        assert!(text.contains(entry), "no `{entry}` in {text}");
    }
    for (py, version, black) in [(py39, "3.9", "25.11.0"), (py313, "3.13", "26.10.1")] {
        let artifact = dir.join(format!("black-{version}.pyz"));
        run_ok(
            pyzap()
                .args(["build", "-c", "black", "--lock"])
                .arg(&lockfile)
                .args([
                    "--python-version",
                    version,
                    "--platform",
                    "manylinux_2_28_x86_64",
                ])
                .arg("--python")
                .arg(&py.path)
                .arg("-o")
                .arg(&artifact),
        );
        let root = dir.join(format!("root-{version}"));
        let out = stdout(&run_ok(
            run_artifact(&py.path, &artifact, &root).arg("--version"),
        ));
        assert!(
            out.contains(black) && out.contains(&format!("CPython) {version}.")),
            "{out}"
        );
    }
}
