//! PEP 691 JSON project pages (`parse_page` with the JSON content type):
//! never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyzap_index::{parse_page, Url};

fuzz_target!(|data: &[u8]| {
    let Some(body) = pyzap_fuzz::text(data) else {
        return;
    };
    let base = Url::parse("https://example.org/simple/pkg/").expect("a valid base");
    if let Ok(files) = parse_page(body, "application/vnd.pypi.simple.v1+json", &base) {
        for file in &files {
            let _ = file.display_location();
            let _ = file.wheel();
        }
    }
});
