//! Integration tests of pyzap-spec's public parsers: property tests that no
//! text makes them panic and that what they write reads back the same.

// Tests may unwrap: a failed unwrap is a failed test (clippy.toml's
// `allow-unwrap-in-tests` covers only `#[test]` functions, not helpers).
#![cfg_attr(test, allow(clippy::unwrap_used, reason = "tests may unwrap"))]

mod properties;
