//! End-to-end tests: build real artifacts from ../shared/wheelhouse with the
//! `pyzap` binary and run them under every CPython 3.8–3.13 on the machine.

mod cache_command;
mod common;
mod cross;
mod embed;
mod hostile_wheels;
mod index;
mod inspect;
mod litter;
mod lock;
mod malformed;
mod metadata;
mod runtime;
mod runtime_cache;
mod servers;
mod standalone;
mod venv;
mod versions;
