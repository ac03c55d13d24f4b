//! The errors of `--python` and `-o`, pinned as the report the `pyzap`
//! command prints: an interpreter that is not a Python, one too old, one
//! that never answers, and an output path that is a directory — each said
//! before any resolution or download.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use pyzap_bundle::BundleError;

use crate::common::*;

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    fs_err::write(&path, body).unwrap();
    fs_err::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn python_that_is_not_a_python() {
    let dir = test_dir("python-not-a-python");
    let fake = script(&dir, "python3", "#!/bin/sh\necho hello\n");
    assert_report!(bundle_err(&options(&fake, &dir, &["six"])));
}

#[test]
fn python_2_7() {
    let python27 = Path::new("/root/.pyenv/versions/2.7.18/bin/python");
    if !python27.exists() {
        pyzap_test_support::skip("no Python 2.7 under /root/.pyenv");
        return;
    }
    let dir = test_dir("python-2-7");
    assert_report!(bundle_err(&options(python27, &dir, &["six"])));
}

/// Built directly: a real probe would wait for the limit (60 s by default);
/// `pyzap-python`'s own tests kill a program at a short limit.
#[test]
fn python_that_never_answers() {
    assert_report!(BundleError::Python(pyzap_python::PythonError::Timeout {
        path: "/opt/hangs/python3".into(),
        seconds: 60,
    }));
}

#[test]
fn output_is_a_directory() {
    let Some(py) = py311() else { return };
    let dir = test_dir("output-is-a-directory");
    let mut options = options(&py, &dir, &["six"]);
    options.entry_point = Some("six".into());
    options.output = dir.clone();
    assert_report!(bundle_err(&options));
}

#[test]
fn missing_output_parents_are_made() {
    let Some(py) = py311() else { return };
    let dir = test_dir("output-parents");
    let mut options = options(&py, &dir, &["six"]);
    options.entry_point = Some("six".into());
    options.output = dir.join("new/dist/six.pyz");
    pyzap_bundle::bundle(&options, &pyzap_bundle::Silent).unwrap();
    assert!(options.output.is_file());
}
