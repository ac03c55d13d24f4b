//! PEP 508 requirements (`pyzap_spec::parse_requirement`): never panics; a
//! requirement it accepts displays as a line that parses back to the same
//! name, extras and version, and the same text again.
//!
//! Known quirks of `pep508_rs` 0.9.2 and of pyzap-spec's pre-check, each
//! with its reproducer in `regressions/requirement/`, are left out of the
//! round trip (not of the no-panic check) so the target keeps looking for
//! new ones:
//!
//! - a marker value holding `'` displays in single quotes all the same
//!   (`a;extra=="'"` shows as `a ; extra == '''`, which does not parse):
//!   inputs with both quote characters skip the round trip;
//! - URLs are normalised in more than one step (`n@file://_//e:` shows as
//!   `n @ file://_/e:`, which shows as `n @ file:///e:`: the WHATWG
//!   drive-letter rule drops the host on the second pass), and a `;` in a
//!   URL makes the pre-check read what follows as a marker, where its
//!   19-digit limit can refuse the display (`o@file:;\x17` + 19 digits):
//!   URL requirements only have to parse back;
//! - legacy marker names (`os.name`) display as the current ones
//!   (`os_name`) but stay unequal values: markers are compared as text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyzap_spec::{parse_requirement, VersionOrUrl};

fuzz_target!(|data: &[u8]| {
    let Some(text) = pyzap_fuzz::text(data) else {
        return;
    };
    let Ok(requirement) = parse_requirement(text) else {
        return;
    };
    if text.contains('\'') && text.contains('"') {
        return;
    }
    let shown = requirement.to_string();
    let is_url = matches!(requirement.version_or_url, Some(VersionOrUrl::Url(_)));
    let again = match parse_requirement(&shown) {
        Ok(again) => again,
        Err(_) if is_url && shown.contains(';') => return,
        Err(e) => panic!("{shown:?} (from {text:?}) does not parse back: {e}"),
    };
    assert_eq!(again.name, requirement.name, "{text:?} -> {shown:?}");
    assert_eq!(again.extras, requirement.extras, "{text:?} -> {shown:?}");
    if !is_url {
        assert_eq!(again.to_string(), shown, "{text:?}");
        assert_eq!(
            again.version_or_url, requirement.version_or_url,
            "{text:?} -> {shown:?}"
        );
    }
});
