//! Where distributions come from: the index URLs and find-links locations of
//! the command line, the requirements files and the environment (pip's and
//! uv's variables), turned into one `IndexClient`.

use std::path::Path;
use std::sync::Arc;

use pyzap_index::http::{redact, HttpOptions, UreqClient};
use pyzap_index::{FindLinksSource, IndexClient, IndexOptions, Url, DEFAULT_INDEX_URL};

use super::inputs::Inputs;
use crate::{BundleError, Result, SourceOptions};

fn env_list(name: &str) -> Vec<String> {
    std::env::var(name)
        .map(|v| v.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

fn env_one(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse_url(text: &str) -> Result<Url> {
    let mut url = Url::parse(text.trim()).map_err(|source| BundleError::IndexUrl {
        url: Url::parse(text).map_or("(unparsable)".to_string(), |u| redact(&u)),
        source,
    })?;
    // Project pages are joined onto the root: it must end with a slash.
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    Ok(url)
}

/// Precedence for the primary index: `-i`, a requirements file's `-i`,
/// `PIP_INDEX_URL`, `UV_INDEX_URL`, the public index. Extra indexes and
/// find-links locations add up from all places. `--no-index` (anywhere) drops them all.
pub(crate) fn client(source: &SourceOptions, inputs: &Inputs, cache: &Path) -> Result<IndexClient> {
    let no_index = source.no_index
        || inputs.no_index
        || env_one("PIP_NO_INDEX").is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes"));
    let mut index_urls = Vec::new();
    if !no_index {
        let primary = source
            .index_url
            .clone()
            .or_else(|| inputs.index_urls.last().cloned())
            .or_else(|| env_one("PIP_INDEX_URL"))
            .or_else(|| env_one("UV_INDEX_URL"))
            .unwrap_or_else(|| DEFAULT_INDEX_URL.to_string());
        index_urls.push(parse_url(&primary)?);
        let extras = source
            .extra_index_urls
            .iter()
            .cloned()
            .chain(inputs.extra_index_urls.iter().cloned())
            .chain(env_list("PIP_EXTRA_INDEX_URL"));
        for extra in extras {
            let url = parse_url(&extra)?;
            if !index_urls.contains(&url) {
                index_urls.push(url);
            }
        }
    }
    let find_links: Vec<FindLinksSource> = inputs
        .find_links
        .iter()
        .cloned()
        .chain(env_list("PIP_FIND_LINKS"))
        .map(|s| FindLinksSource::parse(&s))
        .collect();
    let options = IndexOptions {
        index_urls,
        find_links,
        cache_dir: cache.join("index"),
        offline: source.offline,
        retries: 3,
    };
    tracing::debug!(
        "index options: {:?}",
        options.index_urls.iter().map(redact).collect::<Vec<_>>()
    );
    let http = Arc::new(UreqClient::new(&HttpOptions::default()));
    Ok(IndexClient::new(http, options)?)
}
