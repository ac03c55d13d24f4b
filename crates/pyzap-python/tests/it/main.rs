//! Integration tests of `pyzap-python`: the table of python downloads as
//! `scripts/update-python-downloads.py` writes it, read back by the crate.

// Tests may unwrap: a failed unwrap is a failed test (clippy.toml's
// `allow-unwrap-in-tests` covers only `#[test]` functions, not helpers).
#![cfg_attr(test, allow(clippy::unwrap_used, reason = "tests may unwrap"))]

mod update_script;
