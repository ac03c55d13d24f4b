//! The detached flusher ("Runtime cache protocol", step 6.6): a tree put in
//! place with its marker's unflushed name is trusted in this boot only; a
//! grandchild of the launcher, out of its session and holding none of its
//! descriptors, makes it durable once the application has started: it waits
//! for the application (this very process, once exec'd) to exit, or
//! `SETTLE_MS` at most, then runs `syncfs`, renames the marker to its name
//! and `fsync`s the tree. The wait keeps the flush off the first run: a
//! `syncfs` running while the bootstrap unpacks the bundle's site tree on
//! the same file system made that unpack about three times slower here
//! (black: 190 ms → 640 ms on ext4; file creations queue behind the flush's
//! writes).
//!
//! The child does nothing but system calls on paths prepared before the
//! `fork` (no allocation, no lock), so it is sound even from a process with
//! other threads (the test harness); the launcher itself is single-threaded
//! by then (the unpacking threads are scoped and joined).

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::extract::{boot_id, MARKER};

/// The paths the flusher works on, as C strings made before the `fork`.
struct Job {
    /// The process whose exit (or `SETTLE_MS`) the flush waits for.
    app: libc::pid_t,
    tree: CString,
    unflushed: CString,
    marker: CString,
}

impl Job {
    fn new(tree: &Path, boot: &str) -> Option<Self> {
        let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).ok();
        Some(Self {
            // SAFETY: getpid cannot fail.
            app: unsafe { libc::getpid() },
            tree: c(tree)?,
            unflushed: c(&tree.join(format!("{MARKER}.{boot}")))?,
            marker: c(&tree.join(MARKER))?,
        })
    }
}

/// How long the flusher waits for the application to exit before it
/// flushes anyway (a server runs for days; its start-up is over by then).
const SETTLE_MS: libc::c_int = 5000;

/// Starts the detached process that, once this process (the application,
/// after the exec) has exited or `SETTLE_MS` passed, flushes the file system
/// holding `tree` and gives its marker its name; returns at once (after
/// reaping the short-lived middle process). Nothing happens where there
/// is no boot id (no marker has an unflushed name there) or when `fork`
/// fails: the tree stays trusted in this boot and a later boot unpacks it
/// again.
pub fn flush_later(tree: &Path) {
    let Some(job) = boot_id().and_then(|boot| Job::new(tree, boot)) else {
        return;
    };
    let devnull = c"/dev/null";
    // SAFETY: fork has no preconditions; the child runs only `detach`.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => {} // still trusted in this boot
        0 => {
            // SAFETY: we are the fresh child of a fork; `detach` makes only
            // async-signal-safe calls on the C strings made before it.
            unsafe { detach(&job, devnull) }
        }
        child => {
            let mut status = 0;
            // SAFETY: `child` is our child; `status` is a valid out pointer.
            // The middle process exits at once; EINTR is retried.
            while unsafe { libc::waitpid(child, &mut status, 0) } == -1
                && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
            {
            }
        }
    }
}

/// The middle process: a new session (a terminal's `^C` or hang-up stops
/// the application only), then a grandchild that `init` adopts, so the
/// launcher's caller never has a child it did not start.
///
/// # Safety
/// Call only in the child of a `fork`: it closes every descriptor but the
/// standard streams, whoever owns them, and never returns.
unsafe fn detach(job: &Job, devnull: &std::ffi::CStr) -> ! {
    // SAFETY: setsid and fork have no preconditions; a failed setsid (we
    // lead a process group already: impossible in a fresh child) is harmless.
    if unsafe { libc::setsid() } == -1 || unsafe { libc::fork() } != 0 {
        // SAFETY: _exit ends this process without running anything of ours.
        unsafe { libc::_exit(0) }; // the middle process, or a failed fork
    }
    // The standard streams on /dev/null and every other descriptor closed:
    // a caller reading the application's output through a pipe gets its
    // end of file when the application exits, not when the flush ends.
    // SAFETY: `devnull` is a NUL-terminated path; dup2 onto 0-2 replaces
    // descriptors this process alone uses from here on.
    unsafe {
        let null = libc::open(devnull.as_ptr(), libc::O_RDWR);
        if null >= 0 {
            for fd in 0..3 {
                libc::dup2(null, fd);
            }
        }
    }
    // SAFETY: nothing in this process uses a descriptor above 2 any more.
    unsafe { close_from(3) };
    wait_for_exit(job.app);
    flush(job);
    // SAFETY: as above.
    unsafe { libc::_exit(0) }
}

/// Closes every descriptor from `low` on: `close_range(2)` (Linux 5.9),
/// else one `close` per possible descriptor.
///
/// # Safety
/// No descriptor from `low` on may be used afterwards by anything.
unsafe fn close_from(low: libc::c_int) {
    // SAFETY: close_range takes plain integers; the caller vouches for them.
    let ranged = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            low as libc::c_uint,
            libc::c_uint::MAX,
            0 as libc::c_uint,
        )
    };
    if ranged == 0 {
        return;
    }
    // SAFETY: an all-zero rlimit is valid; getrlimit writes into it.
    let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: `limit` is a valid out pointer.
    let max = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_cur.min(1 << 20) as libc::c_int
    } else {
        1024
    };
    for fd in low..max {
        // SAFETY: the caller vouches for every descriptor from `low` on.
        unsafe { libc::close(fd) };
    }
}

/// Waits until `pid` has exited, `SETTLE_MS` at most: `poll` on a pidfd
/// (Linux 5.3), else `kill(pid, 0)` every 20 ms.
fn wait_for_exit(pid: libc::pid_t) {
    // SAFETY: pidfd_open takes a pid and flags; it returns a descriptor we
    // own, closed below, or -1.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0 as libc::c_uint) };
    if pidfd >= 0 {
        let mut poll = libc::pollfd {
            fd: pidfd as libc::c_int,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd; the descriptor is ours to close.
        unsafe {
            libc::poll(&mut poll, 1, SETTLE_MS);
            libc::close(pidfd as libc::c_int);
        }
        return;
    }
    for _ in 0..SETTLE_MS / 20 {
        // SAFETY: signal 0 only checks that `pid` exists; usleep has no
        // preconditions.
        if unsafe { libc::kill(pid, 0) } != 0 || unsafe { libc::usleep(20_000) } != 0 {
            return;
        }
    }
}

/// Durable, then named: `syncfs` puts the tree (and its rename into place)
/// on disk, then the marker gets its name and the tree directory is
/// `fsync`ed. A marker that is no longer ours to rename (moved aside,
/// replaced) is left alone.
fn flush(job: &Job) {
    // Opened as whatever the path is (no O_DIRECTORY), so a test can stall
    // the flusher on a FIFO and see that it holds none of its caller's
    // descriptors meanwhile.
    // SAFETY: a NUL-terminated path; the descriptor is closed below.
    let dir = unsafe { libc::open(job.tree.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if dir < 0 {
        return;
    }
    // SAFETY: `dir` is open; the paths are NUL-terminated.
    unsafe {
        if libc::syncfs(dir) == 0
            && is_marker(&job.unflushed)
            && libc::rename(job.unflushed.as_ptr(), job.marker.as_ptr()) == 0
        {
            libc::fsync(dir);
        }
        libc::close(dir);
    }
}

/// By `lstat`, a regular file of the effective user (step 5).
fn is_marker(path: &CString) -> bool {
    // SAFETY: an all-zero stat is valid; lstat writes into it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a valid out pointer; geteuid
    // cannot fail.
    unsafe {
        libc::lstat(path.as_ptr(), &mut st) == 0
            && st.st_mode & libc::S_IFMT == libc::S_IFREG
            && st.st_uid == libc::geteuid()
    }
}
