//! A package index on 127.0.0.1 over a directory of distributions (the
//! shared wheelhouse by default): the PEP 691 JSON or PEP 503 HTML simple
//! API, with or without PEP 658 metadata files, range requests on files,
//! ETags for revalidation, yanked files, basic auth, and fault modes (5xx
//! answers, slow answers). Built on `tiny_http` (connections, request
//! parsing), one thread per request, so a slow answer never holds up
//! another, and one request per connection (see `write_reply`); shut down
//! when dropped. Every request is logged so tests can count them. The
//! `pyzap-test-index` binary serves the same index to `bench/`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::index_pages::{self, normalize, Projects};

/// How the project pages are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageFormat {
    /// PEP 691 JSON, whatever the client asks for.
    Json,
    /// PEP 503 HTML, whatever the client asks for.
    Html,
}

#[derive(Debug, Clone)]
pub struct IndexConfig {
    pub dir: PathBuf,
    pub format: PageFormat,
    /// Serve `<file>.metadata` and announce it (PEP 658/714).
    pub metadata_files: bool,
    /// Announce metadata files but answer 404 for them (as PyPI sometimes does).
    pub metadata_files_missing: bool,
    /// Honour `Range` headers on files (and say so with `Accept-Ranges`).
    pub ranges: bool,
    /// Send an `ETag` with project pages and answer a matching
    /// `If-None-Match` with 304.
    pub etags: bool,
    /// Files (by filename) marked yanked, with their reason.
    pub yanked: Vec<(String, String)>,
    /// Answer the first N requests of every path with HTTP 503.
    pub fail_first: u32,
    /// Every answer waits this long first.
    pub delay: Option<Duration>,
    /// Require this user and password (HTTP basic auth).
    pub auth: Option<(String, String)>,
}

impl IndexConfig {
    /// JSON pages with metadata files and ranges over the shared wheelhouse.
    pub fn wheelhouse() -> Self {
        Self::serving(crate::wheelhouse())
    }

    /// JSON pages with metadata files and ranges over `dir`.
    pub fn serving(dir: PathBuf) -> Self {
        IndexConfig {
            dir,
            format: PageFormat::Json,
            metadata_files: true,
            metadata_files_missing: false,
            ranges: true,
            etags: true,
            yanked: Vec::new(),
            fail_first: 0,
            delay: None,
            auth: None,
        }
    }
}

/// One logged request.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    /// The request target as sent (path and query).
    pub path: String,
    pub range: Option<String>,
    pub status: u16,
}

pub struct IndexServer {
    pub port: u16,
    log: Arc<Mutex<Vec<LoggedRequest>>>,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct State {
    config: IndexConfig,
    projects: Arc<Projects>,
    /// Requests seen per target, for `fail_first`.
    attempts: Mutex<BTreeMap<String, u32>>,
    log: Arc<Mutex<Vec<LoggedRequest>>>,
}

impl IndexServer {
    pub fn start(config: IndexConfig) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1"));
        let port = server.server_addr().to_ip().expect("an IP listener").port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(State {
            projects: index_pages::scan_cached(&config.dir),
            config,
            attempts: Mutex::default(),
            log: log.clone(),
        });
        let thread = {
            let server = server.clone();
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    let state = state.clone();
                    std::thread::spawn(move || serve(&state, request));
                }
            })
        };
        IndexServer {
            port,
            log,
            server,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT/simple/`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/simple/", self.port)
    }

    /// The same with `user:password@` in it.
    pub fn url_with_auth(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@127.0.0.1:{}/simple/", self.port)
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.log.lock().unwrap().clone()
    }

    pub fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }
}

impl Drop for IndexServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An answer: status, headers, body.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn new(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        let headers = vec![("Content-Type", content_type.to_string())];
        Reply {
            status,
            headers,
            body,
        }
    }

    fn text(status: u16, text: &str) -> Self {
        Self::new(status, "text/plain", text.as_bytes().to_vec())
    }

    fn header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

fn serve(state: &State, request: tiny_http::Request) {
    if let Some(d) = state.config.delay {
        std::thread::sleep(d);
    }
    let target = request.url().to_string();
    let header = |name: &'static str| {
        request
            .headers()
            .iter()
            .find(|h| h.field.equiv(name))
            .map(|h| h.value.to_string())
    };
    let range = header("Range");
    let reply = route(state, request.method(), &target, &header);
    state.log.lock().unwrap().push(LoggedRequest {
        path: target,
        range,
        status: reply.status,
    });
    let head_only = *request.method() == tiny_http::Method::Head;
    let _ = write_reply(request.into_writer(), &reply, head_only);
}

/// Writes the answer, always with `Content-Length` and `Connection: close`.
/// tiny_http would drop that header, but a kept-alive connection holds a
/// thread of its pool until the client hangs up, and tiny_http 0.12 can
/// queue a new connection behind such threads: a client that keeps a pool
/// of connections (uv) then waits for one until its timeout (30 s). So
/// every answer ends its connection.
fn write_reply(mut out: impl Write, reply: &Reply, head_only: bool) -> std::io::Result<()> {
    let reason = tiny_http::StatusCode(reply.status).default_reason_phrase();
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let len = reply.body.len();
    head.push_str(&format!(
        "Content-Length: {len}\r\nConnection: close\r\n\r\n"
    ));
    out.write_all(head.as_bytes())?;
    if !head_only {
        out.write_all(&reply.body)?;
    }
    out.flush()
}

fn route(
    state: &State,
    method: &tiny_http::Method,
    target: &str,
    header: &dyn Fn(&'static str) -> Option<String>,
) -> Reply {
    let config = &state.config;
    if !matches!(method, tiny_http::Method::Get | tiny_http::Method::Head) {
        return Reply::text(405, "method not allowed");
    }
    if config.fail_first > 0 {
        let mut attempts = state.attempts.lock().unwrap();
        let n = attempts.entry(target.to_string()).or_default();
        *n += 1;
        if *n <= config.fail_first {
            return Reply::text(503, "try again");
        }
    }
    if let Some((user, pass)) = &config.auth {
        let token = data_encoding::BASE64.encode(format!("{user}:{pass}").as_bytes());
        if header("Authorization") != Some(format!("Basic {token}")) {
            return Reply::text(401, "unauthorized")
                .header("WWW-Authenticate", "Basic realm=\"test\"".into());
        }
    }
    let path = target.split('?').next().unwrap_or(target);
    if path == "/simple/" || path == "/simple" {
        let (content_type, body) = index_pages::root_page(&state.projects, config.format);
        return Reply::new(200, content_type, body);
    }
    if let Some(name) = path.strip_prefix("/simple/") {
        return project(state, name.trim_end_matches('/'), header);
    }
    if let Some(name) = path.strip_prefix("/files/") {
        return file(state, name, header);
    }
    Reply::text(404, "not found")
}

/// A project page, redirected to its normalized name, with an ETag.
fn project(state: &State, name: &str, header: &dyn Fn(&'static str) -> Option<String>) -> Reply {
    if normalize(name) != name {
        return Reply::new(301, "text/plain", Vec::new())
            .header("Location", format!("/simple/{}/", normalize(name)));
    }
    let Some(files) = state.projects.get(name) else {
        return Reply::text(404, "no such project");
    };
    let (content_type, body) = index_pages::project_page(name, files, &state.config);
    if !state.config.etags {
        return Reply::new(200, content_type, body);
    }
    let etag = format!("\"{}\"", &crate::sha256_hex(&body)[..16]);
    if header("If-None-Match").as_deref() == Some(etag.as_str()) {
        return Reply::new(304, "text/plain", Vec::new()).header("ETag", etag);
    }
    Reply::new(200, content_type, body).header("ETag", etag)
}

/// A distribution (whole, or the byte range asked for) or its metadata file.
fn file(state: &State, name: &str, header: &dyn Fn(&'static str) -> Option<String>) -> Reply {
    let config = &state.config;
    if let Some(wheel) = name.strip_suffix(".metadata") {
        let metadata = state
            .projects
            .values()
            .flatten()
            .find(|f| f.filename == wheel)
            .and_then(|f| f.metadata.clone());
        return match metadata {
            Some(m) if config.metadata_files && !config.metadata_files_missing => {
                Reply::new(200, "application/octet-stream", m)
            }
            _ => Reply::text(404, "no metadata file"),
        };
    }
    if name.contains('/') || name.starts_with('.') {
        return Reply::new(404, "text/plain", Vec::new());
    }
    let Ok(data) = fs_err::read(config.dir.join(name)) else {
        return Reply::text(404, "no such file");
    };
    if !config.ranges {
        return Reply::new(200, "application/octet-stream", data);
    }
    let Some(range) = header("Range") else {
        return Reply::new(200, "application/octet-stream", data)
            .header("Accept-Ranges", "bytes".into());
    };
    let Some((start, end)) = parse_range(&range, data.len()) else {
        return Reply::new(416, "text/plain", Vec::new());
    };
    let part = data[start..=end].to_vec();
    Reply::new(206, "application/octet-stream", part)
        .header(
            "Content-Range",
            format!("bytes {start}-{end}/{}", data.len()),
        )
        .header("Accept-Ranges", "bytes".into())
}

/// One `bytes=A-B`, `bytes=A-` or `bytes=-N` range of a `len`-byte file, inclusive.
fn parse_range(value: &str, len: usize) -> Option<(usize, usize)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    if len == 0 {
        return None;
    }
    if a.is_empty() {
        let n: usize = b.parse().ok().filter(|&n| n > 0)?;
        return Some((len.saturating_sub(n), len - 1));
    }
    let start: usize = a.parse().ok()?;
    let end: usize = if b.is_empty() {
        len - 1
    } else {
        b.parse().ok()?
    };
    (start <= end && start < len).then(|| (start, end.min(len - 1)))
}
