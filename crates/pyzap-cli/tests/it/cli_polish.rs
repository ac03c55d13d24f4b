//! What a user sees of the command itself: `build --help` grouped under
//! headings, shell completions and the man page, stderr without colour
//! codes off a terminal, `-v` levels that keep other crates' internals for
//! `-vvv`, `--json` summaries, the message of a build with no inputs, and
//! the commit in `--version`.

use std::path::Path;
use std::process::{Command, Output};

use pyzap_test_support::{IndexConfig, IndexServer};
use sha2::{Digest, Sha256};

use crate::common::*;

#[test]
fn build_help_groups_options_under_headings() {
    let out = run_ok(pyzap().args(["build", "--help"]));
    insta::assert_snapshot!("build_help", stdout(&out));
}

#[test]
fn completions_name_the_commands_in_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run_ok(pyzap().args(["completions", shell]));
        let script = stdout(&out);
        assert!(script.contains("build"), "{shell} names no `build`");
        assert!(
            script.contains("console-script"),
            "{shell} names no build option"
        );
    }
    let out = pyzap().args(["completions", "tcsh"]).output().unwrap();
    assert!(!out.status.success());
}

#[test]
fn the_man_pages_render() {
    let page = stdout(&run_ok(pyzap().arg("man")));
    assert!(page.contains(".TH pyzap 1"), "{page}");
    assert!(page.contains("build"), "{page}");
    let build = stdout(&run_ok(pyzap().args(["man", "build"])));
    assert!(build.contains(".TH pyzap-build 1"), "{build}");
    assert!(build.contains(".SH STANDALONE"), "{build}");
    let missing = pyzap().args(["man", "frobnicate"]).output().unwrap();
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("no command `frobnicate`"));
    // Rendered by man itself, where it is installed.
    let Ok(mut man) = Command::new("man")
        .args(["-l", "-"])
        .env("MANWIDTH", "100")
        .env("MAN_KEEP_FORMATTING", "")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    else {
        return;
    };
    use std::io::Write;
    man.stdin
        .take()
        .unwrap()
        .write_all(build.as_bytes())
        .unwrap();
    let out = man.wait_with_output().unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("--console-script"), "{text}");
}

/// A build against an index on 127.0.0.1 at `verbosity` (`-vv`), so
/// pyzap's lines and an HTTP client's may write to stderr; its stderr.
fn verbose_build(verbosity: &str, configure: impl FnOnce(&mut Command)) -> String {
    let server = IndexServer::start(IndexConfig::wheelhouse());
    let dir = fresh_dir("verbose-");
    let mut cmd = pyzap();
    cmd.env("PYZAP_CACHE_DIR", dir.join("cache"))
        .env_remove("RUST_LOG")
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_FIND_LINKS")
        .current_dir(&dir)
        .args(["build", verbosity, "six", "-e", "six", "-i", &server.url()])
        .arg("--python")
        .arg(&py311().path)
        .arg("-o")
        .arg(dir.join("six.pyz"));
    configure(&mut cmd);
    let out = run_ok(&mut cmd);
    stderr(&out)
}

/// What `verbose_build("-vv")` prints on a pseudo-terminal (`script`),
/// stderr and stdout together.
fn verbose_build_on_a_pty(no_color: bool) -> String {
    let server = IndexServer::start(IndexConfig::wheelhouse());
    let dir = fresh_dir("pty-");
    let command = format!(
        "{} build -vv six -e six -i {} --python {} -o {}",
        env!("CARGO_BIN_EXE_pyzap"),
        server.url(),
        py311().path.display(),
        dir.join("six.pyz").display()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &command, "/dev/null"])
        .current_dir(&dir)
        .env("PYZAP_CACHE_DIR", dir.join("cache"))
        .env_remove("RUST_LOG")
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_FIND_LINKS")
        .env_remove("NO_COLOR");
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    stdout(&run_ok(&mut cmd))
}

#[test]
fn stderr_has_no_colour_codes_off_a_terminal() {
    let log = verbose_build("-vv", |_| {});
    assert!(log.contains("DEBUG"), "no debug lines to colour:\n{log}");
    assert!(!log.contains("\x1b["), "{log:?}");
    let log = verbose_build("-vv", |c| {
        c.env("NO_COLOR", "1");
    });
    assert!(!log.contains("\x1b["), "{log:?}");
}

/// Under a pseudo-terminal (`script`) colour is on, which shows the pty is
/// one, and `NO_COLOR` turns it off.
#[test]
fn no_color_turns_colour_off_on_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        pyzap_test_support::skip("no `script` to give pyzap a terminal");
        return;
    }
    let coloured = verbose_build_on_a_pty(false);
    assert!(coloured.contains("built "), "{coloured}");
    assert!(
        coloured.contains("\x1b["),
        "no colour on a terminal: {coloured:?}"
    );
    let plain = verbose_build_on_a_pty(true);
    assert!(
        plain.contains("DEBUG") && plain.contains("built "),
        "{plain}"
    );
    assert!(!plain.contains("\x1b["), "{plain:?}");
}

/// The third-party crates that log through `log` or `tracing` while pyzap
/// fetches from an index.
const THIRD_PARTY: [&str; 4] = ["ureq", "rustls", "hyper", "h2::"];

#[test]
fn vv_shows_pyzaps_debug_lines_and_vvv_also_the_libraries() {
    let vv = verbose_build("-vv", |_| {});
    assert!(vv.contains("DEBUG") && vv.contains("GET "), "{vv}");
    for line in vv.lines() {
        assert!(
            !THIRD_PARTY.iter().any(|t| line.contains(t)),
            "a library's line at -vv: {line}\n{vv}"
        );
        // No module paths: `DEBUG pyzap_index::client: GET …`.
        assert!(!line.contains("pyzap_"), "a module path at -vv: {line}");
    }
    let vvv = verbose_build("-vvv", |_| {});
    assert!(
        vvv.lines().any(|l| l.contains("ureq")),
        "-vvv shows no HTTP client lines, so -vv's absence of them proves nothing:\n{vvv}"
    );
}

#[test]
fn v_shows_steps_without_debug_lines() {
    let v = verbose_build("-v", |_| {});
    assert!(v.contains("pyzap: target:"), "{v}");
    assert!(!v.contains("DEBUG"), "{v}");
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout(out)))
}

fn sha256_hex(path: &Path) -> String {
    let digest = Sha256::digest(fs_err::read(path).unwrap());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn build_json_summarises_the_artifact() {
    let dir = fresh_dir("json-build-");
    let artifact = dir.join("six.pyz");
    let out = run_ok(
        pyzap()
            .args(["build", "six", "-e", "six", "--json", "--no-index", "-f"])
            .arg(wheelhouse())
            .arg("--python")
            .arg(&py311().path)
            .arg("-o")
            .arg(&artifact),
    );
    let summary = json(&out);
    assert_eq!(summary["path"], artifact.to_str().unwrap());
    assert_eq!(summary["kind"], "pyz");
    assert_eq!(summary["sha256"], sha256_hex(&artifact));
    assert_eq!(summary["size"], fs_err::metadata(&artifact).unwrap().len());
    let dists = summary["distributions"].as_array().unwrap();
    assert_eq!(dists.len(), 1, "{summary}");
    assert_eq!(dists[0]["name"], "six");
    assert!(dists[0]["version"].as_str().unwrap().starts_with('1'));
    assert_eq!(summary["entry_point"]["module"], "six");
    assert_eq!(summary["entry_point"]["kind"], "module");
    let targets = summary["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1);
    assert!(
        targets[0]["python"].as_str().unwrap().starts_with("3.11"),
        "{summary}"
    );
}

#[test]
fn lock_json_summarises_the_lock_file() {
    let dir = fresh_dir("json-lock-");
    let lock = dir.join("pylock.toml");
    let out = run_ok(
        pyzap()
            .args(["lock", "six", "--json", "--no-index", "-f"])
            .arg(wheelhouse())
            .arg("--python")
            .arg(&py311().path)
            .arg("-o")
            .arg(&lock),
    );
    let summary = json(&out);
    assert_eq!(summary["path"], lock.to_str().unwrap());
    assert_eq!(summary["kind"], "pylock");
    assert_eq!(summary["sha256"], sha256_hex(&lock));
    assert_eq!(summary["size"], fs_err::metadata(&lock).unwrap().len());
    assert_eq!(summary["distributions"][0]["name"], "six");
    assert!(summary["entry_point"].is_null());
    let environment = summary["targets"][0]["environment"].as_str().unwrap();
    assert!(
        environment.contains("python_version == '3.11'"),
        "{summary}"
    );
}

#[test]
fn build_without_inputs_says_what_it_takes() {
    let dir = fresh_dir("no-inputs-");
    let out = pyzap().arg("build").current_dir(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("build_without_inputs", stderr(&out));
    // The same with an output named, and for `lock`.
    let out = pyzap()
        .args(["build", "-o", "app.pyz"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        stderr(&out).starts_with("error: nothing to bundle"),
        "{}",
        stderr(&out)
    );
    let out = pyzap().arg("lock").current_dir(&dir).output().unwrap();
    assert!(
        stderr(&out).starts_with("error: nothing to bundle"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.join("pylock.toml").exists());
}

#[test]
fn version_names_the_commit_in_a_checkout() {
    let version = stdout(&run_ok(pyzap().arg("--version")));
    let head = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| stdout(&o).trim().to_string());
    let expected = match head {
        Some(hash) => format!("pyzap {} ({hash})\n", env!("CARGO_PKG_VERSION")),
        None => format!("pyzap {}\n", env!("CARGO_PKG_VERSION")),
    };
    assert_eq!(version, expected);
}
