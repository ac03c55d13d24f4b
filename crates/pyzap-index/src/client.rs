//! The index client: the files every source offers for a project (PEP 691
//! JSON or PEP 503 HTML index pages, find-links directories and pages), the
//! core metadata of a candidate without downloading it when the index
//! allows (PEP 658 metadata files, else range requests on the wheel), and
//! downloads (in `download`), all through the cache and one retry policy.
//! A host that cannot be reached at all is not retried, and its pages come
//! from the cache when they are there (`reachability`).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyzap_spec::{Metadata, PackageName};
use url::Url;

use crate::cache::{Cache, CachedPage, MetadataKey};
use crate::find_links::{read_wheel_metadata_from, FileLocation};
use crate::http::{bare, redact, HttpClient, HttpResponse};
use crate::range_reader::RangeReader;
use crate::{simple, DistFile, DistKind, FindLinks, IndexError};

mod download;
mod reachability;

pub use download::PromisedSha256;
use reachability::{host_unreachable, Reachability};

/// The public index, used when no other is given.
pub const DEFAULT_INDEX_URL: &str = "https://pypi.org/simple/";

/// The largest index or find-links page read (the largest public project
/// pages are a few MiB); a larger answer is an error, not an allocation.
const PAGE_LIMIT_MIB: u64 = 64;

type Files = Arc<Vec<DistFile>>;

/// A `--find-links` location: a directory, or an HTML page of links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindLinksSource {
    Dir(PathBuf),
    Page(Url),
}

impl FindLinksSource {
    /// `http(s)://…` and `file://…` are pages/dirs by URL, anything else a path.
    pub fn parse(text: &str) -> Self {
        match Url::parse(text) {
            Ok(u) if u.scheme() == "file" => {
                FindLinksSource::Dir(u.to_file_path().unwrap_or_else(|_| text.into()))
            }
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => FindLinksSource::Page(u),
            _ => FindLinksSource::Dir(PathBuf::from(text)),
        }
    }
}

/// Where to look and how.
#[derive(Debug, Clone)]
pub struct IndexOptions {
    /// Simple-API roots, the primary index first (empty with `--no-index`).
    pub index_urls: Vec<Url>,
    pub find_links: Vec<FindLinksSource>,
    pub cache_dir: PathBuf,
    /// Never touch the network: cached pages and files only.
    pub offline: bool,
    /// Extra attempts after a transport failure or a 5xx answer.
    pub retries: u32,
}

/// Progress of downloads (the CLI draws bars; tests ignore it).
pub trait DownloadReporter: Sync {
    fn started(&self, _filename: &str, _size: Option<u64>) {}
    fn progress(&self, _filename: &str, _bytes: u64) {}
    fn finished(&self, _filename: &str) {}
}

/// A reporter that reports nothing.
pub struct NoReporter;
impl DownloadReporter for NoReporter {}

pub struct IndexClient {
    http: Arc<dyn HttpClient>,
    options: IndexOptions,
    cache: Cache,
    local: Mutex<FindLinks>,
    /// Projects given as local files (a built project, a wheel on the command
    /// line): only those files count, so an index can never substitute its
    /// own distribution of the same name (dependency confusion).
    pinned: Mutex<HashMap<PackageName, Vec<DistFile>>>,
    link_pages: Mutex<Option<Result<Files, Arc<IndexError>>>>,
    /// Each project's files, or the failure met reading them: a dead index
    /// is tried once per run, not again by every later question.
    projects: Mutex<HashMap<PackageName, Result<Files, Arc<IndexError>>>>,
    /// Core metadata handed out that did not come from the wheel itself
    /// (PEP 658 files, range reads), by wheel URL: checked against the
    /// wheel's own METADATA when the wheel is downloaded.
    served: Mutex<HashMap<String, (MetadataKey, String)>>,
    /// Hosts that could not be reached at all in this run.
    reach: Reachability,
}

impl IndexClient {
    /// Scans the find-links directories now; pages are fetched when first needed.
    pub fn new(http: Arc<dyn HttpClient>, options: IndexOptions) -> Result<Self, IndexError> {
        let dirs: Vec<PathBuf> = options
            .find_links
            .iter()
            .filter_map(|s| match s {
                FindLinksSource::Dir(d) => Some(d.clone()),
                FindLinksSource::Page(_) => None,
            })
            .collect();
        let local = FindLinks::scan(&dirs)?;
        Ok(IndexClient {
            http,
            cache: Cache::new(&options.cache_dir),
            options,
            local: Mutex::new(local),
            pinned: Mutex::default(),
            link_pages: Mutex::default(),
            projects: Mutex::default(),
            served: Mutex::default(),
            reach: Reachability::default(),
        })
    }

    /// The hosts (`http://host:port`) found unreachable, with why, whose
    /// pages came from the cache instead since the last call: for the
    /// caller to tell once.
    pub fn cache_fallback(&self) -> Vec<(String, String)> {
        self.reach.take_fallbacks()
    }

    pub fn options(&self) -> &IndexOptions {
        &self.options
    }

    /// Adds a local file given directly (a wheel on the command line, a
    /// built project). From then on its project comes only from such files.
    pub fn add_file(&self, path: &Path) -> Option<DistFile> {
        let file = lock(&self.local).add_file(path)?.clone();
        self.pin_file(file.clone());
        Some(file)
    }

    /// Offers `file` as the only source of its project, as `add_file`
    /// does, whatever its location: a wheel named by a URL (a direct
    /// reference) stays that URL, with the sha256 it was downloaded with.
    pub fn pin_file(&self, file: DistFile) {
        let name = file.name.clone();
        lock(&self.pinned)
            .entry(name.clone())
            .or_default()
            .push(file);
        lock(&self.projects).remove(&name);
    }

    /// Where the sources are, for messages.
    pub fn describe_sources(&self) -> String {
        let mut parts: Vec<String> = self.options.index_urls.iter().map(redact).collect();
        parts.extend(self.options.find_links.iter().map(|s| match s {
            FindLinksSource::Dir(d) => d.display().to_string(),
            FindLinksSource::Page(u) => redact(u),
        }));
        if parts.is_empty() {
            "no source (--no-index without --find-links)".into()
        } else {
            parts.join(", ")
        }
    }

    /// Every file of `name` that any source offers.
    pub fn files(&self, name: &PackageName) -> Result<Files, IndexError> {
        if let Some(known) = lock(&self.projects).get(name) {
            return known.clone().map_err(IndexError::Earlier);
        }
        if let Some(pinned) = lock(&self.pinned).get(name) {
            return Ok(Arc::new(pinned.clone()));
        }
        let result = self.find_files(name).map(Arc::new).map_err(Arc::new);
        lock(&self.projects).insert(name.clone(), result.clone());
        result.map_err(IndexError::Earlier)
    }

    fn find_files(&self, name: &PackageName) -> Result<Vec<DistFile>, IndexError> {
        let mut files: Vec<DistFile> = lock(&self.local).files(name).to_vec();
        files.extend(
            self.link_pages()?
                .iter()
                .filter(|f| &f.name == name)
                .cloned(),
        );
        for index in &self.options.index_urls {
            let url = index
                .join(&format!("{name}/"))
                .map_err(|e| IndexError::BadUrl(format!("{}: {e}", redact(index))))?;
            let parse = |page: &CachedPage| {
                simple::parse_page(&page.body, &page.content_type, &url).map_err(|message| {
                    IndexError::BadPage {
                        url: redact(&url),
                        message,
                    }
                })
            };
            if let Some(parsed) = self.fetch_page(&url, &parse)? {
                files.extend(parsed.into_iter().filter(|f| &f.name == name));
            }
        }
        Ok(files)
    }

    fn link_pages(&self) -> Result<Files, IndexError> {
        let mut slot = lock(&self.link_pages);
        if let Some(known) = &*slot {
            return known.clone().map_err(IndexError::Earlier);
        }
        let result = self.read_link_pages().map(Arc::new).map_err(Arc::new);
        *slot = Some(result.clone());
        result.map_err(IndexError::Earlier)
    }

    fn read_link_pages(&self) -> Result<Vec<DistFile>, IndexError> {
        let mut files = Vec::new();
        for source in &self.options.find_links {
            let FindLinksSource::Page(url) = source else {
                continue;
            };
            let parse = |page: &CachedPage| Ok(simple::parse_html(&page.body, url));
            match self.fetch_page(url, &parse)? {
                Some(parsed) => files.extend(parsed),
                None => {
                    return Err(IndexError::Status {
                        url: redact(url),
                        status: 404,
                    })
                }
            }
        }
        Ok(files)
    }

    /// A page through the cache, parsed: revalidated with its validators,
    /// `None` on 404/410. A page is cached only once it parsed, so one bad
    /// answer (a proxy's error page) is never read back by later builds.
    fn fetch_page(
        &self,
        url: &Url,
        parse: &dyn Fn(&CachedPage) -> Result<Vec<DistFile>, IndexError>,
    ) -> Result<Option<Vec<DistFile>>, IndexError> {
        let cached = self.cache.read_page(url);
        if self.options.offline {
            let page = cached.ok_or_else(|| IndexError::Offline(redact(url)))?;
            return parse(&page).map(Some);
        }
        match (self.request_page(url, parse, cached.clone()), cached) {
            (Err(e), Some(page)) if host_unreachable(&e) => {
                tracing::debug!("{}: {e}; reading the cached page", redact(url));
                let files = parse(&page)?;
                self.reach.fell_back(url);
                Ok(Some(files))
            }
            (result, _) => result,
        }
    }

    /// Asks for the page, revalidating `cached` with its validators.
    fn request_page(
        &self,
        url: &Url,
        parse: &dyn Fn(&CachedPage) -> Result<Vec<DistFile>, IndexError>,
        cached: Option<CachedPage>,
    ) -> Result<Option<Vec<DistFile>>, IndexError> {
        let mut headers = vec![("Accept", simple::ACCEPT.to_string())];
        if let Some(c) = &cached {
            if let Some(etag) = &c.etag {
                headers.push(("If-None-Match", etag.clone()));
            }
            if let Some(lm) = &c.last_modified {
                headers.push(("If-Modified-Since", lm.clone()));
            }
        }
        let response = self.get(url, &headers)?;
        match (response.status, cached) {
            (304, Some(cached)) => {
                tracing::debug!("{} not modified", redact(url));
                match parse(&cached) {
                    Ok(files) => Ok(Some(files)),
                    // A damaged cached page: ask again without validators.
                    Err(_) => self.request_page(url, parse, None),
                }
            }
            (200, _) => self.accept_page(url, response, parse).map(Some),
            (404 | 410, _) => Ok(None),
            (status, _) => Err(IndexError::Status {
                url: redact(url),
                status,
            }),
        }
    }

    /// Reads a 200 page (at most `PAGE_LIMIT_MIB`), parses it, then caches it.
    fn accept_page(
        &self,
        url: &Url,
        mut response: HttpResponse,
        parse: &dyn Fn(&CachedPage) -> Result<Vec<DistFile>, IndexError>,
    ) -> Result<Vec<DistFile>, IndexError> {
        let data = read_bounded(url, &mut response)?;
        let page = CachedPage {
            etag: response.header("etag").map(str::to_string),
            last_modified: response.header("last-modified").map(str::to_string),
            content_type: response
                .header("content-type")
                .unwrap_or("text/html")
                .to_string(),
            body: String::from_utf8_lossy(&data).into_owned(),
        };
        let files = parse(&page)?;
        // Kept even without validators: --offline reads it.
        self.cache.write_page(url, &page)?;
        Ok(files)
    }

    /// A GET with retries (transport failures, 429 and 5xx), backing off
    /// between attempts. A server that accepted and then stayed silent is
    /// retried once only: waiting out the timeout again and again is how a
    /// dead index used to take minutes to report.
    fn get(&self, url: &Url, headers: &[(&str, String)]) -> Result<HttpResponse, IndexError> {
        let attempts = self.options.retries + 1;
        let mut attempt = 0;
        let mut timeouts = 0;
        self.reach.refuse(url)?;
        loop {
            attempt += 1;
            tracing::debug!("GET {} (attempt {attempt})", redact(url));
            let retry_wait = Duration::from_millis(200 * (1 << attempt.min(5)));
            match self.http.get(url, headers) {
                Ok(r) if (r.status >= 500 || r.status == 429) && attempt < attempts => {
                    self.reach.answered(url);
                    tracing::debug!("{} answered HTTP {}; retrying", redact(url), r.status);
                }
                Ok(r) => {
                    self.reach.answered(url);
                    return Ok(r);
                }
                // Never reached in this run: no network, or a wrong host.
                Err(source) if self.reach.failed(url, &source) => {
                    return Err(IndexError::Unreachable {
                        url: redact(url),
                        attempts: attempt,
                        source,
                    });
                }
                Err(e) if attempt < attempts && !(e.timed_out && timeouts >= 1) => {
                    timeouts += u32::from(e.timed_out);
                    tracing::debug!("{}: {e}; retrying", redact(url));
                }
                Err(source) => {
                    return Err(IndexError::Unreachable {
                        url: redact(url),
                        attempts: attempt,
                        source,
                    })
                }
            }
            std::thread::sleep(retry_wait);
        }
    }

    /// The core metadata of `file`, reading as little as the source allows.
    pub fn metadata(&self, file: &DistFile) -> Result<Metadata, IndexError> {
        let url = match &file.location {
            FileLocation::Path(_) => {
                return match file.kind {
                    DistKind::Wheel(_) => file.wheel_metadata(),
                    DistKind::Sdist => file.sdist_metadata(),
                }
            }
            FileLocation::Url(u) => u,
        };
        let parse = |text: &str| {
            Metadata::parse(text).map_err(|source| IndexError::BadMetadata {
                path: PathBuf::from(redact(url)),
                source,
            })
        };
        let key = match &file.core_metadata {
            Some(Some(digest)) if matches!(file.kind, DistKind::Wheel(_)) => {
                MetadataKey::Verified(digest.clone())
            }
            _ => MetadataKey::Unverified {
                url: url.clone(),
                file_sha256: file.sha256.clone(),
            },
        };
        if let Some(text) = self.cache.read_metadata(&key) {
            if let Ok(meta) = parse(&text) {
                self.served_from_index(file, url, &key, text);
                return Ok(meta);
            }
        }
        let (text, from_index) = self.fetch_metadata(file, url)?;
        // Parsed before it is cached: a garbage answer is never stored.
        let meta = parse(&text)?;
        if from_index {
            self.cache.write_metadata(&key, &text)?;
            self.served_from_index(file, url, &key, text);
        }
        Ok(meta)
    }

    /// Remembers metadata that did not come from the wheel's own bytes.
    fn served_from_index(&self, file: &DistFile, url: &Url, key: &MetadataKey, text: String) {
        if matches!(file.kind, DistKind::Wheel(_)) {
            lock(&self.served).insert(bare(url).to_string(), (key.clone(), text));
        }
    }

    /// PEP 658 requires the metadata file to be the wheel's METADATA; a range
    /// read is only as honest as the server. Once the wheel itself is here,
    /// what resolution used must be what the wheel says.
    fn check_served_metadata(&self, url: &Url, path: &Path) -> Result<(), IndexError> {
        let Some((key, served)) = lock(&self.served).get(&bare(url).to_string()).cloned() else {
            return Ok(());
        };
        let actual = crate::find_links::read_wheel_metadata(path)?;
        if actual != served {
            self.cache.remove_metadata(&key);
            lock(&self.served).remove(&bare(url).to_string());
            return Err(IndexError::MetadataMismatch { url: redact(url) });
        }
        Ok(())
    }

    /// The metadata text, and whether it came from the index rather than
    /// from the downloaded file itself.
    fn fetch_metadata(&self, file: &DistFile, url: &Url) -> Result<(String, bool), IndexError> {
        let shown = PathBuf::from(redact(url));
        if !self.options.offline && !self.reach.is_down(url) {
            if let (DistKind::Wheel(_), Some(digest)) = (&file.kind, &file.core_metadata) {
                match self.metadata_file(url, digest.as_deref()) {
                    Ok(Some(text)) => return Ok((text, true)),
                    Ok(None) => {}
                    // The wheel may be in the cache: read it there.
                    Err(e) if host_unreachable(&e) => {}
                    Err(e) => return Err(e),
                }
            }
            if matches!(file.kind, DistKind::Wheel(_))
                && self.cached_file(file).is_none()
                && !self.reach.is_down(url)
            {
                match RangeReader::open(self.http.as_ref(), url) {
                    Ok(Some(reader)) => match read_wheel_metadata_from(reader, &shown) {
                        Ok(text) => return Ok((text, true)),
                        Err(e) => tracing::debug!("range read of {} failed: {e}", shown.display()),
                    },
                    Ok(None) => tracing::debug!("{} serves no ranges", shown.display()),
                    Err(e) => tracing::debug!("range read of {} failed: {e}", shown.display()),
                }
            }
        }
        let path = self.download(file, &NoReporter)?;
        let meta_text = match file.kind {
            DistKind::Wheel(_) => crate::find_links::read_wheel_metadata(&path),
            DistKind::Sdist => crate::find_links::read_sdist_pkg_info(&path),
        }?;
        Ok((meta_text, false))
    }

    /// PEP 658: `<file url>.metadata`; `None` when the index does not serve it after all.
    fn metadata_file(&self, url: &Url, sha256: Option<&str>) -> Result<Option<String>, IndexError> {
        let mut meta_url = url.clone();
        meta_url.set_fragment(None);
        meta_url.set_path(&format!("{}.metadata", url.path()));
        let mut response = self.get(&meta_url, &[])?;
        if response.status != 200 {
            tracing::debug!(
                "{} answered HTTP {}; reading the wheel instead",
                redact(&meta_url),
                response.status
            );
            return Ok(None);
        }
        let data = read_bounded(&meta_url, &mut response)?;
        if let Some(expected) = sha256 {
            let actual = pyzap_fs::sha256_hex(&data);
            if actual != expected {
                return Err(IndexError::HashMismatch {
                    url: redact(&meta_url),
                    expected: expected.to_string(),
                    actual,
                    promised_by: "the index".into(),
                });
            }
        }
        Ok(Some(String::from_utf8_lossy(&data).into_owned()))
    }

    /// Fetches the project pages of `names` on `jobs` threads (warming the
    /// in-memory map, so the resolver's later questions cost nothing).
    pub fn prefetch(&self, names: &[PackageName], jobs: usize) {
        let todo: Vec<&PackageName> = {
            let known = lock(&self.projects);
            names.iter().filter(|n| !known.contains_key(*n)).collect()
        };
        if todo.is_empty() {
            return;
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..jobs.clamp(1, todo.len()) {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(name) = todo.get(i) else { break };
                    // Errors surface again when the resolver asks.
                    let _ = self.files(name);
                });
            }
        });
    }
}

/// A page's or metadata file's body, refused past `PAGE_LIMIT_MIB` rather
/// than read into memory (or cut short) whatever its size.
fn read_bounded(url: &Url, response: &mut HttpResponse) -> Result<Vec<u8>, IndexError> {
    let limit = PAGE_LIMIT_MIB * 1024 * 1024;
    let mut data = Vec::new();
    (&mut response.body)
        .take(limit + 1)
        .read_to_end(&mut data)
        .map_err(|e| IndexError::Transfer {
            url: redact(url),
            message: e.to_string(),
        })?;
    if data.len() as u64 > limit {
        return Err(IndexError::PageTooLarge {
            url: redact(url),
            limit: PAGE_LIMIT_MIB,
        });
    }
    Ok(data)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
