//! Finding distributions: the files `-f/--find-links` directories and pages
//! and PEP 503/691 indexes offer, the core metadata of a candidate read with
//! as few bytes as possible (PEP 658, range requests), and downloads checked
//! against the index's digest (or, for a file named by URL alone, the digest
//! its URL or user promises), through a content-addressed cache.

mod cache;
mod client;
mod error;
mod find_links;
pub mod http;
mod range_reader;
mod sdist_name;
mod simple;

pub use client::{
    DownloadReporter, FindLinksSource, IndexClient, IndexOptions, NoReporter, PromisedSha256,
    DEFAULT_INDEX_URL,
};
pub use error::IndexError;
pub use find_links::{DistFile, DistKind, FileLocation, FindLinks};
pub use sdist_name::parse_sdist_filename;
pub use simple::{parse_html, parse_page};
pub use url::{ParseError as UrlParseError, Url};
