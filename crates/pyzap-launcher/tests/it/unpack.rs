//! `unpack_payload` on payloads built here: files get their modes and
//! modification times as they are made, and nothing lands outside the
//! destination, whatever the archive says (it is hashed only once read
//! through, so a damaged part is unpacked before it is known damaged).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use pyzap_launcher::{unpack_payload, LauncherError, Trailer};

/// A one-part executable holding the zstd-compressed `tar`.
fn executable(tmp: &Path, tar: &[u8]) -> (PathBuf, Trailer) {
    let part = zstd::stream::encode_all(tar, 3).unwrap();
    crate::messages::executable(tmp, &part, part.len() as u64, crate::messages::hash(&part))
}

fn unpack(tmp: &Path, tar: &[u8]) -> (PathBuf, Result<(), LauncherError>) {
    let (exe, trailer) = executable(tmp, tar);
    let dest = tmp.join("out");
    fs_err::create_dir(&dest).unwrap();
    let file = fs_err::File::open(&exe).unwrap();
    let result = unpack_payload(file.file(), &exe, &trailer, &dest);
    (dest, result)
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(1_234_567_890);
    h
}

fn mode(path: &Path) -> u32 {
    fs_err::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn files_get_their_modes_and_times_as_they_are_made() {
    let tmp = tempfile::tempdir().unwrap();
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = header(tar::EntryType::Regular, 0o700, 4);
    tar.append_data(&mut h, "bin/python3.11", &b"\x7fELF"[..])
        .unwrap();
    let mut h = header(tar::EntryType::Regular, 0o600, 2);
    tar.append_data(&mut h, "lib/python3.11/os.py", &b"#\n"[..])
        .unwrap();
    let mut h = header(tar::EntryType::Symlink, 0o777, 0);
    tar.append_link(&mut h, "bin/python3", "python3.11")
        .unwrap();
    let (out, result) = unpack(tmp.path(), &tar.into_inner().unwrap());
    result.unwrap();
    assert_eq!(mode(&out.join("bin/python3.11")), 0o755);
    assert_eq!(mode(&out.join("lib/python3.11/os.py")), 0o644);
    assert_eq!(mode(&out.join("lib/python3.11")), 0o755);
    assert_eq!(mode(&out.join("lib")), 0o755);
    let meta = fs_err::metadata(out.join("lib/python3.11/os.py")).unwrap();
    assert_eq!(meta.mtime(), 1_234_567_890, "the .pyc files check it");
    assert_eq!(
        fs_err::read_link(out.join("bin/python3")).unwrap(),
        Path::new("python3.11")
    );
}

/// A symlink entry, then a file below it: refused, and nothing is
/// written where the symlink points.
#[test]
fn nothing_is_written_through_a_symlink_of_the_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    fs_err::create_dir(&elsewhere).unwrap();
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = header(tar::EntryType::Symlink, 0o777, 0);
    tar.append_link(&mut h, "lib", &elsewhere).unwrap();
    let mut h = header(tar::EntryType::Regular, 0o644, 4);
    tar.append_data(&mut h, "lib/evil.py", &b"evil"[..])
        .unwrap();
    let (_, result) = unpack(tmp.path(), &tar.into_inner().unwrap());
    assert!(
        matches!(result, Err(LauncherError::Unpack { .. })),
        "{result:?}"
    );
    assert_eq!(fs_err::read_dir(&elsewhere).unwrap().count(), 0);
}

/// An entry named `../escape` (written into the header by hand: the tar
/// crate's builder refuses such names) is refused.
#[test]
fn an_entry_outside_the_tree_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut h = header(tar::EntryType::Regular, 0o644, 4);
    let name = b"../escape";
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_cksum();
    let mut tar = tar::Builder::new(Vec::new());
    tar.append(&h, &b"data"[..]).unwrap();
    let (_, result) = unpack(tmp.path(), &tar.into_inner().unwrap());
    assert!(
        matches!(result, Err(LauncherError::Unpack { .. })),
        "{result:?}"
    );
    assert!(!tmp.path().join("escape").exists());
}
