//! Files that deploy a pyzap artifact: systemd units that serve it through
//! socket activation (`pyzap systemd`), and snaps (`pyzap snap`). The rules
//! live here; the CLI parses arguments and prints what this crate returns.

mod error;
mod snap;
mod systemd;

pub use error::DeployError;
pub use snap::{snap_plan, write_snap, Snap, SnapOptions};
pub use systemd::{
    systemd_units, write_units, EnvVar, Hardening, Listen, ProtectHome, ProtectSystem,
    SystemdOptions, UnitFile, Units,
};
