//! Hostile wheels through the real `pyzap build`. Regression tests for
//! memory that grew with the wheels (a 3.9 MB wheel inflating to 4 GB
//! peaked at 3.9 GB of RSS, 150 MB of sources at 453 MB), measured here as
//! the peak RSS of the pyzap process and the compilers it waited for
//! (`wait4` on its pid, so parallel tests' processes do not count). Wheels
//! that could never run are refused before any artifact is written: those
//! tests run in process, in `pyzap-bundle`'s `tests/it/messages.rs`.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};

use pyzap_test_support::WheelBuilder;

use crate::common::*;

/// What a build may use, whatever the wheels' sizes.
const MAX_RSS: u64 = 200 * 1024 * 1024;

struct Measured {
    status: ExitStatus,
    stderr: String,
    /// Peak resident set size in bytes, the process's and its reaped children's.
    max_rss: u64,
}

/// Where `measure_in_fresh_process` finds the command, its words separated by U+001F.
const MEASURE_ENV: &str = "PYZAP_TEST_MEASURE";
const MEASURED: &str = "pyzap-test-measured:";

/// Runs `cmd` to completion and measures it with `wait4(2)` on its pid.
///
/// Not from this process: a child spawned here (by `posix_spawn`, sharing
/// this address space until `exec`) starts with this process's peak RSS as
/// its own, and this test binary holds big wheels being built. So a fresh,
/// small copy of this binary (`measure_in_fresh_process`) spawns `cmd`,
/// waits for it and reports.
fn run_measured(cmd: &Command) -> Measured {
    let words: Vec<String> = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|w| w.to_str().expect("UTF-8 arguments").to_string())
        .collect();
    let mut helper = Command::new(std::env::current_exe().unwrap());
    helper
        .args([
            "--exact",
            "hostile_wheels::measure_in_fresh_process",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(MEASURE_ENV, words.join("\u{1f}"));
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => helper.env(k, v),
            None => helper.env_remove(k),
        };
    }
    let out = helper
        .stdin(Stdio::null())
        .output()
        .expect("spawn the helper");
    let report = String::from_utf8_lossy(&out.stdout);
    let Some(line) = report
        .lines()
        .find_map(|l| l.split_once(MEASURED).map(|(_, rest)| rest))
    else {
        panic!("the helper did not report: {report}\n{}", stderr(&out));
    };
    let [status, max_rss_kb]: [i32; 2] = line
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    Measured {
        status: ExitStatus::from_raw(status),
        stderr: stderr(&out),
        // Linux reports kilobytes.
        max_rss: max_rss_kb as u64 * 1024,
    }
}

/// The measuring side of `run_measured`, in a process of its own; does
/// nothing when run as a test.
#[test]
#[ignore = "run by run_measured in a fresh process"]
fn measure_in_fresh_process() {
    let Some(words) = std::env::var_os(MEASURE_ENV) else {
        return;
    };
    let words = words.into_string().unwrap();
    let mut words = words.split('\u{1f}');
    let child = Command::new(words.next().unwrap())
        .args(words)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: plain out-parameters. The child is reaped here and never
    // waited on again (dropping a `Child` does not wait).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our child, not yet waited on; both out-parameters
        // are live locals.
        if unsafe { libc::wait4(pid, &mut status, 0, &mut usage) } == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        assert_eq!(e.kind(), std::io::ErrorKind::Interrupted, "wait4: {e}");
    }
    drop(child);
    println!("{MEASURED} {status} {}", usage.ru_maxrss);
}

/// `pyzap build WHEELS -e ENTRY -o OUT` with a build cache of its own in
/// `cache` (a bundle's bytecode is as big as its sources: it goes with the
/// test's directory, not into the shared scratch one).
#[allow(
    clippy::print_stderr,
    reason = "the measurement, for `--nocapture`: a test's own output"
)]
fn build_measured(wheels: &[&Path], entry: &str, out: &Path, cache: &Path) -> Measured {
    let mut cmd = pyzap();
    cmd.env("PYZAP_CACHE_DIR", cache)
        .arg("build")
        .args(wheels)
        .args(["--no-index", "-e", entry, "--python"])
        .arg(&py311().path)
        .arg("-o")
        .arg(out);
    let m = run_measured(&cmd);
    assert!(!m.stderr.contains("panicked"), "{}", m.stderr);
    eprintln!(
        "pyzap build {entry}: {}, peak RSS {:.1} MB",
        m.status,
        m.max_rss as f64 / 1e6
    );
    m
}

#[test]
fn wheel_inflating_to_4_gib_builds_in_bounded_memory() {
    let dir = tempfile::tempdir_in(scratch()).unwrap();
    let wheel = WheelBuilder::new("zeros", "1.0")
        .file("zeros/__init__.py", "X = 1\n")
        .zeros("zeros/data.bin", 4 << 30)
        .build(dir.path());
    let out = dir.path().join("zeros.pyz");
    let m = build_measured(&[&wheel], "zeros", &out, &dir.path().join("cache"));
    assert!(m.status.success(), "{}", m.stderr);
    assert!(m.max_rss < MAX_RSS, "peak RSS {} bytes", m.max_rss);
    // Copied raw, still deflated: the artifact is about the wheel's size.
    let size = fs_err::metadata(&out).unwrap().len();
    assert!(size < 64 << 20, "{size} bytes");
}

#[test]
fn sixty_megabytes_of_sources_compile_in_bounded_memory() {
    let dir = tempfile::tempdir_in(scratch()).unwrap();
    let mut builder = WheelBuilder::new("manysrc", "1.0").file("manysrc/__init__.py", "");
    let per_file = 128 * 1024;
    let mut total = 0;
    for i in 0..480 {
        let mut text = String::with_capacity(per_file + 64);
        let mut j = 0;
        while text.len() < per_file {
            text.push_str(&format!(
                "def f{j}(x, y={i}):\n    return [x + y * {j} for _ in range(3)]\n\n"
            ));
            j += 1;
        }
        total += text.len();
        builder = builder.file(&format!("manysrc/m{i:03}.py"), &text);
    }
    assert!(total > 60_000_000, "{total}");
    let wheel = builder.build(dir.path());
    let out = dir.path().join("manysrc.pyz");
    let m = build_measured(&[&wheel], "manysrc", &out, &dir.path().join("cache"));
    assert!(m.status.success(), "{}", m.stderr);
    assert!(m.max_rss < MAX_RSS, "peak RSS {} bytes", m.max_rss);
    let info = run_ok(pyzap().arg("info").arg(&out));
    assert!(stdout(&info).contains("manysrc"), "{}", stdout(&info));
}
