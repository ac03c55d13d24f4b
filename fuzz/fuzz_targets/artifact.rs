//! Reading an artifact someone hands us (`pyzap info`, `pyzap extract`):
//! `read_artifact`, `read_trailer` and `extract_artifact` never panic, and
//! extraction writes nothing outside the directory it is given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyzap_artifact::{extract_artifact, read_artifact, read_trailer};
use pyzap_fuzz::{scratch_dir, scratch_file};

fuzz_target!(|data: &[u8]| {
    let path = scratch_file("app", data);
    let _ = read_artifact(&path);
    let _ = read_trailer(&path);
    let out = scratch_dir().join("out");
    let _ = extract_artifact(&path, &out);
    let stray: Vec<String> = fs_err::read_dir(scratch_dir())
        .expect("the scratch directory is readable")
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name != "app" && name != "out")
        .collect();
    assert!(
        stray.is_empty(),
        "extraction wrote outside its directory: {stray:?}"
    );
    if out.exists() {
        fs_err::remove_dir_all(&out).expect("the extracted tree is removable");
    }
});
