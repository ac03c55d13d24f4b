//! `scripts/update-python-downloads.py --from-json`: from a file in the
//! shape of uv's `download-metadata.json`, it keeps the newest
//! `install_only_stripped` Linux build of each minor version, architecture
//! and libc (no pre-release, no free-threaded or debug variant, no other
//! OS), and writes a table `PythonDownloads::parse` reads, whose URLs are
//! the ones the input names.

use std::path::Path;
use std::process::Command;

use pyzap_python::{
    Libc, PlatformRequest, PythonDownloads, PythonSources, PythonVersion, VersionRequest,
};

const RELEASE_URL: &str = "https://github.com/astral-sh/python-build-standalone/releases/download";

/// One uv entry: CPython `version` for `os`/`arch`/`libc`, of `release`.
fn uv_entry(
    version: &str,
    release: &str,
    arch: &str,
    libc: &str,
    variant: Option<&str>,
) -> serde_json::Value {
    let (major, minor, patch): (u32, u32, u32) = {
        let p: Vec<u32> = version.split('.').map(|p| p.parse().unwrap()).collect();
        (p[0], p[1], p[2])
    };
    let suffix = variant.map_or(String::new(), |v| format!("-{v}"));
    let file = format!(
        "cpython-{version}%2B{release}-{arch}-unknown-linux-{libc}{suffix}-install_only_stripped.tar.gz"
    );
    serde_json::json!({
        "name": "cpython", "arch": {"family": arch, "variant": null}, "os": "linux",
        "libc": libc, "major": major, "minor": minor, "patch": patch, "prerelease": "",
        "url": format!("{RELEASE_URL}/{release}/{file}"),
        "sha256": format!("{:064x}", u64::from(minor) * 1000 + u64::from(patch)),
        "variant": variant, "build": release,
    })
}

#[test]
fn the_script_writes_a_table_pyzap_reads() {
    let Some(python) = pyzap_test_support::interpreters().into_iter().next() else {
        pyzap_test_support::skip("no CPython 3.8+ to run the script with");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut darwin = uv_entry("3.12.8", "20250115", "aarch64", "none", None);
    darwin["os"] = "darwin".into();
    let mut rc = uv_entry("3.14.0", "20250115", "x86_64", "gnu", None);
    rc["prerelease"] = "rc1".into();
    let input = serde_json::json!({
        "a": uv_entry("3.12.7", "20241016", "x86_64", "gnu", None),
        "b": uv_entry("3.12.8", "20250115", "x86_64", "gnu", None),
        "c": uv_entry("3.12.8", "20250115", "x86_64", "gnu", Some("freethreaded")),
        "d": uv_entry("3.12.8", "20250115", "aarch64", "musl", None),
        "e": uv_entry("3.7.9", "20200823", "x86_64", "gnu", None),
        "f": darwin,
        "g": rc,
    });
    let json = dir.path().join("download-metadata.json");
    fs_err::write(&json, input.to_string()).unwrap();
    let table = dir.path().join("python-downloads.json");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/update-python-downloads.py");
    let out = Command::new(&python.path)
        .arg(&script)
        .arg("--from-json")
        .arg(&json)
        .arg("--output")
        .arg(&table)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let downloads =
        PythonDownloads::parse(&fs_err::read_to_string(&table).unwrap(), &table).unwrap();
    let got: Vec<String> = downloads
        .downloads()
        .iter()
        .map(|d| format!("{} {} {} {:?}", d.version, d.arch, d.libc, d.glibc))
        .collect();
    assert_eq!(
        got,
        [
            "3.12.8 aarch64 musl None",
            "3.12.8 x86_64 gnu Some((2, 17))"
        ]
    );
    let request = PlatformRequest {
        arch: "x86_64".into(),
        libc: Libc::Gnu,
        glibc: Some((2, 28)),
        name: "manylinux_2_28_x86_64".into(),
    };
    let chosen = downloads
        .select(VersionRequest::Minor(3, 12), &request)
        .unwrap();
    assert_eq!(
        chosen.version,
        PythonVersion {
            major: 3,
            minor: 12,
            patch: 8
        }
    );
    assert_eq!(chosen.sha256, format!("{:064x}", 12008));
    assert_eq!(
        PythonSources::default().url(&downloads, chosen),
        input["b"]["url"].as_str().unwrap()
    );
}
