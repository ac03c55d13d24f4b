//! Writing and reading pyzap artifacts: a shebang line followed by a
//! deterministic zip (sorted entries, fixed timestamps) holding the site
//! tree, the bootstrap and the manifest — or, for a standalone executable,
//! a launcher stub and a CPython payload before that zip. See
//! `docs/artifact-format.md`.

mod error;
mod manifest;
mod reader;
mod site;
mod standalone;
mod tree_digest;
mod writer;

pub use error::ArtifactError;
pub use manifest::{
    DistRecord, EntryKind, EntryPointRecord, Manifest, TargetRecord, TargetSection, FORMAT,
    FORMAT_MULTI, TARGETS_DIR,
};
pub use reader::{extract_artifact, read_artifact, ArtifactInfo};
pub use site::{
    add_distributions, pyc_name, unify_placement, Bundled, BytecodeCompiler, CompileJob,
    SITE_EXTRACT, SITE_ZIP,
};
pub use standalone::{
    build_payload, elf_arch, open_python_dist, precompile_stdlib, read_trailer, write_standalone,
    Payload, PayloadOptions, PythonDist,
};
pub use tree_digest::digest as tree_digest;
pub use writer::{write_artifact, ArtifactEntry, EntrySource, WriteOptions};

/// The bootstrap that becomes `__main__.py` at the zip root.
pub const BOOTSTRAP_MAIN: &str = include_str!("../../../python/bootstrap/__main__.py");
/// The runtime helper module shipped as `site-packages/pyzap_runtime/__init__.py`.
pub const RUNTIME_MODULE: &str = include_str!("../../../python/pyzap_runtime/__init__.py");
