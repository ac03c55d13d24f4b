//! Integration tests of `pyzap-bundle`: the index provider over a real
//! index client and a local index serving ../shared/wheelhouse; every
//! user-facing error as the report the command prints; the pipeline's
//! results, in process.

mod common;
mod index;
mod messages;
mod messages_lock_standalone;
mod messages_runtime_cache;
mod pipeline;
mod standalone;
