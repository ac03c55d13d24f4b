//! Finding distributions: the files `-f/--find-links` directories offer,
//! parsed from their names, and the METADATA of a candidate read without
//! installing it. (PEP 503/691 indexes join here in a later stage.)

mod error;
mod find_links;
mod sdist_name;

pub use error::IndexError;
pub use find_links::{DistFile, DistKind, FindLinks};
pub use sdist_name::parse_sdist_filename;
