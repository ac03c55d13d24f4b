//! black under every CPython on the machine: the artifact prints exactly what
//! black installed in a venv (by pip, from the same wheelhouse) prints.

use std::process::Command;

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

                let venv = dir.join("venv");
                run_ok(Command::new(&py.path).args(["-m", "venv"]).arg(&venv));
                run_ok(
                    Command::new(venv.join("bin/python"))
                        .args(["-m", "pip", "install", "-q", "--no-index", "-f"])
                        .arg(wheelhouse())
                        .arg("black"),
                );
                let reference = run_ok(Command::new(venv.join("bin/black")).arg("--version"));
                let ours = stdout(&ours).replace("black.pyz", "black");
                assert_eq!(ours, stdout(&reference), "python {major}.{minor}");
                eprintln!(
                    "ok: python {major}.{minor}: {}",
                    ours.lines().next().unwrap_or("")
                );
            });
        }
    });
}
