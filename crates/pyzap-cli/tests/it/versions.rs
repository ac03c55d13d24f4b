//! black under every CPython on the machine: the artifact prints exactly what
//! black installed in a venv (by pip, from the same wheelhouse) prints.

use std::path::Path;
use std::process::Command;

use pyzap_test_support::{Interpreter, ReferenceCache};

use crate::common::*;

#[test]
fn black_version_matches_a_venv_install_on_every_python() {
    let pythons = pythons();
    assert!(!pythons.is_empty(), "no CPython 3.8-3.13 found");
    std::thread::scope(|scope| {
        for py in pythons {
            scope.spawn(move || {
                let (major, minor) = py.version;
                let dir = fresh_dir(&format!("black-{major}{minor}-"));
                let artifact = dir.join("black.pyz");
                build(&py.path, &artifact, &["black", "-c", "black"]);
                let ours =
                    run_ok(run_artifact(&py.path, &artifact, &dir.join("root")).arg("--version"));
                let ours = stdout(&ours).replace("black.pyz", "black");
                assert_eq!(ours, pip_reference(py, &dir), "python {major}.{minor}");
                eprintln!(
                    "ok: python {major}.{minor}: {}",
                    ours.lines().next().unwrap_or("")
                );
            });
        }
    });
}

/// What `black --version` prints when pip installs black from the
/// wheelhouse into a venv of `py`. Building the venvs takes about a minute
/// per run and the answer depends only on its inputs, so it is kept under
/// cargo's `target/tmp` (see `ReferenceCache`).
fn pip_reference(py: &Interpreter, dir: &Path) -> String {
    let cache = ReferenceCache::new(Path::new(env!("CARGO_TARGET_TMPDIR")));
    let command = "python -m venv VENV; \
        VENV/bin/python -m pip install -q --no-index -f WHEELHOUSE black; \
        VENV/bin/black --version";
    cache.get(&py.path, command, || {
        let venv = dir.join("venv");
        run_ok(Command::new(&py.path).args(["-m", "venv"]).arg(&venv));
        run_ok(
            Command::new(venv.join("bin/python"))
                .args(["-m", "pip", "install", "-q", "--no-index", "-f"])
                .arg(wheelhouse())
                .arg("black"),
        );
        stdout(&run_ok(
            Command::new(venv.join("bin/black")).arg("--version"),
        ))
    })
}
