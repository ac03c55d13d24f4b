//! Every error a standalone executable's stub can print, pinned as the one
//! line the user sees (`pyzap: error: ` and `LauncherError::one_line`, as
//! `run::main` prints them), one snapshot per message. The cache and the
//! payload are driven through the library's own functions with bad input;
//! where a comment says so, the value is built directly, because it needs
//! an environment a test cannot make (no home directory, a `noexec` mount,
//! another machine), or comes from `launch`, which reads `/proc/self/exe`.

use fs_err::File;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use pyzap_launcher::{check_root, unpack_payload, LauncherError, Part, Trailer};
use sha2::Digest;

/// The line `run::main` prints, with the test's temporary directory replaced.
macro_rules! assert_line {
    ($err:expr, $tmp:expr) => {{
        let line = format!("pyzap: error: {}", $err.one_line());
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(
            &pyzap_test_support::regex_escape(&$tmp.display().to_string()),
            "[TMP]",
        );
        settings.bind(|| insta::assert_snapshot!(line));
    }};
    ($err:expr) => {{
        let line = format!("pyzap: error: {}", $err.one_line());
        insta::assert_snapshot!(line);
    }};
}

// A damaged executable: what `launch` makes of a trailer `Trailer::parse`
// refuses (the path is the one `/proc/self/exe` names). A
// `LauncherError::Trailer` reaches the user only inside this message.

const EXE: &str = "/home/me/bin/app";

fn not_standalone(trailer: &[u8]) -> LauncherError {
    let why = Trailer::parse(trailer, 1 << 20).unwrap_err().to_string();
    LauncherError::NotStandalone {
        exe: EXE.into(),
        why,
    }
}

/// `text` followed by the footer that gives its length.
fn with_footer(text: &str) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    bytes.extend_from_slice(format!("{:08x}", text.len()).as_bytes());
    bytes.extend_from_slice(pyzap_launcher::trailer::MAGIC);
    bytes
}

pub(crate) fn hash(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn trailer_text(part: &str) -> String {
    format!(
        "\npyzap-standalone=1\npayload_offset=100\npayload_size=50\n\
         interpreter=bin/python3.11\narch=x86_64\npython=3.11.2\npart={part}\n"
    )
}

#[test]
fn no_trailer() {
    assert_line!(not_standalone(b"\x7fELF an executable without a payload"));
}

#[test]
fn trailer_length_corrupt() {
    assert_line!(not_standalone(b"zzzzzzzzPYZAPSA1"));
}

#[test]
fn trailer_cut_short() {
    let bytes = with_footer(&trailer_text(&format!("0 50 {}", "a".repeat(64))));
    assert_line!(not_standalone(&bytes[40..]));
}

#[test]
fn trailer_not_utf8() {
    let mut bytes = with_footer(&trailer_text(&format!("0 50 {}", "a".repeat(64))));
    bytes[3] = 0xff;
    assert_line!(not_standalone(&bytes));
}

#[test]
fn trailer_line_without_equals() {
    assert_line!(not_standalone(&with_footer("\npyzap-standalone=1\njunk\n")));
}

#[test]
fn trailer_number_invalid() {
    let text = trailer_text(&format!("0 50 {}", "a".repeat(64)))
        .replace("payload_size=50", "payload_size=fifty");
    assert_line!(not_standalone(&with_footer(&text)));
}

#[test]
fn trailer_part_line_invalid() {
    assert_line!(not_standalone(&with_footer(&trailer_text("0 50"))));
}

#[test]
fn trailer_of_a_later_format() {
    let text = trailer_text(&format!("0 50 {}", "a".repeat(64)))
        .replace("pyzap-standalone=1", "pyzap-standalone=2");
    assert_line!(not_standalone(&with_footer(&text)));
}

#[test]
fn trailer_fields_out_of_range() {
    let text = trailer_text(&format!("0 51 {}", "a".repeat(64)));
    assert_line!(not_standalone(&with_footer(&text)));
}

// The payload, unpacked by `unpack_payload` from a file of our making.

/// `payload` written to `<tmp>/app`, and the trailer of one part over it.
pub(crate) fn executable(
    tmp: &Path,
    payload: &[u8],
    part_size: u64,
    sha256: String,
) -> (PathBuf, Trailer) {
    let exe = tmp.join("app");
    File::create(&exe).unwrap().write_all(payload).unwrap();
    let trailer = Trailer {
        payload_offset: 0,
        payload_size: part_size,
        interpreter: "bin/python3.11".into(),
        arch: std::env::consts::ARCH.into(),
        python: "3.11.2".into(),
        glibc: None,
        parts: vec![Part {
            offset: 0,
            size: part_size,
            sha256,
        }],
    };
    (exe, trailer)
}

fn unpack(exe: &Path, trailer: &Trailer, dest: &Path) -> LauncherError {
    fs_err::create_dir_all(dest).unwrap();
    let file = File::open(exe).unwrap();
    unpack_payload(file.file(), exe, trailer, dest).unwrap_err()
}

#[test]
fn payload_cut_short() {
    let tmp = tempfile::tempdir().unwrap();
    let (exe, trailer) = executable(tmp.path(), b"short", 4096, "a".repeat(64));
    assert_line!(unpack(&exe, &trailer, &tmp.path().join("out")), tmp.path());
}

#[test]
fn payload_hash_mismatch() {
    let tmp = tempfile::tempdir().unwrap();
    let payload = b"a payload somebody changed";
    let (exe, trailer) = executable(tmp.path(), payload, payload.len() as u64, "0".repeat(64));
    assert_line!(unpack(&exe, &trailer, &tmp.path().join("out")), tmp.path());
}

#[test]
fn payload_that_is_not_zstd() {
    let tmp = tempfile::tempdir().unwrap();
    let payload = b"the right hash, but no zstd frame";
    let (exe, trailer) = executable(tmp.path(), payload, payload.len() as u64, hash(payload));
    assert_line!(unpack(&exe, &trailer, &tmp.path().join("out")), tmp.path());
}

/// Built directly: `launch` compares the trailer with the running machine,
/// so it needs an executable built for another one.
#[test]
fn payload_for_another_architecture() {
    assert_line!(LauncherError::Arch {
        exe: EXE.into(),
        payload: "aarch64".into(),
        machine: "x86_64".into(),
    });
}

// The runtime cache, checked by `check_root`.

/// Built directly: `cache_root` fails only without `PYZAP_ROOT`,
/// `CACHE_DIRECTORY`, `XDG_CACHE_HOME` and `HOME`, and tests share one
/// process environment.
#[test]
fn no_cache_root() {
    assert_line!(LauncherError::NoCacheRoot);
}

#[test]
fn cache_root_cannot_be_created() {
    assert_line!(check_root(Path::new("/dev/null/pyzap")).unwrap_err());
}

#[test]
fn cache_root_name_too_long() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("n".repeat(300));
    assert_line!(check_root(&root).unwrap_err(), tmp.path());
}

/// Built directly, as the three below: the hint depends on the errno, and
/// a read-only mount, a full disk or a file size limit is more than a test
/// can make.
#[test]
fn cache_root_read_only() {
    assert_line!(LauncherError::CacheCreate {
        path: "/home/me/.cache/pyzap".into(),
        source: std::io::Error::from_raw_os_error(libc::EROFS),
    });
}

#[test]
fn unpack_disk_full() {
    assert_line!(LauncherError::Unpack {
        path: "/home/me/.cache/pyzap/tmp/python-0123456789abcdef.42".into(),
        source: std::io::Error::from_raw_os_error(libc::ENOSPC),
    });
}

#[test]
fn unpack_file_too_large() {
    assert_line!(LauncherError::Unpack {
        path: "/home/me/.cache/pyzap/tmp/python-0123456789abcdef.42".into(),
        source: std::io::Error::from_raw_os_error(libc::EFBIG),
    });
}

#[test]
fn cache_root_is_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("pyzap");
    File::create(&file).unwrap();
    assert_line!(check_root(&file).unwrap_err(), tmp.path());
}

/// Built directly: it needs a directory of another user.
#[test]
fn cache_root_of_another_user() {
    assert_line!(LauncherError::CacheOwner {
        path: "/var/cache/pyzap".into(),
        owner: 1001,
        me: 1000,
    });
}

#[test]
fn cache_root_writable_by_others() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("pyzap");
    fs_err::create_dir(&root).unwrap();
    fs_err::set_permissions(&root, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert_line!(check_root(&root).unwrap_err(), tmp.path());
}

/// Built directly: it needs a file system mounted `noexec` (the end-to-end
/// test `noexec_cache_is_refused` mounts one where it may).
#[test]
fn cache_root_on_a_noexec_mount() {
    assert_line!(LauncherError::Noexec("/tmp/pyzap".into()));
}

/// Built directly: `exec` replaces the process when it succeeds.
#[test]
fn interpreter_cannot_run() {
    assert_line!(LauncherError::Exec {
        path: "/home/me/.cache/pyzap/python/0123456789abcdef0123456789abcdef/bin/python3.11".into(),
        source: std::io::Error::from_raw_os_error(2),
    });
}
