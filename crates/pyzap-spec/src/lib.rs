//! The vocabulary every pyzap stage speaks: requirements, the target
//! interpreter and its wheel tags, wheel filenames, METADATA and entry points.
//! Thin, I/O-free types over `pep440_rs`/`pep508_rs`; parse once, pass types.

mod cross;
mod entry_points;
mod error;
mod format_control;
mod metadata;
mod pyproject;
mod requirement;
mod requirements_txt;
mod tags;
mod target;
mod wheel_name;

pub use cross::PlatformTag;
pub use entry_points::{EntryPoint, EntryPoints};
pub use error::SpecError;
pub use format_control::{FormatChoice, FormatControl, FormatOption};
pub use metadata::Metadata;
pub use pep440_rs::{Version, VersionSpecifier, VersionSpecifiers};
pub use pep508_rs::{
    ExtraName, MarkerEnvironment, MarkerEnvironmentBuilder, MarkerTree, PackageName, Requirement,
    VersionOrUrl,
};
pub use pyproject::{BuildSystem, PyProject};
pub use requirement::parse_requirement;
pub use requirements_txt::{RequirementEntry, RequirementsFile};
pub use tags::{Tag, TagPriority};
pub use target::{InterpreterFacts, Target};
pub use wheel_name::WheelFilename;
