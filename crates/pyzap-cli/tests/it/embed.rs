//! Programs that embed Python, run from an artifact: mod_wsgi-express
//! serving a WSGI app that imports a bundled package, started from the
//! artifact (as a plain user, and as root with `--user`), and configured
//! with `setup-server` from the stable venv path `PYZAP_TOOLS=1 … venv DEST`
//! writes, then started with `apachectl`, as a production Apache would.
//!
//! mod_wsgi is built from its sdist in the wheelhouse, with Debian's
//! `apache2-dev` (which `.ci/run` installs). The workers run as `nobody`,
//! so the interpreter is Debian's `/usr/bin/python3.11` (every user can run
//! it) and every directory they read is world-readable.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::*;

const DEBIAN_PYTHON: &str = "/usr/bin/python3.11";

/// Skips (fails in CI) unless Apache, its build tools and Debian's Python are here.
fn requirements_met() -> bool {
    for (path, what) in [
        ("/usr/bin/apxs", "apxs (Debian package apache2-dev)"),
        ("/usr/sbin/apache2", "apache2"),
        (DEBIAN_PYTHON, "Debian's python3.11"),
        ("/usr/sbin/runuser", "runuser"),
    ] {
        if !Path::new(path).exists() {
            pyzap_test_support::skip(&format!("{what} is missing: .ci/run installs it"));
            return false;
        }
    }
    true
}

/// A directory every user can read and enter (fresh_dir makes them private).
fn open_dir(name: &str) -> PathBuf {
    let dir = fresh_dir(name);
    fs_err::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn chown_nobody(path: &Path) {
    run_ok(Command::new("chown").arg("nobody:nogroup").arg(path));
}

/// mod_wsgi + flask, entry point `mod_wsgi-express`, and the app's directory.
fn wsgi_bundle() -> (PathBuf, PathBuf) {
    let app = scratch().join("wsgi-app");
    let artifact = shared_artifact("modwsgi", |out| {
        fs_err::create_dir_all(&app).unwrap();
        fs_err::write(
            app.join("app.py"),
            "import flask\n\napplication = flask.Flask(__name__)\n\n\
             @application.route('/')\ndef hello():\n    return 'hello from flask %s' % flask.__version__\n",
        )
        .unwrap();
        build(
            Path::new(DEBIAN_PYTHON),
            out,
            &["mod_wsgi", "flask", "-c", "mod_wsgi-express"],
        );
    });
    for p in [&app, &app.join("app.py"), &artifact] {
        let mode = if p.is_dir() { 0o755 } else { 0o644 };
        fs_err::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    (artifact, app)
}

fn assert_serves_flask(port: u16, log: &Path) {
    let body = http_get(port, "/");
    assert!(
        body.starts_with("HTTP/1.") && body.contains("hello from flask 3."),
        "{body}\nerror_log:\n{}",
        fs_err::read_to_string(log).unwrap_or_default()
    );
}

#[test]
fn mod_wsgi_express_start_server_as_a_user_and_as_root_with_user() {
    if !requirements_met() {
        return;
    }
    let (artifact, app) = wsgi_bundle();

    // An unprivileged user, with a cache of its own.
    let cache = open_dir("wsgi-user-cache-");
    let server_root = open_dir("wsgi-user-sr-");
    chown_nobody(&cache);
    chown_nobody(&server_root);
    let port = free_port();
    let child = Command::new("runuser")
        .args([
            "-u",
            "nobody",
            "--",
            "env",
            "-i",
            "PATH=/usr/bin:/bin",
            "HOME=/nonexistent",
        ])
        .arg(format!("PYZAP_ROOT={}", cache.join("pyzap").display()))
        .arg(DEBIAN_PYTHON)
        .arg(&artifact)
        .arg("start-server")
        .arg(app.join("app.py"))
        .arg("--port")
        .arg(port.to_string())
        .arg("--server-root")
        .arg(&server_root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _user = Server(child);
    assert_serves_flask(port, &server_root.join("error_log"));

    // Root, handing the workers to nobody: they import from root's cache.
    let cache = open_dir("wsgi-root-cache-");
    let server_root = open_dir("wsgi-root-sr-");
    let port = free_port();
    let child = run_artifact(Path::new(DEBIAN_PYTHON), &artifact, &cache.join("pyzap"))
        .arg("start-server")
        .arg(app.join("app.py"))
        .args(["--user", "nobody", "--group", "nogroup", "--port"])
        .arg(port.to_string())
        .arg("--server-root")
        .arg(&server_root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _root = Server(child);
    assert_serves_flask(port, &server_root.join("error_log"));
}

#[test]
fn mod_wsgi_setup_server_and_apachectl_from_the_stable_venv() {
    if !requirements_met() {
        return;
    }
    let (artifact, app) = wsgi_bundle();
    let srv = open_dir("wsgi-srv-");
    let env = srv.join("env");
    let out = run_ok(
        run_artifact(
            Path::new(DEBIAN_PYTHON),
            &artifact,
            &fresh_dir("wsgi-cache-"),
        )
        .env("PYZAP_TOOLS", "1")
        .arg("venv")
        .arg(&env),
    );
    assert_eq!(stdout(&out).trim(), env.to_str().unwrap());
    let server_root = srv.join("server");
    let port = free_port();
    run_ok(
        Command::new(env.join("bin/mod_wsgi-express"))
            .arg("setup-server")
            .arg(app.join("app.py"))
            .args(["--user", "nobody", "--group", "nogroup", "--port"])
            .arg(port.to_string())
            .arg("--server-root")
            .arg(&server_root)
            .env_remove("PYZAP_ROOT"),
    );
    let conf = fs_err::read_to_string(server_root.join("httpd.conf")).unwrap();
    assert!(
        conf.contains(&format!("WSGIPythonHome '{}'", env.display())),
        "the configuration names the stable path, not a cache directory"
    );
    let apachectl = server_root.join("apachectl");
    run_ok(Command::new(&apachectl).arg("start"));
    struct Stop(PathBuf);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = Command::new(&self.0).arg("stop").status();
        }
    }
    let _stop = Stop(apachectl);
    assert_serves_flask(port, &server_root.join("error_log"));
}
