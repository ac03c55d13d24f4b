//! A zero-downtime deploy as `docs/deploy.md` describes it: four instances
//! of a templated unit share one port (`ReusePort=true`); the new version
//! is copied beside the old one and a `current` symlink is switched to it;
//! then the instances restart one at a time, each socket held open across
//! its service's restart, while a client keeps sending requests. None may
//! fail, and afterwards every instance answers with the new version.
//!
//! The app is a WSGI function under gunicorn, which stops gracefully on
//! SIGTERM (what `systemctl restart` sends): it stops accepting, finishes
//! the requests it has, and exits. A server that exits at once on SIGTERM
//! loses the request it was answering, whatever the units say.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::common::*;

use super::launch::*;

/// Release `version` of the app: gunicorn and `webapp.py`, whose answer
/// names the version and echoes the body.
fn release(version: u32) -> PathBuf {
    shared_artifact(&format!("deploy-v{version}"), |out| {
        let src = scratch().join(format!("deploy-src-{version}"));
        fs_err::create_dir_all(&src).unwrap();
        fs_err::write(
            src.join("webapp.py"),
            format!(
                "import json\n\nVERSION = {version}\n\n\
                 def app(environ, start_response):\n    \
                 n = int(environ.get('CONTENT_LENGTH') or 0)\n    \
                 body = environ['wsgi.input'].read(n).decode()\n    \
                 data = json.dumps({{'version': VERSION, 'body': body}}).encode()\n    \
                 start_response('200 OK', [('Content-Type', 'application/json'),\n                              \
                 ('Content-Length', str(len(data)))])\n    \
                 return [data]\n"
            ),
        )
        .unwrap();
        build(
            Path::new(DEBIAN_PYTHON),
            out,
            &[
                "gunicorn>=27",
                "-c",
                "gunicorn",
                "--src",
                src.to_str().unwrap(),
            ],
        );
    })
}

/// Points `link` at `target` in one rename: a start reads the old or the
/// new version, never a missing link.
fn switch(link: &Path, target: &str) {
    let next = link.with_extension("next");
    fs_err::os::unix::fs::symlink(target, &next).unwrap();
    fs_err::rename(&next, link).unwrap();
}

/// What the clients saw: requests sent, answers by version, failures.
#[derive(Default)]
struct Tally {
    sent: usize,
    by_version: [usize; 2],
    failed: Vec<String>,
}

/// Clients, each sending requests one after another, a new connection
/// each, until stopped. Several, so that while one waits for a restarting
/// instance (its connection queued in that instance's socket) the others
/// keep the live instances busy.
struct Clients {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<Tally>>,
}

impl Clients {
    fn start(port: u16, count: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..count)
            .map(|client| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut tally = Tally::default();
                    while !stop.load(Ordering::Relaxed) {
                        tally.sent += 1;
                        let body = format!("client {client} request {}", tally.sent);
                        match post(port, &body) {
                            Ok(reply) if reply["body"] == body.as_str() => {
                                let version = reply["version"].as_u64().unwrap_or(0);
                                match version {
                                    1 | 2 => tally.by_version[version as usize - 1] += 1,
                                    _ => tally.failed.push(format!("{body}: answer {reply}")),
                                }
                            }
                            Ok(reply) => tally.failed.push(format!("{body}: answer {reply}")),
                            Err(e) => tally.failed.push(format!("{body}: {e}")),
                        }
                    }
                    tally
                })
            })
            .collect();
        Clients { stop, threads }
    }

    fn finish(self) -> Tally {
        self.stop.store(true, Ordering::Relaxed);
        let mut total = Tally::default();
        for thread in self.threads {
            let tally = thread.join().unwrap();
            total.sent += tally.sent;
            total.by_version[0] += tally.by_version[0];
            total.by_version[1] += tally.by_version[1];
            total.failed.extend(tally.failed);
        }
        total
    }
}

/// Waits until the instance logging to `log` has answered a request
/// (gunicorn's access log: one line per answer).
fn wait_until_served(log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !fs_err::read_to_string(log)
        .unwrap_or_default()
        .contains("\"POST /echo")
    {
        assert!(
            Instant::now() < deadline,
            "no request answered by the instance logging to {}:\n{}",
            log.display(),
            fs_err::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn rolling_restart_of_four_instances_drops_no_request() {
    let Some(nobody) = machine() else { return };
    let (v1, v2) = (release(1), release(2));
    let srv = open_dir("srv-");
    install(&v1, &srv.join("releases/1/web.pyz"));
    switch(&srv.join("current"), "releases/1");
    let artifact = srv.join("current/web.pyz");

    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec!["--listen", &listen, "--instances", "4", "--name", "web"];
    args.extend(super::sandbox_flags(&artifact));
    // gunicorn's arguments; its control socket (in $HOME) is of no use here.
    args.extend(["--", "webapp:app", "--access-logfile", "-"]);
    args.push("--no-control-socket");
    let (units, _) = generate(&artifact, &args);
    let service = ServiceUnit::read(&units.join("web@.service"));
    // The stable path, not the release it points to: a start after the
    // switch runs the new version.
    assert_eq!(
        service.exec_start[..2],
        [DEBIAN_PYTHON, artifact.to_str().unwrap()]
    );

    let var_cache = open_dir("var-cache-");
    let logs = open_dir("logs-");
    let sockets: Vec<_> = (0..4).map(|_| reuseport_listener(port)).collect();
    let caches: Vec<_> = (1..=4)
        .map(|i| {
            let dir = service.cache_directory.replace("%i", &i.to_string());
            cache_directory(&var_cache, &dir, nobody)
        })
        .collect();
    let start = |i: usize, version: u32| {
        let log = logs.join(format!("{}-v{version}.log", i + 1));
        let instance = Instance::start(
            &service,
            Socket::Inherit(&sockets[i]),
            &caches[i],
            nobody,
            &log,
        );
        (instance, log)
    };

    let mut instances: Vec<_> = (0..4).map(|i| start(i, 1)).collect();
    let clients = Clients::start(port, 4);
    for (_, log) in &instances {
        wait_until_served(log);
    }

    // The deploy: the new release beside the old, the switch, then one
    // instance at a time, the next only once the new one has answered.
    install(&v2, &srv.join("releases/2/web.pyz"));
    switch(&srv.join("current"), "releases/2");
    for (i, (old, _)) in std::mem::take(&mut instances).into_iter().enumerate() {
        // `systemctl restart`: the old process stops, then the new one
        // starts; connections meanwhile wait in the socket.
        old.stop();
        let (new, log) = start(i, 2);
        wait_until_served(&log);
        instances.push((new, log));
    }
    let tally = clients.finish();
    eprintln!(
        "zero-downtime deploy: {} requests sent while 4 instances restarted \
         ({} answered by version 1, {} by version 2), {} failed",
        tally.sent,
        tally.by_version[0],
        tally.by_version[1],
        tally.failed.len()
    );
    assert!(
        tally.failed.is_empty(),
        "{} failed: {:#?}",
        tally.failed.len(),
        tally.failed
    );
    // The clients ran across the switch: both versions answered them.
    assert!(
        tally.by_version.iter().all(|n| *n > 0),
        "{:?}",
        tally.by_version
    );

    for n in 0..40 {
        let reply = post(port, &format!("after {n}")).unwrap();
        assert_eq!(reply["version"], 2, "{reply}");
    }
    for (i, cache) in caches.iter().enumerate() {
        assert_eq!(
            site_trees(cache),
            2,
            "instance {}: both versions side by side in its cache",
            i + 1
        );
    }
}
