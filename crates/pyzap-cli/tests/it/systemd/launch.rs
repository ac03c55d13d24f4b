//! Doing what systemd does with the units `pyzap systemd` writes, without
//! systemd as PID 1: read `ExecStart=`, `Environment=`, `CacheDirectory=`
//! and `ListenStream=` from the files, create the cache directory for the
//! service's user, and start the command as `nobody` (a stand-in for the
//! dynamic user) from `/`, with `CACHE_DIRECTORY` set and no `HOME`.
//! `systemd-socket-activate` holds the place of the socket unit: it listens
//! (or takes a socket bound here with `SO_REUSEPORT`, as a `ReusePort=true`
//! unit's is) and execs the command on the first connection, handing it the
//! socket as fd 3 with `LISTEN_FDS=1`.

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

pub(crate) const DEBIAN_PYTHON: &str = "/usr/bin/python3.11";
const ACTIVATE: &str = "/usr/bin/systemd-socket-activate";
pub(crate) const ANALYZE: &str = "/usr/bin/systemd-analyze";

/// The user the services run as: `nobody`, from the passwd file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct User {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

/// `nobody`, when this machine can run the units as systemd would: the
/// tools are here, Debian's python3.11 (every user can run it), and we are
/// root, to hand the service to another user. Otherwise a skip (a failure
/// in CI).
pub(crate) fn machine() -> Option<User> {
    for (path, what) in [
        (ANALYZE, "systemd-analyze (Debian package systemd)"),
        (ACTIVATE, "systemd-socket-activate (Debian package systemd)"),
        (DEBIAN_PYTHON, "Debian's python3.11"),
    ] {
        if !Path::new(path).exists() {
            pyzap_test_support::skip(&format!("{what} is missing: .ci/run installs it"));
            return None;
        }
    }
    if fs_err::metadata("/proc/self").unwrap().uid() != 0 {
        pyzap_test_support::skip("the services run as `nobody`: only root can start them so");
        return None;
    }
    let passwd = fs_err::read_to_string("/etc/passwd").unwrap();
    let fields: Vec<&str> = passwd
        .lines()
        .find(|l| l.starts_with("nobody:"))
        .expect("a `nobody` user")
        .split(':')
        .collect();
    Some(User {
        uid: fields[2].parse().unwrap(),
        gid: fields[3].parse().unwrap(),
    })
}

/// A new directory every user can enter.
pub(crate) fn open_dir(name: &str) -> PathBuf {
    let dir = fresh_dir(name);
    fs_err::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// `artifact` copied to `dest` (parents made, every user may enter them),
/// readable and runnable by every user, as an installed artifact is.
pub(crate) fn install(artifact: &Path, dest: &Path) -> PathBuf {
    let dir = dest.parent().unwrap();
    fs_err::create_dir_all(dir).unwrap();
    fs_err::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    fs_err::copy(artifact, dest).unwrap();
    fs_err::set_permissions(dest, std::fs::Permissions::from_mode(0o755)).unwrap();
    dest.to_path_buf()
}

/// `pyzap systemd ARTIFACT ARGS -o DIR`: the directory and the command's stderr.
pub(crate) fn generate(artifact: &Path, args: &[&str]) -> (PathBuf, String) {
    let dir = open_dir("units-");
    let out = run_ok(
        pyzap()
            .arg("systemd")
            .arg(artifact)
            .arg("-o")
            .arg(&dir)
            .args(args),
    );
    (dir, stderr(&out))
}

/// `systemd-analyze verify FILES`: it must say nothing at all.
pub(crate) fn verify(files: &[PathBuf]) {
    let out = Command::new(ANALYZE)
        .arg("verify")
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "systemd-analyze verify {files:?}: {}\n{}",
        out.status,
        stderr(&out)
    );
}

/// The values of `KEY=` lines in a unit file's text, in order.
pub(crate) fn values(text: &str, key: &str) -> Vec<String> {
    let prefix = format!("{key}=");
    text.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(str::to_string)
        .collect()
}

/// What the service unit says to run, read back from its text.
#[derive(Debug)]
pub(crate) struct ServiceUnit {
    pub(crate) exec_start: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) cache_directory: String,
}

impl ServiceUnit {
    pub(crate) fn read(path: &Path) -> Self {
        let text = fs_err::read_to_string(path).unwrap();
        let [exec_start] = values(&text, "ExecStart").try_into().unwrap();
        // The tests' paths and arguments need no quoting; a quote here
        // would be a change this reader does not follow.
        assert!(!exec_start.contains(['"', '\\']), "{exec_start}");
        let env = values(&text, "Environment")
            .iter()
            .map(|v| {
                let inner = v.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
                let inner = inner.expect("Environment= values are quoted");
                assert!(!inner.contains(['"', '\\', '%']), "{inner}");
                let (key, value) = inner.split_once('=').unwrap();
                (key.to_string(), value.to_string())
            })
            .collect();
        let [cache_directory] = values(&text, "CacheDirectory").try_into().unwrap();
        ServiceUnit {
            exec_start: exec_start.split(' ').map(str::to_string).collect(),
            env,
            cache_directory,
        }
    }
}

/// `/var/cache/DIR` of the service, made under `root` as systemd makes it:
/// owned by the service's user, mode 0755.
pub(crate) fn cache_directory(root: &Path, dir: &str, user: User) -> PathBuf {
    let path = root.join(dir);
    fs_err::create_dir_all(&path).unwrap();
    std::os::unix::fs::chown(&path, Some(user.uid), Some(user.gid)).unwrap();
    path
}

/// A bound, listening TCP socket on 127.0.0.1:`port` with `SO_REUSEPORT`,
/// as systemd opens it for a `ReusePort=true` socket unit.
pub(crate) fn reuseport_listener(port: u16) -> OwnedFd {
    let one: libc::c_int = 1;
    let addr = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(std::net::Ipv4Addr::LOCALHOST).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: plain socket calls on a descriptor this function owns from
    // its creation; every pointer is to a live local of the size passed.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let owned = OwnedFd::from_raw_fd(fd);
        let ok = libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_REUSEPORT,
            (&raw const one).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        ) == 0
            && libc::bind(
                fd,
                (&raw const addr).cast(),
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            ) == 0
            && libc::listen(fd, 128) == 0;
        assert!(
            ok,
            "listening on {port}: {}",
            std::io::Error::last_os_error()
        );
        owned
    }
}

/// Where the socket comes from.
#[derive(Clone, Copy)]
pub(crate) enum Socket<'a> {
    /// `ListenStream=` of a plain socket unit: systemd-socket-activate binds it.
    Listen(&'a str),
    /// A socket bound here; the process gets a duplicate, the test keeps
    /// its own, as systemd keeps the socket while the service restarts.
    Inherit(&'a OwnedFd),
}

/// A service started from its unit; stopped with SIGKILL when dropped.
pub(crate) struct Instance(Child);

impl Instance {
    /// Starts the unit's command as `user` behind `systemd-socket-activate`,
    /// with its environment, `CACHE_DIRECTORY=cache`, no `HOME`, cwd `/`,
    /// and stdout and stderr into `log`.
    pub(crate) fn start(
        unit: &ServiceUnit,
        socket: Socket<'_>,
        cache: &Path,
        user: User,
        log: &Path,
    ) -> Self {
        let mut cmd = Command::new(ACTIVATE);
        if let Socket::Inherit(fd) = &socket {
            // LISTEN_PID must be the pid of systemd-socket-activate itself:
            // the shell's, which `exec` keeps. The socket arrives as stdin.
            cmd = Command::new("/bin/sh");
            cmd.args([
                "-c",
                r#"LISTEN_PID=$$ LISTEN_FDS=1 exec "$@" 3<&0 0</dev/null"#,
                "sh",
                ACTIVATE,
            ])
            .stdin(Stdio::from(fd.try_clone().unwrap()));
        } else {
            cmd.stdin(Stdio::null());
        }
        if let Socket::Listen(listen) = socket {
            cmd.args(["-l", listen]);
        }
        cmd.arg("-E")
            .arg(format!("CACHE_DIRECTORY={}", cache.display()));
        for (key, value) in &unit.env {
            cmd.arg("-E").arg(format!("{key}={value}"));
        }
        let log = fs_err::File::create(log).unwrap().into_file();
        let child = cmd
            .args(&unit.exec_start)
            .env_clear()
            .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin")
            .current_dir("/")
            .uid(user.uid)
            .gid(user.gid)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        Instance(child)
    }

    /// Has systemd-socket-activate executed the service (a first connection came)?
    pub(crate) fn activated(&self) -> bool {
        let launchers = [
            PathBuf::from(ACTIVATE),
            fs_err::canonicalize("/bin/sh").unwrap(),
        ];
        let exe = fs_err::read_link(format!("/proc/{}/exe", self.0.id()));
        exe.is_ok_and(|p| !launchers.contains(&p))
    }

    /// SIGTERM, as `systemctl stop` sends, then the wait for the exit.
    pub(crate) fn stop(mut self) {
        let pid = libc::pid_t::try_from(self.0.id()).unwrap();
        // SAFETY: kill(2) on the pid of our own child, not yet reaped.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.0.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "pid {pid} ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// POSTs `body` to 127.0.0.1:`port` over one HTTP/1.0 connection and
/// returns the JSON of a 200 answer; any other outcome is an error, which
/// the caller counts: nothing is retried.
pub(crate) fn post(port: u16, body: &str) -> Result<serde_json::Value, String> {
    use std::io::{Read, Write};
    let mut stream =
        std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    // A restarted instance's connections wait for its start: generous.
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST /echo HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| format!("send: {e}"))?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| format!("receive: {e}"))?;
    let (head, json) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no HTTP answer: {answer:?}"))?;
    if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
        return Err(format!("answer: {head}"));
    }
    serde_json::from_str(json).map_err(|e| format!("{e}: {json:?}"))
}

/// Site trees unpacked in a service's cache directory.
pub(crate) fn site_trees(cache: &Path) -> usize {
    fs_err::read_dir(cache.join("pyzap/site"))
        .map(Iterator::count)
        .unwrap_or(0)
}
