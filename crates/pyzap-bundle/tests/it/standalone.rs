//! `--python-dist` given as a URL, through a whole build: the archive comes
//! through the index client (a 503 is retried, credentials go with it,
//! progress is reported), and the next build takes it from the build cache
//! with the server gone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use pyzap_bundle::{BundleOptions, DownloadReporter, Reporter, StandaloneOptions};
use pyzap_test_support::{python_dist, Route, RouteServer};

const DIST: &str = "cpython-3.11.2-x86_64-unknown-linux-gnu-install_only.tar.gz";

/// Every report of a build, one line each.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Recorder {
    fn push(&self, line: String) {
        self.0.lock().unwrap().push(line);
    }
}

impl DownloadReporter for Recorder {
    fn started(&self, filename: &str, size: Option<u64>) {
        self.push(format!("started {filename} {size:?}"));
    }
    fn finished(&self, filename: &str) {
        self.push(format!("finished {filename}"));
    }
}

impl Reporter for Recorder {
    fn step(&self, message: &str) {
        self.push(format!("step {message}"));
    }
    fn info(&self, message: &str) {
        self.push(format!("info {message}"));
    }
}

/// A copy of this test binary (an ELF of this machine) as the launcher
/// stub, which a build only copies. Read through `/proc/self/exe`: a
/// rebuild of the test binary while it runs replaces the file on disk.
fn launcher_stand_in(dir: &Path) -> PathBuf {
    let stub = dir.join("pyzap-launcher");
    fs_err::copy("/proc/self/exe", &stub).unwrap();
    stub
}

/// `pyzap build six -e six --no-index -f WHEELHOUSE --no-compile
/// --standalone --python-dist URL --launcher STUB -o OUT`.
fn options(url: &str, stub: &Path, cache: &Path, output: &Path) -> BundleOptions {
    crate::common::six_standalone(
        output.to_path_buf(),
        cache.to_path_buf(),
        StandaloneOptions {
            python_dist: url.to_string(),
            launcher: Some(stub.to_path_buf()),
            ..StandaloneOptions::default()
        },
    )
}

#[test]
fn a_python_dist_url_is_retried_then_taken_from_the_cache_with_the_server_gone() {
    let archive = fs_err::read(python_dist()).unwrap();
    let server = RouteServer::start(BTreeMap::from([(
        format!("/dist/{DIST}"),
        Route {
            fail_first: 1,
            ..Route::file(archive.clone())
        },
    )]));
    let url = format!("http://alice:s3cret@127.0.0.1:{}/dist/{DIST}", server.port);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let stub = launcher_stand_in(dir.path());

    let first = Recorder::default();
    let out_first = dir.path().join("first");
    pyzap_bundle::bundle(&options(&url, &stub, &cache, &out_first), &first).unwrap();
    let seen = server.requests();
    assert_eq!(seen.len(), 2, "a 503, then the archive: {seen:?}");
    assert!(
        seen.iter().all(|r| r
            .authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("Basic "))),
        "{seen:?}"
    );
    let first = first.0.into_inner().unwrap();
    // The size is unknown here: the server sends large bodies chunked.
    let started = format!("started {DIST} ");
    assert!(first.iter().any(|l| l.starts_with(&started)), "{first:#?}");
    assert!(first.contains(&format!("finished {DIST}")), "{first:#?}");
    assert!(first.iter().all(|l| !l.contains("s3cret")), "{first:#?}");

    drop(server);
    let second = Recorder::default();
    let out_second = dir.path().join("second");
    pyzap_bundle::bundle(&options(&url, &stub, &cache, &out_second), &second).unwrap();
    let second = second.0.into_inner().unwrap();
    assert!(
        second.iter().all(|l| !l.starts_with("started")),
        "{second:#?}"
    );
    assert!(
        fs_err::read(&out_first).unwrap() == fs_err::read(&out_second).unwrap(),
        "the cached archive built another executable"
    );
}
