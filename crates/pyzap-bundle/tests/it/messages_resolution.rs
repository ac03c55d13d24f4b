//! What a resolution says, pinned as the `pyzap` command prints it: a
//! version that does not exist (the versions that do, and why others were
//! left out), ranges in versions that exist, yanked releases, Requires-Python,
//! unknown extras, requirements left out by their markers, `-e
//! module:function`, and an index that cannot be reached with a warm cache.
//! Each runs the real `bundle` against a local index (`IndexServer`) over
//! wheels built here; warnings and `-v` details go through a `Reporter`
//! that records them.

use std::path::Path;
use std::sync::Mutex;

use pyzap_bundle::{BundleOptions, DownloadReporter, Reporter};
use pyzap_test_support::{IndexConfig, IndexServer, WheelBuilder};

use crate::common::*;

/// The projects every test's index serves:
/// - alpha 1.0, 1.5, 2.0; 2.1 yanked ("broken build"); 2.5 for Python
///   >=3.13; 2.6 for Windows only
/// - beta 1.0, 2.0; gamma 1.0 (beta==1.0), 2.0 (beta>2.0); delta (beta==2.0)
/// - epsilon 0.9, 1.0, both for Python >=3.12
/// - zeta 1.0, extra `fast` (beta), and alpha on Windows, gamma before 3.8
/// - star 1.0, whose package imports `*` from a private module
fn catalog(dir: &Path) {
    let module = "def main():\n    print('hello')\n";
    for version in ["1.0", "1.5", "2.0", "2.1"] {
        WheelBuilder::new("alpha", version)
            .file("alpha/__init__.py", module)
            .build(dir);
    }
    WheelBuilder::new("alpha", "2.5")
        .header("Requires-Python", ">=3.13")
        .file("alpha/__init__.py", module)
        .build(dir);
    WheelBuilder::new("alpha", "2.6")
        .tag("cp311-cp311-win_amd64")
        .file("alpha/__init__.py", module)
        .build(dir);
    for version in ["1.0", "2.0"] {
        WheelBuilder::new("beta", version)
            .file("beta/__init__.py", "")
            .build(dir);
    }
    for (version, beta) in [("1.0", "beta==1.0"), ("2.0", "beta>2.0")] {
        WheelBuilder::new("gamma", version)
            .requires(beta)
            .file("gamma/__init__.py", "")
            .build(dir);
    }
    WheelBuilder::new("delta", "1.0")
        .requires("beta==2.0")
        .file("delta/__init__.py", "")
        .build(dir);
    for version in ["0.9", "1.0"] {
        WheelBuilder::new("epsilon", version)
            .header("Requires-Python", ">=3.12")
            .file("epsilon/__init__.py", "")
            .build(dir);
    }
    WheelBuilder::new("zeta", "1.0")
        .header("Provides-Extra", "fast")
        .requires("beta; extra == \"fast\"")
        .requires("alpha; sys_platform == \"win32\"")
        .requires("gamma; python_version < \"3.8\"")
        .file("zeta/__init__.py", module)
        .build(dir);
    WheelBuilder::new("star", "1.0")
        .file("star/__init__.py", "from ._impl import *\n")
        .file("star/_impl.py", module)
        .build(dir);
}

/// A test's directory and its index over the catalog.
fn index(name: &str) -> (std::path::PathBuf, IndexServer) {
    let dir = test_dir(name);
    let wheels = dir.join("wheels");
    fs_err::create_dir(&wheels).unwrap();
    catalog(&wheels);
    let server = IndexServer::start(IndexConfig {
        yanked: vec![("alpha-2.1-py3-none-any.whl".into(), "broken build".into())],
        ..IndexConfig::serving(wheels)
    });
    (dir, server)
}

/// `pyzap build INPUTS -i INDEX --python PY --no-compile -e ENTRY`.
fn build_options(
    py: &Path,
    dir: &Path,
    server: &IndexServer,
    inputs: &[&str],
    entry: &str,
) -> BundleOptions {
    let mut options = options(py, dir, inputs);
    options.source.no_index = false;
    options.source.find_links.clear();
    options.source.index_url = Some(server.url());
    options.entry_point = Some(entry.into());
    options.no_compile = true;
    options
}

/// The warnings and `-v` details of a command, in order.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl DownloadReporter for Recorder {}

impl Reporter for Recorder {
    fn step(&self, _message: &str) {}
    fn info(&self, _message: &str) {}
    fn warn(&self, message: &str) {
        self.0.lock().unwrap().push(format!("warning: {message}"));
    }
    fn detail(&self, message: &str) {
        self.0.lock().unwrap().push(format!("detail: {message}"));
    }
}

impl Recorder {
    /// Builds `options`, which must succeed; what was said.
    #[track_caller]
    fn bundle(options: &BundleOptions) -> String {
        let recorder = Recorder::default();
        if let Err(e) = pyzap_bundle::bundle(options, &recorder) {
            panic!("{}", pyzap_cli::render(&e));
        }
        let lines = recorder.0.into_inner().unwrap();
        lines.iter().map(|l| format!("{l}\n")).collect()
    }
}

/// Pins what a successful command said.
macro_rules! assert_said {
    ($text:expr) => {{
        let text = $text;
        crate::common::settings().bind(|| insta::assert_snapshot!(text));
    }};
}

// 1. A version that does not exist.

#[test]
fn missing_version_lists_the_available_ones_and_why_others_are_out() {
    let Some(py) = py311() else { return };
    let (dir, server) = index("missing-version");
    let err = bundle_err(&build_options(&py, &dir, &server, &["alpha==3.0"], "alpha"));
    assert_report!(err);
}

// 2. Ranges in the versions that exist, never the resolver's own.

#[test]
fn range_without_versions_says_so_in_requirement_terms() {
    let Some(py) = py311() else { return };
    let (dir, server) = index("range-without-versions");
    let err = bundle_err(&build_options(&py, &dir, &server, &["gamma>=2"], "gamma"));
    let text = pyzap_cli::render(&err);
    assert!(!text.contains('∅') && !text.contains(" | "), "{text}");
    assert_report!(err);
}

#[test]
fn conflict_reads_without_gaps_between_versions() {
    let Some(py) = py311() else { return };
    let (dir, server) = index("conflict-without-gaps");
    let options = build_options(&py, &dir, &server, &["gamma==1.0", "delta"], "gamma");
    let err = bundle_err(&options);
    let text = pyzap_cli::render(&err);
    // pubgrub proved that no `1.0+label` exists either: not worth a line.
    assert!(
        !text.contains(">1.0,<=1.0") && !text.contains("Not"),
        "{text}"
    );
    assert_report!(err);
}

// 3. Yanked releases.

#[test]
fn yanked_release_is_named_with_its_reason() {
    let Some(py) = py311() else { return };
    let (dir, server) = index("yanked-release");
    let err = bundle_err(&build_options(&py, &dir, &server, &["alpha>=2.1"], "alpha"));
    assert_report!(err);
}

#[test]
fn pin_on_a_yanked_release_warns() {
    let Some(py) = py311() else { return };
    let (dir, server) = index("yanked-pin");
    assert_said!(Recorder::bundle(&build_options(
        &py,
        &dir,
        &server,
        &["alpha==2.1"],
        "alpha"
    )));
}

// 4. Requires-Python.

#[test]
fn requires_python_states_the_bound_and_the_target() {
    let Some(py) = py311() else { return };
    let (dir, server) = index("requires-python");
    let err = bundle_err(&build_options(&py, &dir, &server, &["alpha==2.5"], "alpha"));
    assert_report!(err);
}

#[test]
fn requires_python_of_every_version() {
    let Some(py) = py311() else { return };
    let (dir, server) = index("requires-python-all");
    let err = bundle_err(&build_options(&py, &dir, &server, &["epsilon"], "epsilon"));
    assert_report!(err);
}

#[test]
fn wheels_for_another_platform_only() {
    let Some(py) = py311() else { return };
    let (dir, server) = index("another-platform-index");
    let err = bundle_err(&build_options(&py, &dir, &server, &["alpha==2.6"], "alpha"));
    assert_report!(err);
}

// 5. Extras and markers.

#[test]
fn unknown_extra_warns() {
    let Some(py) = py311() else { return };
    let (dir, server) = index("unknown-extra");
    assert_said!(Recorder::bundle(&build_options(
        &py,
        &dir,
        &server,
        &["zeta[nope]"],
        "zeta"
    )));
}

#[test]
fn requirements_left_out_by_their_markers_are_details() {
    let Some(py) = py311() else { return };
    let (dir, server) = index("markers-left-out");
    assert_said!(Recorder::bundle(&build_options(
        &py,
        &dir,
        &server,
        &["zeta", "beta; python_version < \"3\""],
        "zeta"
    )));
}

// 6. `-e module:function`, checked when the artifact is built.

#[test]
fn entry_function_that_does_not_exist() {
    let Some(py) = py311() else { return };
    let (dir, server) = index("entry-function-missing");
    let options = build_options(&py, &dir, &server, &["alpha"], "alpha:mian");
    let err = bundle_err(&options);
    assert!(!options.output.exists());
    assert_report!(err);
}

#[test]
fn entry_function_that_reading_cannot_find_warns() {
    let Some(py) = py311() else { return };
    let (dir, server) = index("entry-function-unknown");
    // `main` comes in through `from ._impl import *`: built, and said so.
    assert_said!(Recorder::bundle(&build_options(
        &py,
        &dir,
        &server,
        &["star"],
        "star:main"
    )));
}

#[test]
fn entry_function_that_exists_is_quiet() {
    let Some(py) = py311() else { return };
    let (dir, server) = index("entry-function-found");
    let options = build_options(&py, &dir, &server, &["alpha"], "alpha:main");
    assert_eq!(Recorder::bundle(&options), "");
    assert!(options.output.exists());
}

// 7. No network, with a warm cache.

#[test]
fn unreachable_index_falls_back_to_a_warm_cache() {
    let Some(py) = py311() else { return };
    let (dir, server) = index("warm-cache");
    let options = build_options(&py, &dir, &server, &["zeta", "gamma==1.0"], "zeta");
    pyzap_bundle::bundle(&options, &pyzap_bundle::Silent).unwrap();
    fs_err::remove_file(&options.output).unwrap();
    // Nothing listens on the index's port any more.
    drop(server);
    assert_said!(Recorder::bundle(&options));
    assert!(options.output.exists());
}

#[test]
fn unreachable_index_without_a_cached_copy_fails_at_once() {
    let Some(py) = py311() else { return };
    let (dir, server) = index("cold-cache");
    let mut options = build_options(&py, &dir, &server, &["zeta"], "zeta");
    pyzap_bundle::bundle(&options, &pyzap_bundle::Silent).unwrap();
    drop(server);
    // beta's page was never read: nothing to fall back on. One attempt,
    // no retries (the report would count them).
    options.source.inputs.push("beta".into());
    assert_report!(bundle_err(&options));
}
