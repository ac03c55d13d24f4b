//! Choosing one version per project for a target: pubgrub over PEP 440
//! ranges, with markers evaluated for the target and extras as virtual
//! packages. Candidates come through the `Provider` trait.

mod error;
mod find_links;
mod package;
mod provider;
mod resolver;

pub use error::ResolveError;
pub use find_links::FindLinksProvider;
pub use package::Package;
pub use provider::{CandidateMetadata, Provider};
pub use resolver::{resolve, Resolution, ResolveOptions, ResolvedDist};
