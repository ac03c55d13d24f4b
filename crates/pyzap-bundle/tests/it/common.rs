//! Shared fixtures of the in-process tests: one scratch directory for the
//! test process, the options of a build from the shared wheelhouse, and
//! `assert_report!`, which pins the error report exactly as the `pyzap`
//! command prints it (`pyzap_cli::render`), with this machine's paths and
//! ports replaced so the snapshot holds on any checkout.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use pyzap_bundle::{BundleOptions, SourceOptions, StandaloneOptions};
use pyzap_test_support::{wheelhouse, ScratchDir};

/// One scratch directory for the whole test process, under cargo's
/// `target/tmp`; the next run removes it once this process is gone
/// (`ScratchDir`).
pub(crate) fn scratch() -> &'static Path {
    static DIR: OnceLock<ScratchDir> = OnceLock::new();
    DIR.get_or_init(|| {
        ScratchDir::new(Path::new(env!("CARGO_TARGET_TMPDIR")), "pyzap-bundle-it-")
            .expect("a scratch directory under CARGO_TARGET_TMPDIR")
    })
    .path()
}

/// The zstd level test builds pack the CPython payload at: each test's
/// cold build cache would otherwise pack it at level 19, seconds of CPU per
/// test. The payload cache's own tests cover what level 19 changes.
pub(crate) const FAST_PAYLOAD_LEVEL: i32 = 3;

/// `pyzap build six -e six --no-index -f WHEELHOUSE --no-compile
/// --standalone -o OUTPUT`, stripped and packed at [`FAST_PAYLOAD_LEVEL`],
/// with `standalone` saying where the CPython comes from, and a build
/// cache at `cache`.
pub(crate) fn six_standalone(
    output: PathBuf,
    cache: PathBuf,
    standalone: StandaloneOptions,
) -> BundleOptions {
    BundleOptions {
        source: SourceOptions {
            inputs: vec!["six".into()],
            find_links: vec![wheelhouse().display().to_string()],
            no_index: true,
            ..SourceOptions::default()
        },
        entry_point: Some("six".into()),
        output,
        no_compile: true,
        standalone: Some(StandaloneOptions {
            strip_stdlib: true,
            payload_level: Some(FAST_PAYLOAD_LEVEL),
            ..standalone
        }),
        cache_dir: cache,
        ..BundleOptions::default()
    }
}

/// A new empty directory `<scratch>/<name>`: named by the test, so a report
/// that shows it reads the same in every run.
pub(crate) fn test_dir(name: &str) -> PathBuf {
    let dir = scratch().join(name);
    fs_err::create_dir(&dir).expect("a test directory name used once");
    dir
}

/// The build cache all tests of this process share.
pub(crate) fn build_cache() -> PathBuf {
    scratch().join("build-cache")
}

/// The CPython 3.11 these tests build for, or a skip.
#[track_caller]
pub(crate) fn py311() -> Option<PathBuf> {
    let found = find_py311();
    if found.is_none() {
        pyzap_test_support::skip("no python3.11 on this machine");
    }
    found
}

/// The CPython 3.11 on this machine, looked for once.
fn find_py311() -> Option<PathBuf> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            pyzap_test_support::interpreters()
                .into_iter()
                .find(|i| i.version == (3, 11))
                .map(|i| i.path)
        })
        .clone()
}

/// `pyzap build INPUTS -f WHEELHOUSE --no-index --python PY -o DIR/out.pyz`.
pub(crate) fn options(python: &Path, dir: &Path, inputs: &[&str]) -> BundleOptions {
    BundleOptions {
        source: SourceOptions {
            inputs: inputs
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            find_links: vec![wheelhouse().display().to_string()],
            no_index: true,
            python: Some(python.display().to_string()),
            ..Default::default()
        },
        output: dir.join("out.pyz"),
        cache_dir: build_cache(),
        ..Default::default()
    }
}

/// `bundle` with a silent reporter, expected to fail.
#[track_caller]
pub(crate) fn bundle_err(options: &BundleOptions) -> pyzap_bundle::BundleError {
    match pyzap_bundle::bundle(options, &pyzap_bundle::Silent) {
        Ok(()) => panic!("the build succeeded: {options:?}"),
        Err(e) => e,
    }
}

/// What differs between machines and runs, replaced: the scratch
/// directory, the wheelhouse, the test binary's directory, the test Python,
/// ports on 127.0.0.1, and the random part of temporary names.
pub(crate) fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    let mut paths = vec![(scratch().to_path_buf(), "[TMP]")];
    paths.push((wheelhouse(), "[WHEELHOUSE]"));
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        paths.push((dir, "[TESTBIN]"));
    }
    if let Some(py) = find_py311() {
        paths.push((py, "[PYTHON]"));
    }
    for (path, name) in paths {
        if let Ok(canonical) = path.canonicalize() {
            if canonical != path {
                s.add_filter(
                    &pyzap_test_support::regex_escape(&canonical.display().to_string()),
                    name,
                );
            }
        }
        s.add_filter(
            &pyzap_test_support::regex_escape(&path.display().to_string()),
            name,
        );
    }
    // pip's variable, which the pipeline reads as pip does: a machine's own
    // find-links locations are listed where the places searched are.
    for location in std::env::var("PIP_FIND_LINKS")
        .unwrap_or_default()
        .split_whitespace()
    {
        s.add_filter(
            &format!(", {}", pyzap_test_support::regex_escape(location)),
            "",
        );
    }
    s.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    // Scratch directories of a build (`tempfile` names) inside paths.
    s.add_filter(
        r"/(build|lock|git|wheel|sdist)-[A-Za-z0-9_]{6}\b",
        "/$1-[RANDOM]",
    );
    // The test Python's patch release and this machine's glibc, where a
    // target is described or its tags are listed.
    s.add_filter(r"\b3\.11\.\d+\b", "3.11.[PATCH]");
    s.add_filter(
        r"(cp311-cp311-|cp311, |--platform )manylinux_2_\d+_",
        "${1}manylinux_2_[N]_",
    );
    s.add_filter(r"\(\d+ in all\)", "([N] in all)");
    // The release of a build in pyzap's table of python downloads.
    s.add_filter(r"\+\d{8}-", "+[RELEASE]-");
    s
}

/// Pins the report of an error (a `BundleError` or any error the command
/// can print) as a snapshot named after the test.
macro_rules! assert_report {
    ($err:expr) => {{
        let text = pyzap_cli::render(&$err);
        crate::common::settings().bind(|| insta::assert_snapshot!(text));
    }};
}
pub(crate) use assert_report;
