//! Wheels that could never run (names the runtime cannot create or `boot`
//! cannot carry, clashes, lies in WHEEL or METADATA) are refused at open,
//! each with an error naming the wheel and the entry; and one that inflates
//! to gigabytes is verified by streaming.

use pyzap_test_support::{wheelhouse, WheelBuilder};
use pyzap_wheel::{check_site_clashes, layout_wheel, Wheel};

use crate::open_err;

/// The error for `builder`, checked to name its wheel file.
fn refused(builder: WheelBuilder) -> String {
    let filename = builder.filename();
    let err = open_err(builder);
    assert!(err.contains(&filename), "names the wheel: {err}");
    err
}

#[test]
fn every_wheelhouse_wheel_opens() {
    let mut count = 0;
    for entry in fs_err::read_dir(wheelhouse()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "whl") {
            Wheel::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            count += 1;
        }
    }
    assert!(count > 100, "{count} wheels");
}

#[test]
fn duplicate_name_in_zip_directory_is_refused() {
    let err = refused(
        WheelBuilder::new("twice", "1.0")
            .file("twice/__init__.py", "x = 1\n")
            .duplicate("twice/__init__.py", "x = 2\n"),
    );
    assert!(
        err.contains("lists twice/__init__.py twice in its zip directory"),
        "{err}"
    );
}

#[test]
fn control_characters_in_names_are_refused() {
    for name in [
        "ctl/a\nb.py",
        "ctl/a\rb.py",
        "ctl/a\u{2028}b.py",
        "ctl/a\u{85}b.py",
    ] {
        let err = refused(
            WheelBuilder::new("ctl", "1.0")
                .file("ctl/__init__.py", "")
                .file(name, ""),
        );
        assert!(
            err.contains("an entry name with a control or line-separator character: ctl/a\\u{"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "escaped: {err}");
    }
}

#[test]
fn component_over_255_bytes_is_refused() {
    let long = "a".repeat(256);
    let err = refused(
        WheelBuilder::new("longname", "1.0")
            .file("longname/__init__.py", "")
            .file(&format!("longname/{long}.txt"), ""),
    );
    assert!(
        err.contains(&format!(
            "has a path component of 260 bytes, over the 255-byte limit: longname/{long}.txt"
        )),
        "{err}"
    );
    // A source leaves room for its `__pycache__/<stem>.cpython-3NN.pyc`.
    let err = refused(
        WheelBuilder::new("longname", "1.0").file(&format!("longname/{}.py", "b".repeat(240)), ""),
    );
    assert!(
        err.contains("a path component of 243 bytes, over the 239-byte limit"),
        "{err}"
    );
}

#[test]
fn deep_path_is_refused() {
    let deep = format!("deep/{}x.py", "d/".repeat(200));
    let err = refused(WheelBuilder::new("deep", "1.0").file(&deep, ""));
    assert!(
        err.contains(&format!(
            "has an entry 202 directories deep, over the limit of 200: {deep}"
        )),
        "{err}"
    );
}

#[test]
fn long_path_is_refused() {
    let long = format!("longpath/{}/x.py", vec!["p".repeat(250); 13].join("/"));
    let err = refused(WheelBuilder::new("longpath", "1.0").file(&long, ""));
    assert!(
        err.contains(&format!(
            "has an entry path of {} bytes, over the 3072-byte limit: {long}",
            long.len()
        )),
        "{err}"
    );
}

#[test]
fn file_and_directory_clash_in_one_wheel_is_refused() {
    let err = refused(
        WheelBuilder::new("clash", "1.0")
            .file("clash/thing", "a file\n")
            .file("clash/thing/x.py", ""),
    );
    assert!(
        err.contains("installs clash/thing both as a file and as a directory"),
        "{err}"
    );
    let err = refused(
        WheelBuilder::new("clash", "1.0")
            .file("clash/thing", "a file\n")
            .directory("clash/thing"),
    );
    assert!(err.contains("installs clash/thing both as a file"), "{err}");
    // Through `.data/purelib/` the same place is reached.
    let err = refused(
        WheelBuilder::new("clash", "1.0")
            .file("clash/thing", "a file\n")
            .file("clash-1.0.data/purelib/clash/thing/x.py", ""),
    );
    assert!(
        err.contains("installs clash/thing both as a file and as a directory"),
        "{err}"
    );
    // Different schemes are different trees.
    let tmp = tempfile::tempdir().unwrap();
    let path = WheelBuilder::new("clash", "1.0")
        .file("clash/thing", "")
        .file("clash-1.0.data/data/clash/thing/x", "")
        .build(tmp.path());
    Wheel::open(&path).unwrap().verify().unwrap();
}

#[test]
fn file_and_directory_clash_across_wheels_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let a = WheelBuilder::new("first", "1.0")
        .file("shared/thing/__init__.py", "")
        .build(tmp.path());
    let b = WheelBuilder::new("second", "1.0")
        .file("shared/thing", "")
        .build(tmp.path());
    let dists = [a, b].map(|p| layout_wheel(&Wheel::open(&p).unwrap()));
    let err = check_site_clashes(&dists).unwrap_err().to_string();
    assert!(
        err.contains("second-1.0-py3-none-any.whl installs the file shared/thing where wheel")
            && err.contains("first-1.0-py3-none-any.whl installs a directory"),
        "{err}"
    );
    check_site_clashes(&dists[..1]).unwrap();
}

#[test]
fn metadata_name_must_match_the_file_name() {
    let err = refused(
        WheelBuilder::new("honest", "1.0")
            .file("honest/__init__.py", "")
            .metadata_name("impostor"),
    );
    assert!(
        err.contains(
            "honest-1.0.dist-info/METADATA says Name `impostor`, but the file name says `honest`"
        ),
        "{err}"
    );
    // PEP 503 normalisation: `Jaraco.Text` is `jaraco-text` is `jaraco_text`.
    let tmp = tempfile::tempdir().unwrap();
    let path = WheelBuilder::new("jaraco_text", "1.0")
        .file("jaraco/text.py", "")
        .metadata_name("Jaraco.Text")
        .build(tmp.path());
    Wheel::open(&path).unwrap();
}

#[test]
fn metadata_version_must_match_the_file_name() {
    let err = refused(
        WheelBuilder::new("honest", "1.0")
            .file("honest/__init__.py", "")
            .metadata_version("2.0"),
    );
    assert!(
        err.contains("METADATA says Version `2.0`, but the file name says `1.0`"),
        "{err}"
    );
    // PEP 440 equality: `1.0` is `1.0.0`.
    let tmp = tempfile::tempdir().unwrap();
    let path = WheelBuilder::new("honest", "1.0")
        .file("honest/__init__.py", "")
        .metadata_version("1.0.0")
        .build(tmp.path());
    Wheel::open(&path).unwrap();
}

#[test]
fn wheel_file_without_wheel_version_is_refused() {
    let err = refused(
        WheelBuilder::new("unversioned", "1.0")
            .file("unversioned/__init__.py", "")
            .wheel_text("Generator: x\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
    );
    assert!(
        err.contains("unversioned-1.0.dist-info/WHEEL has no Wheel-Version"),
        "{err}"
    );
}

#[test]
fn wheel_version_of_another_major_is_refused() {
    let err = refused(
        WheelBuilder::new("future", "1.0")
            .file("future/__init__.py", "")
            .wheel_text("Wheel-Version: 9.0\nRoot-Is-Purelib: true\n"),
    );
    assert!(
        err.contains(
            "future-1.0.dist-info/WHEEL declares Wheel-Version 9.0; \
             only version 1 wheels can be installed (PEP 427)"
        ),
        "{err}"
    );
    // A newer minor version is installed (with a warning).
    let tmp = tempfile::tempdir().unwrap();
    let path = WheelBuilder::new("future", "1.0")
        .file("future/__init__.py", "")
        .wheel_text("Wheel-Version: 1.9\nRoot-Is-Purelib: true\n")
        .build(tmp.path());
    Wheel::open(&path).unwrap().verify().unwrap();
}

#[test]
fn huge_metadata_file_is_refused_unread() {
    let err = refused(
        WheelBuilder::new("bloated", "1.0")
            .file("bloated/__init__.py", "")
            .zeros("bloated-1.0.dist-info/entry_points.txt", 64 << 20),
    );
    assert!(
        err.contains(
            "bloated-1.0.dist-info/entry_points.txt is 67108864 bytes, \
             over the 33554432-byte limit for metadata files"
        ),
        "{err}"
    );
}

#[test]
fn large_entry_verifies_and_a_wrong_byte_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    let path = WheelBuilder::new("big", "1.0")
        .file("big/__init__.py", "")
        .zeros("big/data.bin", 40 << 20)
        .build(tmp.path());
    Wheel::open(&path).unwrap().verify().unwrap();
    let err = open_err(
        WheelBuilder::new("big", "1.0")
            .zeros("big/data.bin", 1 << 20)
            .tamper("big/data.bin"),
    );
    assert!(err.contains("hash of big/data.bin does not match"), "{err}");
}
