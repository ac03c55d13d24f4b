//! Where candidates come from: a trait so the resolver can be fed from
//! find-links directories, an index, or in-memory data in tests.

use pyzap_spec::{ExtraName, PackageName, Requirement, Version, VersionSpecifiers};

/// What the resolver needs to know about one candidate version.
#[derive(Debug, Clone, Default)]
pub struct CandidateMetadata {
    pub requires_dist: Vec<Requirement>,
    pub requires_python: Option<VersionSpecifiers>,
    /// `Provides-Extra`: the extras a requirement may ask for.
    pub provides_extra: Vec<ExtraName>,
}

/// Why a version a source lists is no candidate for the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exclusion {
    /// Its `Requires-Python` (the index's, or its core metadata's) refuses
    /// the target's Python.
    RequiresPython(VersionSpecifiers),
    /// No file fits the target; the text says what the files are for
    /// (`no wheel for CPython 3.11.7 (…); its wheels are for win_amd64`).
    NoFile(String),
    /// Every usable file is yanked (PEP 592), with the reason when the
    /// index gave one.
    Yanked(Option<String>),
}

pub trait Provider {
    type Err: std::error::Error + Send + Sync + 'static;

    /// Versions of `name` that have a file usable on the target, any order
    /// (`unavailable_reason` and `excluded` say why others are missing).
    fn versions(&self, name: &PackageName) -> Result<Vec<Version>, Self::Err>;

    /// Why `name` offers nothing at all (no such project, the source could
    /// not be read); versions that exist but do not fit are `excluded`.
    fn unavailable_reason(&self, name: &PackageName) -> Option<String>;

    /// The versions of `name` that `versions` leaves out, and why: the
    /// explanation of a failure names them.
    fn excluded(&self, _name: &PackageName) -> Vec<(Version, Exclusion)> {
        Vec::new()
    }

    /// Whether every usable file of `name==version` is yanked (PEP 592):
    /// such a version is chosen only under an `==`/`===` pin that matches
    /// it (`==1.2.3` matches `1.2.3+cpu`), when the pin leaves nothing else.
    fn yanked(&self, _name: &PackageName, _version: &Version) -> bool {
        false
    }

    /// The index's reason for yanking `name==version`, when it is yanked
    /// and a reason was given.
    fn yank_reason(&self, _name: &PackageName, _version: &Version) -> Option<String> {
        None
    }

    fn metadata(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<CandidateMetadata, Self::Err>;
}
