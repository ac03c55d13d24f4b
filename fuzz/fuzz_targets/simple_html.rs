//! PEP 503 HTML project pages and find-links pages (`parse_html`, and
//! `parse_page` with an HTML content type): never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyzap_index::{parse_html, parse_page, Url};

fuzz_target!(|data: &[u8]| {
    let Some(body) = pyzap_fuzz::text(data) else {
        return;
    };
    let base = Url::parse("https://example.org/simple/pkg/").expect("a valid base");
    let files = parse_html(body, &base);
    for file in &files {
        let _ = file.display_location();
        let _ = file.wheel();
    }
    let _ = parse_page(body, "text/html", &base);
});
