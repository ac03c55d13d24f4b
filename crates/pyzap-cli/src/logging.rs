//! `tracing`'s diagnostics on stderr, as a user reads them: no module
//! paths, no colour off a terminal or under `NO_COLOR`, and each `-v`
//! widening the view from pyzap's own lines to the libraries' internals.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the subscriber. `RUST_LOG`, when set, chooses the lines
/// instead of `-v`/`-q`, and then module paths are shown: whoever sets it
/// names modules.
pub(crate) fn init(verbose: u8, quiet: bool) {
    let from_env = EnvFilter::try_from_default_env().ok();
    let show_targets = from_env.is_some() || (verbose >= 3 && !quiet);
    let filter = from_env.unwrap_or_else(|| EnvFilter::new(directives(verbose, quiet)));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour())
        .with_target(show_targets)
        .without_time()
        .init();
}

/// The `EnvFilter` of `-q` and each count of `-v`. Every crate of the
/// workspace is named `pyzap…`, and a directive's target matches as a
/// prefix, so `pyzap=debug` is pyzap's debug lines and none of ureq's,
/// rustls's or the HTTP stack's.
fn directives(verbose: u8, quiet: bool) -> &'static str {
    match (quiet, verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "warn,pyzap=info",
        (_, 2) => "warn,pyzap=debug",
        _ => "debug,pyzap=trace",
    }
}

/// Colour only on a terminal, and never when `NO_COLOR` is set to
/// anything but the empty string (<https://no-color.org>).
fn colour() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stderr().is_terminal()
}
