//! Integration tests of `pyzap-bundle`: the index provider over a real
//! index client and a local index serving ../shared/wheelhouse; every
//! user-facing error as the report the command prints; the pipeline's
//! results, in process.

// Tests may unwrap: a failed unwrap is a failed test (clippy.toml's
// `allow-unwrap-in-tests` covers only `#[test]` functions, not helpers).
#![cfg_attr(test, allow(clippy::unwrap_used, reason = "tests may unwrap"))]

mod common;
mod index;
mod lock_targets;
mod messages;
mod messages_inputs;
mod messages_lock_standalone;
mod messages_python;
mod messages_resolution;
mod messages_runtime_cache;
mod pipeline;
mod project_config;
mod python_downloads;
mod standalone;
