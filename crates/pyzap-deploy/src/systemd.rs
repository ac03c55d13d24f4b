//! `pyzap systemd`: a socket unit and a service unit that serve an artifact
//! through socket activation — systemd opens the listening socket and
//! starts the service on the first connection, handing it the socket
//! (`pyzap_runtime.listen_sockets()` takes it in the app). A template
//! (`NAME@.socket`, `NAME@.service`) runs any number of instances on one
//! port with `ReusePort=true`. The service is sandboxed by default
//! (`Hardening`), runs the artifact by its absolute path with an
//! interpreter named in full, and unpacks into a `CacheDirectory=` of its
//! own, which the bootstrap finds through `CACHE_DIRECTORY`.

mod escape;
mod plan;
mod render;
mod values;

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

pub use values::{EnvVar, Hardening, Listen, ProtectHome, ProtectSystem};

use crate::DeployError;
use plan::{ArtifactFacts, Service};

/// What `pyzap systemd` was asked for.
#[derive(Debug, Clone)]
pub struct SystemdOptions {
    /// The artifact (`.pyz` or standalone executable), named in the units
    /// by this path made absolute, symlinks kept.
    pub artifact: PathBuf,
    pub listen: Listen,
    /// The units' name; default the entry point's console script, else the
    /// artifact's file name without its extension.
    pub name: Option<String>,
    /// Write `NAME@.socket` and `NAME@.service`.
    pub template: bool,
    /// How many instances the instructions start (implies `template`).
    pub instances: Option<u32>,
    /// The interpreter of a `.pyz` (default `/usr/bin/python3.X`).
    pub python: Option<PathBuf>,
    /// Arguments after the artifact on `ExecStart=`.
    pub args: Vec<String>,
    /// An existing user instead of `DynamicUser=yes`.
    pub user: Option<String>,
    pub env: Vec<EnvVar>,
    /// `CacheDirectory=` (default `NAME`, or `NAME/%i` in a template).
    pub cache_directory: Option<String>,
    pub hardening: Hardening,
}

/// The unit files for one artifact, not yet written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Units {
    /// `echo` for `echo.socket`, `echo@.service`.
    pub name: String,
    pub template: bool,
    pub instances: Option<u32>,
    /// The socket unit, then the service unit.
    pub files: Vec<UnitFile>,
    /// Things that will stop the service from starting that the units
    /// cannot fix (the artifact's permissions), one line each.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitFile {
    /// `echo.socket`, `echo@.service`.
    pub file_name: String,
    pub text: String,
}

/// Reads the artifact's manifest and writes the units' text.
pub fn systemd_units(options: &SystemdOptions) -> Result<Units, DeployError> {
    let path = std::path::absolute(&options.artifact).map_err(|source| DeployError::Absolute {
        path: options.artifact.clone(),
        source,
    })?;
    let info = pyzap_artifact::read_artifact(&path)?;
    let standalone = pyzap_artifact::read_trailer(&path)?.is_some();
    let facts = ArtifactFacts::of(&path, &info.manifest, standalone)?;
    let service = Service::plan(&facts, options)?;
    let warnings = if service.user.is_none() {
        unreadable_by_others(&path, standalone)
    } else {
        Vec::new()
    };
    Ok(Units::of(&service, options.instances, warnings))
}

impl Units {
    fn of(service: &Service, instances: Option<u32>, warnings: Vec<String>) -> Self {
        let stem = service.unit_stem();
        Units {
            name: service.name.clone(),
            template: service.template,
            instances,
            files: vec![
                UnitFile {
                    file_name: format!("{stem}.socket"),
                    text: service.render_socket(),
                },
                UnitFile {
                    file_name: format!("{stem}.service"),
                    text: service.render_service(),
                },
            ],
            warnings,
        }
    }

    /// What to run once the files at `written` exist: install, enable, start.
    pub fn next_steps(&self, written: &[PathBuf]) -> String {
        let mut out = String::new();
        for path in written {
            let _ = writeln!(out, "wrote {}", path.display());
        }
        let files: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        let start = match (self.template, self.instances) {
            (false, _) => format!("{}.socket", self.name),
            (true, Some(1)) => format!("{}@1.socket", self.name),
            (true, Some(n)) => format!("{}@{{1..{n}}}.socket", self.name),
            (true, None) => format!("{name}@1.socket {name}@2.socket", name = self.name),
        };
        let _ = write!(
            out,
            "install and start them, as root:\n  \
             cp {} /etc/systemd/system/\n  \
             systemctl daemon-reload\n  \
             systemctl enable --now {start}\n",
            files.join(" ")
        );
        out
    }
}

/// Writes every file of `units` into `dir` (created if missing), each
/// replaced whole; returns their paths.
pub fn write_units(units: &Units, dir: &Path) -> Result<Vec<PathBuf>, DeployError> {
    let mut written = Vec::new();
    for file in &units.files {
        let path = dir.join(&file.file_name);
        pyzap_fs::write_atomic(&path, file.text.as_bytes(), 0o644).map_err(|source| {
            DeployError::Write {
                path: path.clone(),
                source,
            }
        })?;
        written.push(path);
    }
    Ok(written)
}

/// A dynamic user owns nothing and is in no group: it reads the artifact
/// (and runs a standalone one) only through the permissions for others,
/// and enters each directory above it only with their `x`.
fn unreadable_by_others(path: &Path, standalone: bool) -> Vec<String> {
    let mut warnings = Vec::new();
    let needed = if standalone { 0o005 } else { 0o004 };
    if let Ok(meta) = fs_err::metadata(path) {
        let mode = meta.permissions().mode() & 0o7777;
        if mode & needed != needed {
            let fix = if standalone { "a+rx" } else { "a+r" };
            warnings.push(format!(
                "the service's dynamic user cannot {} {} (mode {mode:04o}): chmod {fix} it, or pass --user",
                if standalone { "run" } else { "read" },
                path.display()
            ));
        }
    }
    for dir in path.ancestors().skip(1) {
        let Ok(meta) = fs_err::metadata(dir) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o001 == 0 {
            warnings.push(format!(
                "the service's dynamic user cannot enter {} (mode {mode:04o}): chmod a+x it, or install the artifact elsewhere",
                dir.display()
            ));
        }
    }
    warnings
}

#[cfg(test)]
mod tests;
