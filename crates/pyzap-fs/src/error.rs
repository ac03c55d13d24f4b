//! Errors of `pyzap-fs`; each names the path it is about.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum FsError {
    #[error("path `{path}` escapes its tree: {reason}")]
    Escape { path: String, reason: &'static str },
    #[error("{path} is owned by uid {owner}, not by the current user (uid {uid})")]
    ForeignOwner { path: PathBuf, owner: u32, uid: u32 },
    #[error("{path} is writable by other users (mode {mode:o})")]
    WorldWritable { path: PathBuf, mode: u32 },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
