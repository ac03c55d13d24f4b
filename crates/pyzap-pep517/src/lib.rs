//! PEP 517 builds: a local project directory (from a copy) or an sdist
//! becomes a wheel, built by the build interpreter in an isolated environment
//! that holds only the build requirements (which the caller resolves and
//! hands over as wheels).

mod error;
mod pep517;
mod source_tree;

pub use error::Pep517Error;
pub use pep517::{build_wheel, unpack_sdist, BuildRequest};
pub use source_tree::copy_source_tree;
