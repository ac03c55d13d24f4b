//! PEP 440 versions and specifier sets: parsing never panics; what parses
//! displays in a form that parses back equal; `contains` never panics.
//! The input is tried whole as a version and as specifiers, and, split at
//! the first `;`, as `version;specifiers` for a containment check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyzap_spec::{Version, VersionSpecifiers};

fuzz_target!(|data: &[u8]| {
    let Some(text) = pyzap_fuzz::text(data) else {
        return;
    };
    if let Ok(version) = text.parse::<Version>() {
        let shown = version.to_string();
        let again: Version = shown.parse().unwrap_or_else(|e| {
            panic!("version {shown:?} (from {text:?}) does not parse back: {e}")
        });
        assert_eq!(again, version, "{text:?} -> {shown:?}");
        assert_eq!(again.to_string(), shown);
    }
    if let Ok(specifiers) = text.parse::<VersionSpecifiers>() {
        let shown = specifiers.to_string();
        let again: VersionSpecifiers = shown.parse().unwrap_or_else(|e| {
            panic!("specifiers {shown:?} (from {text:?}) do not parse back: {e}")
        });
        assert_eq!(again, specifiers, "{text:?} -> {shown:?}");
    }
    if let Some((version, specifiers)) = text.split_once(';') {
        if let (Ok(v), Ok(s)) = (
            version.parse::<Version>(),
            specifiers.parse::<VersionSpecifiers>(),
        ) {
            let _ = s.contains(&v);
        }
    }
});
