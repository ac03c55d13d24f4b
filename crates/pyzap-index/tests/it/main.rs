//! The index client against a local index serving ../shared/wheelhouse:
//! JSON and HTML pages, metadata files or range requests, the cache and
//! revalidation, --offline, digests, credentials, errors and retries.

// Tests may unwrap: a failed unwrap is a failed test (clippy.toml's
// `allow-unwrap-in-tests` covers only `#[test]` functions, not helpers).
#![cfg_attr(test, allow(clippy::unwrap_used, reason = "tests may unwrap"))]

use std::sync::Arc;
use std::time::Duration;

use pyzap_index::http::{HttpOptions, UreqClient};
use pyzap_index::{FindLinksSource, IndexClient, IndexError, IndexOptions, NoReporter, Url};
use pyzap_spec::PackageName;
use pyzap_test_support::{IndexConfig, IndexServer, PageFormat};

mod connections;
mod download_url;
mod hostile;
mod html_pages;

fn client(server_url: &str, cache: &std::path::Path, offline: bool) -> IndexClient {
    client_with(server_url, cache, offline, &HttpOptions::default(), 3)
}

fn client_with(
    server_url: &str,
    cache: &std::path::Path,
    offline: bool,
    http: &HttpOptions,
    retries: u32,
) -> IndexClient {
    IndexClient::new(
        Arc::new(UreqClient::new(http)),
        IndexOptions {
            index_urls: vec![Url::parse(server_url).unwrap()],
            find_links: Vec::new(),
            cache_dir: cache.to_path_buf(),
            offline,
            retries,
        },
    )
    .unwrap()
}

/// A client over any index (or none) and find-links sources.
fn client_over(
    index: Option<&str>,
    find_links: Vec<pyzap_index::FindLinksSource>,
    cache: &std::path::Path,
    http: &HttpOptions,
    retries: u32,
) -> IndexClient {
    let options = IndexOptions {
        index_urls: index.map(|u| Url::parse(u).unwrap()).into_iter().collect(),
        find_links,
        cache_dir: cache.to_path_buf(),
        offline: false,
        retries,
    };
    IndexClient::new(Arc::new(UreqClient::new(http)), options).unwrap()
}

fn name(s: &str) -> PackageName {
    s.parse().unwrap()
}

fn wheel_requests(server: &IndexServer) -> (usize, usize, usize) {
    let reqs = server.requests();
    let full = reqs
        .iter()
        .filter(|r| r.path.ends_with(".whl") && r.range.is_none())
        .count();
    let ranged = reqs
        .iter()
        .filter(|r| r.path.ends_with(".whl") && r.range.is_some())
        .count();
    let meta = reqs
        .iter()
        .filter(|r| r.path.ends_with(".metadata"))
        .count();
    (full, ranged, meta)
}

#[test]
fn json_and_html_pages_list_the_same_files_with_digests() {
    for format in [PageFormat::Json, PageFormat::Html] {
        let server = IndexServer::start(IndexConfig {
            format,
            ..IndexConfig::wheelhouse()
        });
        let cache = tempfile::tempdir().unwrap();
        let c = client(&server.url(), cache.path(), false);
        let files = c.files(&name("Flask")).unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(
            names,
            [
                "flask-3.0.3-py3-none-any.whl",
                "flask-3.1.3-py3-none-any.whl"
            ],
            "{format:?}"
        );
        assert!(files
            .iter()
            .all(|f| f.sha256.as_deref().map(str::len) == Some(64)));
        assert!(
            files.iter().all(|f| f.requires_python.is_some()),
            "{format:?}"
        );
        assert!(c.files(&name("no-such-project")).unwrap().is_empty());
    }
}

#[test]
fn metadata_comes_from_metadata_files_without_touching_wheels() {
    let server = IndexServer::start(IndexConfig::wheelhouse());
    let cache = tempfile::tempdir().unwrap();
    let c = client(&server.url(), cache.path(), false);
    let files = c.files(&name("flask")).unwrap();
    let m = c.metadata(&files[1]).unwrap();
    assert_eq!(m.version.to_string(), "3.1.3");
    assert!(m
        .requires_dist
        .iter()
        .any(|r| r.name.as_ref() == "werkzeug"));
    assert_eq!(wheel_requests(&server), (0, 0, 1));
}

#[test]
fn metadata_falls_back_to_range_requests_then_to_downloads() {
    // Announced but missing metadata files (as on PyPI at times): ranges.
    let server = IndexServer::start(IndexConfig {
        metadata_files_missing: true,
        ..IndexConfig::wheelhouse()
    });
    let cache = tempfile::tempdir().unwrap();
    let c = client(&server.url(), cache.path(), false);
    let black = c.files(&name("black")).unwrap();
    let m = c.metadata(black.last().unwrap()).unwrap();
    assert_eq!(m.name.as_ref(), "black");
    let (full, ranged, meta) = wheel_requests(&server);
    assert_eq!((full, meta), (0, 1));
    assert!((1..=3).contains(&ranged), "{ranged} range requests");

    // No metadata files, no ranges: one full download, kept in the cache.
    let server = IndexServer::start(IndexConfig {
        metadata_files: false,
        ranges: false,
        format: PageFormat::Html,
        ..IndexConfig::wheelhouse()
    });
    let cache = tempfile::tempdir().unwrap();
    let c = client(&server.url(), cache.path(), false);
    let files = c.files(&name("six")).unwrap();
    let wheel = files.iter().find(|f| f.filename.ends_with(".whl")).unwrap();
    assert_eq!(c.metadata(wheel).unwrap().name.as_ref(), "six");
    server.clear_log();
    c.download(wheel, &NoReporter).unwrap();
    assert_eq!(
        wheel_requests(&server),
        (0, 0, 0),
        "the download was reused"
    );
}

#[test]
fn second_run_only_revalidates_and_offline_makes_no_request() {
    let server = IndexServer::start(IndexConfig::wheelhouse());
    let cache = tempfile::tempdir().unwrap();
    let run = |offline: bool| {
        let c = client(&server.url(), cache.path(), offline);
        let files = c.files(&name("click")).unwrap();
        let newest = files.last().unwrap();
        c.metadata(newest).unwrap();
        let path = c.download(newest, &NoReporter).unwrap();
        assert_eq!(
            pyzap_test_support::sha256_file(&path),
            newest.sha256.clone().unwrap()
        );
    };
    run(false);
    assert_eq!(server.requests().len(), 3);
    server.clear_log();
    run(false);
    let again = server.requests();
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0].status, 304);
    server.clear_log();
    run(true);
    assert!(server.requests().is_empty());

    let empty = tempfile::tempdir().unwrap();
    let c = client(&server.url(), empty.path(), true);
    let err = c.files(&name("click")).unwrap_err();
    assert!(matches!(err.kind(), IndexError::Offline(_)), "{err}");
}

#[test]
fn a_digest_mismatch_is_refused() {
    let server = IndexServer::start(IndexConfig::wheelhouse());
    let cache = tempfile::tempdir().unwrap();
    let c = client(&server.url(), cache.path(), false);
    let mut file = c.files(&name("six")).unwrap()[0].clone();
    file.sha256 = Some("0".repeat(64));
    let err = c.download(&file, &NoReporter).unwrap_err();
    assert!(
        err.to_string().contains("but the index promised 0000"),
        "{err}"
    );
}

#[test]
fn transient_errors_are_retried_and_dead_indexes_named() {
    let server = IndexServer::start(IndexConfig {
        fail_first: 2,
        ..IndexConfig::wheelhouse()
    });
    let cache = tempfile::tempdir().unwrap();
    let c = client(&server.url(), cache.path(), false);
    assert_eq!(c.files(&name("idna")).unwrap().len(), 2);

    let server = IndexServer::start(IndexConfig {
        fail_first: 100,
        ..IndexConfig::wheelhouse()
    });
    let c = client_with(
        &server.url(),
        cache.path(),
        false,
        &HttpOptions::default(),
        1,
    );
    let err = c.files(&name("idna")).unwrap_err().to_string();
    assert!(err.contains("/simple/idna/ answered HTTP 503"), "{err}");

    // A slow index times out with the URL in the error.
    let server = IndexServer::start(IndexConfig {
        delay: Some(Duration::from_secs(3)),
        ..IndexConfig::wheelhouse()
    });
    let quick = HttpOptions {
        connect_timeout: Duration::from_millis(500),
        response_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(500),
    };
    let c = client_with(&server.url(), cache.path(), false, &quick, 0);
    let err = c.files(&name("attrs")).unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "127.0.0.1:{}/simple/attrs/ is unreachable",
            server.port
        )),
        "{err}"
    );

    // Nothing listening at all.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = client_with(
        &format!("http://user:hunter2@127.0.0.1:{port}/simple/"),
        cache.path(),
        false,
        &HttpOptions::default(),
        0,
    );
    let err = c.files(&name("attrs")).unwrap_err();
    let text = format!("{err} {:?}", std::error::Error::source(&err));
    assert!(text.contains("is unreachable"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn credentials_from_the_url_reach_files_too() {
    let server = IndexServer::start(IndexConfig {
        auth: Some(("alice".into(), "s3cret".into())),
        ..IndexConfig::wheelhouse()
    });
    let cache = tempfile::tempdir().unwrap();
    let c = client(&server.url(), cache.path(), false);
    let err = c.files(&name("six")).unwrap_err().to_string();
    assert!(err.contains("HTTP 401"), "{err}");
    let c = client(
        &server.url_with_auth("alice", "s3cret"),
        cache.path(),
        false,
    );
    let files = c.files(&name("six")).unwrap();
    c.download(&files[0], &NoReporter).unwrap();
    c.metadata(&files[0]).unwrap();
}

#[test]
fn find_links_pages_and_directories() {
    let server = IndexServer::start(IndexConfig {
        format: PageFormat::Html,
        ..IndexConfig::wheelhouse()
    });
    let cache = tempfile::tempdir().unwrap();
    let c = IndexClient::new(
        Arc::new(UreqClient::new(&HttpOptions::default())),
        IndexOptions {
            index_urls: Vec::new(),
            find_links: vec![
                FindLinksSource::parse(&format!("{}six/", server.url())),
                FindLinksSource::parse(pyzap_test_support::wheelhouse().to_str().unwrap()),
            ],
            cache_dir: cache.path().to_path_buf(),
            offline: false,
            retries: 0,
        },
    )
    .unwrap();
    let six = c.files(&name("six")).unwrap();
    // Two from the directory, two from the page.
    assert_eq!(six.len(), 4);
    assert_eq!(six.iter().filter(|f| f.local_path().is_some()).count(), 2);
    assert_eq!(c.files(&name("idna")).unwrap().len(), 2);
}

/// A project given as a local file is never looked up on an index, so an
/// index cannot substitute a distribution of the same name.
#[test]
fn local_files_shadow_the_index_for_their_project() {
    let server = IndexServer::start(IndexConfig::wheelhouse());
    let cache = tempfile::tempdir().unwrap();
    let c = client(&server.url(), cache.path(), false);
    let local = pyzap_test_support::WheelBuilder::new("six", "0.0.1")
        .file("six.py", "LOCAL = True\n")
        .build(cache.path());
    c.add_file(&local).unwrap();
    let files = c.files(&name("six")).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].version.to_string(), "0.0.1");
    assert!(
        server.requests().iter().all(|r| !r.path.contains("/six/")),
        "{:?}",
        server.requests()
    );
}
