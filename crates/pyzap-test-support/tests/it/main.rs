//! The local index as the tests and `bench/` see it: the in-process server
//! (JSON pages, ranges, ETags, HEAD) and the `pyzap-test-index` binary
//! (URL on the first line, options, `requests N` when stdin closes).

// Tests may unwrap: a failed unwrap is a failed test (clippy.toml's
// `allow-unwrap-in-tests` covers only `#[test]` functions, not helpers).
#![cfg_attr(test, allow(clippy::unwrap_used, reason = "tests may unwrap"))]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use pyzap_test_support::{IndexConfig, IndexServer};

/// One HTTP/1.0 request (the server closes the connection after it):
/// (status, head, body).
fn get(port: u16, method: &str, path: &str, headers: &[&str]) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut request = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n");
    for h in headers {
        request.push_str(&format!("{h}\r\n"));
    }
    stream
        .write_all(format!("{request}\r\n").as_bytes())
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(answer[..split].to_vec()).unwrap();
    let status = head[9..12].parse().unwrap();
    (
        status,
        head.to_ascii_lowercase(),
        answer[split + 4..].to_vec(),
    )
}

#[test]
fn pages_ranges_and_etags() {
    let server = IndexServer::start(IndexConfig::wheelhouse());
    let (status, head, page) = get(server.port, "GET", "/simple/six/", &[]);
    assert_eq!(status, 200);
    let page: serde_json::Value = serde_json::from_slice(&page).unwrap();
    assert_eq!(page["versions"], serde_json::json!(["1.17.0"]));
    let files = page["files"].as_array().unwrap();
    let wheel = files
        .iter()
        .find(|f| f["filename"] == "six-1.17.0-py2.py3-none-any.whl");
    let wheel = wheel.unwrap();
    assert!(wheel["core-metadata"]["sha256"].is_string());
    let sdist = files
        .iter()
        .find(|f| f["filename"] == "six-1.17.0.tar.gz")
        .unwrap();
    assert!(sdist["requires-python"].is_string(), "read from PKG-INFO");
    let size = wheel["size"].as_u64().unwrap();

    // Clients close after each answer: a keep-alive connection would hold
    // a thread of tiny_http's pool that new connections can queue behind
    // (uv, holding a pool of them, waited 30 s for one in the benchmark).
    assert!(head.contains("connection: close"), "{head}");
    let etag = head.lines().find_map(|l| l.strip_prefix("etag: ")).unwrap();
    let (status, _, body) = get(
        server.port,
        "GET",
        "/simple/six/",
        &[&format!("If-None-Match: {etag}")],
    );
    assert_eq!((status, body.len()), (304, 0));
    assert_eq!(get(server.port, "GET", "/simple/Six", &[]).0, 301);

    let file = "/files/six-1.17.0-py2.py3-none-any.whl";
    let (status, head, body) = get(server.port, "GET", file, &["Range: bytes=-100"]);
    assert_eq!((status, body.len()), (206, 100));
    assert!(
        head.contains(&format!(
            "content-range: bytes {}-{}/{size}",
            size - 100,
            size - 1
        )),
        "{head}"
    );
    let (status, head, body) = get(server.port, "HEAD", file, &[]);
    assert_eq!(status, 200);
    assert!(body.is_empty());
    assert!(head.contains(&format!("content-length: {size}")), "{head}");
    assert!(head.contains("accept-ranges: bytes"), "{head}");
    assert_eq!(
        get(server.port, "GET", &format!("{file}.metadata"), &[]).0,
        200
    );
    assert_eq!(server.requests().len(), 6);
}

#[test]
fn the_binary_serves_until_stdin_closes() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pyzap-test-index"))
        .args([
            "--format",
            "html",
            "--no-metadata-files",
            "--no-ranges",
            "--no-etags",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    stdout.read_line(&mut url).unwrap();
    let port: u16 = url
        .trim()
        .strip_prefix("http://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix("/simple/"))
        .unwrap()
        .parse()
        .unwrap();

    let (status, head, page) = get(port, "GET", "/simple/six/", &[]);
    let page = String::from_utf8(page).unwrap();
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/html"), "{head}");
    assert!(!head.contains("etag"), "{head}");
    assert!(page.contains("six-1.17.0.tar.gz#sha256="), "{page}");
    assert!(!page.contains("metadata"), "{page}");
    let file = "/files/six-1.17.0-py2.py3-none-any.whl";
    let (status, head, _) = get(port, "GET", file, &["Range: bytes=0-9"]);
    assert_eq!(status, 200, "ranges are off");
    assert!(!head.contains("accept-ranges"), "{head}");
    assert_eq!(get(port, "GET", &format!("{file}.metadata"), &[]).0, 404);

    drop(child.stdin.take());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "requests 3\n");
    assert!(child.wait().unwrap().success());
}
