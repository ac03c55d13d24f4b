//! End-to-end tests: build real artifacts from ../shared/wheelhouse with the
//! `pyzap` binary and run them under every CPython 3.8–3.13 on the machine.

// Tests may unwrap: a failed unwrap is a failed test (clippy.toml's
// `allow-unwrap-in-tests` covers only `#[test]` functions, not helpers).
#![cfg_attr(test, allow(clippy::unwrap_used, reason = "tests may unwrap"))]

mod cache_command;
mod cli_polish;
mod common;
mod cross;
mod embed;
mod hostile_wheels;
mod index;
mod inputs;
mod inspect;
mod litter;
mod lock;
mod malformed;
mod metadata;
mod project_config;
mod python_downloads;
mod resolution;
mod runtime;
mod runtime_cache;
mod servers;
mod snap;
mod source_builds;
mod standalone;
mod systemd;
mod venv;
mod versions;
