//! A scripted HTTP server on 127.0.0.1 for hostile-index tests: each path
//! answers what the test says (any status, headers, body, a body that
//! stalls after some bytes, or 503 for its first requests), and every
//! request is recorded with its `Authorization` header. Built on `tiny_http`, one thread per request, so
//! a stalled answer never blocks the others. `SilentServer` accepts
//! connections and never answers.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What one path answers.
#[derive(Debug, Clone)]
pub struct Route {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    /// Send this many bytes of the body, then nothing until the server stops.
    pub stall_after: Option<usize>,
    /// Extra response headers (`Location` of a redirect, …).
    pub headers: Vec<(String, String)>,
    /// Answer the first N requests of this path with HTTP 503 (a server
    /// having a bad moment), then this route.
    pub fail_first: u32,
}

impl Route {
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Route {
            status: 200,
            content_type: content_type.to_string(),
            body: body.into(),
            stall_after: None,
            headers: Vec::new(),
            fail_first: 0,
        }
    }

    pub fn html(body: impl Into<Vec<u8>>) -> Self {
        Self::ok("text/html", body)
    }

    pub fn json(body: impl Into<Vec<u8>>) -> Self {
        Self::ok("application/vnd.pypi.simple.v1+json", body)
    }

    pub fn file(body: impl Into<Vec<u8>>) -> Self {
        Self::ok("application/octet-stream", body)
    }

    pub fn status(status: u16) -> Self {
        Route {
            status,
            content_type: "text/plain".into(),
            body: format!("HTTP {status}").into_bytes(),
            stall_after: None,
            headers: Vec::new(),
            fail_first: 0,
        }
    }

    /// A `302 Found` to `location`.
    pub fn redirect(location: &str) -> Self {
        Route {
            headers: vec![("Location".into(), location.into())],
            ..Self::status(302)
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub path: String,
    pub authorization: Option<String>,
}

pub struct RouteServer {
    pub port: u16,
    routes: Arc<Mutex<BTreeMap<String, Route>>>,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
    /// Requests answered per path, for `Route::fail_first`.
    counts: Arc<Mutex<BTreeMap<String, u32>>>,
    stop: Arc<AtomicBool>,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RouteServer {
    /// Serves `routes` (path → answer; anything else is a 404).
    pub fn start(routes: BTreeMap<String, Route>) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1"));
        let port = server.server_addr().to_ip().expect("an IP listener").port();
        let routes = Arc::new(Mutex::new(routes));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let counts = Arc::new(Mutex::new(BTreeMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (server, routes, seen, counts, stop) = (
                server.clone(),
                routes.clone(),
                seen.clone(),
                counts.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    let path = request.url().split('?').next().unwrap_or("").to_string();
                    let authorization = request
                        .headers()
                        .iter()
                        .find(|h| h.field.equiv("Authorization"))
                        .map(|h| h.value.to_string());
                    seen.lock().unwrap().push(SeenRequest {
                        path: path.clone(),
                        authorization,
                    });
                    let count = {
                        let mut counts = counts.lock().unwrap();
                        let n = counts.entry(path.clone()).or_insert(0);
                        *n += 1;
                        *n
                    };
                    let route = routes.lock().unwrap().get(&path).cloned().map(|r| {
                        if count <= r.fail_first {
                            Route::status(503)
                        } else {
                            r
                        }
                    });
                    let stop = stop.clone();
                    std::thread::spawn(move || respond(request, route, &stop));
                }
            })
        };
        RouteServer {
            port,
            routes,
            seen,
            counts,
            stop,
            server,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Replaces or adds the answer for `path` (its `fail_first` counts from now).
    pub fn set(&self, path: &str, route: Route) {
        self.counts.lock().unwrap().remove(path);
        self.routes.lock().unwrap().insert(path.to_string(), route);
    }

    pub fn requests(&self) -> Vec<SeenRequest> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for RouteServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn respond(request: tiny_http::Request, route: Option<Route>, stop: &Arc<AtomicBool>) {
    let route = route.unwrap_or_else(|| Route::status(404));
    let headers = std::iter::once(("Content-Type", route.content_type.as_str()))
        .chain(route.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map(|(k, v)| tiny_http::Header::from_bytes(k, v).expect("a valid header"))
        .collect();
    let len = route.body.len();
    let body = StallingBody {
        data: route.body,
        offset: 0,
        stall_after: route.stall_after,
        stop: stop.clone(),
    };
    let response = tiny_http::Response::new(
        tiny_http::StatusCode(route.status),
        headers,
        body,
        Some(len),
        None,
    );
    let _ = request.respond(response);
}

/// A body that may stop sending part way, until the server is dropped.
struct StallingBody {
    data: Vec<u8>,
    offset: usize,
    stall_after: Option<usize>,
    stop: Arc<AtomicBool>,
}

impl Read for StallingBody {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let end = self
            .stall_after
            .unwrap_or(self.data.len())
            .min(self.data.len());
        if self.offset >= end && end < self.data.len() {
            while !self.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
            return Err(std::io::Error::other("server stopped"));
        }
        let n = out.len().min(end - self.offset);
        out[..n].copy_from_slice(&self.data[self.offset..self.offset + n]);
        self.offset += n;
        Ok(n)
    }
}

/// Accepts connections and never answers them, until dropped.
pub struct SilentServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SilentServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let port = listener.local_addr().expect("an address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut held = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => held.push(stream),
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            })
        };
        SilentServer {
            port,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
