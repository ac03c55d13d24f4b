//! The vocabulary every pyzap stage speaks: requirements (direct references
//! and local paths too), the target interpreter and its wheel tags, wheel
//! filenames, METADATA, entry points, and the files users write
//! (requirements files, pyproject.toml, PEP 723 script metadata).
//! Thin, I/O-free types over `pep440_rs`/`pep508_rs`; parse once, pass types.

mod cross;
mod direct_reference;
mod entry_points;
mod error;
mod format_control;
mod local_path;
mod metadata;
mod pyproject;
mod requirement;
mod requirements_txt;
mod script;
mod tags;
mod target;
mod tool_config;
mod wheel_name;

pub use cross::PlatformTag;
pub use direct_reference::{DirectReference, DirectSource};
pub use entry_points::{EntryPoint, EntryPoints};
pub use error::SpecError;
pub use format_control::{FormatChoice, FormatControl, FormatOption};
pub use local_path::{LocalKind, LocalPath};
pub use metadata::Metadata;
pub use pep440_rs::{Operator, Prerelease, Version, VersionSpecifier, VersionSpecifiers};
pub use pep508_rs::{
    ExtraName, MarkerEnvironment, MarkerEnvironmentBuilder, MarkerTree, PackageName, Requirement,
    VerbatimUrl, VersionOrUrl,
};
pub use pyproject::{normalize_name, BuildSystem, PyProject};
pub use requirement::parse_requirement;
pub use requirements_txt::{RequirementEntry, RequirementsFile};
pub use script::ScriptMetadata;
pub use tags::{Tag, TagPriority};
pub use target::{InterpreterFacts, Target};
pub use tool_config::{ToolConfig, TOOL_KEYS};
pub use wheel_name::WheelFilename;
