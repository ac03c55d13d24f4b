//! Files that deploy a pyzap artifact on a server: systemd units that serve
//! it through socket activation (`pyzap systemd`). The rules live here; the
//! CLI parses arguments and prints what this crate returns.

mod error;
mod systemd;

pub use error::DeployError;
pub use systemd::{
    systemd_units, write_units, EnvVar, Hardening, Listen, ProtectHome, ProtectSystem,
    SystemdOptions, UnitFile, Units,
};
