//! `entry_points.txt` (`EntryPoints::parse`) and one `module:object`
//! reference (`EntryPoint::from_str`): never panic; every entry point they
//! accept displays as a reference that parses back equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyzap_spec::{EntryPoint, EntryPoints};

fn round_trip(ep: &EntryPoint) {
    let shown = ep.to_string();
    let again: EntryPoint = shown
        .parse()
        .unwrap_or_else(|e| panic!("{shown:?} does not parse back: {e}"));
    assert_eq!(&again, ep);
}

fuzz_target!(|data: &[u8]| {
    let Some(text) = pyzap_fuzz::text(data) else {
        return;
    };
    let parsed = EntryPoints::parse(text);
    for (_, ep) in parsed.scripts() {
        round_trip(ep);
    }
    if let Ok(ep) = text.parse::<EntryPoint>() {
        round_trip(&ep);
    }
});
