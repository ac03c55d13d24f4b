//! The manifest (`__pyzap__/manifest.json`, read by `read_artifact` with
//! serde_json): never panics; a manifest that parses serialises to JSON
//! that parses back equal, and `boot_text` (its writer for the bootstrap)
//! never panics. The `boot` file has no Rust reader: the bootstrap's
//! `_read_boot` (python/bootstrap/__main__.py) reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyzap_artifact::Manifest;

fuzz_target!(|data: &[u8]| {
    let Ok(manifest) = serde_json::from_slice::<Manifest>(data) else {
        return;
    };
    let json = serde_json::to_string_pretty(&manifest).expect("a manifest serialises");
    let again: Manifest = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("the written manifest does not read back: {e}\n{json}"));
    assert_eq!(again, manifest);
    let _ = manifest.boot_text();
    let _ = manifest.entry_point.describe();
});
