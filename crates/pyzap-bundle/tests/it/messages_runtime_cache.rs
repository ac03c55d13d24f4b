//! Every error of `pyzap cache list` and `pyzap cache prune --runtime`,
//! pinned as the report the `pyzap` command prints. Errors a test cannot
//! cause (no home directory, no `/proc`, a lock that fails) are built
//! directly.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

use pyzap_bundle::{BundleError, Silent};

use crate::common::*;

/// Built directly: the runtimes' root rule fails only without
/// `PYZAP_ROOT`, `CACHE_DIRECTORY`, `XDG_CACHE_HOME` and a home directory.
#[test]
fn runtime_root_not_found() {
    assert_report!(BundleError::RuntimeRoot {
        source: pyzap_launcher::LauncherError::NoCacheRoot,
    });
}

#[test]
fn runtime_root_is_a_file() {
    let dir = test_dir("runtime-root-is-a-file");
    let file = dir.join("root");
    fs_err::write(&file, "").unwrap();
    assert_report!(pyzap_bundle::prune_runtime(&file, Duration::ZERO, &Silent).unwrap_err());
}

/// A root of another user is not pruned. Made with `chown` as root; built
/// directly otherwise, as root would see it.
#[test]
fn runtime_root_of_another_user() {
    let dir = test_dir("runtime-root-of-another-user");
    let root = dir.join("root");
    fs_err::create_dir(&root).unwrap();
    let me = fs_err::metadata(&dir).unwrap().uid();
    let err = if me == 0 {
        std::os::unix::fs::chown(&root, Some(65534), None).unwrap();
        pyzap_bundle::prune_runtime(&root, Duration::ZERO, &Silent).unwrap_err()
    } else {
        BundleError::RuntimeOwner {
            path: root.clone(),
            owner: 65534,
            me: 0,
        }
    };
    assert_report!(err);
}

/// Built directly: `/proc` is there on every machine tests run on.
#[test]
fn no_process_table() {
    assert_report!(BundleError::ProcessTable {
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "failed to read link `/proc/self/exe`: No such file or directory (os error 2)",
        ),
    });
}

/// Built directly: `flock` on a directory of ours does not fail.
#[test]
fn runtime_lock_fails() {
    assert_report!(BundleError::RuntimeLock {
        path: PathBuf::from("/home/u/.cache/pyzap/site"),
        source: std::io::Error::from_raw_os_error(libc::ENOLCK),
    });
}
