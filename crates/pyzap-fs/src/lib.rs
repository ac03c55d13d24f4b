//! Durable, safe file-system operations shared by every stage: archive paths
//! that cannot escape their tree, temp-then-rename writes, private (0700)
//! directories whose owner is checked, and exclusive locks for caches.

mod epoch;
mod error;
mod hash;
mod paths;
mod scratch;
mod write;

pub use epoch::{source_date_epoch, ZIP_EPOCH};
pub use error::FsError;
pub use hash::{sha256_file, sha256_hex, Sha256Writer};
pub use paths::{safe_join, validate_archive_path};
pub use scratch::{age_for_tests, hold_file, sweep_files, ScratchDir};
pub use write::{ensure_private_dir, write_atomic, CacheLock};
