//! `pyzap build` against a package index on 127.0.0.1 (serving the shared
//! wheelhouse): the headline command, a warm rebuild that only
//! revalidates, and `--offline`. (A dead index named in the error: in
//! process, in `pyzap-bundle`'s `tests/it/messages.rs`.)

use pyzap_test_support::{IndexConfig, IndexServer, PageFormat};

use crate::common::*;

#[test]
fn builds_flask_from_an_index_then_rebuilds_from_the_cache() {
    let server = IndexServer::start(IndexConfig {
        format: PageFormat::Html,
        metadata_files: false,
        ..IndexConfig::wheelhouse()
    });
    let py = py311();
    let dir = fresh_dir("index-flask-");
    let cache = dir.join("cache");
    let build = |offline: bool| {
        let artifact = dir.join("flask.pyz");
        let mut cmd = pyzap();
        cmd.env("PYZAP_CACHE_DIR", &cache)
            .env_remove("PIP_INDEX_URL")
            .env_remove("PIP_EXTRA_INDEX_URL")
            .env_remove("PIP_FIND_LINKS")
            .env_remove("UV_INDEX_URL")
            .args(["build", "flask", "-c", "flask", "-i", &server.url()])
            .arg("--python")
            .arg(&py.path)
            .arg("-o")
            .arg(&artifact);
        if offline {
            cmd.arg("--offline");
        }
        run_ok(&mut cmd);
        artifact
    };
    let artifact = build(false);
    let out = run_ok(run_artifact(&py.path, &artifact, &dir.join("root")).arg("--version"));
    assert!(stdout(&out).contains("Flask 3.1.3"), "{}", stdout(&out));
    let first = server.requests();
    assert!(first.iter().any(|r| r.path.ends_with(".whl")));

    server.clear_log();
    build(false);
    let warm = server.requests();
    assert!(
        warm.iter()
            .all(|r| r.path.starts_with("/simple/") && r.status == 304),
        "a warm build only revalidates pages: {warm:?}"
    );

    server.clear_log();
    build(true);
    assert!(server.requests().is_empty(), "--offline made requests");
}
