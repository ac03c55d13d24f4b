//! Servers from artifacts, answering over HTTP on 127.0.0.1: a flask app under
//! gunicorn, and the echo WSGI example handed a socket by
//! `systemd-socket-activate`.

use std::process::{Command, Stdio};

use crate::common::*;

#[test]
fn flask_app_under_gunicorn() {
    let port = free_port();
    let root = fresh_dir("root-");
    let child = run_artifact(&py311().path, &web_bundle(), &root)
        .args(["webapp:app", "--workers", "1", "--bind"])
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = Server(child);
    let body = http_get(port, "/");
    assert!(
        body.starts_with("HTTP/1.") && body.contains("hello from flask"),
        "{body}"
    );
}

#[test]
fn echo_example_with_systemd_socket_activation() {
    let activate = std::path::Path::new("/usr/bin/systemd-socket-activate");
    if !activate.exists() {
        panic!("systemd-socket-activate is missing: .ci/run installs the `systemd` package");
    }
    let artifact = shared_artifact("echo", |out| {
        let project =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/echo-wsgi");
        build(&py311().path, out, &[project.to_str().unwrap()]);
    });
    let port = free_port();
    let root = fresh_dir("root-");
    let child = Command::new(activate)
        .arg("-l")
        .arg(format!("127.0.0.1:{port}"))
        .arg("-E")
        .arg(format!("PYZAP_ROOT={}", root.display()))
        .arg(&py311().path)
        .arg(&artifact)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = Server(child);
    let body = http_get(port, "/hello?x=1");
    assert!(
        body.contains("\"path\": \"/hello\"") && body.contains("\"query\": \"x=1\""),
        "{body}"
    );
}
