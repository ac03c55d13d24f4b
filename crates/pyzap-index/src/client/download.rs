//! Downloads into the cache's content-addressed files
//! (`files-v1/<sha256>/<name>`): the files an index lists, checked against
//! the index's digest, and files named by their URL alone (the CPython
//! archive of `--python-dist`), checked against the digest their URL or
//! their user promises. Both take the client's retries, credentials and
//! `--offline`, report progress, and keep a file that fails a check out of
//! the cache.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use url::Url;

use super::{lock, DownloadReporter, IndexClient};
use crate::find_links::{is_single_component, FileLocation};
use crate::http::redact;
use crate::simple::{percent_decode_path, sha256_digest};
use crate::{DistFile, DistKind, IndexError};

/// A sha256 a file must have, and who promised it (named when the file
/// differs): the index, a URL's `#sha256=` fragment, a command-line option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromisedSha256 {
    hex: String,
    by: String,
}

impl PromisedSha256 {
    /// `None` unless `hex` is exactly 64 hex digits (either case).
    pub fn new(hex: &str, by: impl Into<String>) -> Option<Self> {
        Some(PromisedSha256 {
            hex: sha256_digest(hex)?,
            by: by.into(),
        })
    }

    /// The digest, in lowercase hex.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// Who promised it.
    pub fn by(&self) -> &str {
        &self.by
    }

    /// The `#sha256=` fragment of `url` (PEP 503's convention, which pip
    /// also reads on direct URLs); an error when it is there but malformed.
    fn from_fragment(url: &Url) -> Result<Option<Self>, IndexError> {
        match url.fragment().and_then(|f| f.strip_prefix("sha256=")) {
            None => Ok(None),
            Some(hex) => Self::new(hex, "its #sha256= fragment")
                .map(Some)
                .ok_or_else(|| IndexError::BadDigest(redact(url))),
        }
    }
}

/// Ends a download's progress however the download ends, so a failed one
/// leaves no bar behind.
struct Progress<'a> {
    reporter: &'a dyn DownloadReporter,
    filename: &'a str,
}

impl Drop for Progress<'_> {
    fn drop(&mut self) {
        self.reporter.finished(self.filename);
    }
}

impl IndexClient {
    /// The file in the cache, when it is there already.
    pub(super) fn cached_file(&self, file: &DistFile) -> Option<PathBuf> {
        let FileLocation::Url(url) = &file.location else {
            return file.local_path().map(Path::to_path_buf);
        };
        let digest = file
            .sha256
            .clone()
            .or_else(|| self.cache.digest_for_url(url))?;
        let path = self.cache.file_path(&digest, &file.filename).ok()?;
        // Named by its digest, but only trusted when it still looks whole: a
        // disk error or a hand-copied cache can leave an empty or cut file
        // (re-hashing every cached wheel at every build would cost more). A
        // wheel's central directory is at its end, so opening it as a zip
        // catches truncation; anything else must at least not be empty.
        let whole = fs_err::metadata(&path).is_ok_and(|m| m.is_file() && m.len() > 0)
            && (!file.filename.ends_with(".whl") || check_archive(&path, &file.filename).is_ok());
        if !whole && path.exists() {
            tracing::debug!("{} is damaged; downloading it again", path.display());
        }
        whole.then_some(path)
    }

    /// The file on disk: local files as they are, remote ones from the cache
    /// or downloaded into it, checked against the index's sha256, and for
    /// wheels against the core metadata resolution read.
    pub fn download(
        &self,
        file: &DistFile,
        reporter: &dyn DownloadReporter,
    ) -> Result<PathBuf, IndexError> {
        let path = match self.cached_file(file) {
            Some(path) => path,
            None => self.fetch_file(file, reporter)?,
        };
        if let (FileLocation::Url(url), DistKind::Wheel(_)) = (&file.location, &file.kind) {
            self.check_served_metadata(url, &path)?;
        }
        Ok(path)
    }

    fn fetch_file(
        &self,
        file: &DistFile,
        reporter: &dyn DownloadReporter,
    ) -> Result<PathBuf, IndexError> {
        let FileLocation::Url(url) = &file.location else {
            return Err(IndexError::NotLocal(file.display_location()));
        };
        let promised = match &file.sha256 {
            Some(hex) => Some(
                PromisedSha256::new(hex, "the index")
                    .ok_or_else(|| IndexError::UnsafeName(format!("{hex}/{}", file.filename)))?,
            ),
            None => None,
        };
        self.fetch_into_cache(url, &file.filename, promised.as_ref(), reporter)
    }

    /// Downloads `files` on `jobs` threads; results in the order given.
    pub fn download_all(
        &self,
        files: &[DistFile],
        jobs: usize,
        reporter: &dyn DownloadReporter,
    ) -> Vec<Result<PathBuf, IndexError>> {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Result<PathBuf, IndexError>>>> =
            Mutex::new((0..files.len()).map(|_| None).collect());
        std::thread::scope(|scope| {
            for _ in 0..jobs.clamp(1, files.len().max(1)) {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    let result = self.download(file, reporter);
                    lock(&results)[i] = Some(result);
                });
            }
        });
        results
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .into_iter()
            .map(|r| r.expect("every file was attempted"))
            .collect()
    }

    /// A file named by its URL alone, not listed by any index page (the
    /// CPython archive of `--python-dist`), on disk in the cache. It must
    /// have the sha256 `promised` and the URL's `#sha256=` fragment give;
    /// with neither, the digest it had when first downloaded is remembered
    /// for its URL. Either way a cached copy is used without the network,
    /// once it hashes to its name again.
    pub fn download_url(
        &self,
        url: &Url,
        promised: Option<&PromisedSha256>,
        reporter: &dyn DownloadReporter,
    ) -> Result<PathBuf, IndexError> {
        let filename = url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .map(percent_decode_path)
            .filter(|name| is_single_component(name))
            .ok_or_else(|| IndexError::NoFileName(redact(url)))?;
        let fragment = PromisedSha256::from_fragment(url)?;
        let promised = match (promised, fragment) {
            (Some(a), Some(b)) if a.hex != b.hex => {
                return Err(IndexError::DigestConflict {
                    url: redact(url),
                    promises: Box::new((a.clone(), b)),
                })
            }
            (Some(a), _) => Some(a.clone()),
            (None, b) => b,
        };
        if let Some(path) = self.cached_url_file(url, &filename, promised.as_ref()) {
            tracing::debug!("{} is cached at {}", redact(url), path.display());
            return Ok(path);
        }
        self.fetch_into_cache(url, &filename, promised.as_ref(), reporter)
    }

    /// The cached copy of a file fetched by URL, re-hashed before it is
    /// trusted: it is one file per build, unpacked and run as it is, so a
    /// damaged copy would fail far from its cause.
    fn cached_url_file(
        &self,
        url: &Url,
        filename: &str,
        promised: Option<&PromisedSha256>,
    ) -> Option<PathBuf> {
        let digest = match promised {
            Some(p) => p.hex.clone(),
            None => self.cache.digest_for_url(url)?,
        };
        let path = self.cache.file_path(&digest, filename).ok()?;
        match pyzap_fs::sha256_file(&path) {
            Ok(actual) if actual == digest => Some(path),
            Ok(_) => {
                tracing::debug!("{} is damaged; downloading it again", path.display());
                None
            }
            Err(_) => None,
        }
    }

    /// GETs `url` (with the client's retries and credentials) into a
    /// temporary file of the cache, checks it, and renames it to
    /// `files-v1/<sha256>/<filename>`. Without a promised digest, the digest
    /// found is remembered for the URL, so the next build finds the file.
    fn fetch_into_cache(
        &self,
        url: &Url,
        filename: &str,
        promised: Option<&PromisedSha256>,
        reporter: &dyn DownloadReporter,
    ) -> Result<PathBuf, IndexError> {
        if self.options.offline {
            return Err(IndexError::Offline(redact(url)));
        }
        let transfer = |e: std::io::Error| IndexError::Transfer {
            url: redact(url),
            message: e.to_string(),
        };
        let mut response = self.get(url, &[])?;
        if response.status != 200 {
            return Err(IndexError::Status {
                url: redact(url),
                status: response.status,
            });
        }
        let size = response
            .header("content-length")
            .and_then(|s| s.parse().ok());
        reporter.started(filename, size);
        let _progress = Progress { reporter, filename };
        // Dropped (and deleted) on every early return: a body that fails a
        // check never reaches the cache.
        let tmp = self.cache.temp_dir()?;
        let tmp_path = tmp.path().join("download");
        let mut out = fs_err::File::create(&tmp_path).map_err(transfer)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        loop {
            let n = response.body.read(&mut buf).map_err(transfer)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(transfer)?;
            total += n as u64;
            reporter.progress(filename, total);
        }
        out.sync_all().map_err(transfer)?;
        drop(out);
        let actual = data_encoding::HEXLOWER.encode(&hasher.finalize());
        if let Some(promised) = promised {
            if actual != promised.hex {
                return Err(IndexError::HashMismatch {
                    url: redact(url),
                    expected: promised.hex.clone(),
                    actual,
                    promised_by: promised.by.clone(),
                });
            }
        }
        check_archive(&tmp_path, filename).map_err(|(kind, source)| IndexError::NotAnArchive {
            url: redact(url),
            kind,
            source,
        })?;
        let dest = self.cache.file_path(&actual, filename)?;
        let parent = dest.parent().unwrap_or(&dest);
        fs_err::create_dir_all(parent).map_err(transfer)?;
        // A racing build may have put the same bytes there: either copy is right.
        fs_err::rename(&tmp_path, &dest).map_err(transfer)?;
        if promised.is_none() {
            self.cache.remember_digest(url, &actual)?;
        }
        Ok(dest)
    }
}

/// Whether a downloaded file opens as the archive its name says: a wheel
/// or `.zip` as a zip, a `.tar.gz` as gzip'd tar read to the end, a
/// `.tar.zst` as starting with a zstd frame. A source that gives no digest
/// could otherwise have a proxy's error page cached as the file for good.
/// A name of no known archive kind is not checked.
fn check_archive(path: &Path, filename: &str) -> Result<(), (&'static str, std::io::Error)> {
    let mut file = std::io::BufReader::new(fs_err::File::open(path).map_err(|e| ("file", e))?);
    if filename.ends_with(".whl") || filename.ends_with(".zip") {
        let kind = if filename.ends_with(".whl") {
            "wheel (zip archive)"
        } else {
            "zip archive"
        };
        zip::ZipArchive::new(file)
            .map(drop)
            .map_err(|e| (kind, std::io::Error::other(e)))
    } else if filename.ends_with(".tar.gz") || filename.ends_with(".tgz") {
        let kind = "gzip-compressed tar archive";
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let entries = archive.entries().map_err(|e| (kind, e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| (kind, e))?;
            std::io::copy(&mut entry, &mut std::io::sink()).map_err(|e| (kind, e))?;
        }
        Ok(())
    } else if filename.ends_with(".tar.zst") || filename.ends_with(".tzst") {
        // The frame's magic number (RFC 8878, section 3.1.1) is enough to
        // tell an archive from an error page without a zstd decoder here;
        // a truncated body is the transport's error, and unpacking reads all.
        let kind = "zstd-compressed tar archive";
        let mut magic = [0u8; 4];
        file.read_exact(&mut magic).map_err(|e| (kind, e))?;
        if magic != [0x28, 0xb5, 0x2f, 0xfd] {
            return Err((kind, std::io::Error::other("no zstd frame at its start")));
        }
        Ok(())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promised_digests_are_64_hex_digits_in_lowercase() {
        let upper = "AB".repeat(32);
        let p = PromisedSha256::new(&upper, "--flag").unwrap();
        assert_eq!((p.hex(), p.by()), ("ab".repeat(32).as_str(), "--flag"));
        for bad in ["", "abcd", &"g".repeat(64), &"a".repeat(65)] {
            assert_eq!(PromisedSha256::new(bad, "--flag"), None, "{bad}");
        }
        let url = |s: &str| Url::parse(s).unwrap();
        let fragment =
            PromisedSha256::from_fragment(&url(&format!("https://h/a.tgz#sha256={upper}")));
        assert_eq!(fragment.unwrap().unwrap().by(), "its #sha256= fragment");
        assert_eq!(
            PromisedSha256::from_fragment(&url("https://h/a.tgz#md5=x")).unwrap(),
            None
        );
        let err =
            PromisedSha256::from_fragment(&url("https://u:pw@h/a.tgz#sha256=abcd")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the #sha256= fragment of https://***@h/a.tgz#sha256=abcd is not a sha256 digest (64 hex digits)"
        );
    }

    #[test]
    fn archives_are_checked_by_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let page = dir.path().join("page");
        fs_err::write(&page, "<html>502 Bad Gateway</html>").unwrap();
        for name in ["a.whl", "a.zip", "a.tar.gz", "a.tgz", "a.tar.zst", "a.tzst"] {
            assert!(check_archive(&page, name).is_err(), "{name}");
        }
        assert!(check_archive(&page, "a.bin").is_ok());
        let zst = dir.path().join("zst");
        fs_err::write(&zst, [0x28, 0xb5, 0x2f, 0xfd, 0, 0]).unwrap();
        assert!(check_archive(&zst, "a.tar.zst").is_ok());
    }
}
