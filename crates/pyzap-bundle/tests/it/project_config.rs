//! `[tool.pyzap]`: a project that names its build options in its
//! pyproject.toml builds without flags; flags win over the table; a
//! misspelt key is an error naming the closest key.

use std::path::{Path, PathBuf};

use pyzap_bundle::{BundleOptions, SourceOptions};

use crate::common::*;

/// The echo example copied to `dir/echo`, with `table` as its [tool.pyzap].
fn project(dir: &Path, table: &str) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/echo-wsgi");
    let to = dir.join("echo");
    for entry in walk(&from) {
        let rel = entry.strip_prefix(&from).unwrap();
        let dest = to.join(rel);
        fs_err::create_dir_all(dest.parent().unwrap()).unwrap();
        fs_err::copy(&entry, &dest).unwrap();
    }
    let pyproject = to.join("pyproject.toml");
    let text = fs_err::read_to_string(&pyproject).unwrap();
    fs_err::write(&pyproject, format!("{text}\n[tool.pyzap]\n{table}")).unwrap();
    to
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs_err::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn table(python: &Path) -> String {
    format!(
        "output = \"dist/echo.pyz\"\nfind-links = {:?}\nno-index = true\npython = {:?}\nconsole-script = \"echo-wsgi\"\n",
        pyzap_test_support::wheelhouse().display().to_string(),
        python.display().to_string()
    )
}

fn bare(inputs: &[&str]) -> BundleOptions {
    BundleOptions {
        source: SourceOptions {
            inputs: inputs.iter().map(ToString::to_string).collect(),
            ..Default::default()
        },
        cache_dir: build_cache(),
        ..Default::default()
    }
}

#[test]
fn the_table_fills_what_the_flags_leave_unset() {
    let Some(py) = py311() else { return };
    let dir = test_dir("tool-config");
    let proj = project(&dir, &table(&py));
    let input = proj.display().to_string();
    pyzap_bundle::bundle(&bare(&[&input]), &pyzap_bundle::Silent).unwrap();
    let built = proj.join("dist/echo.pyz");
    let info = pyzap_artifact::read_artifact(&built).unwrap();
    assert_eq!(
        info.manifest.entry_point.script.as_deref(),
        Some("echo-wsgi")
    );

    // A flag wins over its key.
    let mut options = bare(&[&input]);
    options.output = dir.join("elsewhere.pyz");
    pyzap_bundle::bundle(&options, &pyzap_bundle::Silent).unwrap();
    assert!(dir.join("elsewhere.pyz").is_file());
}

#[test]
fn a_misspelt_key() {
    let dir = test_dir("tool-config-typo");
    let proj = project(&dir, "entry-pont = \"echo_wsgi:main\"\n");
    let input = proj.display().to_string();
    assert_report!(bundle_err(&bare(&[&input])));
}

#[test]
fn no_output_anywhere() {
    let dir = test_dir("tool-config-no-output");
    let proj = project(&dir, "console-script = \"echo-wsgi\"\n");
    let input = proj.display().to_string();
    assert_report!(bundle_err(&bare(&[&input])));
}

/// `standalone = true` without `python-dist` takes a CPython from pyzap's
/// table for the table's `python-version` and `platform`: here one whose
/// glibc is older than any build's, refused before anything is fetched.
#[test]
fn standalone_without_a_cpython() {
    let dir = test_dir("tool-config-standalone");
    let proj = project(
        &dir,
        "output = \"dist/echo\"\nconsole-script = \"echo-wsgi\"\nstandalone = true\n\
         python-version = [\"3.11\"]\nplatform = [\"manylinux2010_x86_64\"]\n",
    );
    let input = proj.display().to_string();
    assert_report!(bundle_err(&bare(&[&input])));
}
