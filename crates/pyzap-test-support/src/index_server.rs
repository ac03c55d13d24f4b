//! A package index on 127.0.0.1 over a directory of distributions (the
//! shared wheelhouse by default): the PEP 691 JSON or PEP 503 HTML simple
//! API, with or without PEP 658 metadata files, range requests on files,
//! ETags for revalidation, yanked files, basic auth, and fault modes (5xx
//! answers, slow answers). std only; one thread per connection; shut down
//! when dropped. Every request is logged so tests can count them.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    /// Honour `Range` headers on files.
    pub ranges: bool,
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
        IndexConfig {
            dir: crate::wheelhouse(),
            format: PageFormat::Json,
            metadata_files: true,
            metadata_files_missing: false,
            ranges: true,
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
    pub path: String,
    pub range: Option<String>,
    pub status: u16,
}

pub struct IndexServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<LoggedRequest>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct FileInfo {
    filename: String,
    sha256: String,
    requires_python: Option<String>,
    metadata: Option<Vec<u8>>,
}

struct State {
    config: IndexConfig,
    projects: Arc<BTreeMap<String, Vec<FileInfo>>>,
    attempts: Mutex<BTreeMap<String, u32>>,
    log: Arc<Mutex<Vec<LoggedRequest>>>,
}

impl IndexServer {
    pub fn start(config: IndexConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(State {
            projects: scan_cached(&config.dir),
            config,
            attempts: Mutex::default(),
            log: log.clone(),
        });
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let state = state.clone();
                std::thread::spawn(move || {
                    let _ = serve(&state, stream);
                });
            }
        });
        IndexServer {
            port,
            stop,
            log,
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
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(data))
}

fn normalize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Each directory is read (digests, METADATA) once per test process.
fn scan_cached(dir: &Path) -> Arc<BTreeMap<String, Vec<FileInfo>>> {
    type Scans = Mutex<BTreeMap<PathBuf, Arc<BTreeMap<String, Vec<FileInfo>>>>>;
    static SCANS: std::sync::OnceLock<Scans> = std::sync::OnceLock::new();
    let mut scans = SCANS.get_or_init(Default::default).lock().unwrap();
    scans
        .entry(dir.to_path_buf())
        .or_insert_with(|| Arc::new(scan(dir)))
        .clone()
}

fn scan(dir: &Path) -> BTreeMap<String, Vec<FileInfo>> {
    let mut out: BTreeMap<String, Vec<FileInfo>> = BTreeMap::new();
    let mut names: Vec<String> = fs_err::read_dir(dir)
        .expect("index dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for filename in names {
        let project = if filename.ends_with(".whl") {
            filename.split('-').next().map(str::to_string)
        } else if let Some(stem) = filename.strip_suffix(".tar.gz") {
            stem.rsplit_once('-').map(|(n, _)| n.to_string())
        } else {
            None
        };
        let Some(project) = project else { continue };
        let path = dir.join(&filename);
        let metadata = filename
            .ends_with(".whl")
            .then(|| wheel_metadata(&path))
            .flatten();
        let requires_python = metadata.as_deref().and_then(|m| {
            String::from_utf8_lossy(m)
                .lines()
                .take_while(|l| !l.is_empty())
                .find_map(|l| {
                    l.strip_prefix("Requires-Python:")
                        .map(|v| v.trim().to_string())
                })
        });
        out.entry(normalize(&project)).or_default().push(FileInfo {
            sha256: crate::sha256_file(&path),
            filename,
            requires_python,
            metadata,
        });
    }
    out
}

fn wheel_metadata(path: &Path) -> Option<Vec<u8>> {
    let mut zip = zip::ZipArchive::new(fs_err::File::open(path).ok()?).ok()?;
    let name = zip
        .file_names()
        .filter_map(|n| n.ok())
        .find(|n| n.ends_with(".dist-info/METADATA") && n.matches('/').count() == 1)?
        .to_string();
    let mut data = Vec::new();
    zip.by_name(&name).ok()?.read_to_end(&mut data).ok()?;
    Some(data)
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn reply(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
    Reply {
        status,
        headers: vec![("Content-Type".into(), content_type.into())],
        body,
    }
}

fn serve(state: &State, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("/").to_string();
    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    if let Some(d) = state.config.delay {
        std::thread::sleep(d);
    }
    let r = route(state, &method, &path, &header);
    state.log.lock().unwrap().push(LoggedRequest {
        path: path.clone(),
        range: header("range"),
        status: r.status,
    });
    let mut out = stream;
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        r.status,
        r.body.len()
    );
    for (k, v) in &r.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    if method != "HEAD" {
        out.write_all(&r.body)?;
    }
    out.flush()
}

fn route(
    state: &State,
    method: &str,
    path: &str,
    header: &dyn Fn(&str) -> Option<String>,
) -> Reply {
    let config = &state.config;
    if method != "GET" && method != "HEAD" {
        return reply(405, "text/plain", b"method not allowed".to_vec());
    }
    if config.fail_first > 0 {
        let mut attempts = state.attempts.lock().unwrap();
        let n = attempts.entry(path.to_string()).or_default();
        *n += 1;
        if *n <= config.fail_first {
            return reply(503, "text/plain", b"try again".to_vec());
        }
    }
    if let Some((user, pass)) = &config.auth {
        let token = data_encoding::BASE64.encode(format!("{user}:{pass}").as_bytes());
        if header("authorization").as_deref() != Some(&format!("Basic {token}")) {
            let mut r = reply(401, "text/plain", b"unauthorized".to_vec());
            r.headers
                .push(("WWW-Authenticate".into(), "Basic realm=\"test\"".into()));
            return r;
        }
    }
    let path = path.split('?').next().unwrap_or(path);
    if path == "/simple/" {
        return root_page(state);
    }
    if let Some(name) = path.strip_prefix("/simple/") {
        let name = name.trim_end_matches('/');
        if normalize(name) != name {
            let mut r = reply(301, "text/plain", Vec::new());
            r.headers
                .push(("Location".into(), format!("/simple/{}/", normalize(name))));
            return r;
        }
        let Some(files) = state.projects.get(name) else {
            return reply(404, "text/plain", b"no such project".to_vec());
        };
        let page = project_page(state, name, files);
        let etag = format!("\"{}\"", &sha256_hex(&page.body)[..16]);
        if header("if-none-match").as_deref() == Some(etag.as_str()) {
            let mut r = reply(304, "text/plain", Vec::new());
            r.headers.push(("ETag".into(), etag));
            return r;
        }
        let mut page = page;
        page.headers.push(("ETag".into(), etag));
        return page;
    }
    if let Some(name) = path.strip_prefix("/files/") {
        if let Some(wheel) = name.strip_suffix(".metadata") {
            let info = state
                .projects
                .values()
                .flatten()
                .find(|f| f.filename == wheel);
            return match info.and_then(|i| i.metadata.clone()) {
                Some(m) if config.metadata_files && !config.metadata_files_missing => {
                    reply(200, "application/octet-stream", m)
                }
                _ => reply(404, "text/plain", b"no metadata file".to_vec()),
            };
        }
        if name.contains('/') || name.starts_with('.') {
            return reply(404, "text/plain", Vec::new());
        }
        let Ok(data) = fs_err::read(config.dir.join(name)) else {
            return reply(404, "text/plain", b"no such file".to_vec());
        };
        if let (true, Some(range)) = (config.ranges, header("range")) {
            if let Some((start, end)) = parse_range(&range, data.len() as u64) {
                let mut r = reply(
                    206,
                    "application/octet-stream",
                    data[start as usize..=end as usize].to_vec(),
                );
                r.headers.push((
                    "Content-Range".into(),
                    format!("bytes {start}-{end}/{}", data.len()),
                ));
                return r;
            }
            return reply(416, "text/plain", Vec::new());
        }
        return reply(200, "application/octet-stream", data);
    }
    reply(404, "text/plain", b"not found".to_vec())
}

fn parse_range(value: &str, len: u64) -> Option<(u64, u64)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    if len == 0 {
        return None;
    }
    if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        return Some((len.saturating_sub(n), len - 1));
    }
    let start: u64 = a.parse().ok()?;
    let end: u64 = if b.is_empty() {
        len - 1
    } else {
        b.parse().ok()?
    };
    (start <= end && start < len).then(|| (start, end.min(len - 1)))
}

fn root_page(state: &State) -> Reply {
    if state.config.format == PageFormat::Json {
        let projects: Vec<String> = state
            .projects
            .keys()
            .map(|n| format!("{{\"name\":\"{n}\"}}"))
            .collect();
        let body = format!(
            "{{\"meta\":{{\"api-version\":\"1.1\"}},\"projects\":[{}]}}",
            projects.join(",")
        );
        return reply(
            200,
            "application/vnd.pypi.simple.v1+json",
            body.into_bytes(),
        );
    }
    let mut body = String::from("<!DOCTYPE html><html><body>\n");
    for n in state.projects.keys() {
        body.push_str(&format!("<a href=\"/simple/{n}/\">{n}</a>\n"));
    }
    body.push_str("</body></html>\n");
    reply(200, "text/html", body.into_bytes())
}

fn project_page(state: &State, name: &str, files: &[FileInfo]) -> Reply {
    let config = &state.config;
    let yanked = |f: &FileInfo| {
        config
            .yanked
            .iter()
            .find(|(n, _)| n == &f.filename)
            .map(|(_, r)| r.clone())
    };
    let announce_metadata = |f: &FileInfo| {
        (config.metadata_files || config.metadata_files_missing) && f.metadata.is_some()
    };
    if config.format == PageFormat::Json {
        let entries: Vec<String> = files
            .iter()
            .map(|f| {
                let mut fields = vec![
                    format!("\"filename\":{}", json_str(&f.filename)),
                    format!(
                        "\"url\":{}",
                        json_str(&format!("../../files/{}", f.filename))
                    ),
                    format!("\"hashes\":{{\"sha256\":\"{}\"}}", f.sha256),
                ];
                if let Some(rp) = &f.requires_python {
                    fields.push(format!("\"requires-python\":{}", json_str(rp)));
                }
                if let Some(reason) = yanked(f) {
                    fields.push(format!("\"yanked\":{}", json_str(&reason)));
                }
                if announce_metadata(f) {
                    let digest = sha256_hex(f.metadata.as_deref().unwrap());
                    // PEP 714: JSON pages carry only the new key (pip 23.0 crashes
                    // on the old one given as an object).
                    fields.push(format!("\"core-metadata\":{{\"sha256\":\"{digest}\"}}"));
                }
                format!("{{{}}}", fields.join(","))
            })
            .collect();
        let body = format!(
            "{{\"meta\":{{\"api-version\":\"1.1\"}},\"name\":\"{name}\",\"files\":[{}]}}",
            entries.join(",")
        );
        return reply(
            200,
            "application/vnd.pypi.simple.v1+json",
            body.into_bytes(),
        );
    }
    let mut body =
        format!("<!DOCTYPE html><html><head><title>Links for {name}</title></head><body>\n");
    for f in files {
        let mut attrs = format!(
            "href=\"../../files/{}#sha256={}\"",
            html_escape(&f.filename),
            f.sha256
        );
        if let Some(rp) = &f.requires_python {
            attrs.push_str(&format!(" data-requires-python=\"{}\"", html_escape(rp)));
        }
        if let Some(reason) = yanked(f) {
            attrs.push_str(&format!(" data-yanked=\"{}\"", html_escape(&reason)));
        }
        if announce_metadata(f) {
            let digest = sha256_hex(f.metadata.as_deref().unwrap());
            attrs.push_str(&format!(
                " data-core-metadata=\"sha256={digest}\" data-dist-info-metadata=\"sha256={digest}\""
            ));
        }
        body.push_str(&format!(
            "<a {attrs}>{}</a><br/>\n",
            html_escape(&f.filename)
        ));
    }
    body.push_str("</body></html>\n");
    reply(200, "text/html", body.into_bytes())
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
