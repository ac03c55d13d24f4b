//! The errors of `pyzap lock`, `pyzap build --lock` and `pyzap build
//! --standalone`, pinned as the report the `pyzap` command prints (one
//! snapshot per message). As in `messages.rs`, each is driven through the
//! real entry point, except where a comment says the value is built directly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pyzap_bundle::{BundleError, BundleOptions, LockOptions, StandaloneOptions};
use pyzap_test_support::{wheelhouse, Route, RouteServer};

use crate::common::*;

// Lock files.

const SIX: &str = "six-1.17.0-py2.py3-none-any.whl";

/// A lock file of six as `pyzap lock` writes it, with the wheel's path
/// absolute, after `edit`.
fn six_lock(dir: &Path, edit: impl FnOnce(String) -> String) -> PathBuf {
    let text = format!(
        r#"lock-version = "1.0"
created-by = "pyzap 0.1.0"
environments = ["sys_platform == 'linux' and implementation_name == 'cpython'"]
requires-python = "==3.11.*"

[[packages]]
name = "six"
version = "1.17.0"
wheels = [
    {{ name = "{SIX}", path = "{wheel}", size = 11050, hashes = {{ sha256 = "{sha256}" }} }},
]

[tool.pyzap]
roots = ["six"]
"#,
        wheel = wheelhouse().join(SIX).display(),
        sha256 = pyzap_test_support::sha256_file(&wheelhouse().join(SIX)),
    );
    let path = dir.join("pylock.toml");
    fs_err::write(&path, edit(text)).unwrap();
    path
}

/// `pyzap build --lock LOCK -e six`, expected to fail.
fn build_locked(py: &Path, dir: &Path, lock: PathBuf) -> BundleError {
    let mut options = options(py, dir, &[]);
    options.source.find_links.clear();
    options.lock = Some(lock);
    options.entry_point = Some("six".into());
    bundle_err(&options)
}

#[test]
fn lock_of_a_local_project() {
    let Some(py) = py311() else { return };
    let dir = test_dir("lock-project");
    fs_err::write(dir.join("setup.py"), "").unwrap();
    let source = options(&py, &dir, &[dir.to_str().unwrap()]).source;
    let options = LockOptions {
        source,
        output: dir.join("pylock.toml"),
        cache_dir: build_cache(),
        ..Default::default()
    };
    let err = pyzap_bundle::lock(&options, &pyzap_bundle::Silent).unwrap_err();
    assert!(!options.output.exists());
    assert_report!(err);
}

#[test]
fn lock_file_that_is_not_toml() {
    let Some(py) = py311() else { return };
    let dir = test_dir("lock-not-toml");
    let lock = six_lock(&dir, |_| "lock-version = \n".into());
    assert_report!(build_locked(&py, &dir, lock));
}

#[test]
fn lock_file_of_a_later_format() {
    let Some(py) = py311() else { return };
    let dir = test_dir("lock-version-2");
    let lock = six_lock(&dir, |t| {
        t.replace("lock-version = \"1.0\"", "lock-version = \"2.0\"")
    });
    assert_report!(build_locked(&py, &dir, lock));
}

#[test]
fn lock_file_for_another_environment() {
    let Some(py) = py311() else { return };
    let dir = test_dir("lock-environment");
    let lock = six_lock(&dir, |t| {
        t.replace("sys_platform == 'linux'", "sys_platform == 'win32'")
    });
    assert_report!(build_locked(&py, &dir, lock));
}

#[test]
fn lock_file_without_a_file_for_the_target() {
    let Some(py) = py311() else { return };
    let dir = test_dir("lock-no-file");
    let lock = six_lock(&dir, |t| {
        t.replace(
            &format!("name = \"{SIX}\""),
            "name = \"six-1.17.0-cp311-cp311-win_amd64.whl\"",
        )
    });
    assert_report!(build_locked(&py, &dir, lock));
}

#[test]
fn locked_file_named_for_another_package() {
    let Some(py) = py311() else { return };
    let dir = test_dir("lock-file-name");
    let lock = six_lock(&dir, |t| {
        t.replace(
            &format!("name = \"{SIX}\""),
            "name = \"seven-1.0-py3-none-any.whl\"",
        )
    });
    assert_report!(build_locked(&py, &dir, lock));
}

#[test]
fn locked_url_that_is_not_a_url() {
    let Some(py) = py311() else { return };
    let dir = test_dir("lock-url");
    let lock = six_lock(&dir, |t| {
        let path = format!("path = \"{}\"", wheelhouse().join(SIX).display());
        t.replace(&path, "url = \"https://[files]/six.whl\"")
    });
    assert_report!(build_locked(&py, &dir, lock));
}

#[test]
fn locked_hash_mismatch() {
    let Some(py) = py311() else { return };
    let dir = test_dir("lock-hash-mismatch");
    let good = pyzap_test_support::sha256_file(&wheelhouse().join(SIX));
    let lock = six_lock(&dir, |t| t.replace(&good, &"0".repeat(64)));
    assert_report!(build_locked(&py, &dir, lock));
}

// Standalone executables.

/// A file (mode 0755) holding only the ELF header of `machine`:
/// all the architecture checks read.
fn elf_header(path: &Path, machine: u16) {
    use std::os::unix::fs::PermissionsExt;
    let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
    elf.resize(18, 0);
    elf.extend_from_slice(&machine.to_le_bytes());
    elf.resize(64, 0);
    fs_err::write(path, elf).unwrap();
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A python-build-standalone layout whose `bin/python3.11` is an ELF
/// header of `machine`, and a launcher stub of this machine beside it.
fn fake_dist(dir: &Path, machine: u16) -> PathBuf {
    let dist = dir.join("python");
    fs_err::create_dir_all(dist.join("bin")).unwrap();
    fs_err::create_dir_all(dist.join("lib/python3.11")).unwrap();
    elf_header(&dist.join("bin/python3.11"), machine);
    fs_err::os::unix::fs::symlink("python3.11", dist.join("bin/python3")).unwrap();
    elf_header(&dir.join("pyzap-launcher"), X86_64);
    dist
}

const X86_64: u16 = 0x3e;
const AARCH64: u16 = 0xb7;

/// `pyzap build black -c black --standalone --python-dist DIST --launcher
/// DIR/pyzap-launcher`.
fn standalone(py: &Path, dir: &Path, python_dist: &str) -> BundleOptions {
    let mut options = options(py, dir, &["black"]);
    options.console_script = Some("black".into());
    options.standalone = Some(StandaloneOptions {
        python_dist: python_dist.to_string(),
        launcher: Some(dir.join("pyzap-launcher")),
        ..Default::default()
    });
    options
}

fn with_sha256(mut options: BundleOptions, sha256: &str) -> BundleOptions {
    if let Some(s) = options.standalone.as_mut() {
        s.python_dist_sha256 = Some(sha256.into());
    }
    options
}

#[test]
fn python_dist_without_an_interpreter() {
    let Some(py) = py311() else { return };
    let dir = test_dir("sa-no-interpreter");
    let dist = dir.join("python");
    fs_err::create_dir(&dist).unwrap();
    assert_report!(bundle_err(&standalone(&py, &dir, dist.to_str().unwrap())));
}

#[test]
fn python_dist_url_that_is_not_a_url() {
    let Some(py) = py311() else { return };
    let dir = test_dir("sa-dist-url");
    assert_report!(bundle_err(&standalone(&py, &dir, "http://")));
}

#[test]
fn python_dist_download_refused() {
    let Some(py) = py311() else { return };
    let dir = test_dir("sa-dist-download");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/cpython-install_only.tar.gz");
    assert_report!(bundle_err(&standalone(&py, &dir, &url)));
}

#[test]
fn python_dist_download_not_found() {
    let Some(py) = py311() else { return };
    let dir = test_dir("sa-dist-status");
    let server = RouteServer::start(BTreeMap::new());
    let url = server.url("/cpython-install_only.tar.gz");
    assert_report!(bundle_err(&standalone(&py, &dir, &url)));
}

#[test]
fn python_dist_download_cut_short() {
    use std::io::{Read, Write};
    let Some(py) = py311() else { return };
    let dir = test_dir("sa-dist-read");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nonly this");
        }
    });
    let url = format!("http://127.0.0.1:{port}/cpython-install_only.tar.gz");
    assert_report!(bundle_err(&standalone(&py, &dir, &url)));
}

#[test]
fn python_dist_sha256_that_is_not_a_digest() {
    let Some(py) = py311() else { return };
    let dir = test_dir("sa-dist-sha256");
    let dist = fake_dist(&dir, X86_64);
    let options = standalone(&py, &dir, dist.to_str().unwrap());
    assert_report!(bundle_err(&with_sha256(options, "sha256:abc")));
}

#[test]
fn python_dist_file_hash_mismatch() {
    let Some(py) = py311() else { return };
    let dir = test_dir("sa-dist-hash-file");
    let archive = dir.join("cpython-install_only.tar.gz");
    fs_err::write(&archive, "not really a python").unwrap();
    let options = standalone(&py, &dir, archive.to_str().unwrap());
    assert_report!(bundle_err(&with_sha256(options, &"0".repeat(64))));
}

#[test]
fn python_dist_url_hash_mismatch() {
    let Some(py) = py311() else { return };
    let dir = test_dir("sa-dist-hash-url");
    let server = RouteServer::start(BTreeMap::from([(
        "/cpython-install_only.tar.gz".to_string(),
        Route::file("not really a python"),
    )]));
    let url = server.url("/cpython-install_only.tar.gz");
    let options = with_sha256(standalone(&py, &dir, &url), &"0".repeat(64));
    let err = bundle_err(&options);
    let downloads = build_cache()
        .join("python-dist-downloads")
        .join("0".repeat(64));
    assert!(
        !downloads.join("cpython-install_only.tar.gz").exists(),
        "a download with the wrong hash is not kept"
    );
    assert_report!(err);
}

#[test]
fn python_dist_that_cannot_run_here() {
    let Some(py) = py311() else { return };
    let dir = test_dir("sa-dist-interpreter");
    let dist = fake_dist(&dir, X86_64);
    assert_report!(bundle_err(&standalone(&py, &dir, dist.to_str().unwrap())));
}

#[test]
fn python_dist_for_another_architecture() {
    let Some(py) = py311() else { return };
    let dir = test_dir("sa-arch-mismatch");
    let dist = fake_dist(&dir, AARCH64);
    assert_report!(bundle_err(&standalone(&py, &dir, dist.to_str().unwrap())));
}

#[test]
fn standalone_for_several_targets() {
    let Some(py) = py311() else { return };
    let dir = test_dir("sa-targets");
    let dist = fake_dist(&dir, X86_64);
    let mut options = standalone(&py, &dir, dist.to_str().unwrap());
    options.python_versions = vec!["3.11".into(), "3.12".into()];
    options.platforms = vec!["manylinux_2_28_x86_64".into()];
    assert_report!(bundle_err(&options));
}

#[test]
fn launcher_that_is_not_an_executable() {
    let Some(py) = py311() else { return };
    let dir = test_dir("sa-launcher-unusable");
    let dist = fake_dist(&dir, X86_64);
    let stub = dir.join("pyzap-launcher");
    fs_err::write(&stub, "#!/bin/sh\necho this is no launcher\n").unwrap();
    assert_report!(bundle_err(&standalone(&py, &dir, dist.to_str().unwrap())));
}

/// Built directly: a `--launcher` that cannot be read (permissions do not
/// stop the root user tests run as).
#[test]
fn launcher_unreadable() {
    assert_report!(BundleError::ReadLauncher {
        path: "/opt/pyzap/bin/pyzap-launcher".into(),
        source: std::io::Error::from_raw_os_error(2),
    });
}

/// Built directly: a scratch directory or a download that cannot be
/// written (a full disk; permissions do not stop the root user tests run as).
#[test]
fn cannot_write() {
    assert_report!(BundleError::Write {
        path: "/var/cache/pyzap/python-dist-downloads".into(),
        source: std::io::Error::from_raw_os_error(28),
    });
}
