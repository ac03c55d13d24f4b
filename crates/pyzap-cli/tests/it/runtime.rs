//! The bootstrap at work in real artifacts: package data through `__file__`,
//! namespace packages, child processes, multiprocessing spawn, concurrent
//! first runs, exit codes and signals.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

use crate::common::*;

fn interp(artifact: &Path, root: &Path, code: &str) -> Command {
    let mut cmd = run_artifact(&py311().path, artifact, root);
    cmd.env("PYZAP_INTERPRETER", "1").args(["-c", code]);
    cmd
}

#[test]
fn certifi_where_is_a_readable_file_in_the_cache() {
    let root = fresh_dir("root-");
    let out = run_ok(&mut interp(
        &web_bundle(),
        &root,
        "import certifi, os; p = certifi.where(); print(p); print(os.path.getsize(p) > 10000)",
    ));
    let text = stdout(&out);
    let mut lines = text.lines();
    let path = lines.next().unwrap();
    assert!(
        path.starts_with(root.to_str().unwrap()),
        "{path} not under {}",
        root.display()
    );
    assert_eq!(lines.next(), Some("True"));
}

#[test]
fn namespace_package_from_two_distributions() {
    let out = run_ok(&mut interp(
        &web_bundle(),
        &fresh_dir("root-"),
        "import jaraco.functools, jaraco.context; print(jaraco.functools.__name__, jaraco.context.__name__)",
    ));
    assert_eq!(stdout(&out).trim(), "jaraco.functools jaraco.context");
}

#[test]
fn child_processes_import_bundled_packages() {
    let out = run_ok(&mut interp(
        &web_bundle(),
        &fresh_dir("root-"),
        "import subprocess, sys; print(subprocess.check_output([sys.executable, '-c', 'import flask, certifi; print(flask.__name__)']).decode().strip())",
    ));
    assert_eq!(stdout(&out).trim(), "flask");
}

#[test]
fn multiprocessing_spawn_worker_imports_bundled_packages() {
    let dir = fresh_dir("mp-");
    let script = dir.join("spawn.py");
    fs_err::write(
        &script,
        "import multiprocessing as mp\n\ndef work(_):\n    import flask\n    return flask.__name__\n\nif __name__ == '__main__':\n    with mp.get_context('spawn').Pool(1) as pool:\n        print(pool.map(work, [0]))\n",
    )
    .unwrap();
    let mut cmd = run_artifact(&py311().path, &web_bundle(), &dir.join("root"));
    cmd.env("PYZAP_INTERPRETER", "1").arg(&script);
    assert_eq!(stdout(&run_ok(&mut cmd)).trim(), "['flask']");
}

#[test]
fn sixteen_concurrent_first_runs_share_one_cache_entry() {
    let artifact = shared_artifact("black311", |out| {
        build(&py311().path, out, &["black", "-c", "black"]);
    });
    let root = fresh_dir("root-");
    let children: Vec<_> = (0..16)
        .map(|_| {
            run_artifact(&py311().path, &artifact, &root)
                .arg("--version")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for out in &outputs {
        assert!(
            out.status.success(),
            "a concurrent first run failed: {}",
            stderr(out)
        );
        assert_eq!(stdout(out), stdout(&outputs[0]));
    }
    let sites: Vec<_> = fs_err::read_dir(root.join("site")).unwrap().collect();
    assert_eq!(sites.len(), 1, "one content-addressed site dir");
    let leftovers: Vec<_> = fs_err::read_dir(root.join("tmp"))
        .map(std::iter::Iterator::collect::<Vec<_>>)
        .unwrap_or_default();
    assert!(
        leftovers.is_empty(),
        "temporary directories left behind: {leftovers:?}"
    );
}

#[test]
fn exit_codes_and_signals_pass_through() {
    let root = fresh_dir("root-");
    let out = interp(&web_bundle(), &root, "import sys; sys.exit(7)")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7));
    let out = interp(
        &web_bundle(),
        &root,
        "import os, signal; os.kill(os.getpid(), signal.SIGTERM)",
    )
    .output()
    .unwrap();
    assert_eq!(out.status.signal(), Some(15), "{}", stderr(&out));
}

#[test]
fn bootstrap_errors_are_one_line() {
    let mut cmd = run_artifact(&py311().path, &web_bundle(), &fresh_dir("root-"));
    cmd.env("PYZAP_ENTRY_POINT", "no_such_module:main");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("pyzap: error:") && err.contains("no_such_module"),
        "{err}"
    );
    assert!(!err.contains("Traceback"), "{err}");
}

#[test]
fn runtime_module_and_environment_describe_the_bundle() {
    let artifact = web_bundle();
    let out = run_ok(&mut interp(
        &artifact,
        &fresh_dir("root-"),
        "import os, pyzap_runtime as r; print(os.environ['PYZAP_ARTIFACT']); print(r.artifact); print(r.manifest()['entry_point']['script'])",
    ));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], artifact.to_str().unwrap());
    assert_eq!(lines[1], artifact.to_str().unwrap());
    assert_eq!(lines[2], "gunicorn");
}

#[test]
fn artifact_holds_no_build_machine_paths() {
    let data = fs_err::read(web_bundle()).unwrap();
    for needle in [
        wheelhouse().to_string_lossy().into_owned(),
        scratch().to_string_lossy().into_owned(),
    ] {
        assert!(
            !data.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "the artifact mentions {needle}"
        );
    }
}
