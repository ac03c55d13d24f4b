//! The pyzap pipeline as a library: one entry point per command over plain
//! option structs, progress through a `Reporter`, failures as one
//! `BundleError` whose `hints()` say what to do. It never prints.

mod cache;
mod error;
mod index_provider;
mod inspect;
mod options;
mod pipeline;
mod reporter;
mod runtime_cache;
mod summary;

pub use cache::{clean, default_cache_dir, prune};
pub use error::{BundleError, Result};
pub use index_provider::IndexProvider;
pub use inspect::{extract, info, InfoFormat};
pub use options::{BundleOptions, LockOptions, SourceOptions, StandaloneOptions};
pub use pipeline::bundle;
pub use pipeline::lockfile::lock;
pub use pyzap_python::PythonSources;
pub use pyzap_resolve::ResolveError;
pub use pyzap_spec::FormatOption;
pub use reporter::{DownloadReporter, Reporter, Silent};
pub use runtime_cache::{
    list_runtime, prune_runtime, runtime_root, App, Leftover, Orphan, RuntimeCache, RuntimePruned,
    Tree, TreeKind, TreeUser, UseReason,
};
pub use summary::{artifact_summary, lock_summary};
