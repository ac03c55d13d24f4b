//! `docs/cache-root-vectors.json` through the launcher's own functions
//! ("Runtime cache protocol" in `docs/artifact-format.md`). The bootstrap's
//! tests run the same file (`python/tests/test_bootstrap.py`, `Protocol`).
//!
//! The root checks each run in a child process (this test binary again,
//! `check_vector_child`): a vector sets its umask and, when the tests run as
//! root, an unprivileged uid, both of which would leak into the tests that
//! run beside it in this process.

use std::ffi::{CString, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use pyzap_launcher::{
    boot_id, check_root, is_complete, root_for, sweep, usable, write_hint, RootInputs, MARKER,
};
use serde_json::{json, Value};

const VECTORS: &str = include_str!("../../../../docs/cache-root-vectors.json");
/// The unprivileged uid the vectors run as when the tests run as root.
const USER_UID: u32 = 4242;
/// The owner of "another user's" files.
const OTHER_UID: u32 = 4343;

fn vectors(group: &str) -> Vec<Value> {
    let all: Value = serde_json::from_str(VECTORS).unwrap();
    all[group].as_array().unwrap().clone()
}

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

fn chown(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).unwrap();
}

/// Vectors a harness not running as root cannot set up are named, then
/// reported as one skip (a failure where skips are not allowed).
fn skip_named(skipped: &[String]) {
    if !skipped.is_empty() {
        pyzap_test_support::skip(&format!(
            "cache vectors that need root: {}",
            skipped.join("; ")
        ));
    }
}

/// A vector's inputs, as the process would give them.
struct Inputs<'a>(&'a Value);

impl RootInputs for Inputs<'_> {
    fn var(&self, name: &str) -> Option<OsString> {
        self.0["env"].get(name)?.as_str().map(OsString::from)
    }

    fn euid(&self) -> u32 {
        u32::try_from(self.0["euid"].as_u64().unwrap()).unwrap()
    }

    fn cwd(&self) -> Option<PathBuf> {
        self.0["cwd"].as_str().map(PathBuf::from)
    }

    fn passwd_home(&self) -> Option<PathBuf> {
        self.0["passwd_home"].as_str().map(PathBuf::from)
    }
}

#[test]
fn root_vectors() {
    for v in vectors("root") {
        let got = match root_for(&Inputs(&v)) {
            Ok(root) => json!({ "root": root.to_str().unwrap() }),
            Err(e) => json!({ "refusal": e.refusal() }),
        };
        assert_eq!(got, v["expect"], "{}", v["name"]);
    }
}

/// A directory below `/tmp` (which every uid can walk through) that the
/// unprivileged uid can enter.
fn open_tempdir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("pyzap-vectors-")
        .tempdir_in("/tmp")
        .unwrap();
    fs_err::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn make_entries(base: &str, entries: &Value, owners: &dyn Fn(&str) -> u32, as_root: bool) {
    for e in entries.as_array().unwrap() {
        let path = PathBuf::from(e["path"].as_str().unwrap().replace("$T", base));
        match e["kind"].as_str().unwrap() {
            "symlink" => {
                let target = e["target"].as_str().unwrap().replace("$T", base);
                fs_err::os::unix::fs::symlink(target, &path).unwrap();
                continue;
            }
            "dir" => fs_err::create_dir(&path).unwrap(),
            _ => drop(fs_err::File::create(&path).unwrap()),
        }
        if as_root {
            chown(&path, owners(e["owner"].as_str().unwrap()));
        }
        let mode = u32::from_str_radix(e["mode"].as_str().unwrap(), 8).unwrap();
        fs_err::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// `check_root(root)` in a child process with `umask` and `uid`: `None`
/// when it passed, else the refusal's id.
fn check_in_child(root: &str, umask: &str, uid: u32) -> Option<String> {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "protocol::check_vector_child",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("PYZAP_VECTOR_ROOT", root)
    .env("PYZAP_VECTOR_UMASK", umask);
    if uid != euid() {
        cmd.uid(uid).gid(uid);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let result = stdout
        .lines()
        .find_map(|l| l.split_once("vector-result: ").map(|(_, r)| r.trim()))
        .unwrap_or_else(|| {
            panic!(
                "the child reported nothing for {root}:\n{stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    (result != "ok").then(|| result.to_string())
}

#[test]
#[ignore = "run by check_vectors in a child process, with the vector's umask and uid"]
fn check_vector_child() {
    let root = std::env::var_os("PYZAP_VECTOR_ROOT").expect("run by check_vectors");
    let umask = std::env::var("PYZAP_VECTOR_UMASK").unwrap();
    let umask = libc::mode_t::from_str_radix(&umask, 8).unwrap();
    // SAFETY: umask cannot fail; this process runs this one test.
    unsafe { libc::umask(umask) };
    let result = match check_root(Path::new(&root)) {
        Ok(()) => "ok",
        Err(e) => e.refusal().unwrap_or("not a refusal"),
    };
    println!("vector-result: {result}");
}

#[test]
fn check_vectors() {
    let me = euid();
    let as_root = me == 0;
    let tmp = open_tempdir();
    let mut skipped = Vec::new();
    for (i, v) in vectors("check").iter().enumerate() {
        let name = v["name"].as_str().unwrap();
        let root_euid = v["euid"] == "root";
        let foreign = v["fs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.get("owner").is_some_and(|o| o != "euid"));
        if !as_root && (root_euid || foreign) {
            skipped.push(name.to_string());
            continue;
        }
        let uid = if root_euid {
            0
        } else if as_root {
            USER_UID
        } else {
            me
        };
        let base = tmp.path().join(format!("check{i}"));
        fs_err::create_dir(&base).unwrap();
        if as_root {
            chown(&base, uid);
        }
        let base = base.to_str().unwrap();
        let owners = |owner: &str| match owner {
            "euid" => uid,
            "root" => 0,
            _ => OTHER_UID,
        };
        make_entries(base, &v["fs"], &owners, as_root);
        let root = v["root"].as_str().unwrap().replace("$T", base);
        let got = check_in_child(&root, v["umask"].as_str().unwrap(), uid);
        let expect = &v["expect"];
        assert_eq!(got.as_deref(), expect["refusal"].as_str(), "{name}");
        for (path, mode) in expect["modes"].as_object().into_iter().flatten() {
            let path = path.replace("$T", base);
            let meta = fs_err::symlink_metadata(&path).unwrap();
            let got = (format!("{:04o}", meta.mode() & 0o7777), meta.uid());
            assert_eq!(
                got,
                (mode.as_str().unwrap().to_string(), uid),
                "{name}: {path}"
            );
        }
    }
    skip_named(&skipped);
}

fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn marker_vectors() {
    let tmp = tempfile::tempdir().unwrap();
    let mut skipped = Vec::new();
    for (i, v) in vectors("marker").iter().enumerate() {
        let name = v["name"].as_str().unwrap();
        let spec = &v["marker"];
        if spec["owner"] == "other" && euid() != 0 {
            skipped.push(name.to_string());
            continue;
        }
        let tree = tmp.path().join(format!("marker{i}"));
        fs_err::create_dir(&tree).unwrap();
        // The file made: the marker, or its unflushed name (step 5).
        let marker = match spec["unflushed"].as_str() {
            None => tree.join(MARKER),
            Some("this-boot") => tree.join(format!("{MARKER}.{}", boot_id().unwrap())),
            Some("other-boot") => {
                tree.join(format!("{MARKER}.00000000-0000-4000-8000-000000000000"))
            }
            Some(other) => panic!("{name}: unknown unflushed state {other}"),
        };
        let real = tree.join("real");
        fs_err::File::create(&real).unwrap();
        match spec["kind"].as_str() {
            None => {}
            Some("file") => drop(fs_err::File::create(&marker).unwrap()),
            Some("symlink") => fs_err::os::unix::fs::symlink(&real, &marker).unwrap(),
            Some("dangling-symlink") => {
                fs_err::os::unix::fs::symlink(tree.join("missing"), &marker).unwrap();
            }
            Some("dir") => fs_err::create_dir(&marker).unwrap(),
            Some("fifo") => mkfifo(&marker),
            Some(other) => panic!("{name}: unknown marker kind {other}"),
        }
        if spec["owner"] == "other" {
            chown(&marker, OTHER_UID);
        }
        let complete = match v["interpreter"].as_str() {
            None => is_complete(&tree),
            Some(state) => {
                fs_err::create_dir(tree.join("bin")).unwrap();
                if state == "present" {
                    fs_err::File::create(tree.join("bin/python3")).unwrap();
                }
                usable(&tree, "bin/python3")
            }
        };
        assert_eq!(complete, v["expect"] == "complete", "{name}");
    }
    skip_named(&skipped);
}

#[test]
fn sweep_vectors() {
    let now = SystemTime::now();
    let tmp = tempfile::tempdir().unwrap();
    for (i, v) in vectors("sweep").iter().enumerate() {
        let name = v["name"].as_str().unwrap();
        let base = tmp.path().join(format!("sweep{i}"));
        let tmp_root = base.join("tmp");
        let outside = base.join("outside");
        fs_err::create_dir_all(&tmp_root).unwrap();
        fs_err::create_dir_all(&outside).unwrap();
        fs_err::File::create(outside.join("keep")).unwrap();
        for e in v["entries"].as_array().unwrap() {
            let path = tmp_root.join(e["name"].as_str().unwrap());
            match e["kind"].as_str().unwrap() {
                "dir" => {
                    fs_err::create_dir(&path).unwrap();
                    fs_err::File::create(path.join("inside")).unwrap();
                }
                "file" => drop(fs_err::File::create(&path).unwrap()),
                _ => fs_err::os::unix::fs::symlink(&outside, &path).unwrap(),
            }
            let age = Duration::from_secs_f64(e["age_hours"].as_f64().unwrap() * 3600.0);
            pyzap_test_support::set_times_nofollow(&path, now - age);
        }
        sweep(&tmp_root, now);
        let mut left: Vec<String> = fs_err::read_dir(&tmp_root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut want: Vec<String> = v["left"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect();
        want.sort();
        assert_eq!(left, want, "{name}");
        assert!(outside.join("keep").exists(), "{name}: followed a symlink");
    }
}

/// An error that wraps the system's, as tar's "failed to unpack …" does.
#[derive(Debug)]
struct Wrapped(io::Error);

impl std::fmt::Display for Wrapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failed to unpack `x`")
    }
}

impl std::error::Error for Wrapped {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn hint_vectors() {
    for v in vectors("hints") {
        let name = v["errno"].as_str().unwrap();
        let code = match name {
            "ENOSPC" => libc::ENOSPC,
            "EDQUOT" => libc::EDQUOT,
            "ENAMETOOLONG" => libc::ENAMETOOLONG,
            "EROFS" => libc::EROFS,
            "EACCES" => libc::EACCES,
            "EPERM" => libc::EPERM,
            "EFBIG" => libc::EFBIG,
            "ENOTDIR" => libc::ENOTDIR,
            "EEXIST" => libc::EEXIST,
            "EIO" => libc::EIO,
            other => panic!("no errno {other} in this harness: add it"),
        };
        let plain = io::Error::from_raw_os_error(code);
        assert_eq!(write_hint(&plain), v["hint"], "{name}");
        let wrapped = io::Error::other(Wrapped(io::Error::from_raw_os_error(code)));
        assert_eq!(write_hint(&wrapped), v["hint"], "{name}, wrapped");
    }
}
