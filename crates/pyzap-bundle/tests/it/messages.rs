//! Every error a user can meet in `pyzap build`, `cache clean` and `info`,
//! pinned as the report the `pyzap` command prints (one snapshot per
//! message, in `snapshots/`), so a change of wording shows up in review.
//! Each is driven through the real entry point with bad input, except where
//! a comment says the error value is built directly (it needs a machine
//! that a test cannot make: no home directory, no git, …).
//!
//! Lock files and standalone executables: `messages_lock_standalone.rs`.

use std::path::Path;

use pyzap_bundle::{BundleError, InfoFormat};
use pyzap_test_support::{wheelhouse, WheelBuilder};

use crate::common::*;

// The build cache.

/// Built directly: `default_cache_dir` fails only without `PYZAP_CACHE_DIR`,
/// `XDG_CACHE_HOME` and `HOME`, and tests share one process environment.
#[test]
fn no_cache_dir() {
    assert_report!(BundleError::NoCacheDir);
}

#[test]
fn cache_dir_writable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let Some(py) = py311() else { return };
    let dir = test_dir("cache-dir-writable-by-others");
    let cache = dir.join("cache");
    fs_err::create_dir(&cache).unwrap();
    fs_err::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut options = options(&py, &dir, &["six"]);
    options.cache_dir = cache;
    assert_report!(bundle_err(&options));
}

#[test]
fn cache_dir_is_a_file() {
    let Some(py) = py311() else { return };
    let dir = test_dir("cache-dir-is-a-file");
    let file = dir.join("cache");
    fs_err::write(&file, "").unwrap();
    let mut options = options(&py, &dir, &["six"]);
    options.cache_dir = file;
    assert_report!(bundle_err(&options));
}

#[test]
fn clean_refuses_a_directory_that_is_not_a_cache() {
    let dir = test_dir("not-a-cache");
    fs_err::write(dir.join("thesis.tex"), "").unwrap();
    let err = pyzap_bundle::clean(&dir, &pyzap_bundle::Silent).unwrap_err();
    assert!(dir.join("thesis.tex").exists());
    assert_report!(err);
}

// Inputs.

#[test]
fn missing_wheel_file() {
    let Some(py) = py311() else { return };
    let dir = test_dir("missing-wheel-file");
    let wheel = dir.join("gone-1.0-py3-none-any.whl");
    assert_report!(bundle_err(&options(&py, &dir, &[wheel.to_str().unwrap()])));
}

#[test]
fn wheel_file_not_named_like_a_wheel() {
    let Some(py) = py311() else { return };
    let dir = test_dir("not-a-wheel-name");
    let wheel = dir.join("notes.whl");
    fs_err::write(&wheel, "").unwrap();
    assert_report!(bundle_err(&options(&py, &dir, &[wheel.to_str().unwrap()])));
}

#[test]
fn project_path_that_is_not_a_directory() {
    let Some(py) = py311() else { return };
    let dir = test_dir("not-a-directory");
    let missing = dir.join("app");
    assert_report!(bundle_err(&options(
        &py,
        &dir,
        &[missing.to_str().unwrap()]
    )));
}

#[test]
fn directory_without_project_files() {
    let Some(py) = py311() else { return };
    let dir = test_dir("not-a-project");
    let app = dir.join("app");
    fs_err::create_dir(&app).unwrap();
    assert_report!(bundle_err(&options(&py, &dir, &[app.to_str().unwrap()])));
}

#[test]
fn unreadable_pyproject() {
    let Some(py) = py311() else { return };
    let dir = test_dir("bad-pyproject");
    fs_err::write(dir.join("pyproject.toml"), "[project\nname = 'x'\n").unwrap();
    assert_report!(bundle_err(&options(&py, &dir, &[dir.to_str().unwrap()])));
}

#[test]
fn git_input_without_a_url() {
    let Some(py) = py311() else { return };
    let dir = test_dir("not-a-git-url");
    assert_report!(bundle_err(&options(&py, &dir, &["git+nothing"])));
}

/// Built directly: it needs a machine without `git`.
#[test]
fn git_not_installed() {
    assert_report!(BundleError::GitSpawn {
        source: std::io::Error::from_raw_os_error(2),
    });
}

#[test]
fn git_clone_fails() {
    let Some(py) = py311() else { return };
    let dir = test_dir("git-clone-fails");
    let url = format!("git+file://{}/no-repo", dir.display());
    assert_report!(bundle_err(&options(&py, &dir, &[&url])));
}

#[test]
fn invalid_index_url() {
    let Some(py) = py311() else { return };
    let dir = test_dir("invalid-index-url");
    let mut options = options(&py, &dir, &["six"]);
    options.source.no_index = false;
    options.source.index_url = Some("not a url".into());
    assert_report!(bundle_err(&options));
}

#[test]
fn unreachable_index_is_named_without_its_password() {
    let Some(py) = py311() else { return };
    let dir = test_dir("unreachable-index");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut options = options(&py, &dir, &["flask"]);
    options.source.no_index = false;
    options.source.find_links.clear();
    options.source.index_url = Some(format!("http://bob:hunter2@127.0.0.1:{port}/simple/"));
    let err = bundle_err(&options);
    let text = pyzap_cli::render(&err);
    assert!(!text.contains("hunter2"), "{text}");
    assert_report!(err);
}

#[test]
fn malformed_requirement_on_the_command_line() {
    let Some(py) = py311() else { return };
    let dir = test_dir("malformed-requirement");
    assert_report!(bundle_err(&options(&py, &dir, &["black >= = 1"])));
}

#[test]
fn malformed_requirements_line_names_file_and_line() {
    let Some(py) = py311() else { return };
    let dir = test_dir("malformed-requirements-line");
    let req = dir.join("requirements.txt");
    fs_err::write(&req, "# deps\nflask\nblack >= = 1\n").unwrap();
    let mut options = options(&py, &dir, &[]);
    options.source.requirements.push(req);
    assert_report!(bundle_err(&options));
}

#[test]
fn missing_requirements_file() {
    let Some(py) = py311() else { return };
    let dir = test_dir("missing-requirements-file");
    let mut options = options(&py, &dir, &[]);
    options
        .source
        .requirements
        .push(dir.join("requirements.txt"));
    assert_report!(bundle_err(&options));
}

#[test]
fn src_that_is_not_a_directory() {
    let Some(py) = py311() else { return };
    let dir = test_dir("src-not-a-directory");
    let mut options = options(&py, &dir, &[]);
    options.src.push(dir.join("app"));
    assert_report!(bundle_err(&options));
}

#[test]
fn two_src_directories_with_one_file() {
    let Some(py) = py311() else { return };
    let dir = test_dir("src-twice");
    let mut options = options(&py, &dir, &[]);
    for name in ["a", "b"] {
        fs_err::create_dir(dir.join(name)).unwrap();
        fs_err::write(dir.join(name).join("app.py"), "").unwrap();
        options.src.push(dir.join(name));
    }
    assert_report!(bundle_err(&options));
}

#[test]
fn src_holding_a_reserved_name() {
    let Some(py) = py311() else { return };
    let dir = test_dir("src-reserved");
    let src = dir.join("app");
    fs_err::create_dir_all(src.join("site-packages")).unwrap();
    let mut options = options(&py, &dir, &[]);
    options.src.push(src);
    assert_report!(bundle_err(&options));
}

// Hash checking, as pip.

/// `requirements.txt` with `body`, in `dir`.
fn with_requirements(py: &Path, dir: &Path, body: &str) -> pyzap_bundle::BundleOptions {
    let req = dir.join("requirements.txt");
    fs_err::write(&req, body).unwrap();
    let mut options = options(py, dir, &[]);
    options.source.requirements.push(req);
    options.console_script = Some("flask".into());
    options
}

fn wheelhouse_sha256(filename: &str) -> String {
    pyzap_test_support::sha256_file(&wheelhouse().join(filename))
}

#[test]
fn hash_checking_needs_pinned_requirements() {
    let Some(py) = py311() else { return };
    let dir = test_dir("unpinned");
    let flask = wheelhouse_sha256("flask-3.1.3-py3-none-any.whl");
    let options = with_requirements(&py, &dir, &format!("flask>=3 --hash=sha256:{flask}\n"));
    assert_report!(bundle_err(&options));
}

#[test]
fn hash_checking_refuses_a_local_project() {
    let Some(py) = py311() else { return };
    let dir = test_dir("hash-of-project");
    let project = dir.join("proj");
    fs_err::create_dir(&project).unwrap();
    fs_err::write(project.join("setup.py"), "").unwrap();
    let mut options = options(&py, &dir, &[project.to_str().unwrap()]);
    options.source.require_hashes = true;
    assert_report!(bundle_err(&options));
}

#[test]
fn hash_with_an_algorithm_pip_refuses() {
    let Some(py) = py311() else { return };
    let dir = test_dir("hash-algorithm");
    let options = with_requirements(&py, &dir, "six==1.17.0 --hash=md5:0123456789abcdef\n");
    assert_report!(bundle_err(&options));
}

#[test]
fn require_hashes_without_any_hash() {
    let Some(py) = py311() else { return };
    let dir = test_dir("hashes-missing");
    let mut options = with_requirements(&py, &dir, "flask==3.1.3\n");
    options.source.require_hashes = true;
    assert_report!(bundle_err(&options));
}

#[test]
fn dependencies_need_hashes_too() {
    let Some(py) = py311() else { return };
    let dir = test_dir("dependency-hashes-missing");
    let flask = wheelhouse_sha256("flask-3.1.3-py3-none-any.whl");
    let options = with_requirements(&py, &dir, &format!("flask==3.1.3 --hash=sha256:{flask}\n"));
    let err = bundle_err(&options);
    let text = pyzap_cli::render(&err);
    assert!(!text.contains("flask==3.1.3 --hash"), "{text}");
    assert_report!(err);
}

#[test]
fn requirements_hash_mismatch() {
    let Some(py) = py311() else { return };
    let dir = test_dir("hash-mismatch");
    let wrong = "1".repeat(64);
    let mut options = with_requirements(&py, &dir, &format!("six==1.17.0 --hash=sha256:{wrong}\n"));
    options.console_script = None;
    options.entry_point = Some("six".into());
    assert_report!(bundle_err(&options));
}

// Targets and resolution.

#[test]
fn python_not_found() {
    let dir = test_dir("python-not-found");
    let options = options(Path::new("python9.9"), &dir, &["six"]);
    assert_report!(bundle_err(&options));
}

/// Built directly: `--python-version` without `--platform` probes `python3`
/// on `PATH`, which every machine that runs these tests has.
#[test]
fn cross_build_without_a_host_python() {
    assert_report!(BundleError::NoHostPython {
        source: pyzap_python::PythonError::NotFound("python3".into()),
    });
}

/// Built directly: a cross build of a local project probes `python3` on
/// `PATH` for the build, which every machine that runs these tests has.
#[test]
fn project_build_without_a_python() {
    assert_report!(BundleError::NoBuildPython {
        source: pyzap_python::PythonError::NotFound("python3".into()),
    });
}

#[test]
fn unsupported_platform_tag() {
    let Some(py) = py311() else { return };
    let dir = test_dir("unsupported-platform");
    let mut options = options(&py, &dir, &["black"]);
    options.platforms.push("win_amd64".into());
    assert_report!(bundle_err(&options));
}

#[test]
fn unsupported_python_version() {
    let Some(py) = py311() else { return };
    let dir = test_dir("unsupported-python-version");
    let mut options = options(&py, &dir, &["black"]);
    options.python_versions.push("2.7".into());
    assert_report!(bundle_err(&options));
}

#[test]
fn unknown_requirement() {
    let Some(py) = py311() else { return };
    let dir = test_dir("unknown-requirement");
    assert_report!(bundle_err(&options(&py, &dir, &["nosuchpackage-xyz"])));
}

#[test]
fn version_conflict_explains_the_chain() {
    let Some(py) = py311() else { return };
    let dir = test_dir("version-conflict");
    let mut options = options(&py, &dir, &["flask==3.1.3", "werkzeug==3.0.6"]);
    options.console_script = Some("flask".into());
    assert_report!(bundle_err(&options));
}

#[test]
fn wheel_for_another_platform_only() {
    let Some(py) = py311() else { return };
    let dir = test_dir("another-platform");
    WheelBuilder::new("winonly", "1.0")
        .tag("cp311-cp311-win_amd64")
        .file("winonly/__init__.py", "")
        .build(&dir);
    let mut options = options(&py, &dir, &["winonly"]);
    options.source.find_links = vec![dir.display().to_string()];
    assert_report!(bundle_err(&options));
}

/// Built directly: a resolution picks only versions that have a file for
/// the target, so no input reaches it; it guards that rule.
#[test]
fn no_file_for_a_resolved_version() {
    assert_report!(BundleError::NoFile {
        name: "six".parse().unwrap(),
        version: "1.17.0".parse().unwrap(),
    });
}

#[test]
fn build_requirements_without_a_solution() {
    let Some(py) = py311() else { return };
    let dir = test_dir("build-requirements");
    let project = dir.join("proj");
    fs_err::create_dir(&project).unwrap();
    fs_err::write(
        project.join("pyproject.toml"),
        "[build-system]\nrequires = [\"nosuchbackend-xyz\"]\nbuild-backend = \"nosuchbackend\"\n",
    )
    .unwrap();
    assert_report!(bundle_err(&options(
        &py,
        &dir,
        &[project.to_str().unwrap()]
    )));
}

#[test]
fn failing_project_build() {
    let Some(py) = py311() else { return };
    let dir = test_dir("failing-build");
    let project = dir.join("proj");
    fs_err::create_dir(&project).unwrap();
    fs_err::write(
        project.join("setup.py"),
        "raise SystemExit('this project does not build')\n",
    )
    .unwrap();
    assert_report!(bundle_err(&options(
        &py,
        &dir,
        &[project.to_str().unwrap()]
    )));
}

// The entry point.

#[test]
fn unknown_console_script_lists_choices() {
    let Some(py) = py311() else { return };
    let dir = test_dir("unknown-console-script");
    let mut options = options(&py, &dir, &["click", "black"]);
    options.console_script = Some("blak".into());
    assert_report!(bundle_err(&options));
}

#[test]
fn unknown_entry_point_module() {
    let Some(py) = py311() else { return };
    let dir = test_dir("unknown-entry-module");
    let mut options = options(&py, &dir, &["click"]);
    options.entry_point = Some("no_such_mod:main".into());
    assert_report!(bundle_err(&options));
}

#[test]
fn ambiguous_console_script_lists_choices() {
    let Some(py) = py311() else { return };
    let dir = test_dir("ambiguous-entry-point");
    assert_report!(bundle_err(&options(&py, &dir, &["black"])));
}

#[test]
fn no_entry_point_detected() {
    let Some(py) = py311() else { return };
    let dir = test_dir("no-entry-point");
    assert_report!(bundle_err(&options(&py, &dir, &["six"])));
}

// Wheels that could never run: refused, naming the wheel and the entry,
// and nothing is written.

/// Builds the wheels `make` writes into a directory of their own, with
/// `-e entry`; the error, after checking that no artifact was written.
fn refused(name: &str, entry: &str, make: impl FnOnce(&Path)) -> Option<BundleError> {
    let py = py311()?;
    let dir = test_dir(name);
    let wheels = dir.join("wheels");
    fs_err::create_dir(&wheels).unwrap();
    make(&wheels);
    let mut options = options(&py, &dir, &[]);
    options.source.find_links = vec![wheels.display().to_string()];
    for e in fs_err::read_dir(&wheels).unwrap() {
        let path = e.unwrap().path();
        options.source.inputs.push(path.display().to_string());
    }
    options.source.inputs.sort();
    options.entry_point = Some(entry.into());
    let err = bundle_err(&options);
    let left: Vec<_> = fs_err::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1, "no artifact, no partial file: {left:?}");
    Some(err)
}

#[test]
fn traversal_wheel() {
    let Some(err) = refused("traversal", "os", |d| {
        WheelBuilder::new("evil", "1.0")
            .file("../../escape.py", "x = 1\n")
            .build(d);
    }) else {
        return;
    };
    assert_report!(err);
}

#[test]
fn symlink_wheel() {
    let Some(err) = refused("symlink", "os", |d| {
        WheelBuilder::new("linky", "1.0")
            .file("linky/__init__.py", "")
            .symlink("linky/pw", "/etc/passwd")
            .build(d);
    }) else {
        return;
    };
    assert_report!(err);
}

#[test]
fn tampered_wheel_names_the_file() {
    let Some(err) = refused("tampered", "os", |d| {
        WheelBuilder::new("tampered", "1.0")
            .file("tampered/__init__.py", "x = 1\n")
            .tamper("tampered/__init__.py")
            .build(d);
    }) else {
        return;
    };
    assert_report!(err);
}

#[test]
fn truncated_wheel() {
    let Some(err) = refused("truncated", "six", |d| {
        let name = "six-1.17.0-py2.py3-none-any.whl";
        let data = fs_err::read(wheelhouse().join(name)).unwrap();
        fs_err::write(d.join(name), &data[..data.len() / 2]).unwrap();
    }) else {
        return;
    };
    assert_report!(err);
}

#[test]
fn file_and_directory_clash_in_one_wheel() {
    let Some(err) = refused("clash-one", "clash", |d| {
        WheelBuilder::new("clash", "1.0")
            .file("clash/__init__.py", "")
            .file("clash/thing", "a file\n")
            .file("clash/thing/x.py", "")
            .build(d);
    }) else {
        return;
    };
    assert_report!(err);
}

#[test]
fn file_and_directory_clash_across_wheels() {
    let Some(err) = refused("clash-across", "shared", |d| {
        WheelBuilder::new("first", "1.0")
            .file("shared/__init__.py", "")
            .file("shared/thing/__init__.py", "")
            .build(d);
        WheelBuilder::new("second", "1.0")
            .file("shared/thing", "")
            .build(d);
    }) else {
        return;
    };
    assert_report!(err);
}

#[test]
fn path_component_over_255_bytes() {
    let Some(err) = refused("long-name", "longname", |d| {
        WheelBuilder::new("longname", "1.0")
            .file("longname/__init__.py", "")
            .file(&format!("longname/{}.txt", "n".repeat(256)), "")
            .build(d);
    }) else {
        return;
    };
    assert_report!(err);
}

#[test]
fn wheel_version_9() {
    let Some(err) = refused("wheel-version-9", "future", |d| {
        WheelBuilder::new("future", "1.0")
            .file("future/__init__.py", "")
            .wheel_text("Wheel-Version: 9.0\nGenerator: tomorrow\nRoot-Is-Purelib: true\n")
            .build(d);
    }) else {
        return;
    };
    assert_report!(err);
}

// Writing the artifact.

#[test]
fn overlong_shebang() {
    let Some(py) = py311() else { return };
    let dir = test_dir("overlong-shebang");
    let mut options = options(&py, &dir, &["six"]);
    options.entry_point = Some("six".into());
    options.shebang = Some(format!("/opt/{}/bin/python3", "x".repeat(130)));
    assert_report!(bundle_err(&options));
}

#[test]
fn zip64_artifact_refused_before_313() {
    let Some(py) = py311() else { return };
    let dir = test_dir("zip64");
    // The unpacked site is one nested archive (zipfile reads ZIP64); what
    // stays in the outer zip, which zipimport reads, is a wheel's `data`
    // files: 66,000 of them need ZIP64.
    let mut wheel =
        pyzap_test_support::WheelBuilder::new("bigdata", "1.0").file("bigdata/__init__.py", "");
    for i in 0..66_000 {
        wheel = wheel.file(&format!("bigdata-1.0.data/data/share/f{i}.txt"), "");
    }
    let wheel = wheel.build(&dir);
    let mut options = options(&py, &dir, &[wheel.to_str().unwrap()]);
    options.entry_point = Some("bigdata".into());
    options.no_compile = true;
    let err = bundle_err(&options);
    assert!(!options.output.exists());
    assert_report!(err);
}

// Reading an artifact back.

#[test]
fn info_on_a_file_that_is_not_an_artifact() {
    let dir = test_dir("info-not-an-artifact");
    let junk = dir.join("junk.pyz");
    fs_err::write(&junk, b"#!/usr/bin/env python3\nthis is not a zip").unwrap();
    assert_report!(pyzap_bundle::info(&junk, InfoFormat::Text).unwrap_err());
}

#[test]
fn info_on_a_truncated_artifact() {
    let Some(py) = py311() else { return };
    let dir = test_dir("info-truncated");
    let mut options = options(&py, &dir, &["six"]);
    options.entry_point = Some("six".into());
    pyzap_bundle::bundle(&options, &pyzap_bundle::Silent).unwrap();
    let data = fs_err::read(&options.output).unwrap();
    let cut = dir.join("cut.pyz");
    fs_err::write(&cut, &data[..data.len() / 3]).unwrap();
    assert_report!(pyzap_bundle::info(&cut, InfoFormat::Text).unwrap_err());
}

#[test]
fn extract_of_a_missing_artifact() {
    let dir = test_dir("extract-missing");
    let err = pyzap_bundle::extract(
        &dir.join("app.pyz"),
        &dir.join("out"),
        &pyzap_bundle::Silent,
    )
    .unwrap_err();
    assert_report!(err);
}
