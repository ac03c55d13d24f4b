//! The stub of every standalone executable `pyzap build --standalone` writes.
//!
//! `pyzap-bundle`'s build script builds this binary (static, for musl, with
//! the `launcher` profile) and `pyzap` carries it; a plain `cargo build`
//! leaves it out (`required-features`), since a copy linked against this
//! machine's glibc would need that glibc, or a newer one, wherever the
//! executable runs.

fn main() -> std::process::ExitCode {
    pyzap_launcher::main()
}
