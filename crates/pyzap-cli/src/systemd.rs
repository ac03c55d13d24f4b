//! `pyzap systemd`: its arguments, made into `pyzap-deploy`'s options, and
//! what it tells the user. What the units say is decided in `pyzap-deploy`.

use std::path::PathBuf;

use anyhow::Result;
use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args};
use pyzap_bundle::Reporter;
use pyzap_deploy::{EnvVar, Hardening, Listen, ProtectHome, ProtectSystem, SystemdOptions};

use crate::ui::Ui;

#[derive(Args, Debug)]
#[command(after_help = "Example:\n  \
    pyzap systemd /srv/echo/echo.pyz --listen 127.0.0.1:8080 -o /etc/systemd/system\n  \
    pyzap systemd /srv/echo/echo.pyz --listen 0.0.0.0:8080 --instances 4\n  \
    pyzap systemd /srv/web/web.pyz --listen /run/web.sock -- webapp:app --workers 2")]
pub(crate) struct SystemdArgs {
    /// The artifact (.pyz or standalone executable), where it is installed on the
    /// server; the units name it by this path made absolute (a symlink stays one)
    artifact: PathBuf,
    /// Where the socket unit listens: ADDR:PORT (127.0.0.1:8080, [::]:8080) or the
    /// absolute path of a Unix socket (with `%i` in a template: /run/app/%i.sock)
    #[arg(long, value_name = "ADDR:PORT|PATH")]
    listen: Listen,
    /// The units' name (default: the entry point's console script, else the
    /// artifact's file name without its extension)
    #[arg(long)]
    name: Option<String>,
    /// Write a template, NAME@.socket and NAME@.service: any number of instances
    /// on one port (ReusePort=true), each with a cache of its own
    #[arg(long)]
    template: bool,
    /// A template, and the command that starts N instances of it
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    instances: Option<u32>,
    /// The interpreter that runs the .pyz, by its full path (default
    /// /usr/bin/python3.X for a target of version 3.X)
    #[arg(long, value_name = "PATH")]
    python: Option<PathBuf>,
    /// Run as this existing user instead of a dynamic one (DynamicUser=yes)
    #[arg(long)]
    user: Option<String>,
    /// Set a variable in the service's environment; repeatable
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<EnvVar>,
    /// CacheDirectory=, under /var/cache (default NAME, or NAME/%i for a template)
    #[arg(long, value_name = "DIR")]
    cache_directory: Option<String>,
    /// ProtectSystem=: what the service may not write
    #[arg(long, value_name = "strict|full|yes|no", default_value = "strict")]
    protect_system: ProtectSystem,
    /// ProtectHome=: whether it sees /home, /root and /run/user
    #[arg(long, value_name = "yes|read-only|tmpfs|no", default_value = "yes")]
    protect_home: ProtectHome,
    /// PrivateTmp=: a /tmp of its own
    #[arg(long, value_name = "yes|no", default_value = "yes", action = ArgAction::Set,
          value_parser = BoolishValueParser::new(), hide_possible_values = true)]
    private_tmp: bool,
    /// NoNewPrivileges=: no privileges gained through setuid programs
    #[arg(long, value_name = "yes|no", default_value = "yes", action = ArgAction::Set,
          value_parser = BoolishValueParser::new(), hide_possible_values = true)]
    no_new_privileges: bool,
    /// PrivateNetwork=: no network but the socket systemd passes (off by default)
    #[arg(long, value_name = "yes|no", default_value = "no", default_missing_value = "yes",
          num_args = 0..=1, action = ArgAction::Set, value_parser = BoolishValueParser::new(), hide_possible_values = true)]
    private_network: bool,
    /// Where to write the unit files
    #[arg(short = 'o', long = "output", value_name = "DIR", default_value = ".")]
    output: PathBuf,
    /// Arguments for the app, after the artifact on ExecStart= (after `--`)
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,
}

impl SystemdArgs {
    fn options(&self) -> SystemdOptions {
        SystemdOptions {
            artifact: self.artifact.clone(),
            listen: self.listen.clone(),
            name: self.name.clone(),
            template: self.template,
            instances: self.instances,
            python: self.python.clone(),
            args: self.args.clone(),
            user: self.user.clone(),
            env: self.env.clone(),
            cache_directory: self.cache_directory.clone(),
            hardening: Hardening {
                protect_system: self.protect_system,
                protect_home: self.protect_home,
                private_tmp: self.private_tmp,
                no_new_privileges: self.no_new_privileges,
                private_network: self.private_network,
            },
        }
    }
}

/// Writes the units, then says what was written and how to start it.
pub(crate) fn run(args: &SystemdArgs, ui: &Ui) -> Result<()> {
    let units = pyzap_deploy::systemd_units(&args.options())?;
    for warning in &units.warnings {
        ui.warn(warning);
    }
    let written = pyzap_deploy::write_units(&units, &args.output)?;
    ui.info(units.next_steps(&written).trim_end());
    Ok(())
}
