//! `pyzap snap`: its arguments, made into `pyzap-deploy`'s options, and
//! what it tells the user. What the snap holds is decided in `pyzap-deploy`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use pyzap_bundle::Reporter;
use pyzap_deploy::SnapOptions;

use crate::ui::Ui;

#[derive(Args, Debug)]
#[command(after_help = "Example:\n  \
    pyzap snap black.pyz\n  \
    pyzap snap dist/tool --app tool --plug home --plug network -o dist/")]
pub(crate) struct SnapArgs {
    /// The artifact: a .pyz built for Python 3.8, 3.10 or 3.12 (the Python of the
    /// core20, core22, core24 bases), or a standalone executable
    artifact: PathBuf,
    /// The snap's name (default: the bundled project's, made lowercase with `-`)
    #[arg(long)]
    name: Option<String>,
    /// The bundled project the snap is for, when the entry point does not say
    #[arg(long, value_name = "NAME")]
    dist: Option<String>,
    /// Make an app of this console script only; repeatable (default: every console
    /// script of the project that the artifact can run)
    #[arg(long = "app", value_name = "SCRIPT")]
    apps: Vec<String>,
    /// confinement: classic (standalone executables only) instead of strict
    #[arg(long)]
    classic: bool,
    /// An interface every app plugs under strict confinement; repeatable
    #[arg(long = "plug", value_name = "INTERFACE", default_value = "home")]
    plugs: Vec<String>,
    /// Where to write the snap: a directory (it is named NAME_VERSION_ARCH.snap)
    /// or a file ending in .snap
    #[arg(short = 'o', long = "output", value_name = "PATH", default_value = ".")]
    output: PathBuf,
}

/// Writes the snap, then says what was changed to fit and how to install it.
pub(crate) fn run(args: &SnapArgs, ui: &Ui) -> Result<()> {
    let snap = pyzap_deploy::snap_plan(&SnapOptions {
        artifact: args.artifact.clone(),
        name: args.name.clone(),
        dist: args.dist.clone(),
        apps: args.apps.clone(),
        classic: args.classic,
        plugs: args.plugs.clone(),
    })?;
    for note in &snap.notes {
        ui.warn(note);
    }
    let out = if args.output.extension().is_some_and(|e| e == "snap") {
        args.output.clone()
    } else {
        args.output.join(&snap.file_name)
    };
    pyzap_deploy::write_snap(&snap, &out)?;
    // A snap not from the store installs only with --dangerous.
    let mode = if args.classic {
        "--dangerous --classic"
    } else {
        "--dangerous"
    };
    ui.info(&format!(
        "wrote {} ({} {}; apps: {})\ninstall it: snap install {mode} {}",
        out.display(),
        snap.name,
        snap.version,
        snap.commands.join(", "),
        out.display()
    ));
    Ok(())
}
