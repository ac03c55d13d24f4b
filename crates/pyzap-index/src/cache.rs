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
pub struct Cache {
    root: PathBuf,
}

/// A cached simple-API page.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CachedPage {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_type: String,
    pub body: String,
}

/// A key for a URL that never holds its credentials.
fn url_key(url: &Url) -> String {
    let mut bare = url.clone();
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    bare.set_fragment(None);
    pyzap_fs::sha256_hex(bare.as_str().as_bytes())[..40].to_string()
}

impl Cache {
    pub fn new(root: &Path) -> Self {
        Cache {
            root: root.to_path_buf(),
        }
    }

    fn page_path(&self, url: &Url) -> PathBuf {
        self.root
            .join(format!("simple-{LAYOUT}"))
            .join(format!("{}.json", url_key(url)))
    }

    pub fn read_page(&self, url: &Url) -> Option<CachedPage> {
        let text = fs_err::read(self.page_path(url)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    pub fn write_page(&self, url: &Url, page: &CachedPage) -> Result<(), IndexError> {
        let data = serde_json::to_vec(page).expect("a page serialises");
        write(&self.page_path(url), &data)
    }

    /// Where a file with this digest lives (`files-v1/<sha256>/<filename>`).
    pub fn file_path(&self, sha256: &str, filename: &str) -> PathBuf {
        self.root
            .join(format!("files-{LAYOUT}"))
            .join(sha256)
            .join(filename)
    }

    /// A file downloaded from `url` whose index gave no digest: the digest we
    /// computed, remembered per URL.
    pub fn digest_for_url(&self, url: &Url) -> Option<String> {
        let text = fs_err::read_to_string(self.url_digest_path(url)).ok()?;
        let text = text.trim();
        (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())).then(|| text.into())
    }

    pub fn remember_digest(&self, url: &Url, sha256: &str) -> Result<(), IndexError> {
        write(&self.url_digest_path(url), sha256.as_bytes())
    }

    fn url_digest_path(&self, url: &Url) -> PathBuf {
        self.root.join(format!("urls-{LAYOUT}")).join(url_key(url))
    }

    /// Core metadata of a file, keyed by the file's digest when known, else its URL.
    pub fn metadata_path(&self, sha256: Option<&str>, url: &Url) -> PathBuf {
        let key = match sha256 {
            Some(h) => format!("sha256-{h}"),
            None => format!("url-{}", url_key(url)),
        };
        self.root
            .join(format!("metadata-{LAYOUT}"))
            .join(format!("{key}.METADATA"))
    }

    pub fn write_metadata(
        &self,
        sha256: Option<&str>,
        url: &Url,
        text: &str,
    ) -> Result<(), IndexError> {
        write(&self.metadata_path(sha256, url), text.as_bytes())
    }

    /// A temporary directory inside the cache, on the same file system as the entries.
    pub fn temp_dir(&self) -> Result<tempfile::TempDir, IndexError> {
        let dir = self.root.join(format!("tmp-{LAYOUT}"));
        fs_err::create_dir_all(&dir).map_err(|source| IndexError::Io {
            path: dir.clone(),
            source,
        })?;
        tempfile::Builder::new()
            .prefix("dl-")
            .tempdir_in(&dir)
            .map_err(|source| IndexError::Io { path: dir, source })
    }
}

fn write(path: &Path, data: &[u8]) -> Result<(), IndexError> {
    pyzap_fs::write_atomic(path, data, 0o644).map_err(|e| IndexError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })
}
