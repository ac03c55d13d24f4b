//! Where candidates come from: a trait so the resolver can be fed from
//! find-links directories, an index, or in-memory data in tests.

use pyzap_spec::{PackageName, Requirement, Version, VersionSpecifiers};

/// What the resolver needs to know about one candidate version.
#[derive(Debug, Clone, Default)]
pub struct CandidateMetadata {
    pub requires_dist: Vec<Requirement>,
    pub requires_python: Option<VersionSpecifiers>,
}

pub trait Provider {
    type Err: std::error::Error + Send + Sync + 'static;

    /// Versions of `name` that have a file usable on the target, any order.
    /// When none exist, `unavailable` explains why (for the error message).
    fn versions(&self, name: &PackageName) -> Result<Vec<Version>, Self::Err>;

    /// Why `name` offers no usable version (no files, no compatible wheel…).
    fn unavailable_reason(&self, name: &PackageName) -> Option<String>;

    /// Whether every usable file of `name==version` is yanked (PEP 592):
    /// such a version is chosen only under an `==`/`===` pin that matches
    /// it (`==1.2.3` matches `1.2.3+cpu`), when the pin leaves nothing else.
    fn yanked(&self, _name: &PackageName, _version: &Version) -> bool {
        false
    }

    fn metadata(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<CandidateMetadata, Self::Err>;
}
