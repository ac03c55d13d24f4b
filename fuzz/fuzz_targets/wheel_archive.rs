//! A whole wheel file, as downloaded: `Wheel::open` (entry names, symlinks,
//! the `.dist-info` files), `verify` and `layout_wheel` never panic. The
//! input is saved as `pkg-1.0-py3-none-any.whl`, so its `.dist-info`
//! directory must be `pkg-<anything>.dist-info` to get past `open`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyzap_fuzz::scratch_file;
use pyzap_wheel::{layout_wheel, Wheel};

fuzz_target!(|data: &[u8]| {
    let path = scratch_file("pkg-1.0-py3-none-any.whl", data);
    if let Ok(wheel) = Wheel::open(&path) {
        let _ = wheel.verify();
        let _ = layout_wheel(&wheel);
    }
});
