//! `bundle` against hostile indexes on 127.0.0.1 (security issue, items 1
//! and 2), in process: a digest that walks out of the cache writes nothing,
//! and a lying metadata file fails the build without changing what a later
//! build from an honest index produces, byte for byte. Like the command,
//! the pipeline also reads pip's variables (`PIP_FIND_LINKS`, …) from the
//! environment.

use std::collections::BTreeMap;
use std::path::Path;

use pyzap_bundle::{BundleOptions, InfoFormat, SourceOptions};
use pyzap_test_support::{files_below, wheelhouse, IndexConfig, IndexServer, Route, RouteServer};

use crate::common::*;

const SIX: &str = "six-1.17.0-py2.py3-none-any.whl";

/// `pyzap build six -e six -i INDEX -o OUT` with the build cache `cache`.
fn build_from(py: &Path, index: &str, cache: &Path, out: &Path) -> pyzap_bundle::Result<()> {
    let options = BundleOptions {
        source: SourceOptions {
            inputs: vec!["six".into()],
            index_url: Some(index.into()),
            python: Some(py.display().to_string()),
            ..Default::default()
        },
        entry_point: Some("six".into()),
        output: out.to_path_buf(),
        cache_dir: cache.to_path_buf(),
        ..Default::default()
    };
    pyzap_bundle::bundle(&options, &pyzap_bundle::Silent)
}

#[test]
fn a_digest_that_walks_out_of_the_cache_writes_nothing() {
    let Some(py) = py311() else { return };
    let dir = test_dir("hostile-digest");
    let cache = dir.join("a/b/c/cache");
    let wheel = fs_err::read(wheelhouse().join(SIX)).unwrap();
    let server = RouteServer::start(BTreeMap::from([
        (
            "/simple/six/".to_string(),
            Route::html(format!(
                r#"<a href="/files/{SIX}#sha256=x/../../../../../escape/owned" data-dist-info-metadata="true">{SIX}</a>"#
            )),
        ),
        (format!("/files/{SIX}"), Route::file(wheel)),
        (
            format!("/files/{SIX}.metadata"),
            Route::file("Metadata-Version: 2.1\nName: six\nVersion: 1.17.0\n"),
        ),
    ]));
    let result = build_from(&py, &server.url("/simple/"), &cache, &dir.join("six.pyz"));
    assert!(result.is_err(), "a build from a digest that escapes");
    for path in files_below(&dir) {
        assert!(
            path.starts_with(&cache),
            "written outside the cache: {}",
            path.display()
        );
    }
}

fn six_metadata() -> String {
    pyzap_test_support::zip_entry_text(&wheelhouse().join(SIX), "six-1.17.0.dist-info/METADATA")
}

#[test]
fn lying_metadata_fails_the_build_and_changes_no_later_build() {
    let Some(py) = py311() else { return };
    let dir = test_dir("hostile-metadata");
    let cache = dir.join("cache");
    let wheel = fs_err::read(wheelhouse().join(SIX)).unwrap();
    let lie = six_metadata().replacen("Requires-Python", "Requires-Dist: idna\nRequires-Python", 1);
    let hostile = RouteServer::start(BTreeMap::from([
        (
            "/simple/six/".to_string(),
            Route::html(format!(
                r#"<a href="/files/{SIX}#sha256={}" data-dist-info-metadata="true">{SIX}</a>"#,
                pyzap_fs::sha256_hex(&wheel)
            )),
        ),
        (format!("/files/{SIX}"), Route::file(wheel)),
        (format!("/files/{SIX}.metadata"), Route::file(lie)),
        // The injected dependency is really there, so only the check stops it.
        (
            "/simple/idna/".to_string(),
            Route::html(r#"<a href="/files/idna-3.20-py3-none-any.whl">idna</a>"#),
        ),
        (
            "/files/idna-3.20-py3-none-any.whl".to_string(),
            Route::file(fs_err::read(wheelhouse().join("idna-3.20-py3-none-any.whl")).unwrap()),
        ),
    ]));
    let err = build_from(&py, &hostile.url("/simple/"), &cache, &dir.join("bad.pyz")).unwrap_err();
    let report = pyzap_cli::render(&err);
    assert!(
        report.contains("differs from the METADATA inside the wheel"),
        "{report}"
    );
    assert!(!dir.join("bad.pyz").exists());

    let honest = IndexServer::start(IndexConfig::wheelhouse());
    let after = dir.join("after.pyz");
    let fresh = dir.join("fresh.pyz");
    build_from(&py, &honest.url(), &cache, &after).unwrap();
    build_from(&py, &honest.url(), &dir.join("fresh-cache"), &fresh).unwrap();
    assert!(
        fs_err::read(&after).unwrap() == fs_err::read(&fresh).unwrap(),
        "the build after the lie differs from a fresh one"
    );
    let manifest = pyzap_bundle::info(&after, InfoFormat::Json).unwrap();
    assert!(!manifest.contains("idna"), "{manifest}");
}
