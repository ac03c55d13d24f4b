//! Malformed requirements, requirements files and METADATA, through the whole
//! `pyzap build`: each is one `error:` report and exit 1 (or clap's 2), never
//! a panic (exit 101), an abort or a backtrace. Regression tests for "no input
//! may panic": `foo.>=1` used to panic inside pep508_rs, `-é` in a
//! requirements file inside our own option splitting.

use std::ffi::OsString;
use std::path::Path;
use std::process::Output;

use pyzap_test_support::WheelBuilder;

use crate::common::*;

/// `pyzap build ARGS` against an empty find-links directory: no network.
fn build_in(dir: &Path, args: &[OsString]) -> Output {
    pyzap()
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .arg("build")
        .arg("--no-index")
        .arg("-f")
        .arg(dir)
        .arg("--python")
        .arg(&py311().path)
        .arg("-o")
        .arg(dir.join("out.pyz"))
        .args(args)
        .output()
        .expect("spawn pyzap")
}

/// A normal failure: exit 1 or 2, an `error:` line, no panic message.
fn check_clean_failure(what: &str, out: &Output) -> Result<(), String> {
    let err = stderr(out);
    let problem = if !matches!(out.status.code(), Some(1 | 2)) {
        format!("exit status {}", out.status)
    } else if !err.contains("error:") {
        "no `error:` line".to_string()
    } else if err.contains("panicked") || err.contains("RUST_BACKTRACE") {
        "a panic message".to_string()
    } else {
        return Ok(());
    };
    Err(format!("{what}: {problem}\n{err}"))
}

/// Runs every case, then reports all the ones that failed at once.
fn run_corpus(dir: &Path, cases: &[(String, Vec<OsString>)]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(what, args)| check_clean_failure(what, &build_in(dir, args)).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} malformed inputs were not a clean error:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn malformed_requirement_specs_on_the_command_line() {
    let dir = fresh_dir("malformed-cli-");
    let specs = [
        "foo.>=1".to_string(),
        "foo-[x]".into(),
        "foo_ ; os_name == 'posix'".into(),
        "a[".into(),
        "a[]".into(),
        "a[b-]".into(),
        "a[b-".into(),
        "a[é]".into(),
        "é".into(),
        "aé>=1".into(),
        "a\u{7}b".into(),
        "a\tb\u{1b}[31m".into(),
        "\u{3000}".into(),
        "".into(),
        "x".repeat(20_000),
        format!("{}.>=1", "x".repeat(20_000)),
        "a @".into(),
        "a @ ".into(),
        "a ; python_version<".into(),
        "===".into(),
        "a===".into(),
        "a (>=1".into(),
        "[".into(),
        ";".into(),
        "@".into(),
        "a;;".into(),
        "a; 'x' ~= os_name".into(),
        "a; python_version > '3.18446744073709551615'".into(),
        "a; python_full_version == '18446744073709551615.*'".into(),
        "a==1.18446744073709551615.*".into(),
        "a>1.post18446744073709551615".into(),
        format!("a; {}os_name == 'x'{}", "(".repeat(5000), ")".repeat(5000)),
    ];
    let mut cases: Vec<(String, Vec<OsString>)> = specs
        .iter()
        .map(|s| (format!("spec {s:.60?}"), vec!["--".into(), s.into()]))
        .collect();
    // Without `--`, a leading `-` is an option to clap: its own error, exit 2.
    cases.push(("bare -é".into(), vec!["-é".into()]));
    cases.push(("bare foo.>=1".into(), vec!["foo.>=1".into()]));
    run_corpus(&dir, &cases);
}

#[test]
fn malformed_requirements_files() {
    let dir = fresh_dir("malformed-req-");
    let lines = [
        "-é",
        "-é six",
        "-\u{1F600}",
        "foo.>=1",
        "six\nfoo.>=1 --hash=sha256:00",
        "a[b-]",
        "six --hash",
        "six --hash=",
        "six --hash=é",
        "six --hash=sha256:",
        "six --hashé",
        "six \\",
        "six \\\n  \\\n",
        "\\",
        "-r",
        "-r nonexistent.txt",
        "-r ../${HOME_NOT_SET_ANYWHERE}/x.txt",
        "-c",
        "--no-binary",
        "--only-binary a b",
        "-e .",
        "--frobnicate",
        "a @",
        "a ; python_version<",
        "===",
        "a; 'x' ~= os_name",
        "a; python_version in '3.18446744073709551615'",
        "${",
        "${}x",
        "a\u{1}b",
        "é#comment",
    ];
    let mut cases = Vec::new();
    for (i, text) in lines.iter().enumerate() {
        let file = dir.join(format!("req-{i}.txt"));
        fs_err::write(&file, text).unwrap();
        cases.push((
            format!("requirements file {text:?}"),
            vec!["-r".into(), file.clone().into()],
        ));
        cases.push((
            format!("constraints file {text:?}"),
            vec!["six".into(), "-c".into(), file.into()],
        ));
    }
    // A file that includes itself through ever longer paths.
    let sub = dir.join("loop");
    fs_err::create_dir_all(&sub).unwrap();
    fs_err::write(sub.join("req.txt"), "-r ../loop/req.txt\n").unwrap();
    cases.push((
        "include loop".into(),
        vec!["-r".into(), sub.join("req.txt").into()],
    ));
    // Not UTF-8 at all.
    let latin1 = dir.join("latin1.txt");
    fs_err::write(&latin1, b"caf\xe9>=1\n").unwrap();
    cases.push(("latin-1 file".into(), vec!["-r".into(), latin1.into()]));
    run_corpus(&dir, &cases);
}

#[test]
fn wheel_metadata_with_malformed_requires_dist() {
    let requires = [
        "foo.>=1",
        "a[b-]",
        "x; 'a' ~= os_name",
        "x; python_version > \"3.18446744073709551615\"",
        "x==1.18446744073709551615.*",
        "-é",
    ];
    let mut cases = Vec::new();
    let dirs: Vec<_> = requires
        .iter()
        .enumerate()
        .map(|(i, req)| {
            let dir = fresh_dir("malformed-meta-");
            let name = format!("badmeta{i}");
            let wheel = WheelBuilder::new(&name, "1.0")
                .file(&format!("{name}/__init__.py"), "")
                .requires(req)
                .build(&dir);
            // Found through -f, and given as a local wheel file.
            cases.push((
                format!("Requires-Dist: {req} (find-links)"),
                vec![name.clone().into(), "-e".into(), "os".into()],
            ));
            cases.push((
                format!("Requires-Dist: {req} (wheel file)"),
                vec![wheel.into(), "-e".into(), "os".into()],
            ));
            dir
        })
        .collect();
    // Each wheel sits in its own find-links directory.
    let mut failures = Vec::new();
    for (i, (what, args)) in cases.iter().enumerate() {
        if let Err(e) = check_clean_failure(what, &build_in(&dirs[i / 2], args)) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The error names the bad requirement.
    let out = build_in(&dirs[0], &["badmeta0".into(), "-e".into(), "os".into()]);
    assert!(stderr(&out).contains("foo.>=1"), "{}", stderr(&out));
}
