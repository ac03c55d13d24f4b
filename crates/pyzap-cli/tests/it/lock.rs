//! `pyzap lock` then `pyzap build --lock`: the same artifact as a plain
//! build, byte for byte; a tampered lock fails. (`--require-hashes` as pip,
//! and every lock file error: in process, in `pyzap-bundle`'s tests.)

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
