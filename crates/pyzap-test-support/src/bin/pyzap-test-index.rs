//! `pyzap-test-index`: the tests' local package index as a process, for
//! `bench/` and for trying things by hand.
//!
//! ```text
//! pyzap-test-index [DIR] [--format json|html] [--no-metadata-files]
//!     [--metadata-files-missing] [--no-ranges] [--no-etags] [--yank FILE=REASON]...
//!     [--fail-first N] [--delay-ms MS] [--auth USER:PASSWORD]
//! ```
//!
//! Serves DIR (default: the shared wheelhouse) on 127.0.0.1 with the
//! options of [`IndexConfig`] (default: JSON pages, metadata files, ranges,
//! ETags),
//! prints its URL (`http://127.0.0.1:PORT/simple/`) as the first line on
//! stdout, and serves until stdin closes (or it is killed); then it prints
//! `requests N`, the number of requests it answered, and exits. The options
//! are few and flat, so they are parsed by hand rather than pulling a
//! parser into a crate that every test links.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use pyzap_test_support::{IndexConfig, IndexServer, PageFormat};

fn parse(args: impl Iterator<Item = String>) -> Result<IndexConfig, String> {
    let mut config = IndexConfig::serving(PathBuf::new());
    let mut dir = None;
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--format" => {
                config.format = match value("--format")?.as_str() {
                    "json" => PageFormat::Json,
                    "html" => PageFormat::Html,
                    other => return Err(format!("--format is json or html, not {other}")),
                }
            }
            "--no-metadata-files" => config.metadata_files = false,
            "--metadata-files-missing" => config.metadata_files_missing = true,
            "--no-ranges" => config.ranges = false,
            "--no-etags" => config.etags = false,
            "--yank" => {
                let v = value("--yank")?;
                let (file, reason) = v.split_once('=').unwrap_or((&v, ""));
                config.yanked.push((file.to_string(), reason.to_string()));
            }
            "--fail-first" => {
                config.fail_first = value("--fail-first")?
                    .parse()
                    .map_err(|e| format!("--fail-first: {e}"))?;
            }
            "--delay-ms" => {
                let ms = value("--delay-ms")?
                    .parse()
                    .map_err(|e| format!("--delay-ms: {e}"))?;
                config.delay = Some(Duration::from_millis(ms));
            }
            "--auth" => {
                let v = value("--auth")?;
                let (user, password) = v.split_once(':').ok_or("--auth is USER:PASSWORD")?;
                config.auth = Some((user.to_string(), password.to_string()));
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            path if dir.is_none() => dir = Some(PathBuf::from(path)),
            extra => return Err(format!("unexpected argument {extra}")),
        }
    }
    config.dir = match dir {
        Some(dir) => dir,
        None => pyzap_test_support::wheelhouse(),
    };
    if !config.dir.is_dir() {
        return Err(format!("{} is not a directory", config.dir.display()));
    }
    Ok(config)
}

const USAGE: &str = "usage: pyzap-test-index [DIR] [--format json|html] [--no-metadata-files] \
[--metadata-files-missing] [--no-ranges] [--no-etags] [--yank FILE=REASON]... [--fail-first N] \
[--delay-ms MS] [--auth USER:PASSWORD]";

#[allow(
    clippy::print_stderr,
    reason = "a command of its own: its usage error goes to its stderr"
)]
fn main() -> ExitCode {
    let config = match parse(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("pyzap-test-index: {message}");
            return ExitCode::from(2);
        }
    };
    let server = IndexServer::start(config);
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{}", server.url())
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    // Serve until stdin reaches its end (the parent closed it or died).
    let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
    let served = server.requests().len();
    drop(server);
    let _ = writeln!(out, "requests {served}");
    ExitCode::SUCCESS
}
