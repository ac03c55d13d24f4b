//! `pyzap lock` for several `--python-version` × `--platform` (issue 12,
//! item 4): one universal lock from an index on 127.0.0.1 whose packages
//! differ per platform and per Python version, then `build --lock` for one
//! of its environments; and the errors of locks and cross-target builds
//! that would need an sdist built.

use std::path::{Path, PathBuf};

use pyzap_bundle::{BundleOptions, LockOptions, SourceOptions};
use pyzap_resolve::Lock;
use pyzap_test_support::{wheelhouse, IndexConfig, IndexServer, WheelBuilder};

use crate::common::*;

const X86_64: &str = "manylinux_2_28_x86_64";
const AARCH64: &str = "manylinux_2_28_aarch64";

/// An index of `app` (2.0 needs Python 3.12; both need `native`, and
/// `fastpath` on aarch64), `native` (abi3 wheels for x86_64 and aarch64)
/// and `fastpath`.
fn index(dir: &Path) -> IndexServer {
    let files = dir.join("files");
    fs_err::create_dir_all(&files).unwrap();
    for (version, requires_python) in [("1.0", None), ("2.0", Some(">=3.12"))] {
        let mut app = WheelBuilder::new("app", version)
            .file("app/__init__.py", &format!("VERSION = '{version}'\n"))
            .requires("native>=1")
            .requires("fastpath; platform_machine == 'aarch64'");
        if let Some(rp) = requires_python {
            app = app.header("Requires-Python", rp);
        }
        app.build(&files);
    }
    for arch in ["x86_64", "aarch64"] {
        WheelBuilder::new("native", "1.0")
            .tag(&format!("cp39-abi3-manylinux_2_17_{arch}"))
            .file("native/__init__.py", "")
            .build(&files);
    }
    WheelBuilder::new("fastpath", "1.0")
        .file("fastpath.py", "")
        .build(&files);
    IndexServer::start(IndexConfig::serving(files))
}

fn source(py: &Path, index: &IndexServer, inputs: &[&str]) -> SourceOptions {
    SourceOptions {
        inputs: inputs.iter().map(ToString::to_string).collect(),
        index_url: Some(index.url()),
        python: Some(py.display().to_string()),
        ..Default::default()
    }
}

/// `pyzap lock app --python-version 3.9 --python-version 3.12 --platform
/// X86_64 --platform AARCH64 -o DIR/pylock.toml`.
fn lock_app(py: &Path, dir: &Path, index: &IndexServer) -> PathBuf {
    let output = dir.join("pylock.toml");
    let options = LockOptions {
        source: source(py, index, &["app"]),
        python_versions: vec!["3.9".into(), "3.12".into()],
        platforms: vec![X86_64.into(), AARCH64.into()],
        output: output.clone(),
        cache_dir: build_cache(),
    };
    pyzap_bundle::lock(&options, &pyzap_bundle::Silent).unwrap();
    output
}

/// `pyzap build --lock LOCK -e app --python-version VERSION --platform TAG`.
fn build_locked(py: &Path, lock: &Path, version: &str, platform: &str) -> BundleOptions {
    let dir = lock.parent().unwrap();
    BundleOptions {
        source: SourceOptions {
            python: Some(py.display().to_string()),
            ..Default::default()
        },
        lock: Some(lock.to_path_buf()),
        entry_point: Some("app".into()),
        python_versions: vec![version.into()],
        platforms: vec![platform.into()],
        output: dir.join(format!("app-{version}-{platform}.pyz")),
        cache_dir: build_cache(),
        ..Default::default()
    }
}

/// The bundled wheels of an artifact, by filename.
fn bundled(artifact: &Path) -> Vec<String> {
    let info = pyzap_artifact::read_artifact(artifact).unwrap();
    let mut names: Vec<String> = info
        .manifest
        .distributions
        .iter()
        .map(|d| d.filename.clone())
        .collect();
    names.sort();
    names
}

#[test]
fn one_lock_for_two_versions_and_two_platforms() {
    let Some(py) = py311() else { return };
    let dir = test_dir("lock-universal");
    let server = index(&dir);
    let path = lock_app(&py, &dir, &server);
    let text = fs_err::read_to_string(&path).unwrap();
    let lock = Lock::from_toml(&text).unwrap();
    assert_eq!(lock.environments.len(), 4, "{text}");
    assert_eq!(lock.requires_python.as_deref(), Some(">=3.9, <3.13"));
    let entries: Vec<(String, String, Option<String>, usize)> = lock
        .packages
        .iter()
        .map(|p| {
            let n = p.wheels.len();
            (
                p.name.to_string(),
                p.version.to_string(),
                p.marker.clone(),
                n,
            )
        })
        .collect();
    let entry = |n: &str, v: &str, m: Option<&str>, w| (n.into(), v.into(), m.map(Into::into), w);
    assert_eq!(
        entries,
        [
            entry("app", "1.0", Some("python_version < '3.12'"), 1),
            entry("app", "2.0", Some("python_version >= '3.12'"), 1),
            entry("fastpath", "1.0", Some("platform_machine == 'aarch64'"), 1),
            entry("native", "1.0", None, 2),
        ],
        "{text}"
    );
    // `lock --json` names the marker of each entry that has one.
    let summary: serde_json::Value =
        serde_json::from_str(&pyzap_bundle::lock_summary(&path).unwrap()).unwrap();
    assert_eq!(summary["targets"].as_array().unwrap().len(), 4);
    assert_eq!(
        summary["distributions"][1]["marker"],
        "python_version >= '3.12'"
    );
    assert!(
        summary["distributions"][3].get("marker").is_none(),
        "{summary}"
    );
    // Locking again writes the same bytes.
    fs_err::remove_file(&path).unwrap();
    assert_eq!(lock_app(&py, &dir, &server), path);
    assert_eq!(fs_err::read_to_string(&path).unwrap(), text);

    // Each environment gets its own entries and wheels.
    let options = build_locked(&py, &path, "3.12", AARCH64);
    pyzap_bundle::bundle(&options, &pyzap_bundle::Silent).unwrap();
    assert_eq!(
        bundled(&options.output),
        [
            "app-2.0-py3-none-any.whl",
            "fastpath-1.0-py3-none-any.whl",
            "native-1.0-cp39-abi3-manylinux_2_17_aarch64.whl",
        ]
    );
    let options = build_locked(&py, &path, "3.9", X86_64);
    pyzap_bundle::bundle(&options, &pyzap_bundle::Silent).unwrap();
    assert_eq!(
        bundled(&options.output),
        [
            "app-1.0-py3-none-any.whl",
            "native-1.0-cp39-abi3-manylinux_2_17_x86_64.whl",
        ]
    );
}

#[test]
fn locked_build_for_an_environment_the_lock_does_not_cover() {
    let Some(py) = py311() else { return };
    let dir = test_dir("lock-universal-outside");
    let server = index(&dir);
    let path = lock_app(&py, &dir, &server);
    assert_report!(bundle_err(&build_locked(&py, &path, "3.10", X86_64)));
}

#[test]
fn cross_build_that_needs_an_sdist() {
    let Some(py) = py311() else { return };
    let dir = test_dir("cross-sdist");
    // mod_wsgi has only an sdist.
    let mut options = options(&py, &dir, &["mod_wsgi"]);
    options.entry_point = Some("mod_wsgi".into());
    options.python_versions = vec!["3.11".into()];
    options.platforms = vec![X86_64.into()];
    assert_report!(bundle_err(&options));
}

/// A find-links directory holding only the wheelhouse's `sdist`.
fn only_sdist(dir: &Path, sdist: &str) -> PathBuf {
    let links = dir.join("links");
    fs_err::create_dir(&links).unwrap();
    fs_err::copy(wheelhouse().join(sdist), links.join(sdist)).unwrap();
    links
}

/// `pyzap lock INPUT --python-version 3.12 --platform X86_64 -f LINKS --no-index`.
fn lock_cross(py: &Path, dir: &Path, links: &Path, input: &str) -> pyzap_bundle::Result<PathBuf> {
    let output = dir.join("pylock.toml");
    let options = LockOptions {
        source: SourceOptions {
            inputs: vec![input.into()],
            find_links: vec![links.display().to_string()],
            no_index: true,
            python: Some(py.display().to_string()),
            ..Default::default()
        },
        python_versions: vec!["3.12".into()],
        platforms: vec![X86_64.into()],
        output: output.clone(),
        cache_dir: build_cache(),
    };
    pyzap_bundle::lock(&options, &pyzap_bundle::Silent).map(|()| output)
}

/// tomli 2.5.0's sdist has metadata 2.5 and no `Dynamic` dependencies: a
/// cross-target lock takes it (nothing is built), and a cross-target build
/// from the lock says why it cannot use it.
#[test]
fn cross_lock_of_an_sdist_with_static_metadata() {
    let Some(py) = py311() else { return };
    let dir = test_dir("lock-cross-sdist");
    let links = only_sdist(&dir, "tomli-2.5.0.tar.gz");
    let lock = lock_cross(&py, &dir, &links, "tomli").unwrap();
    let text = fs_err::read_to_string(&lock).unwrap();
    let locked = Lock::from_toml(&text).unwrap();
    assert_eq!(locked.packages.len(), 1, "{text}");
    assert!(locked.packages[0].wheels.is_empty(), "{text}");
    assert_eq!(
        locked.packages[0]
            .sdist
            .as_ref()
            .map(|s| s.filename.as_str()),
        Some("tomli-2.5.0.tar.gz")
    );
    // Where its Python runs, the lock's sdist is built (flit_core from the
    // wheelhouse) and installed.
    let Some(py312) = pyzap_test_support::require((3, 12)) else {
        return;
    };
    let mut native = BundleOptions {
        lock: Some(lock.clone()),
        entry_point: Some("tomli".into()),
        output: dir.join("tomli.pyz"),
        ..options(&py312.path, &dir, &[])
    };
    pyzap_bundle::bundle(&native, &pyzap_bundle::Silent).unwrap();
    assert_eq!(bundled(&native.output), ["tomli-2.5.0-py3-none-any.whl"]);
    // A cross-target build cannot, and says why.
    native.python_versions = vec!["3.12".into()];
    native.platforms = vec![X86_64.into()];
    assert_report!(bundle_err(&native));
}

/// six 1.17.0's sdist has metadata 2.1: its PKG-INFO does not promise the
/// dependencies a build would give.
#[test]
fn cross_lock_of_an_sdist_with_dynamic_metadata() {
    let Some(py) = py311() else { return };
    let dir = test_dir("lock-cross-dynamic");
    let links = only_sdist(&dir, "six-1.17.0.tar.gz");
    let err = lock_cross(&py, &dir, &links, "six").unwrap_err();
    assert!(!dir.join("pylock.toml").exists());
    assert_report!(err);
}
