//! Integration tests of `pyzap-launcher`: every error of the stub, as the
//! one line a user of a standalone executable sees.

// Tests may unwrap: a failed unwrap is a failed test (clippy.toml's
// `allow-unwrap-in-tests` covers only `#[test]` functions, not helpers).
#![cfg_attr(test, allow(clippy::unwrap_used, reason = "tests may unwrap"))]

mod flush;
mod messages;
mod protocol;
mod unpack;
