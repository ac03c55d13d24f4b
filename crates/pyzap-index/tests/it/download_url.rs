//! Files named by URL alone (the CPython archive of `--python-dist`):
//! fetched through the index client's retries and credentials, reported as
//! they arrive, checked against the digest their URL or user promises, and
//! found again in the cache with no server at all.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use pyzap_index::http::{HttpOptions, UreqClient};
use pyzap_index::{
    DownloadReporter, IndexClient, IndexError, IndexOptions, NoReporter, PromisedSha256, Url,
};
use pyzap_test_support::{files_below, Route, RouteServer};

const DIST: &str = "cpython-3.12.0-x86_64-unknown-linux-gnu-install_only.tar.gz";

/// A small `.tar.gz` laid out as python-build-standalone's archives are.
fn dist_archive() -> Vec<u8> {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let body = vec![b'#'; 300_000];
    let mut header = tar::Header::new_gnu();
    header.set_size(body.len() as u64);
    header.set_mode(0o755);
    tar.append_data(&mut header, "python/bin/python3.12", body.as_slice())
        .unwrap();
    tar.into_inner().unwrap().finish().unwrap()
}

fn client(cache: &Path, offline: bool, retries: u32) -> IndexClient {
    IndexClient::new(
        Arc::new(UreqClient::new(&HttpOptions::default())),
        IndexOptions {
            index_urls: Vec::new(),
            find_links: Vec::new(),
            cache_dir: cache.to_path_buf(),
            offline,
            retries,
        },
    )
    .unwrap()
}

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

fn flag(hex: &str) -> PromisedSha256 {
    PromisedSha256::new(hex, "--python-dist-sha256").unwrap()
}

/// Every call, in order, as `started NAME SIZE`, `progress`, `finished NAME`.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl DownloadReporter for Recorder {
    fn started(&self, filename: &str, size: Option<u64>) {
        let line = format!("started {filename} {size:?}");
        self.0.lock().unwrap().push(line);
    }
    fn progress(&self, _filename: &str, bytes: u64) {
        self.0.lock().unwrap().push(format!("progress {bytes}"));
    }
    fn finished(&self, filename: &str) {
        self.0.lock().unwrap().push(format!("finished {filename}"));
    }
}

/// (a) and (b): a 503 is retried as the index's pages are, progress is
/// reported, and the next client finds the file with the server gone,
/// by its URL alone or by the digest promised for it.
#[test]
fn a_failed_first_answer_is_retried_and_the_file_cached_for_the_next_build() {
    let archive = dist_archive();
    let digest = pyzap_fs::sha256_hex(&archive);
    let server = RouteServer::start(BTreeMap::from([(
        format!("/dist/{DIST}"),
        Route {
            fail_first: 1,
            ..Route::file(archive.clone())
        },
    )]));
    let dist_url = url(&server.url(&format!("/dist/{DIST}")));
    let cache = tempfile::tempdir().unwrap();
    let recorder = Recorder::default();
    let path = client(cache.path(), false, 3)
        .download_url(&dist_url, None, &recorder)
        .unwrap();
    assert_eq!(fs_err::read(&path).unwrap(), archive);
    assert_eq!(path.file_name().unwrap(), DIST);
    assert!(path.starts_with(cache.path()));
    assert_eq!(server.requests().len(), 2, "one 503, then the file");
    let calls = recorder.0.into_inner().unwrap();
    assert_eq!(
        calls.first().unwrap(),
        &format!("started {DIST} Some({})", archive.len())
    );
    assert_eq!(calls.last().unwrap(), &format!("finished {DIST}"));
    assert_eq!(
        calls.iter().rev().nth(1).unwrap(),
        &format!("progress {}", archive.len())
    );

    // Without retries the 503 is the answer.
    server.set(
        &format!("/dist/{DIST}"),
        Route {
            fail_first: 1,
            ..Route::file(archive.clone())
        },
    );
    let fresh = tempfile::tempdir().unwrap();
    let err = client(fresh.path(), false, 0)
        .download_url(&dist_url, None, &NoReporter)
        .unwrap_err();
    assert!(
        matches!(err, IndexError::Status { status: 503, .. }),
        "{err}"
    );

    drop(server);
    for offline in [false, true] {
        let c = client(cache.path(), offline, 3);
        assert_eq!(c.download_url(&dist_url, None, &NoReporter).unwrap(), path);
        // By digest, from any URL: the cache is content-addressed.
        let elsewhere = url(&format!("https://mirror.example/{DIST}"));
        let promised = flag(&digest.to_uppercase());
        let again = c.download_url(&elsewhere, Some(&promised), &NoReporter);
        assert_eq!(again.unwrap(), path);
    }
}

/// A cached copy that no longer hashes to its name is fetched again.
#[test]
fn a_damaged_cached_file_is_downloaded_again() {
    let archive = dist_archive();
    let server = RouteServer::start(BTreeMap::from([(
        format!("/{DIST}"),
        Route::file(archive.clone()),
    )]));
    let dist_url = url(&server.url(&format!("/{DIST}")));
    let cache = tempfile::tempdir().unwrap();
    let c = client(cache.path(), false, 0);
    let path = c.download_url(&dist_url, None, &NoReporter).unwrap();
    fs_err::write(&path, &archive[..archive.len() / 2]).unwrap();
    let again = client(cache.path(), false, 0)
        .download_url(&dist_url, None, &NoReporter)
        .unwrap();
    assert_eq!(again, path);
    assert_eq!(fs_err::read(&again).unwrap(), archive);
    assert_eq!(server.requests().len(), 2);
}

/// (c): a file that differs from the digest promised by the user or by the
/// URL's fragment is refused, names both digests and who promised, and
/// leaves nothing in the cache; two promises that disagree are refused
/// before any request.
#[test]
fn a_wrong_digest_is_refused_and_nothing_is_cached() {
    let archive = dist_archive();
    let actual = pyzap_fs::sha256_hex(&archive);
    let wrong = "0".repeat(64);
    let server = RouteServer::start(BTreeMap::from([(
        format!("/{DIST}"),
        Route::file(archive.clone()),
    )]));
    let cache = tempfile::tempdir().unwrap();
    let c = client(cache.path(), false, 0);
    let plain = url(&server.url(&format!("/{DIST}")));
    let err = c
        .download_url(&plain, Some(&flag(&wrong)), &NoReporter)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("hash mismatch for {plain}: sha256 is {actual}, but --python-dist-sha256 promised {wrong}")
    );
    let with_fragment = url(&format!("{plain}#sha256={wrong}"));
    let err = c
        .download_url(&with_fragment, None, &NoReporter)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("but its #sha256= fragment promised 0000"),
        "{err}"
    );
    assert!(
        files_below(cache.path())
            .iter()
            .all(|p| !p.to_string_lossy().contains("files-v1")),
        "{:?}",
        files_below(cache.path())
    );

    let before = server.requests().len();
    let err = c
        .download_url(&with_fragment, Some(&flag(&actual)), &NoReporter)
        .unwrap_err();
    assert!(matches!(err, IndexError::DigestConflict { .. }), "{err}");
    let bad = url(&format!("{plain}#sha256=abcd"));
    let err = c.download_url(&bad, None, &NoReporter).unwrap_err();
    assert!(matches!(err, IndexError::BadDigest(_)), "{err}");
    let err = c
        .download_url(&url(&server.url("/dist/")), None, &NoReporter)
        .unwrap_err();
    assert!(matches!(err, IndexError::NoFileName(_)), "{err}");
    assert_eq!(server.requests().len(), before);

    // The right digest, both ways, is accepted.
    let right = url(&format!("{plain}#sha256={actual}"));
    c.download_url(&right, Some(&flag(&actual)), &NoReporter)
        .unwrap();
}

/// (d): credentials in the file's URL go to its origin only: not to a
/// server it redirects to, nor to another port of the same host that the
/// same client asks later.
#[test]
fn credentials_go_to_the_files_origin_only() {
    let archive = dist_archive();
    let mirror = RouteServer::start(BTreeMap::from([
        (format!("/{DIST}"), Route::file(archive.clone())),
        (format!("/other/{DIST}"), Route::file(archive.clone())),
    ]));
    let origin = RouteServer::start(BTreeMap::from([
        (format!("/{DIST}"), Route::file(archive.clone())),
        (
            format!("/moved/{DIST}"),
            Route::redirect(&mirror.url(&format!("/{DIST}"))),
        ),
    ]));
    let cache = tempfile::tempdir().unwrap();
    let c = client(cache.path(), false, 0);
    let with_auth = |path: &str| {
        url(&format!(
            "http://alice:s3cret@127.0.0.1:{}{path}",
            origin.port
        ))
    };
    let first = c
        .download_url(&with_auth(&format!("/{DIST}")), None, &NoReporter)
        .unwrap();
    let moved = c
        .download_url(&with_auth(&format!("/moved/{DIST}")), None, &NoReporter)
        .unwrap();
    assert_eq!(fs_err::read(moved).unwrap(), fs_err::read(first).unwrap());
    // The same client, which now knows the credentials, on another port.
    let other = url(&mirror.url(&format!("/other/{DIST}")));
    c.download_url(&other, None, &NoReporter).unwrap();

    let basic = format!("Basic {}", data_encoding::BASE64.encode(b"alice:s3cret"));
    let seen = origin.requests();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen.iter()
            .all(|r| r.authorization.as_deref() == Some(basic.as_str())),
        "{seen:?}"
    );
    let seen = mirror.requests();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen.iter().all(|r| r.authorization.is_none()),
        "credentials left their origin: {seen:?}"
    );
}
