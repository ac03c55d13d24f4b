//! The stub of every standalone executable `pyzap build --standalone` writes
//! (see the `pyzap-launcher` crate). It lives in this package so one
//! `cargo build` puts it next to `pyzap`, where the build command looks.

fn main() -> std::process::ExitCode {
    pyzap_launcher::main()
}
