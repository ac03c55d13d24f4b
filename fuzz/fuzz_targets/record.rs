//! A wheel's RECORD (`pyzap_wheel::parse_record`): never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = pyzap_fuzz::text(data) else {
        return;
    };
    let _ = pyzap_wheel::parse_record(text);
});
