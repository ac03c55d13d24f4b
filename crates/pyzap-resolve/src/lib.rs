//! Choosing one version per project for a target: pubgrub over PEP 440
//! ranges, with markers evaluated for the target and extras as virtual
//! packages. Candidates come through the `Provider` trait. PEP 751 lock
//! files (`pylock.toml`) write a resolution down and read it back.

mod error;
mod index_provider;
mod lock;
mod package;
mod provider;
mod resolver;

pub use error::ResolveError;
pub use index_provider::IndexProvider;
pub use lock::{FileSource, Lock, LockedChoice, LockedFile, LockedPackage, LOCK_VERSION};
pub use package::Package;
pub use provider::{CandidateMetadata, Provider};
pub use resolver::{resolve, Resolution, ResolveOptions, ResolvedDist};
