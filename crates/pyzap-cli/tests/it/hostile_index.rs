//! `pyzap build` against hostile indexes on 127.0.0.1 (security issue,
//! items 1 and 2): a digest that walks out of the cache writes nothing, and
//! a lying metadata file fails the build without changing what a later
//! build from an honest index produces, byte for byte.

use std::collections::BTreeMap;
use std::path::Path;

use pyzap_test_support::{files_below, IndexConfig, IndexServer, Route, RouteServer};

use crate::common::*;

const SIX: &str = "six-1.17.0-py2.py3-none-any.whl";

fn build_from(index: &str, cache: &Path, out: &Path) -> std::process::Output {
    pyzap()
        .env("PYZAP_CACHE_DIR", cache)
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .env_remove("PIP_FIND_LINKS")
        .env_remove("UV_INDEX_URL")
        .args(["build", "six", "-e", "six", "-i", index])
        .arg("--python")
        .arg(&py311().path)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn a_digest_that_walks_out_of_the_cache_writes_nothing() {
    let dir = fresh_dir("hostile-digest-");
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
    let out = build_from(&server.url("/simple/"), &cache, &dir.join("six.pyz"));
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for path in files_below(&dir) {
        assert!(
            path.starts_with(&cache),
            "written outside the cache: {}",
            path.display()
        );
    }
}

fn six_metadata() -> String {
    pyzap_test_support::zip_entry_text(
        &pyzap_test_support::wheelhouse().join(SIX),
        "six-1.17.0.dist-info/METADATA",
    )
}

#[test]
fn lying_metadata_fails_the_build_and_changes_no_later_build() {
    let dir = fresh_dir("hostile-metadata-");
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
            Route::html(format!(
                r#"<a href="{}">idna</a>"#,
                "/files/idna-3.20-py3-none-any.whl"
            )),
        ),
        (
            "/files/idna-3.20-py3-none-any.whl".to_string(),
            Route::file(fs_err::read(wheelhouse().join("idna-3.20-py3-none-any.whl")).unwrap()),
        ),
    ]));
    let out = build_from(&hostile.url("/simple/"), &cache, &dir.join("bad.pyz"));
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("differs from the METADATA inside the wheel"),
        "{err}"
    );
    assert!(!dir.join("bad.pyz").exists());

    let honest = IndexServer::start(IndexConfig::wheelhouse());
    let after = dir.join("after.pyz");
    let fresh = dir.join("fresh.pyz");
    let out = build_from(&honest.url(), &cache, &after);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = build_from(&honest.url(), &dir.join("fresh-cache"), &fresh);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        fs_err::read(&after).unwrap(),
        fs_err::read(&fresh).unwrap(),
        "the build after the lie differs from a fresh one"
    );
    let info = run_ok(pyzap().args(["info", "--json"]).arg(&after));
    assert!(!stdout(&info).contains("idna"), "{}", stdout(&info));
}
