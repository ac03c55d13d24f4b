//! PEP 751 lock files (`Lock::from_toml`): never panics; a lock it accepts
//! writes (`to_toml`) a text that reads back to a lock writing the same
//! text (the writer sorts, so the text, not the value, is the fixed point);
//! `select` for a fixed target never panics.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pyzap_resolve::Lock;
use pyzap_spec::{FormatControl, PlatformTag, Target};

/// CPython 3.11.7 on manylinux_2_36_x86_64, as `--python-version` makes it.
fn target() -> &'static Target {
    static TARGET: OnceLock<Target> = OnceLock::new();
    TARGET.get_or_init(|| {
        let platform: PlatformTag = "manylinux_2_36_x86_64".parse().expect("a platform tag");
        Target::cross("3.11.7", Some(&platform), None).expect("a cross target")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some(text) = pyzap_fuzz::text(data) else {
        return;
    };
    let Ok(lock) = Lock::from_toml(text) else {
        return;
    };
    let written = lock.to_toml();
    let back = Lock::from_toml(&written)
        .unwrap_or_else(|e| panic!("the written lock does not read back: {e}\n{written}"));
    assert_eq!(back.to_toml(), written);
    assert_eq!(back.packages.len(), lock.packages.len());
    for allow_sdists in [false, true] {
        let _ = lock.select(target(), allow_sdists, &FormatControl::default());
    }
});
