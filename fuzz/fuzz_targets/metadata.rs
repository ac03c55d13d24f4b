//! Core metadata (`METADATA`, `PKG-INFO`; `Metadata::parse`): never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyzap_spec::Metadata;

fuzz_target!(|data: &[u8]| {
    let Some(text) = pyzap_fuzz::text(data) else {
        return;
    };
    if let Ok(metadata) = Metadata::parse(text) {
        for requirement in &metadata.requires_dist {
            let _ = requirement.to_string();
        }
    }
});
