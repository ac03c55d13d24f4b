//! The detached flusher ("Runtime cache protocol", step 6.6): it gives a
//! marker its name once the tree is on disk, and holds none of its
//! caller's descriptors meanwhile, so whoever reads the application's
//! output through a pipe gets its end of file when the application exits.
//! The flusher waits for its caller's exit: each test calls it from a
//! child process that exits at once.

use std::ffi::CString;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pyzap_launcher::{boot_id, flush_later, is_complete, MARKER};

/// Waits up to 20 s (a loaded machine) for `done`.
fn eventually(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(20), "never: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `flush_later(tree)` in a child process (this test binary again,
/// `flush_child`) with stdout and stderr on pipes, which exits at once (the
/// flusher waits for its caller's exit); returns what it printed, or `None`
/// when its pipes saw no end of file within 20 s.
fn flush_in_child(tree: &Path) -> Option<String> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "flush::flush_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PYZAP_FLUSH_TREE", tree)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        out.read_to_string(&mut text).unwrap();
        err.read_to_string(&mut text).unwrap();
        let _ = tx.send(text);
    });
    let text = rx.recv_timeout(Duration::from_secs(20)).ok();
    assert!(child.wait().unwrap().success(), "{text:?}");
    if let Some(text) = &text {
        assert!(text.contains("flusher started"), "{text}");
    }
    text
}

/// Run by `flush_in_child`: starts the flusher on `PYZAP_FLUSH_TREE` and
/// exits.
#[test]
#[ignore = "run by flush_in_child in a child process"]
fn flush_child() {
    let tree = std::env::var_os("PYZAP_FLUSH_TREE").expect("run by the parent test");
    flush_later(Path::new(&tree));
    println!("flusher started");
}

#[test]
fn the_marker_gets_its_name_once_flushed() {
    let boot = boot_id().expect("Linux gives a boot id");
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    fs_err::create_dir(&tree).unwrap();
    fs_err::write(tree.join("data"), b"x").unwrap();
    let unflushed = tree.join(format!("{MARKER}.{boot}"));
    fs_err::write(&unflushed, b"").unwrap();
    assert!(is_complete(&tree), "trusted in this boot before the flush");
    flush_in_child(&tree).expect("the child's output ends");
    eventually("the marker is renamed", || {
        tree.join(MARKER).is_file() && !unflushed.exists()
    });
    assert!(is_complete(&tree));
}

/// The flusher is stalled where it opens the tree (a FIFO here, which
/// blocks its `open` until a writer comes), after it let go of the
/// caller's descriptors: the caller reads the child's output to its end
/// while the flusher still runs. Were a pipe still held, the end of file
/// would never come.
#[test]
fn a_pipe_reader_does_not_wait_for_the_flusher() {
    boot_id().expect("Linux gives a boot id");
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("stall");
    let c = CString::new(fifo.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let text = flush_in_child(&fifo);
    // The flusher is still there, waiting in its `open`: let it go (a
    // failed test too leaves no process behind).
    eventually("the flusher opens the FIFO", || {
        // SAFETY: a NUL-terminated path; O_NONBLOCK fails with ENXIO
        // instead of waiting while nobody has the FIFO open for reading.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_WRONLY | libc::O_NONBLOCK) };
        if fd >= 0 {
            // SAFETY: `fd` is ours.
            unsafe { libc::close(fd) };
        }
        fd >= 0
    });
    assert!(
        text.is_some(),
        "no end of file on the child's output: the flusher holds its pipes"
    );
}
