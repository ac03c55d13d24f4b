//! The `pyzap` command: parses arguments, runs one command of
//! `pyzap-bundle`, and reports errors once, with their causes and hints, as
//! a user should read them.

mod cli;
mod ui;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use pyzap_bundle::{BundleError, InfoFormat, ResolveError};

use crate::cli::{CacheCommand, Cli, Command};
use crate::ui::Ui;

fn main() -> ExitCode {
    let cli = Cli::parse_ordered();
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (_, 0) | (_, 1) => "warn",
        (_, 2) => "debug",
        _ => "trace",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level)),
        )
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    let ui = Ui::new(cli.verbose, cli.quiet);
    let result = run(&cli.command, &ui);
    ui.finish();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            report(&err);
            ExitCode::FAILURE
        }
    }
}

fn run(command: &Command, ui: &Ui) -> Result<()> {
    match command {
        Command::Build(args) => {
            pyzap_bundle::bundle(&args.options(pyzap_bundle::default_cache_dir()?), ui)?
        }
        Command::Lock(args) => {
            pyzap_bundle::lock(&args.options(pyzap_bundle::default_cache_dir()?), ui)?
        }
        Command::Cache { command } => {
            let dir = pyzap_bundle::default_cache_dir()?;
            match command {
                CacheCommand::Dir => println!("{}", dir.display()),
                CacheCommand::Clean => pyzap_bundle::clean(&dir, ui)?,
                CacheCommand::Prune { days } => {
                    pyzap_bundle::prune(&dir, Duration::from_secs(days * 86_400), ui)?
                }
            }
        }
        Command::Info { artifact, json } => {
            let format = if *json {
                InfoFormat::Json
            } else {
                InfoFormat::Text
            };
            let text = pyzap_bundle::info(artifact, format)?;
            std::io::stdout().lock().write_all(text.as_bytes())?;
        }
        Command::Extract { artifact, outdir } => pyzap_bundle::extract(artifact, outdir, ui)?,
    }
    Ok(())
}

/// `error: …`, then `caused by: …` for each source (a cause whose text an
/// earlier line already holds is not repeated), then the `hint: …` lines of
/// every error in the chain.
fn report(err: &anyhow::Error) {
    let mut heads: Vec<String> = Vec::new();
    let mut hints: Vec<String> = Vec::new();
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<BundleError>() {
            hints.extend(e.hints());
        } else if let Some(e) = cause.downcast_ref::<ResolveError>() {
            hints.extend(e.hints());
        }
        let head = cause.to_string();
        if !head.is_empty() && !heads.iter().any(|h| h.contains(&head)) {
            heads.push(head);
        }
    }
    let mut heads = heads.into_iter();
    eprintln!("error: {}", heads.next().unwrap_or_default());
    for cause in heads {
        eprintln!("  caused by: {cause}");
    }
    for hint in hints {
        eprintln!("hint: {hint}");
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
