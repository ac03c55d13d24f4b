//! The on-disk cache of the index client: simple-API pages with their
//! validators (`ETag`, `Last-Modified`) for revalidation, core metadata by
//! file digest, and downloaded files addressed by their sha256. Every entry
//! is written to a temporary file and renamed into place, so concurrent
//! builds never see half an entry.

use std::path::{Path, PathBuf};

use url::Url;

use crate::IndexError;

/// Bump when the layout or the meaning of an entry changes.
const LAYOUT: &str = "v1";

#[derive(Debug, Clone)]
pub(crate) struct Cache {
    root: PathBuf,
}

/// A cached simple-API page.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct CachedPage {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_type: String,
    pub body: String,
}

/// What vouches for cached core metadata. Metadata whose own digest the
/// index published is content-addressed; anything else (a PEP 658 file
/// without a digest, a range read) is only as good as the URL it came from,
/// so it is keyed by that URL and the file's digest and can never be picked
/// up for the same file served by another index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MetadataKey {
    Verified(String),
    Unverified {
        url: Url,
        file_sha256: Option<String>,
    },
}

/// A key for a URL that never holds its credentials.
fn url_key(url: &Url) -> String {
    pyzap_fs::sha256_hex(crate::http::bare(url).as_str().as_bytes())[..40].to_string()
}

impl Cache {
    pub(crate) fn new(root: &Path) -> Self {
        Cache {
            root: root.to_path_buf(),
        }
    }

    fn page_path(&self, url: &Url) -> PathBuf {
        self.root
            .join(format!("simple-{LAYOUT}"))
            .join(format!("{}.json", url_key(url)))
    }

    pub(crate) fn read_page(&self, url: &Url) -> Option<CachedPage> {
        let text = fs_err::read(self.page_path(url)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    pub(crate) fn write_page(&self, url: &Url, page: &CachedPage) -> Result<(), IndexError> {
        let data = serde_json::to_vec(page).map_err(|e| IndexError::Write {
            path: self.page_path(url),
            source: std::io::Error::other(e).into(),
        })?;
        write(&self.page_path(url), &data)
    }

    /// Where a file with this digest lives (`files-v1/<sha256>/<filename>`).
    /// Both parts come from an index: anything but a 64-digit hex digest and
    /// one plain file name is refused, so no entry can land outside the cache.
    pub(crate) fn file_path(&self, sha256: &str, filename: &str) -> Result<PathBuf, IndexError> {
        if crate::simple::sha256_digest(sha256).as_deref() != Some(sha256)
            || !crate::find_links::is_single_component(filename)
        {
            return Err(IndexError::UnsafeName(format!("{sha256}/{filename}")));
        }
        Ok(self
            .root
            .join(format!("files-{LAYOUT}"))
            .join(sha256)
            .join(filename))
    }

    /// A file downloaded from `url` whose index gave no digest: the digest we
    /// computed, remembered per URL.
    pub(crate) fn digest_for_url(&self, url: &Url) -> Option<String> {
        let text = fs_err::read_to_string(self.url_digest_path(url)).ok()?;
        crate::simple::sha256_digest(&text)
    }

    pub(crate) fn remember_digest(&self, url: &Url, sha256: &str) -> Result<(), IndexError> {
        write(&self.url_digest_path(url), sha256.as_bytes())
    }

    fn url_digest_path(&self, url: &Url) -> PathBuf {
        self.root.join(format!("urls-{LAYOUT}")).join(url_key(url))
    }

    fn metadata_path(&self, key: &MetadataKey) -> PathBuf {
        let name = match key {
            MetadataKey::Verified(digest) => format!("sha256-{digest}"),
            MetadataKey::Unverified { url, file_sha256 } => {
                let bare = url_key(url);
                let material = format!("{bare}\n{}", file_sha256.as_deref().unwrap_or(""));
                format!("url-{}", &pyzap_fs::sha256_hex(material.as_bytes())[..40])
            }
        };
        self.root
            .join(format!("metadata-{LAYOUT}"))
            .join(format!("{name}.METADATA"))
    }

    /// Cached core metadata; a verified entry is re-hashed on every read, so
    /// a damaged or truncated entry is never used.
    pub(crate) fn read_metadata(&self, key: &MetadataKey) -> Option<String> {
        let data = fs_err::read(self.metadata_path(key)).ok()?;
        if let MetadataKey::Verified(digest) = key {
            if &pyzap_fs::sha256_hex(&data) != digest {
                return None;
            }
        }
        String::from_utf8(data).ok()
    }

    /// Stores core metadata that already parsed (callers parse first).
    pub(crate) fn write_metadata(&self, key: &MetadataKey, text: &str) -> Result<(), IndexError> {
        write(&self.metadata_path(key), text.as_bytes())
    }

    /// Forgets an entry found to disagree with its wheel.
    pub(crate) fn remove_metadata(&self, key: &MetadataKey) {
        let _ = fs_err::remove_file(self.metadata_path(key));
    }

    /// A temporary directory inside the cache, on the same file system as
    /// the entries; a killed download's is removed by the next one.
    pub(crate) fn temp_dir(&self) -> Result<pyzap_fs::ScratchDir, IndexError> {
        let dir = self.root.join(format!("tmp-{LAYOUT}"));
        pyzap_fs::ScratchDir::new(&dir, "dl-")
            .map_err(|source| IndexError::Write { path: dir, source })
    }
}

fn write(path: &Path, data: &[u8]) -> Result<(), IndexError> {
    pyzap_fs::write_atomic(path, data, 0o644).map_err(|source| IndexError::Write {
        path: path.to_path_buf(),
        source,
    })
}
