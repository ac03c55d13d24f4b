//! One connection pool per host, shared by parallel downloads (issue 12,
//! item B): a build's page requests and downloads all go through the one
//! HTTP client of its index client, whose pool keeps as many idle
//! connections per host as there are download threads, so downloads from
//! one host reuse connections instead of each opening its own.

use std::collections::BTreeMap;

use pyzap_index::http::HttpOptions;
use pyzap_index::{FindLinksSource, NoReporter, Url};
use pyzap_test_support::{KeepAliveServer, WheelBuilder};

/// `count` wheels listed on one find-links page, and their project names.
fn server_with_wheels(count: usize) -> (KeepAliveServer, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = BTreeMap::new();
    let mut names = Vec::new();
    let mut links = String::new();
    for i in 0..count {
        let name = format!("pkg{i}");
        let path = WheelBuilder::new(&name, "1.0")
            .file(&format!("pkg{i}/__init__.py"), "")
            .build(dir.path());
        let filename = path.file_name().unwrap().to_string_lossy().into_owned();
        links.push_str(&format!(r#"<a href="/files/{filename}">{filename}</a>"#));
        files.insert(format!("/files/{filename}"), fs_err::read(&path).unwrap());
        names.push(name);
    }
    files.insert("/links/".to_string(), links.into_bytes());
    (KeepAliveServer::start(files), names)
}

#[test]
fn parallel_downloads_from_one_host_share_connections() {
    // More downloads than threads, many times over: a connection handed
    // back to a pool that keeps too few is closed, and a new one opened.
    let (jobs, count) = (8, 40);
    let (server, names) = server_with_wheels(count);
    let cache = tempfile::tempdir().unwrap();
    let page = Url::parse(&server.url("/links/")).unwrap();
    let client = super::client_over(
        None,
        vec![FindLinksSource::Page(page)],
        cache.path(),
        &HttpOptions::default(),
        0,
    );
    let mut files = Vec::new();
    for name in &names {
        files.extend(
            client
                .files(&name.parse().unwrap())
                .unwrap()
                .iter()
                .cloned(),
        );
    }
    assert_eq!(files.len(), count);
    for result in client.download_all(&files, jobs, &NoReporter) {
        result.unwrap();
    }
    assert_eq!(server.requests(), count + 1, "the page and each file once");
    assert!(
        server.connections() <= jobs,
        "{} requests came on {} connections, not at most {jobs} (one per download thread)",
        server.requests(),
        server.connections()
    );
}
