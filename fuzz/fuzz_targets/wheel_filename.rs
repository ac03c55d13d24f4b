//! Wheel file names (PEP 427): `WheelFilename::from_str` never panics; a
//! name it accepts displays as itself and parses back equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyzap_spec::WheelFilename;

fuzz_target!(|data: &[u8]| {
    let Some(text) = pyzap_fuzz::text(data) else {
        return;
    };
    let Ok(name) = text.parse::<WheelFilename>() else {
        return;
    };
    let shown = name.to_string();
    assert_eq!(shown, text, "a wheel name displays as given");
    let again: WheelFilename = shown
        .parse()
        .unwrap_or_else(|e| panic!("{shown:?} does not parse back: {e}"));
    assert_eq!(again, name);
    let _ = name.is_universal();
    // The tag sets multiply; a bounded look is enough to exercise `tags()`.
    let _ = name.tags().take(4096).count();
});
