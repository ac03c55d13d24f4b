//! Wheel validation on real wheels from the wheelhouse and hostile ones built in code.

// Tests may unwrap: a failed unwrap is a failed test (clippy.toml's
// `allow-unwrap-in-tests` covers only `#[test]` functions, not helpers).
#![cfg_attr(test, allow(clippy::unwrap_used, reason = "tests may unwrap"))]

mod hostile;

use pyzap_test_support::{wheelhouse, WheelBuilder};
use pyzap_wheel::{layout_wheel, Placement, Wheel};

fn open_err(builder: WheelBuilder) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let path = builder.build(tmp.path());
    match Wheel::open(&path).and_then(|w| w.verify()) {
        Ok(()) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn real_wheels_verify_and_place() {
    let wh = wheelhouse();
    let black = Wheel::open(&wh.join("black-26.10.1-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl")).unwrap();
    black.verify().unwrap();
    assert!(black.entry_points.console_scripts.contains_key("black"));
    let dist = layout_wheel(&black);
    assert_eq!(dist.placement, Placement::Extract);
    let click = Wheel::open(&wh.join("click-8.5.1-py3-none-any.whl")).unwrap();
    click.verify().unwrap();
    assert_eq!(layout_wheel(&click).placement, Placement::Zip);
    let certifi = Wheel::open(&wh.join("certifi-2026.10.18-py3-none-any.whl")).unwrap();
    let dist = layout_wheel(&certifi);
    assert_eq!(
        dist.placement,
        Placement::Extract,
        "cacert.pem is package data"
    );
    assert_eq!(dist.extract_reason.as_deref(), Some("certifi/cacert.pem"));
}

#[test]
fn traversal_entry_is_refused() {
    let err = open_err(WheelBuilder::new("evil", "1.0").file("../../etc/evil.py", "x = 1\n"));
    assert!(
        err.contains("has an entry outside the tree: ../../etc/evil.py"),
        "{err}"
    );
    let err = open_err(WheelBuilder::new("evil", "1.0").file("/abs.py", "x = 1\n"));
    assert!(err.contains("entry outside the tree: /abs.py"), "{err}");
}

#[test]
fn symlink_is_refused() {
    let err = open_err(
        WheelBuilder::new("evil", "1.0")
            .file("evil/__init__.py", "")
            .symlink("evil/link", "/etc/passwd"),
    );
    assert!(
        err.contains("symbolic link") && err.contains("evil/link"),
        "{err}"
    );
}

#[test]
fn hash_mismatch_names_the_file() {
    let err = open_err(
        WheelBuilder::new("tampered", "1.0")
            .file("tampered/__init__.py", "x = 1\n")
            .tamper("tampered/__init__.py"),
    );
    assert!(
        err.contains("hash of tampered/__init__.py does not match its RECORD entry"),
        "{err}"
    );
}

#[test]
fn unrecorded_file_is_refused() {
    let err = open_err(
        WheelBuilder::new("sneaky", "1.0")
            .file("sneaky/__init__.py", "")
            .file("sneaky/extra.py", "")
            .unrecorded("sneaky/extra.py"),
    );
    assert!(
        err.contains("sneaky/extra.py is not listed in RECORD"),
        "{err}"
    );
}

#[test]
fn truncated_wheel_is_corrupt() {
    let tmp = tempfile::tempdir().unwrap();
    let path = WheelBuilder::new("short", "1.0")
        .file("short/__init__.py", "x = 1\n")
        .build(tmp.path());
    let data = fs_err::read(&path).unwrap();
    fs_err::write(&path, &data[..data.len() / 2]).unwrap();
    let err = Wheel::open(&path).unwrap_err().to_string();
    assert!(err.contains("is corrupt or truncated"), "{err}");
}

#[test]
fn missing_dist_info_is_invalid() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("nodist-1.0-py3-none-any.whl");
    let mut zip = zip::ZipWriter::new(fs_err::File::create(&path).unwrap());
    zip.start_file(
        "nodist/__init__.py",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    zip.finish().unwrap();
    let err = Wheel::open(&path).unwrap_err().to_string();
    assert!(err.contains("no `nodist-*.dist-info` directory"), "{err}");
}
