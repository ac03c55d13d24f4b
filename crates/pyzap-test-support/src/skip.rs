//! Skipping a test whose requirement (an interpreter, a kernel feature) is
//! missing. Locally the skip is a line on the terminal that the test
//! harness does not swallow; where `PYZAP_TEST_NO_SKIP=1` (CI sets it), it
//! is a failure, so a green CI always means every test really ran.

use std::io::Write;

/// The variable that turns every skip into a failure.
pub const NO_SKIP_VAR: &str = "PYZAP_TEST_NO_SKIP";

/// Reports that the calling test cannot run because `reason`; panics (fails
/// the test) when skips are not allowed. Callers return right after.
#[track_caller]
pub fn skip(reason: &str) {
    if std::env::var(NO_SKIP_VAR).is_ok_and(|v| v == "1") {
        panic!("{reason} ({NO_SKIP_VAR}=1: a test that cannot run fails)");
    }
    // Straight to the file descriptor: the harness captures `eprintln!`
    // of passing tests, and a skip must stay visible.
    let line = format!("SKIPPED ({}): {reason}\n", std::panic::Location::caller());
    let _ = std::io::stderr().write_all(line.as_bytes());
}
