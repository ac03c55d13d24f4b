//! A standalone build without `--python-dist`: the CPython comes from a
//! table of python-build-standalone builds (here a test table naming
//! ../shared/python-dist's archive), fetched from a mirror on 127.0.0.1,
//! checked against the table's sha256; with `--platform` the target is
//! that platform. The errors are pinned as the report `pyzap` prints.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use pyzap_bundle::{BundleOptions, DownloadReporter, PythonSources, Reporter, StandaloneOptions};
use pyzap_test_support::{
    python_dist, python_dist_mirror, python_dist_mirror_path, python_dist_table, RouteServer,
};

use crate::common::*;

/// `pyzap build six -e six --no-index -f WHEELHOUSE --no-compile
/// --standalone --python-version VERSION [--platform PLATFORM]`, the
/// CPython from `table` on `mirror`, no uv directory, a cache of its own.
fn options(
    dir: &Path,
    table: &Path,
    mirror: &str,
    version: &str,
    platform: Option<&str>,
) -> BundleOptions {
    BundleOptions {
        python_versions: vec![version.into()],
        platforms: platform.map(String::from).into_iter().collect(),
        ..six_standalone(
            dir.join("six"),
            dir.join("cache"),
            StandaloneOptions {
                python_sources: Some(PythonSources {
                    mirror: Some(mirror.to_string()),
                    table: Some(table.to_path_buf()),
                    uv_dir: None,
                }),
                ..StandaloneOptions::default()
            },
        )
    }
}

fn fixture_sha256() -> String {
    pyzap_test_support::sha256_file(&python_dist())
}

/// Every `step` and `info` line of a build.
#[derive(Default)]
struct Infos(Mutex<Vec<String>>);

impl DownloadReporter for Infos {}

impl Reporter for Infos {
    fn step(&self, message: &str) {
        self.0.lock().unwrap().push(format!("step {message}"));
    }
    fn info(&self, message: &str) {
        self.0.lock().unwrap().push(message.to_string());
    }
}

/// A file (mode 0755) holding only an aarch64 ELF header: all that the
/// architecture and glibc checks read.
fn aarch64_elf(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
    elf.resize(18, 0);
    elf.extend_from_slice(&0xb7u16.to_le_bytes());
    elf.resize(64, 0);
    fs_err::write(path, elf).unwrap();
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_cross_standalone_build_takes_the_table_s_cpython_for_the_platform() {
    let dir = test_dir("pd-cross");
    let table = python_dist_table(&dir, "3.11.2", "2.17", &fixture_sha256());
    let server = python_dist_mirror();
    let options = options(
        &dir,
        &table,
        &server.url("/pbs"),
        "3.11",
        Some("manylinux_2_36_x86_64"),
    );
    let infos = Infos::default();
    pyzap_bundle::bundle(&options, &infos).unwrap();
    let infos = infos.0.into_inner().unwrap();
    let url = server.url(&python_dist_mirror_path());
    assert!(
        infos.contains(&format!("CPython 3.11.2 from {url}")),
        "{infos:#?}"
    );
    assert_eq!(server.requests().len(), 1);
    let info = pyzap_bundle::info(&options.output, pyzap_bundle::InfoFormat::Json).unwrap();
    assert!(
        info.contains("\"platform\": \"manylinux_2_36_x86_64\""),
        "{info}"
    );
    assert!(
        info.contains("\"python_full_version\": \"3.11.2\""),
        "{info}"
    );
}

#[test]
fn a_platform_older_than_the_cpython_s_glibc_is_refused() {
    let dir = test_dir("pd-glibc-elf");
    // The table promises 2.17, but the fixture is Debian 12's CPython: its
    // binary says what it needs, and the build reads it.
    let table = python_dist_table(&dir, "3.11.2", "2.17", &fixture_sha256());
    let server = python_dist_mirror();
    let options = options(
        &dir,
        &table,
        &server.url("/pbs"),
        "3.11",
        Some("manylinux2014_x86_64"),
    );
    assert_report!(bundle_err(&options));
}

#[test]
fn a_platform_older_than_the_table_s_glibc_floor_is_refused() {
    let dir = test_dir("pd-glibc-table");
    let table = python_dist_table(&dir, "3.11.2", "2.17", &fixture_sha256());
    let server = python_dist_mirror();
    let options = options(
        &dir,
        &table,
        &server.url("/pbs"),
        "3.11",
        Some("manylinux2010_x86_64"),
    );
    assert_report!(bundle_err(&options));
    assert!(server.requests().is_empty(), "refused before any download");
}

#[test]
fn python_download_with_another_digest_than_the_table_s() {
    let dir = test_dir("pd-hash");
    let table = python_dist_table(&dir, "3.11.2", "2.17", &"0".repeat(64));
    let server = python_dist_mirror();
    let options = options(&dir, &table, &server.url("/pbs"), "3.11", None);
    assert_report!(bundle_err(&options));
}

#[test]
fn python_download_the_mirror_lacks() {
    let dir = test_dir("pd-404");
    let table = python_dist_table(&dir, "3.11.2", "2.17", &fixture_sha256());
    let server = RouteServer::start(BTreeMap::new());
    let options = options(&dir, &table, &server.url("/pbs"), "3.11", None);
    assert_report!(bundle_err(&options));
}

#[test]
fn no_python_download_for_the_version() {
    let dir = test_dir("pd-version");
    let table = python_dist_table(&dir, "3.11.2", "2.17", &fixture_sha256());
    let options = options(&dir, &table, "http://127.0.0.1:9/pbs", "3.9", None);
    assert_report!(bundle_err(&options));
}

#[test]
fn python_download_table_that_is_malformed() {
    let dir = test_dir("pd-table");
    let table = python_dist_table(&dir, "3.11", "2.17", &fixture_sha256());
    let options = options(&dir, &table, "http://127.0.0.1:9/pbs", "3.11", None);
    assert_report!(bundle_err(&options));
}

#[test]
fn python_mirror_that_is_not_a_url() {
    let dir = test_dir("pd-mirror-url");
    let table = python_dist_table(&dir, "3.11.2", "2.17", &fixture_sha256());
    let options = options(&dir, &table, "mirror.example/pbs", "3.11", None);
    assert_report!(bundle_err(&options));
}

/// `--platform manylinux_2_17_aarch64` on this x86_64 machine: the CPython
/// is uv's aarch64 one (no request to the mirror; the table has no aarch64
/// build at all), which cannot run here, so the target is planned from its
/// version and this machine's Python 3.11 compiles the bytecode.
#[test]
fn a_cpython_of_another_architecture_is_compiled_for_by_a_python_of_its_version() {
    let Some(py) = py311() else { return };
    let dir = test_dir("pd-aarch64");
    let table = python_dist_table(&dir, "3.11.2", "2.17", &fixture_sha256());
    let uv = dir.join("uv");
    let installed = uv.join("cpython-3.11.2-linux-aarch64-gnu");
    fs_err::create_dir_all(installed.join("bin")).unwrap();
    fs_err::create_dir_all(installed.join("lib/python3.11")).unwrap();
    fs_err::write(installed.join("lib/python3.11/os.py"), "sep = '/'\n").unwrap();
    aarch64_elf(&installed.join("bin/python3.11"));
    fs_err::os::unix::fs::symlink("python3.11", installed.join("bin/python3")).unwrap();
    aarch64_elf(&dir.join("pyzap-launcher"));
    let server = python_dist_mirror();
    let mut options = options(
        &dir,
        &table,
        &server.url("/pbs"),
        "3.11",
        Some("manylinux_2_17_aarch64"),
    );
    options.no_compile = false;
    options.source.python = Some(py.display().to_string());
    let standalone = options.standalone.as_mut().unwrap();
    standalone.launcher = Some(dir.join("pyzap-launcher"));
    if let Some(sources) = standalone.python_sources.as_mut() {
        sources.uv_dir = Some(uv);
    }
    let infos = Infos::default();
    pyzap_bundle::bundle(&options, &infos).unwrap();
    let infos = infos.0.into_inner().unwrap();
    assert!(
        infos.contains(&format!(
            "CPython 3.11.2 installed by uv: {}",
            installed.display()
        )),
        "{infos:#?}"
    );
    let target = infos
        .iter()
        .find(|l| l.starts_with("step target: "))
        .unwrap();
    assert!(
        target.contains("(cp311, manylinux_2_17_aarch64) at ")
            && !target.contains(&*installed.to_string_lossy()),
        "{target}"
    );
    assert!(server.requests().is_empty(), "{:?}", server.requests());
    let info = pyzap_bundle::info(&options.output, pyzap_bundle::InfoFormat::Json).unwrap();
    assert!(
        info.contains("\"platform\": \"manylinux_2_17_aarch64\""),
        "{info}"
    );
}
