//! Text generated from the clap command itself, so it always matches the
//! binary: `pyzap completions SHELL` and `pyzap man [COMMAND]`.
//!
//! The man page is a command rather than a file a build script writes:
//! the clap command is built from types of `pyzap-bundle`, which a build
//! script could only reach by building the whole pipeline (and its
//! launcher) a second time, and a file under cargo's `OUT_DIR` is where no
//! installer looks. Packagers run `pyzap man > pyzap.1` instead.

use std::io::Write;

use anyhow::{bail, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// Writes the completion script for `shell` to stdout.
pub(crate) fn completions(shell: Shell) -> Result<()> {
    let mut cmd = Cli::command();
    // Generated in memory: the generators panic on a write error, and a
    // closed pipe must end the command quietly.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "pyzap", &mut script);
    std::io::stdout().lock().write_all(&script)?;
    Ok(())
}

/// Writes the man page of `pyzap`, or of `pyzap COMMAND` (as `pyzap-COMMAND`),
/// in roff to stdout.
pub(crate) fn man(command: Option<&str>) -> Result<()> {
    let mut cmd = Cli::command();
    cmd.build();
    let page = match command {
        None => cmd,
        Some(name) => match cmd.find_subcommand(name) {
            // `build` names it `pyzap-build` (its display name).
            Some(sub) => sub.clone().version(env!("PYZAP_VERSION")),
            None => bail!("pyzap has no command `{name}` (see pyzap --help)"),
        },
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page).render(&mut roff)?;
    std::io::stdout().lock().write_all(&roff)?;
    Ok(())
}
