//! The HTTP seam: a small `HttpClient` trait (so tests and other transports
//! can stand in) and its `ureq` implementation, which trusts the platform's
//! certificate store (corporate proxies install their CA only there; see
//! DEPENDENCIES.md), honours `SSL_CERT_FILE` and the `*_PROXY` variables,
//! and sends credentials from the URL or `~/.netrc` without ever showing them.
//!
//! `.netrc` is read with `rust-netrc` (the crate uv uses), a translation of
//! Python's own `netrc` module, so a file pip reads means the same here:
//! comments, quoted tokens, `macdef` bodies, the `default` entry. Only which
//! file is read is decided here, as pip decides it (`$NETRC`, else `~/.netrc`).
//!
//! One `UreqClient` serves a whole build (the index client holds it): its
//! agent's connection pool and its DNS cache (`resolver`) are shared by
//! every page request and every parallel download, so a host is looked up
//! once and its connections are reused rather than opened per file.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use url::Url;

mod resolver;

/// Idle connections kept per host: at least as many as the threads that
/// fetch at once (pyzap-bundle downloads and prefetches pages on 8), or a
/// connection handed back by one of them is closed and the next request
/// opens a new one (ureq keeps 3 by default).
const IDLE_CONNECTIONS_PER_HOST: usize = 16;
/// Idle connections kept in all: an index and the host of its files.
const IDLE_CONNECTIONS: usize = 2 * IDLE_CONNECTIONS_PER_HOST;

/// A response whose body has not been read yet.
pub struct HttpResponse {
    pub status: u16,
    /// Header names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Box<dyn Read + Send>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A failure below HTTP: DNS, connect, TLS, timeout, a broken body.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    pub message: String,
    /// The server accepted but stayed silent: retrying it soon rarely helps.
    pub timed_out: bool,
    /// Nothing could be reached: the host's name did not resolve, or the
    /// connection was refused or had no route. On a first request that is
    /// a machine without network (or a wrong URL), not a passing fault.
    pub unreachable: bool,
}

impl TransportError {
    pub fn new(message: impl Into<String>) -> Self {
        TransportError {
            message: message.into(),
            timed_out: false,
            unreachable: false,
        }
    }

    /// A failure to reach the host at all (see `unreachable`).
    pub fn unreachable(message: impl Into<String>) -> Self {
        TransportError {
            unreachable: true,
            ..Self::new(message)
        }
    }
}

/// Whether ureq failed before any server answered: no such host, or
/// nothing listening or routable there.
fn is_unreachable(error: &ureq::Error) -> bool {
    use std::io::ErrorKind as K;
    match error {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => true,
        ureq::Error::Io(e) => {
            matches!(
                e.kind(),
                K::ConnectionRefused
                    | K::HostUnreachable
                    | K::NetworkUnreachable
                    | K::AddrNotAvailable
            ) || e.to_string().contains("failed to lookup address")
        }
        _ => false,
    }
}

pub trait HttpClient: Send + Sync {
    /// Sends a GET with extra `headers`; any status is a response.
    fn get(&self, url: &Url, headers: &[(&str, String)]) -> Result<HttpResponse, TransportError>;
}

/// `url` with any user name and password replaced by `***`, for logs and errors.
pub fn redact(url: &Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.to_string();
    }
    let mut shown = url.clone();
    let _ = shown.set_username("***");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// `url` without credentials and fragment: what goes on the wire (the
/// credentials travel in a header) and what keys a URL in caches and maps.
pub fn bare(url: &Url) -> Url {
    let mut bare = url.clone();
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    bare.set_fragment(None);
    bare
}

/// Timeouts of one client; a stalled index fails with a clear error instead of hanging.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub connect_timeout: Duration,
    /// Until the response head arrives.
    pub response_timeout: Duration,
    /// Between two reads of a body: a server that stops sending fails after
    /// this long, however large the file.
    pub idle_timeout: Duration,
    /// For the whole body (wheels can be large): a backstop only.
    pub body_timeout: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        let secs = std::env::var("PYZAP_HTTP_TIMEOUT")
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|s| *s > 0.0);
        let response = Duration::from_secs_f64(secs.unwrap_or(30.0));
        HttpOptions {
            connect_timeout: response.min(Duration::from_secs(15)),
            response_timeout: response,
            idle_timeout: response,
            body_timeout: response.max(Duration::from_secs(3600)),
        }
    }
}

/// The production client.
pub struct UreqClient {
    agent: ureq::Agent,
    /// Credentials seen in index URLs, reused for file URLs of the same
    /// origin (indexes often link files without them, as pip assumes). Keyed
    /// by scheme, host and port: another port of the same host is another
    /// server, and credentials given for https never travel over http.
    learned: Mutex<HashMap<String, (String, String)>>,
    netrc: netrc::Netrc,
    idle_timeout: Duration,
}

impl UreqClient {
    pub fn new(options: &HttpOptions) -> Self {
        use ureq::tls::{RootCerts, TlsConfig};
        let roots = match std::env::var_os("SSL_CERT_FILE").map(PathBuf::from) {
            Some(path) => match fs_err::read(&path) {
                Ok(pem) => {
                    let certs: Vec<_> = ureq::tls::parse_pem(&pem)
                        .filter_map(|item| match item {
                            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                            _ => None,
                        })
                        .collect();
                    tracing::debug!(
                        "trusting {} certificates from SSL_CERT_FILE {}",
                        certs.len(),
                        path.display()
                    );
                    RootCerts::new_with_certs(&certs)
                }
                Err(e) => {
                    tracing::warn!("ignoring SSL_CERT_FILE: {e}");
                    RootCerts::PlatformVerifier
                }
            },
            None => RootCerts::PlatformVerifier,
        };
        let config = ureq::Agent::config_builder()
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .http_status_as_error(false)
            .timeout_connect(Some(options.connect_timeout))
            .timeout_recv_response(Some(options.response_timeout))
            .timeout_recv_body(Some(options.body_timeout))
            .user_agent(concat!("pyzap/", env!("CARGO_PKG_VERSION")))
            .proxy(ureq::Proxy::try_from_env())
            .max_idle_connections(IDLE_CONNECTIONS)
            .max_idle_connections_per_host(IDLE_CONNECTIONS_PER_HOST)
            .build();
        let agent = ureq::Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::default(),
            resolver::CachingResolver::new(ureq::unversioned::resolver::DefaultResolver::default()),
        );
        UreqClient {
            agent,
            learned: Mutex::default(),
            netrc: read_netrc(
                netrc_path(std::env::var_os("NETRC"), std::env::var_os("HOME")).as_deref(),
            ),
            idle_timeout: options.idle_timeout,
        }
    }

    fn credentials(&self, url: &Url) -> Option<(String, String)> {
        let host = url.host_str()?.to_string();
        let origin = url.origin();
        if !origin.is_tuple() {
            return None;
        }
        let origin = origin.ascii_serialization();
        if !url.username().is_empty() {
            let user = percent_decode(url.username());
            let pass = percent_decode(url.password().unwrap_or(""));
            let mut learned = self
                .learned
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            learned.insert(origin, (user.clone(), pass.clone()));
            return Some((user, pass));
        }
        if let Some(c) = self
            .learned
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&origin)
        {
            return Some(c.clone());
        }
        // netrc names hosts only (as curl, pip and uv read it); the crate
        // keeps the `default` entry under that name, as Python's module does.
        let hosts = &self.netrc.hosts;
        hosts
            .get(&host)
            .or_else(|| hosts.get("default"))
            .map(|e| (e.login.clone(), e.password.clone()))
    }
}

impl HttpClient for UreqClient {
    fn get(&self, url: &Url, headers: &[(&str, String)]) -> Result<HttpResponse, TransportError> {
        let mut request = self.agent.get(bare(url).as_str());
        for (k, v) in headers {
            request = request.header(*k, v);
        }
        if let Some((user, pass)) = self.credentials(url) {
            let token = data_encoding::BASE64.encode(format!("{user}:{pass}").as_bytes());
            request = request.header("Authorization", format!("Basic {token}"));
        }
        let response = request.call().map_err(|e| TransportError {
            timed_out: matches!(e, ureq::Error::Timeout(_)),
            unreachable: is_unreachable(&e),
            message: e.to_string(),
        })?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_ascii_lowercase(), v.to_str().ok()?.into())))
            .collect();
        let body = response.into_body().into_reader();
        Ok(HttpResponse {
            status,
            headers,
            body: Box::new(IdleTimeoutReader::new(body, self.idle_timeout)),
        })
    }
}

/// A body read on a helper thread, so that a read waiting longer than the
/// idle timeout fails at once. ureq only bounds a whole body, and a wheel
/// may rightly take minutes; a server that sends the head and then nothing
/// must not. The helper ends with the body, or at ureq's whole-body bound
/// when the server never sends again.
struct IdleTimeoutReader {
    chunks: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    pending: Vec<u8>,
    offset: usize,
    idle: Duration,
    done: bool,
}

impl IdleTimeoutReader {
    fn new(mut inner: impl Read + Send + 'static, idle: Duration) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel(4);
        std::thread::spawn(move || loop {
            let mut buf = vec![0u8; 64 * 1024];
            let result = match inner.read(&mut buf) {
                Ok(n) => {
                    buf.truncate(n);
                    Ok(buf)
                }
                Err(e) => Err(e),
            };
            let last = !matches!(&result, Ok(b) if !b.is_empty());
            if tx.send(result).is_err() || last {
                break;
            }
        });
        IdleTimeoutReader {
            chunks: rx,
            pending: Vec::new(),
            offset: 0,
            idle,
            done: false,
        }
    }
}

impl Read for IdleTimeoutReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.offset == self.pending.len() {
            if self.done {
                return Ok(0);
            }
            match self.chunks.recv_timeout(self.idle) {
                Ok(Ok(chunk)) if chunk.is_empty() => {
                    self.done = true;
                    return Ok(0);
                }
                Ok(Ok(chunk)) => {
                    self.pending = chunk;
                    self.offset = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!(
                            "the server sent nothing for {:.1} s (PYZAP_HTTP_TIMEOUT)",
                            self.idle.as_secs_f64()
                        ),
                    ))
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = out.len().min(self.pending.len() - self.offset);
        out[..n].copy_from_slice(&self.pending[self.offset..self.offset + n]);
        self.offset += n;
        Ok(n)
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The netrc file to read: `$NETRC` when set (even if it is missing, as
/// Python's `netrc` module does), else `~/.netrc`.
fn netrc_path(netrc: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    match netrc {
        Some(path) => Some(PathBuf::from(path)),
        None => home.map(|h| PathBuf::from(h).join(".netrc")),
    }
}

/// The entries of the netrc file; a missing file means none, and so does
/// an unreadable or malformed one, with a warning (credentials pyzap cannot
/// read must not stop a build from an index that needs none).
fn read_netrc(path: Option<&Path>) -> netrc::Netrc {
    let Some(path) = path.filter(|p| p.exists()) else {
        return netrc::Netrc::default();
    };
    netrc::Netrc::from_file(path).unwrap_or_else(|e| {
        tracing::warn!("ignoring {}: {e}", path.display());
        netrc::Netrc::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials() {
        let u = Url::parse("https://user:s3cret@example.org/simple/").unwrap();
        let shown = redact(&u);
        assert!(
            !shown.contains("s3cret") && !shown.contains("user"),
            "{shown}"
        );
        let plain = Url::parse("https://example.org/simple/").unwrap();
        assert_eq!(redact(&plain), "https://example.org/simple/");
    }

    #[test]
    fn learned_credentials_stay_with_scheme_host_and_port() {
        let mut client = UreqClient::new(&HttpOptions::default());
        client.netrc = netrc::Netrc::default();
        let index = Url::parse("https://alice:pw@idx.example/simple/").unwrap();
        assert!(client.credentials(&index).is_some());
        let same = Url::parse("https://idx.example:443/files/a.whl").unwrap();
        assert_eq!(client.credentials(&same).unwrap().0, "alice");
        for other in [
            "http://idx.example/files/a.whl",
            "https://idx.example:8443/files/a.whl",
            "https://files.idx.example/a.whl",
        ] {
            let other = Url::parse(other).unwrap();
            assert_eq!(client.credentials(&other), None, "{other}");
        }
    }

    /// A client whose netrc file holds `text`.
    fn client_with_netrc(text: &str) -> UreqClient {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("netrc");
        fs_err::write(&path, text).unwrap();
        let mut client = UreqClient::new(&HttpOptions::default());
        client.netrc = read_netrc(Some(&path));
        client
    }

    fn creds(client: &UreqClient, url: &str) -> Option<(String, String)> {
        client.credentials(&Url::parse(url).unwrap())
    }

    fn pair(user: &str, password: &str) -> Option<(String, String)> {
        Some((user.into(), password.into()))
    }

    #[test]
    fn netrc_gives_each_host_its_entry_and_others_the_default() {
        let client = client_with_netrc(
            "machine a.example login alice password pw1\ndefault login bob password pw2\n",
        );
        assert_eq!(
            creds(&client, "https://a.example/simple/"),
            pair("alice", "pw1")
        );
        // Hosts only: any port or scheme of a.example.
        assert_eq!(
            creds(&client, "http://a.example:8080/x"),
            pair("alice", "pw1")
        );
        assert_eq!(
            creds(&client, "https://b.example/simple/"),
            pair("bob", "pw2")
        );
        // Credentials in the URL win over the file.
        assert_eq!(
            creds(&client, "https://carol:pw3@a.example/simple/"),
            pair("carol", "pw3")
        );
    }

    /// What the hand-written parser got wrong: a macro body is not entries,
    /// `#` starts a comment, and a quoted password may hold spaces.
    #[test]
    fn netrc_is_read_as_pythons_netrc_module_reads_it() {
        let client = client_with_netrc(
            "# machine commented.example login x password y\n\
             macdef init\nmachine evil.example login mallory password stolen\n\n\
             machine a.example login alice password \"two words\" # a comment\n",
        );
        assert_eq!(
            creds(&client, "https://a.example/"),
            pair("alice", "two words")
        );
        assert_eq!(creds(&client, "https://evil.example/"), None);
        assert_eq!(creds(&client, "https://commented.example/"), None);
    }

    #[test]
    fn a_malformed_or_missing_netrc_gives_no_credentials() {
        let client = client_with_netrc("machine a.example login alice frobnicate pw\n");
        assert_eq!(creds(&client, "https://a.example/"), None);
        let missing = read_netrc(Some(Path::new("/nonexistent/pyzap/netrc")));
        assert!(missing.hosts.is_empty());
        assert!(read_netrc(None).hosts.is_empty());
    }

    #[test]
    fn netrc_comes_from_the_netrc_variable_else_home() {
        let os = |s: &str| Some(OsString::from(s));
        assert_eq!(
            netrc_path(os("/etc/pyzap-netrc"), os("/home/u")),
            Some(PathBuf::from("/etc/pyzap-netrc"))
        );
        assert_eq!(
            netrc_path(None, os("/home/u")),
            Some(PathBuf::from("/home/u/.netrc"))
        );
        assert_eq!(netrc_path(None, None), None);
    }
}
