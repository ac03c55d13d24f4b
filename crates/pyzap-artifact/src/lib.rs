//! The artifact format, all of it: the site tree (placement, entries,
//! multi-target layout, manifest and extract key), the names the bootstrap
//! reads, and writing and reading artifacts — a shebang line followed by a
//! deterministic zip (sorted entries, fixed timestamps), or, for a
//! standalone executable, a launcher stub and a CPython payload before that
//! zip. See `docs/artifact-format.md`.

mod compat;
mod error;
mod extract_key;
#[cfg(test)]
mod fixtures;
mod manifest;
mod protocol;
mod reader;
mod site;
mod site_tree;
mod standalone;
mod tree_digest;
mod writer;

pub use error::ArtifactError;
pub use manifest::{
    DistRecord, EntryKind, EntryPointRecord, Manifest, TargetRecord, TargetSection,
};
pub use protocol::{
    BOOT, COMPLETE_MARKER, DATA_DIR, FORMAT, FORMAT_MULTI, MANIFEST, PYZAP_DIR, SCRIPTS_DIR,
    SITE_EXTRACT, SITE_ZIP, SRC_MAIN, TARGETS_DIR,
};
pub use reader::{extract_artifact, read_artifact, read_dist_info, ArtifactInfo, DistInfoFiles};
pub use site::{
    add_distributions, extract_everything, pyc_name, Bundled, BytecodeCompiler, CompileJob,
};
pub use site_tree::{SiteTree, SiteTreeInputs, TargetBundle};
pub use standalone::{
    build_payload, cached_payload, elf_arch, open_python_dist, precompile_stdlib, read_trailer,
    write_standalone, ElfFacts, GlibcFloor, GlibcNeed, GlibcVersion, Payload, PayloadOptions,
    PythonDist, StandaloneParts, StdlibBytecode,
};
pub use tree_digest::digest as tree_digest;
pub use writer::{write_artifact, ArtifactEntry, EntrySource, WriteOptions};

/// The bootstrap that becomes `__main__.py` at the zip root.
pub const BOOTSTRAP_MAIN: &str = include_str!("../../../python/bootstrap/__main__.py");
/// The runtime helper module shipped as `site-packages/pyzap_runtime/__init__.py`.
pub const RUNTIME_MODULE: &str = include_str!("../../../python/pyzap_runtime/__init__.py");
