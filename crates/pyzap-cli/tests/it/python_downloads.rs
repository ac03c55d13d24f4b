//! `pyzap build --standalone` without `--python-dist`: the CPython comes
//! from the table `PYZAP_PYTHON_DOWNLOADS` names (here one listing
//! ../shared/python-dist's archive as CPython 3.11.2), fetched from the
//! mirror `PYZAP_PYTHON_MIRROR` on 127.0.0.1 and checked against the
//! table's sha256; or, with no request at all, from uv's managed-python
//! directory (`UV_PYTHON_INSTALL_DIR`).

use std::path::Path;
use std::process::{Command, Output};

use pyzap_test_support::{
    python_dist, python_dist_mirror, python_dist_mirror_path, python_dist_table,
};

use crate::common::*;
use crate::standalone::run_bare;

/// `pyzap build six -e six -f WHEELHOUSE --no-index --standalone
/// --python-version 3.11 -o DIR/six`, with a build cache of its own (so
/// the download is not found in the shared one), the table naming the
/// fixture as CPython 3.11.2 with `sha256`, the mirror at `mirror` and uv's
/// managed-python directory `uv`.
fn build(dir: &Path, sha256: &str, mirror: &str, uv: &Path) -> Output {
    pyzap()
        .env("PYZAP_CACHE_DIR", dir.join("cache"))
        .env_remove("XDG_DATA_HOME")
        .env(
            "PYZAP_PYTHON_DOWNLOADS",
            python_dist_table(dir, "3.11.2", "2.17", sha256),
        )
        .env("PYZAP_PYTHON_MIRROR", mirror)
        .env("UV_PYTHON_INSTALL_DIR", uv)
        .args(["build", "six", "-e", "six", "--no-index", "--standalone"])
        .args(["--python-version", "3.11", "-f"])
        .arg(wheelhouse())
        .arg("-o")
        .arg(dir.join("six"))
        .output()
        .unwrap()
}

/// The built executable's CPython version, run with no Python around.
fn runs(exe: &Path) -> String {
    let root = fresh_dir("pd-root-");
    let out = run_ok(run_bare(exe, &root).env("PYZAP_INTERPRETER", "1").args([
        "-c",
        "import platform, six; print(platform.python_version(), six.__name__)",
    ]));
    stdout(&out).trim().to_string()
}

#[test]
fn a_standalone_build_downloads_the_table_s_cpython_from_the_mirror() {
    let dir = fresh_dir("pd-mirror-");
    let server = python_dist_mirror();
    let sha256 = pyzap_test_support::sha256_file(&python_dist());
    let uv = dir.join("uv-python");
    fs_err::create_dir(&uv).unwrap();
    let out = build(&dir, &sha256, &server.url("/pbs"), &uv);
    let log = stderr(&out);
    assert!(out.status.success(), "{log}");
    let url = server.url(&python_dist_mirror_path());
    assert!(log.contains(&format!("CPython 3.11.2 from {url}")), "{log}");
    assert_eq!(server.requests().len(), 1);
    assert_eq!(runs(&dir.join("six")), "3.11.2 six");
}

#[test]
fn a_download_whose_digest_is_not_the_table_s_is_refused() {
    let dir = fresh_dir("pd-hash-");
    let server = python_dist_mirror();
    let wrong = "1".repeat(64);
    let out = build(&dir, &wrong, &server.url("/pbs"), &dir.join("no-uv"));
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    let url = server.url(&python_dist_mirror_path());
    let actual = pyzap_test_support::sha256_file(&python_dist());
    assert!(
        log.contains(&format!(
            "hash mismatch for {url}: sha256 is {actual}, but pyzap's table of python downloads promised {wrong}"
        )),
        "{log}"
    );
    assert!(!dir.join("six").exists());
}

#[test]
fn a_cpython_uv_installed_is_used_without_a_download() {
    let dir = fresh_dir("pd-uv-");
    let server = python_dist_mirror();
    // uv's layout: the archive's `python/` renamed after the build.
    let uv = dir.join("uv-python");
    fs_err::create_dir(&uv).unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(python_dist())
        .arg("-C")
        .arg(&uv)
        .status()
        .unwrap();
    assert!(status.success());
    let installed = uv.join("cpython-3.11.2-linux-x86_64-gnu");
    fs_err::rename(uv.join("python"), &installed).unwrap();
    let sha256 = pyzap_test_support::sha256_file(&python_dist());
    let out = build(&dir, &sha256, &server.url("/pbs"), &uv);
    let log = stderr(&out);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains(&format!(
            "CPython 3.11.2 installed by uv: {}",
            installed.display()
        )),
        "{log}"
    );
    assert!(server.requests().is_empty(), "{:?}", server.requests());
    assert_eq!(runs(&dir.join("six")), "3.11.2 six");
}
