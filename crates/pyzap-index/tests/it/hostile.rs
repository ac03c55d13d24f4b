//! Regression tests that feed the index client a hostile or broken server
//! (security issue, items 1, 2, 3, 5 and 6): digests that try to leave the
//! cache, lying metadata, credentials for another origin, error pages
//! served as files, silent and stalling servers, oversized pages.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use pyzap_index::http::HttpOptions;
use pyzap_index::{DistFile, FindLinksSource, IndexClient, IndexError, NoReporter};
use pyzap_test_support::{files_below, Route, RouteServer, SilentServer};

const SIX: &str = "six-1.17.0-py2.py3-none-any.whl";

fn six_wheel() -> Vec<u8> {
    fs_err::read(pyzap_test_support::wheelhouse().join(SIX)).unwrap()
}

fn six_metadata() -> String {
    pyzap_test_support::zip_entry_text(
        &pyzap_test_support::wheelhouse().join(SIX),
        "six-1.17.0.dist-info/METADATA",
    )
}

fn sha256(data: &[u8]) -> String {
    pyzap_fs::sha256_hex(data)
}

fn quick() -> HttpOptions {
    HttpOptions {
        connect_timeout: Duration::from_secs(1),
        response_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(600),
    }
}

fn client_for(index: &str, find_links: Vec<FindLinksSource>, cache: &Path) -> IndexClient {
    super::client_over(Some(index), find_links, cache, &HttpOptions::default(), 1)
}

fn six() -> pyzap_spec::PackageName {
    "six".parse().unwrap()
}

/// Item 1: a `#sha256=` fragment, a JSON `hashes.sha256`, a metadata digest
/// or a file name that would make a cache path leave the cache drops the
/// file; nothing is written anywhere but the cache.
#[test]
fn digest_with_path_traversal_never_leaves_the_cache() {
    let root = tempfile::tempdir().unwrap();
    let cache = root.path().join("a/b/c/cache");
    // From `cache/metadata-v1/sha256-…` or `cache/files-v1/…`, four levels
    // up is `root/a/b`: inside the test's directory, outside the cache.
    let escape = "x/../../../../escape/owned";
    let wheel = six_wheel();
    let good = sha256(&wheel);
    let pages: Vec<(&str, Route)> = vec![
        (
            "html fragment",
            Route::html(format!(
                r#"<a href="/files/{SIX}#sha256={escape}" data-dist-info-metadata="true">six</a>"#
            )),
        ),
        (
            "html metadata digest",
            Route::html(format!(
                r#"<a href="/files/{SIX}#sha256={good}" data-core-metadata="sha256={escape}">six</a>"#
            )),
        ),
        (
            "short digest",
            Route::html(format!(r#"<a href="/files/{SIX}#sha256=abcd">six</a>"#)),
        ),
        (
            "json hashes",
            Route::json(format!(
                r#"{{"meta":{{"api-version":"1.0"}},"name":"six","files":[{{"filename":"{SIX}","url":"/files/{SIX}","hashes":{{"sha256":"{escape}"}},"core-metadata":true}}]}}"#
            )),
        ),
        (
            "json metadata digest",
            Route::json(format!(
                r#"{{"meta":{{"api-version":"1.0"}},"name":"six","files":[{{"filename":"{SIX}","url":"/files/{SIX}","hashes":{{"sha256":"{good}"}},"core-metadata":{{"sha256":"{escape}"}}}}]}}"#
            )),
        ),
        (
            "json file name",
            Route::json(format!(
                r#"{{"meta":{{"api-version":"1.0"}},"name":"six","files":[{{"filename":"../../../../escape/{SIX}","url":"/files/{SIX}","hashes":{{}}}}]}}"#
            )),
        ),
    ];
    for (what, page) in pages {
        let mut routes = BTreeMap::new();
        routes.insert("/simple/six/".to_string(), page);
        routes.insert(format!("/files/{SIX}"), Route::file(wheel.clone()));
        routes.insert(
            format!("/files/{SIX}.metadata"),
            Route::file("Metadata-Version: 2.1\nName: six\nVersion: 1.17.0\n"),
        );
        let server = RouteServer::start(routes);
        let c = client_for(&server.url("/simple/"), Vec::new(), &cache);
        let files = c.files(&six()).unwrap();
        for f in files.iter() {
            // Whatever survives must be safe to fetch.
            let _ = c.metadata(f);
            let _ = c.download(f, &NoReporter);
        }
        assert!(
            files.iter().all(|f| !f.filename.contains('/')),
            "{what}: {files:?}"
        );
        if what != "json file name" {
            assert!(files.is_empty(), "{what}: the file should be dropped");
        }
        for path in files_below(root.path()) {
            assert!(path.starts_with(&cache), "{what}: wrote {}", path.display());
        }
        assert!(!Path::new("/escape").exists(), "{what}");
    }
}

fn lying_index(metadata: &str, digest: bool) -> RouteServer {
    let wheel = six_wheel();
    let core = if digest {
        format!(r#"{{"sha256":"{}"}}"#, sha256(metadata.as_bytes()))
    } else {
        "true".to_string()
    };
    let mut routes = BTreeMap::new();
    routes.insert(
        "/simple/six/".to_string(),
        Route::json(format!(
            r#"{{"meta":{{"api-version":"1.0"}},"name":"six","files":[{{"filename":"{SIX}","url":"/files/{SIX}","hashes":{{"sha256":"{}"}},"core-metadata":{core}}}]}}"#,
            sha256(&wheel)
        )),
    );
    routes.insert(format!("/files/{SIX}"), Route::file(wheel));
    routes.insert(format!("/files/{SIX}.metadata"), Route::file(metadata));
    RouteServer::start(routes)
}

fn requires(c: &IndexClient, f: &DistFile) -> Vec<String> {
    c.metadata(f)
        .unwrap()
        .requires_dist
        .iter()
        .map(|r| r.name.to_string())
        .collect()
}

/// Item 2: a `.metadata` file that adds a `Requires-Dist` is caught when
/// the wheel arrives, and never reaches a build from another index, or a
/// later build from the same one; a garbage one is never cached.
#[test]
fn lying_metadata_is_caught_and_poisons_nothing() {
    let real = six_metadata();
    let lie = real.replacen(
        "Requires-Python",
        "Requires-Dist: injected\nRequires-Python",
        1,
    );
    assert_ne!(real, lie);
    for digest in [false, true] {
        let cache = tempfile::tempdir().unwrap();
        let hostile = lying_index(&lie, digest);
        let c = client_for(&hostile.url("/simple/"), Vec::new(), cache.path());
        let files = c.files(&six()).unwrap();
        assert_eq!(requires(&c, &files[0]), ["injected"]);
        let err = c.download(&files[0], &NoReporter).unwrap_err();
        assert!(
            matches!(err, IndexError::MetadataMismatch { .. }),
            "digest={digest}: {err}"
        );
        assert!(err
            .to_string()
            .contains("differs from the METADATA inside the wheel"));

        // The same cache, an honest index: nothing injected.
        let honest = lying_index(&real, digest);
        let c = client_for(&honest.url("/simple/"), Vec::new(), cache.path());
        let files = c.files(&six()).unwrap();
        assert!(requires(&c, &files[0]).is_empty());
        c.download(&files[0], &NoReporter).unwrap();

        // The hostile index again: the lie was forgotten when it was caught,
        // so it is fetched again (and caught again), never read from the cache.
        let c = client_for(&hostile.url("/simple/"), Vec::new(), cache.path());
        let files = c.files(&six()).unwrap();
        let before = hostile.requests().len();
        assert_eq!(requires(&c, &files[0]), ["injected"]);
        assert!(hostile.requests().len() > before);
    }

    // Garbage metadata: an error now, and not cached for the next build.
    let cache = tempfile::tempdir().unwrap();
    let server = lying_index("this is not core metadata\n", false);
    let c = client_for(&server.url("/simple/"), Vec::new(), cache.path());
    let files = c.files(&six()).unwrap();
    assert!(c.metadata(&files[0]).is_err());
    server.set(&format!("/files/{SIX}.metadata"), Route::file(real.clone()));
    let c = client_for(&server.url("/simple/"), Vec::new(), cache.path());
    let files = c.files(&six()).unwrap();
    assert_eq!(c.metadata(&files[0]).unwrap().name.to_string(), "six");
}

/// Item 3: credentials given for one origin (scheme, host, port) are never
/// sent to another port of the same host.
#[test]
fn credentials_stay_with_their_origin() {
    let wheel = six_wheel();
    let other = RouteServer::start(BTreeMap::from([
        (format!("/files/{SIX}"), Route::file(wheel.clone())),
        (
            "/links/".to_string(),
            Route::html(format!(r#"<a href="/files/{SIX}">six</a>"#)),
        ),
    ]));
    let index = RouteServer::start(BTreeMap::from([(
        "/simple/six/".to_string(),
        Route::html(format!(
            r#"<a href="{}#sha256={}">six</a>"#,
            other.url(&format!("/files/{SIX}")),
            sha256(&wheel)
        )),
    )]));
    let cache = tempfile::tempdir().unwrap();
    let index_url = format!("http://alice:s3cret@127.0.0.1:{}/simple/", index.port);
    let c = client_for(
        &index_url,
        vec![FindLinksSource::parse(&other.url("/links/"))],
        cache.path(),
    );
    let files = c.files(&six()).unwrap();
    assert_eq!(files.len(), 2);
    for f in files.iter() {
        c.download(f, &NoReporter).unwrap();
    }
    assert!(index.requests().iter().all(|r| r
        .authorization
        .as_deref()
        .is_some_and(|a| a.starts_with("Basic "))));
    let seen = other.requests();
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(
        seen.iter().all(|r| r.authorization.is_none()),
        "credentials reached another port: {seen:?}"
    );
}

/// Item 5: on an index without digests, an error page served with 200 as
/// the wheel is refused and not cached; the next build gets the real file.
#[test]
fn an_error_page_served_as_a_file_is_never_cached() {
    let wheel = six_wheel();
    let server = RouteServer::start(BTreeMap::from([
        (
            "/simple/six/".to_string(),
            Route::html(format!(r#"<a href="/files/{SIX}">six</a>"#)),
        ),
        (
            format!("/files/{SIX}"),
            Route::html("<html><body>502 Bad Gateway (proxy)</body></html>"),
        ),
    ]));
    let cache = tempfile::tempdir().unwrap();
    let c = client_for(&server.url("/simple/"), Vec::new(), cache.path());
    let files = c.files(&six()).unwrap();
    let err = c.download(&files[0], &NoReporter).unwrap_err();
    assert!(
        err.to_string()
            .contains("is not a valid wheel (zip archive)"),
        "{err}"
    );
    server.set(&format!("/files/{SIX}"), Route::file(wheel.clone()));
    let c = client_for(&server.url("/simple/"), Vec::new(), cache.path());
    let files = c.files(&six()).unwrap();
    let path = c.download(&files[0], &NoReporter).unwrap();
    assert_eq!(fs_err::read(path).unwrap(), wheel);

    // A page that does not parse is not cached either.
    server.set("/simple/six/", Route::json("{ not json"));
    let c = client_for(&server.url("/simple/"), Vec::new(), cache.path());
    assert!(c.files(&six()).is_err());
    server.set(
        "/simple/six/",
        Route::html(format!(r#"<a href="/files/{SIX}">six</a>"#)),
    );
    let c = client_for(&server.url("/simple/"), Vec::new(), cache.path());
    assert_eq!(c.files(&six()).unwrap().len(), 1);
}

/// Item 6: a server that accepts and never answers fails after two
/// attempts (a silent server is retried once), says so, and is not asked
/// again later in the run; a body that stalls fails after the idle timeout
/// whatever the whole-body bound; an oversized page is refused.
#[test]
fn silent_and_stalling_servers_end_within_the_timeout() {
    let cache = tempfile::tempdir().unwrap();
    let silent = SilentServer::start();
    let c = super::client_over(
        Some(&silent.url("/simple/")),
        Vec::new(),
        cache.path(),
        &quick(),
        3,
    );
    let started = Instant::now();
    let err = c.files(&six()).unwrap_err();
    let first = started.elapsed();
    let text = format!("{err}");
    assert!(text.contains("is unreachable (2 attempts)"), "{text}");
    // Two 1-second timeouts and one back-off; the old client took minutes.
    assert!(first < Duration::from_secs(20), "{first:?}");
    let again = Instant::now();
    assert!(c.files(&six()).is_err());
    assert!(again.elapsed() < Duration::from_millis(500));

    let wheel = six_wheel();
    let server = RouteServer::start(BTreeMap::from([
        (
            "/simple/six/".to_string(),
            Route::html(format!(r#"<a href="/files/{SIX}">six</a>"#)),
        ),
        (
            format!("/files/{SIX}"),
            Route {
                stall_after: Some(1000),
                ..Route::file(wheel)
            },
        ),
    ]));
    let c = super::client_over(
        Some(&server.url("/simple/")),
        Vec::new(),
        cache.path(),
        &quick(),
        0,
    );
    let files = c.files(&six()).unwrap();
    let started = Instant::now();
    let err = c.download(&files[0], &NoReporter).unwrap_err();
    assert!(err.to_string().contains("sent nothing for 1.0 s"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20));

    let huge = vec![b' '; 64 * 1024 * 1024 + 1];
    server.set("/simple/six/", Route::html(huge));
    let cache = tempfile::tempdir().unwrap();
    // Generous timeouts here: on a loaded machine, 64 MiB can pause for
    // more than the quick second, and the cap is what is being tested.
    let patient = HttpOptions {
        response_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(30),
        ..quick()
    };
    let c = super::client_over(
        Some(&server.url("/simple/")),
        Vec::new(),
        cache.path(),
        &patient,
        0,
    );
    let err = c.files(&six()).unwrap_err();
    assert!(err.to_string().contains("larger than 64 MiB"), "{err}");
    assert!(files_below(cache.path()).is_empty());
}

/// Item 10: an entry of the cache that is empty or cut short (a disk error,
/// a power cut before the data reached the disk) is never trusted by its
/// name: metadata, pages and files are fetched again.
#[test]
fn damaged_cache_entries_are_fetched_again() {
    let wheel = six_wheel();
    let digest = sha256(&wheel);
    let server = RouteServer::start(BTreeMap::from([
        (
            "/simple/six/".to_string(),
            Route::html(format!(
                r#"<a href="/files/{SIX}#sha256={digest}" data-core-metadata="sha256={}">six</a>"#,
                sha256(six_metadata().as_bytes())
            )),
        ),
        (format!("/files/{SIX}"), Route::file(wheel.clone())),
        (
            format!("/files/{SIX}.metadata"),
            Route::file(six_metadata()),
        ),
    ]));
    let cache = tempfile::tempdir().unwrap();
    let c = client_for(&server.url("/simple/"), Vec::new(), cache.path());
    let files = c.files(&six()).unwrap();
    c.metadata(&files[0]).unwrap();
    let path = c.download(&files[0], &NoReporter).unwrap();
    // Every cache entry written so far, emptied or cut in half.
    let entries = files_below(cache.path());
    assert!(entries.len() >= 3, "{entries:?}");
    for (i, entry) in entries.iter().enumerate() {
        let data = fs_err::read(entry).unwrap();
        let keep = if i % 2 == 0 { 0 } else { data.len() / 2 };
        fs_err::write(entry, &data[..keep]).unwrap();
    }
    let c = client_for(&server.url("/simple/"), Vec::new(), cache.path());
    let files = c.files(&six()).unwrap();
    assert_eq!(c.metadata(&files[0]).unwrap().name.to_string(), "six");
    let again = c.download(&files[0], &NoReporter).unwrap();
    assert_eq!(again, path);
    assert_eq!(fs_err::read(&again).unwrap(), wheel);
}
