//! The `pyzap` command: parses arguments, runs one command of
//! `pyzap-bundle`, and reports errors once, with their causes and hints, as
//! a user should read them.

mod cli;
mod generate;
mod logging;
mod snap;
mod systemd;
mod ui;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use pyzap_bundle::InfoFormat;

use crate::cli::{CacheCommand, Cli, Command};
use crate::ui::Ui;

fn main() -> ExitCode {
    let cli = Cli::parse_ordered();
    logging::init(cli.verbose, cli.quiet);
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
            pyzap_bundle::bundle(&args.options(pyzap_bundle::default_cache_dir()?), ui)?;
            if args.json {
                print_summary(ui, pyzap_bundle::artifact_summary)?;
            }
        }
        Command::Lock(args) => {
            pyzap_bundle::lock(&args.options(pyzap_bundle::default_cache_dir()?), ui)?;
            if args.json {
                print_summary(ui, pyzap_bundle::lock_summary)?;
            }
        }
        Command::Cache { command } => cache(command, ui)?,
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
        Command::Systemd(args) => systemd::run(args, ui)?,
        Command::Snap(args) => snap::run(args, ui)?,
        Command::Completions { shell } => generate::completions(*shell)?,
        Command::Man { command } => generate::man(command.as_deref())?,
    }
    Ok(())
}

/// `--json`: the summary of the file the command wrote, on stdout.
fn print_summary(
    ui: &Ui,
    summary: fn(&std::path::Path) -> pyzap_bundle::Result<String>,
) -> Result<()> {
    let path = ui
        .written()
        .context("the command reported no file written")?;
    std::io::stdout()
        .lock()
        .write_all(summary(&path)?.as_bytes())?;
    Ok(())
}

fn cache(command: &CacheCommand, ui: &Ui) -> Result<()> {
    match command {
        // Written, not `println!`: a closed pipe ends the command quietly
        // (exit 0, as for `info`) instead of panicking.
        CacheCommand::Dir { runtime } if runtime.runtime => {
            let root = runtime_root(runtime.root.as_deref())?;
            writeln!(std::io::stdout().lock(), "{}", root.display())?;
        }
        CacheCommand::Dir { .. } => {
            let dir = pyzap_bundle::default_cache_dir()?;
            writeln!(std::io::stdout().lock(), "{}", dir.display())?;
        }
        CacheCommand::Clean => pyzap_bundle::clean(&pyzap_bundle::default_cache_dir()?, ui)?,
        CacheCommand::Prune { days, runtime } => {
            let age = Duration::from_secs(days.saturating_mul(86_400));
            if runtime.runtime {
                pyzap_bundle::prune_runtime(&runtime_root(runtime.root.as_deref())?, age, ui)?;
            } else {
                pyzap_bundle::prune(&pyzap_bundle::default_cache_dir()?, age, ui)?;
            }
        }
        CacheCommand::List { root } => {
            let cache = pyzap_bundle::list_runtime(&runtime_root(root.as_deref())?)?;
            write!(std::io::stdout().lock(), "{cache}")?;
        }
    }
    Ok(())
}

/// `--root DIR` made absolute, else the root the apps use.
fn runtime_root(given: Option<&std::path::Path>) -> Result<std::path::PathBuf> {
    Ok(match given {
        Some(dir) => std::path::absolute(dir)?,
        None => pyzap_bundle::runtime_root()?,
    })
}

/// The report (`pyzap_cli::render`) on stderr.
#[allow(
    clippy::print_stderr,
    reason = "the one report at the top: the CLI is where errors are printed"
)]
fn report(err: &anyhow::Error) {
    eprint!("{}", pyzap_cli::render(err.as_ref()));
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
