//! A project that keeps its build options in `[tool.pyzap]` builds with a
//! bare `pyzap build` run in its directory, and the artifact runs.

use std::path::Path;

use crate::common::*;

#[test]
fn a_bare_build_in_a_configured_project() {
    let dir = fresh_dir("tool-pyzap-");
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/echo-wsgi");
    let proj = dir.join("echo");
    run_ok(
        std::process::Command::new("cp")
            .arg("-r")
            .arg(&from)
            .arg(&proj),
    );
    let pyproject = proj.join("pyproject.toml");
    let text = fs_err::read_to_string(&pyproject).unwrap();
    fs_err::write(
        &pyproject,
        format!(
            "{text}\n[tool.pyzap]\noutput = \"dist/echo.pyz\"\nfind-links = {:?}\nno-index = true\npython = {:?}\n",
            wheelhouse().display().to_string(),
            py311().path.display().to_string()
        ),
    )
    .unwrap();
    run_ok(pyzap().arg("build").current_dir(&proj));
    let artifact = proj.join("dist/echo.pyz");
    let out = run_ok(run_artifact(&py311().path, &artifact, &dir.join("root")).arg("--version"));
    assert_eq!(stdout(&out).trim(), "echo-wsgi 1.0.0");
    // A flag on the command line wins over its key.
    run_ok(
        pyzap()
            .args(["build", "-o"])
            .arg(dir.join("other.pyz"))
            .current_dir(&proj),
    );
    assert!(dir.join("other.pyz").is_file());
}
