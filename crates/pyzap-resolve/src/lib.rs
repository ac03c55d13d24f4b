//! Choosing one version per project for a target: pubgrub over PEP 440
//! ranges, with markers evaluated for the target and extras as virtual
//! packages. Candidates come through the `Provider` trait (the layer above
//! implements it over an index); `FileRules` chooses the file a target
//! installs. PEP 751 lock files (`pylock.toml`) write a resolution down (or
//! several environments' resolutions, merged under markers) and read it back.

mod choice;
mod conflicts;
mod error;
mod explain;
mod lock;
mod package;
mod provider;
mod report;
mod resolver;
mod universal;
mod version_range;

pub use choice::{FileKind, FileRules};
pub use error::ResolveError;
pub use lock::{
    FileSource, Lock, LockedChoice, LockedFile, LockedPackage, SdistBuilds, LOCK_VERSION,
};
pub use package::Package;
pub use provider::{CandidateMetadata, Exclusion, Provider};
pub use resolver::{resolve, Notice, Resolution, ResolveOptions, ResolvedDist};
pub use universal::EnvironmentLock;
