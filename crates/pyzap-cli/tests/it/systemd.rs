//! `pyzap systemd` on real artifacts: the units it writes for the echo
//! example (plain, templated for four instances, and as a standalone
//! executable) pass `systemd-analyze verify`, and what they describe,
//! started as systemd would start it (`launch`), answers a POST with its
//! body. `deploy` replaces the instances of a template one at a time with
//! a new version while a client keeps sending requests.

mod deploy;
mod launch;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::*;
use launch::*;

/// The echo example built for Debian's python3.11, installed where every
/// user can read it: `<open dir>/echo/echo.pyz`.
fn installed_echo() -> PathBuf {
    let built = shared_artifact("systemd-echo", |out| {
        let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/echo-wsgi");
        build(Path::new(DEBIAN_PYTHON), out, &[project.to_str().unwrap()]);
    });
    install(&built, &open_dir("srv-").join("echo/echo.pyz"))
}

/// The sandbox flags a test needs where its scratch directory lies: units
/// for an artifact under /home or /root (a checkout in a home directory)
/// must let the service see it. Here, under target/, none.
fn sandbox_flags(artifact: &Path) -> Vec<&'static str> {
    let hidden = ["/home/", "/root/"];
    if hidden.iter().any(|dir| artifact.starts_with(dir)) {
        vec!["--protect-home", "read-only"]
    } else {
        Vec::new()
    }
}

/// The command's report with this run's directories replaced.
fn settings(units: &Path) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(
        &pyzap_test_support::regex_escape(&units.display().to_string()),
        "[UNITS]",
    );
    settings
}

#[test]
fn plain_units_serve_the_echo_example_as_an_unprivileged_user() {
    let Some(nobody) = machine() else { return };
    let artifact = installed_echo();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec!["--listen", &listen, "--env", "ECHO_NOTE=from the unit"];
    args.extend(sandbox_flags(&artifact));
    let (units, _) = generate(&artifact, &args);
    let files = [
        units.join("echo-wsgi.socket"),
        units.join("echo-wsgi.service"),
    ];
    verify(&files);

    let socket = fs_err::read_to_string(&files[0]).unwrap();
    assert_eq!(values(&socket, "ListenStream"), [listen.as_str()]);
    assert!(values(&socket, "ReusePort").is_empty());
    let service = ServiceUnit::read(&files[1]);
    // The interpreter of the target, by its full path; the artifact's
    // absolute path; the variable as given.
    assert_eq!(
        service.exec_start,
        [DEBIAN_PYTHON, artifact.to_str().unwrap()]
    );
    assert_eq!(
        service.env,
        [("ECHO_NOTE".to_string(), "from the unit".to_string())]
    );
    assert_eq!(service.cache_directory, "echo-wsgi");

    let var_cache = open_dir("var-cache-");
    let cache = cache_directory(&var_cache, &service.cache_directory, nobody);
    let log = var_cache.join("echo.log");
    let _echo = Instance::start(&service, Socket::Listen(&listen), &cache, nobody, &log);
    let reply = post_when_listening(port, "a body for the plain unit");
    assert_eq!(reply["body"], "a body for the plain unit", "{reply}");
    assert_eq!(reply["method"], "POST");
    assert_eq!(
        site_trees(&cache),
        1,
        "the app unpacked into its CacheDirectory"
    );
}

#[test]
fn templated_units_serve_four_instances_on_one_port() {
    let Some(nobody) = machine() else { return };
    let artifact = installed_echo();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec!["--listen", &listen, "--instances", "4"];
    args.extend(sandbox_flags(&artifact));
    let (units, report) = generate(&artifact, &args);
    settings(&units).bind(|| insta::assert_snapshot!(report));
    let template = [
        units.join("echo-wsgi@.socket"),
        units.join("echo-wsgi@.service"),
    ];
    verify(&template);
    // An instance, as `systemctl start echo-wsgi@3.socket` loads it.
    verify(&[
        units.join("echo-wsgi@3.socket"),
        units.join("echo-wsgi@3.service"),
    ]);

    let socket = fs_err::read_to_string(&template[0]).unwrap();
    assert_eq!(values(&socket, "ListenStream"), [listen]);
    assert_eq!(values(&socket, "ReusePort"), ["true"]);
    let service = ServiceUnit::read(&template[1]);
    assert_eq!(service.cache_directory, "echo-wsgi/%i");

    // Four sockets on one port, as the four socket units bind them, and
    // behind each an instance that starts on its first connection.
    let var_cache = open_dir("var-cache-");
    let mut caches = Vec::new();
    let mut instances = Vec::new();
    for i in 1..=4 {
        let listener = reuseport_listener(port);
        let dir = service.cache_directory.replace("%i", &i.to_string());
        let cache = cache_directory(&var_cache, &dir, nobody);
        let log = var_cache.join(format!("echo-{i}.log"));
        instances.push(Instance::start(
            &service,
            Socket::Inherit(&listener),
            &cache,
            nobody,
            &log,
        ));
        caches.push(cache);
    }
    // The kernel gives each connection to one of the sockets; an instance
    // starts only for a connection to its own, which it then answers. POST
    // until every instance has started: each has answered one at least.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut sent = 0;
    while !instances.iter().all(Instance::activated) {
        assert!(
            Instant::now() < deadline,
            "after {sent} requests, instances started: {:?}",
            instances
                .iter()
                .map(Instance::activated)
                .collect::<Vec<_>>()
        );
        sent += 1;
        let body = format!("request {sent} to the template");
        let reply = post(port, &body).unwrap();
        assert_eq!(reply["body"], body.as_str(), "{reply}");
    }
    for cache in &caches {
        assert_eq!(
            site_trees(cache),
            1,
            "each instance unpacks into its own cache"
        );
    }
}

#[test]
fn standalone_units_run_the_executable_by_itself() {
    let Some(nobody) = machine() else { return };
    // The same recipe as the standalone tests' echo, so one build serves both.
    let built = shared_artifact("standalone-echo", |out| {
        let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/echo-wsgi");
        crate::standalone::build_standalone(out, &[project.to_str().unwrap()]);
    });
    let exe = install(&built, &open_dir("srv-").join("echo/echo"));
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec!["--listen", &listen, "--name", "echo"];
    args.extend(sandbox_flags(&exe));
    let (units, _) = generate(&exe, &args);
    let files = [units.join("echo.socket"), units.join("echo.service")];
    verify(&files);
    let service = ServiceUnit::read(&files[1]);
    assert_eq!(service.exec_start, [exe.to_str().unwrap()]);
    // --python has no meaning for an executable that carries its CPython.
    let out = pyzap()
        .arg("systemd")
        .arg(&exe)
        .args(["--listen", &listen, "--python", DEBIAN_PYTHON])
        .output()
        .unwrap();
    assert!(
        !out.status.success() && stderr(&out).contains("is a standalone executable"),
        "{}",
        stderr(&out)
    );

    let var_cache = open_dir("var-cache-");
    let cache = cache_directory(&var_cache, &service.cache_directory, nobody);
    let log = var_cache.join("echo.log");
    let _echo = Instance::start(&service, Socket::Listen(&listen), &cache, nobody, &log);
    let reply = post_when_listening(port, "a body for the executable");
    assert_eq!(reply["body"], "a body for the executable", "{reply}");
    assert!(
        cache.join("pyzap/python").is_dir(),
        "CPython unpacked into the CacheDirectory"
    );
}

/// `post`, retried while nothing listens yet (systemd-socket-activate is
/// binding): once a connection is accepted, its answer is final.
fn post_when_listening(port: u16, body: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match post(port, body) {
            Ok(reply) => return reply,
            Err(e) if e.starts_with("connect:") && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("POST to port {port}: {e}"),
        }
    }
}
