//! The `pyzap` command: parses arguments, runs one command, and reports
//! errors once, with their causes and hints, as a user should read them.

mod build;
mod cache;
mod cli;
mod inspect;
mod standalone;
mod ui;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse_ordered();
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
    let ui = ui::Ui::new(cli.verbose, cli.quiet);
    let result = match &cli.command {
        cli::Command::Build(args) => cache::while_building(|| build::run(args, &ui)),
        cli::Command::Lock(args) => cache::while_building(|| build::lockfile::run(args, &ui)),
        cli::Command::Cache { command } => cache::run(command, &ui),
        cli::Command::Info { artifact, json } => inspect::info(artifact, *json),
        cli::Command::Extract { artifact, outdir } => inspect::extract(artifact, outdir, &ui),
    };
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

/// `error: …`, then `caused by: …` for each source, then `hint: …` lines.
/// Hints travel inside messages after a `\nhint: ` so any layer can add one.
fn report(err: &anyhow::Error) {
    let mut heads: Vec<String> = Vec::new();
    let mut hints: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string();
        let mut parts = text.split("\nhint: ");
        let head = parts.next().unwrap_or("");
        hints.extend(parts.map(str::to_string));
        match head.strip_prefix("hint: ") {
            Some(h) => hints.push(h.to_string()),
            None if !head.is_empty() && !heads.iter().any(|h| h.contains(head)) => {
                heads.push(head.to_string())
            }
            None => {}
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
