//! Runs the bootstrap's own test suite (`python/tests/test_bootstrap.py`,
//! stdlib `unittest`) under every CPython 3.8–3.13 on the machine, one test
//! per version so cargo reports (and parallelises) them separately. A
//! missing version is a visible skip, and a failure in CI.

use std::path::Path;
use std::process::Command;

use pyzap_test_support::python::require;

#[allow(
    clippy::print_stderr,
    reason = "unittest's summary, for `--nocapture`: a test's own output"
)]
fn run_suite(minor: u32) {
    let Some(python) = require((3, minor)) else {
        return;
    };
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python/tests");
    let mut cmd = Command::new(&python.path);
    // -B: no __pycache__ in the source tree.
    // -v: each skipped case is named with its reason.
    cmd.args(["-B", "-m", "unittest", "-v", "test_bootstrap"])
        .current_dir(&tests)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    for (key, _) in std::env::vars_os() {
        let key_str = key.to_string_lossy();
        if key_str.starts_with("PYZAP_") || key_str == "PYTHONPATH" || key_str == "PYTHONHOME" {
            cmd.env_remove(&key);
        }
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.path.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "python/tests/test_bootstrap.py failed under {} ({}):\n{}{}",
        python.path.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        stderr
    );
    // Skipped unittest cases are skips like any other: visible, and a
    // failure where skips are not allowed.
    for line in stderr.lines().filter(|l| l.contains("skipped '")) {
        pyzap_test_support::skip(&format!("python3.{minor}: {}", line.trim()));
    }
    // unittest's summary ("Ran 35 tests ... OK"), so `--nocapture` shows what ran.
    eprintln!(
        "python3.{minor}: {}",
        stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .rev()
            .take(2)
            .collect::<Vec<_>>()
            .join(" / ")
    );
}

macro_rules! per_version {
    ($($name:ident => $minor:expr),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run_suite($minor);
            }
        )*
    };
}

per_version! {
    bootstrap_python_3_8 => 8,
    bootstrap_python_3_9 => 9,
    bootstrap_python_3_10 => 10,
    bootstrap_python_3_11 => 11,
    bootstrap_python_3_12 => 12,
    bootstrap_python_3_13 => 13,
}
