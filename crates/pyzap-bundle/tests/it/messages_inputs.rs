//! The errors of the inputs users write — direct references, PEP 723
//! scripts, dependency groups — pinned as the report the `pyzap` command
//! prints (one snapshot per message). As in `messages.rs`, each is driven
//! through the real entry point; URLs are served on 127.0.0.1 or refused
//! before any request.

use std::collections::BTreeMap;
use std::path::Path;

use pyzap_bundle::LockOptions;
use pyzap_test_support::{wheelhouse, Route, RouteServer, WheelBuilder};

use crate::common::*;

const SIX: &str = "six-1.17.0-py2.py3-none-any.whl";

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

// Direct references.

#[test]
fn direct_reference_to_another_distribution() {
    let Some(py) = py311() else { return };
    let dir = test_dir("direct-reference-name");
    let tomli = wheelhouse().join("tomli-2.5.0-py3-none-any.whl");
    let input = format!("six @ {}", file_url(&tomli));
    assert_report!(bundle_err(&options(&py, &dir, &[&input])));
}

#[test]
fn direct_reference_to_nothing_usable() {
    let Some(py) = py311() else { return };
    let dir = test_dir("direct-reference-path");
    let input = format!("six @ {}", file_url(&dir.join("notes.txt")));
    assert_report!(bundle_err(&options(&py, &dir, &[&input])));
}

#[test]
fn direct_reference_to_a_mercurial_repository() {
    let Some(py) = py311() else { return };
    let dir = test_dir("direct-reference-hg");
    let input = "six @ hg+https://example.invalid/six";
    assert_report!(bundle_err(&options(&py, &dir, &[input])));
}

#[test]
fn direct_reference_to_a_page_that_is_not_an_archive() {
    let Some(py) = py311() else { return };
    let dir = test_dir("direct-reference-page");
    let input = "six @ https://example.invalid/download?id=3";
    assert_report!(bundle_err(&options(&py, &dir, &[input])));
}

#[test]
fn direct_reference_that_is_not_found() {
    let Some(py) = py311() else { return };
    let dir = test_dir("direct-reference-404");
    let server = RouteServer::start(BTreeMap::new());
    let input = format!("six @ {}", server.url(&format!("/files/{SIX}")));
    assert_report!(bundle_err(&options(&py, &dir, &[&input])));
}

#[test]
fn direct_reference_with_a_wrong_sha256() {
    let Some(py) = py311() else { return };
    let dir = test_dir("direct-reference-sha256");
    let path = format!("/files/{SIX}");
    let server = RouteServer::start(BTreeMap::from([(
        path.clone(),
        Route::file(fs_err::read(wheelhouse().join(SIX)).unwrap()),
    )]));
    let input = format!("six @ {}#sha256={}", server.url(&path), "0".repeat(64));
    assert_report!(bundle_err(&options(&py, &dir, &[&input])));
}

#[test]
fn two_dependencies_name_one_project_at_two_urls() {
    let Some(py) = py311() else { return };
    let dir = test_dir("direct-reference-conflict");
    let mut inputs = Vec::new();
    for (name, home) in [("first", "a"), ("second", "b")] {
        let lib_dir = dir.join(home);
        fs_err::create_dir(&lib_dir).unwrap();
        let lib = WheelBuilder::new("lib", "1.0")
            .file("lib.py", "")
            .build(&lib_dir);
        let wheel = WheelBuilder::new(name, "1.0")
            .file(&format!("{name}.py"), "")
            .requires(&format!("lib @ {}", file_url(&lib)))
            .build(&dir);
        inputs.push(wheel.display().to_string());
    }
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    assert_report!(bundle_err(&options(&py, &dir, &inputs)));
}

#[test]
fn lock_of_a_direct_reference_to_an_sdist() {
    let Some(py) = py311() else { return };
    let dir = test_dir("lock-direct-sdist");
    let input = format!(
        "six @ {}",
        file_url(&wheelhouse().join("six-1.17.0.tar.gz"))
    );
    let options = LockOptions {
        source: options(&py, &dir, &[&input]).source,
        output: dir.join("pylock.toml"),
        cache_dir: build_cache(),
        ..Default::default()
    };
    let err = pyzap_bundle::lock(&options, &pyzap_bundle::Silent).unwrap_err();
    assert!(!options.output.exists());
    assert_report!(err);
}

// PEP 723 scripts.

/// `tool.py` in `dir`, with `block` as its `# /// script` block.
fn script(dir: &Path, name: &str, block: &str) -> String {
    let path = dir.join(name);
    fs_err::write(&path, format!("{block}print('hello')\n")).unwrap();
    path.display().to_string()
}

#[test]
fn script_metadata_that_is_not_toml() {
    let Some(py) = py311() else { return };
    let dir = test_dir("script-not-toml");
    let tool = script(
        &dir,
        "tool.py",
        "# /// script\n# dependencies = ['six'\n# ///\n",
    );
    assert_report!(bundle_err(&options(&py, &dir, &[&tool])));
}

#[test]
fn script_for_another_python() {
    let Some(py) = py311() else { return };
    let dir = test_dir("script-python");
    let tool = script(
        &dir,
        "tool.py",
        "# /// script\n# requires-python = '>=3.12'\n# ///\n",
    );
    assert_report!(bundle_err(&options(&py, &dir, &[&tool])));
}

#[test]
fn two_scripts() {
    let Some(py) = py311() else { return };
    let dir = test_dir("script-twice");
    let one = script(&dir, "one.py", "");
    let two = script(&dir, "two.py", "");
    assert_report!(bundle_err(&options(&py, &dir, &[&one, &two])));
}

#[test]
fn script_and_a_src_main() {
    let Some(py) = py311() else { return };
    let dir = test_dir("script-and-src-main");
    let tool = script(&dir, "tool.py", "");
    let src = dir.join("src");
    fs_err::create_dir(&src).unwrap();
    fs_err::write(src.join("__main__.py"), "").unwrap();
    let mut options = options(&py, &dir, &[&tool]);
    options.src = vec![src];
    assert_report!(bundle_err(&options));
}

#[test]
fn script_in_a_requirements_file() {
    let Some(py) = py311() else { return };
    let dir = test_dir("script-in-requirements");
    let requirements = dir.join("requirements.txt");
    fs_err::write(&requirements, "six\ntool.py\n").unwrap();
    let mut options = options(&py, &dir, &[]);
    options.source.requirements = vec![requirements];
    assert_report!(bundle_err(&options));
}

// Dependency groups.

#[test]
fn group_without_a_pyproject() {
    let Some(py) = py311() else { return };
    let dir = test_dir("group-no-pyproject");
    let mut options = options(&py, &dir, &["six"]);
    options.source.groups = vec![format!("{}:dev", dir.join("pyproject.toml").display())];
    assert_report!(bundle_err(&options));
}

#[test]
fn group_that_is_not_there() {
    let Some(py) = py311() else { return };
    let dir = test_dir("group-missing");
    fs_err::write(
        dir.join("pyproject.toml"),
        "[project]\nname = 'app'\nversion = '1'\n\n[dependency-groups]\ndev = ['six']\ntest = []\n",
    )
    .unwrap();
    let mut options = options(&py, &dir, &[dir.to_str().unwrap()]);
    options.source.groups = vec!["server".into()];
    assert_report!(bundle_err(&options));
}

#[test]
fn groups_that_include_each_other() {
    let Some(py) = py311() else { return };
    let dir = test_dir("group-cycle");
    fs_err::write(
        dir.join("pyproject.toml"),
        "[dependency-groups]\ndev = [{include-group = 'test'}]\ntest = ['six', {include-group = 'dev'}]\n",
    )
    .unwrap();
    let mut options = options(&py, &dir, &["six"]);
    options.source.groups = vec![format!("{}:dev", dir.join("pyproject.toml").display())];
    assert_report!(bundle_err(&options));
}
