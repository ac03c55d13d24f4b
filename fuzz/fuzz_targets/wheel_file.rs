//! The `.dist-info` files of a wheel as `Wheel::open` reads them: WHEEL
//! (its parser, `parse_wheel_file`, is private to pyzap-wheel, so it is
//! reached through `open`), METADATA, RECORD and entry_points.txt, then
//! `verify` against RECORD and `layout_wheel`. None may panic.
//!
//! Input: the four texts joined with NUL bytes (`WHEEL\0METADATA\0RECORD\0
//! entry_points.txt`; an empty entry_points.txt is left out). They become
//! `<name>-<version>.dist-info/…` of `<name>-<version>-py3-none-any.whl`,
//! named after METADATA's `Name` and `Version` (`open` checks they agree;
//! `pkg-1.0` when they make no wheel name), beside an empty file for each
//! of the first eight paths RECORD lists outside a `.dist-info`, so
//! `verify` has digests to compare.
#![no_main]

use std::io::{Cursor, Write};

use libfuzzer_sys::fuzz_target;
use pyzap_fuzz::{scratch_file, sections};
use pyzap_spec::WheelFilename;
use pyzap_wheel::{layout_wheel, parse_record, Wheel};
use zip::write::SimpleFileOptions;

/// `<name>-<version>` from METADATA's first `Name:` and `Version:` lines.
fn stem(metadata: &[u8]) -> String {
    let text = String::from_utf8_lossy(metadata);
    let field = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(key))
            .map(|v| v.trim().replace('-', "_"))
    };
    match (field("Name:"), field("Version:")) {
        (Some(name), Some(version))
            if format!("{name}-{version}-py3-none-any.whl")
                .parse::<WheelFilename>()
                .is_ok() =>
        {
            format!("{name}-{version}")
        }
        _ => "pkg-1.0".to_string(),
    }
}

fuzz_target!(|data: &[u8]| {
    let [wheel, metadata, record, entry_points] = sections::<4>(data);
    let stem = stem(metadata);
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let listed: Vec<String> = std::str::from_utf8(record)
        .ok()
        .and_then(|text| parse_record(text).ok())
        .map(|record| {
            let mut paths: Vec<String> = record
                .into_keys()
                .filter(|p| !p.contains(".dist-info/"))
                .collect();
            paths.sort(); // HashMap order would make runs differ
            paths.truncate(8);
            paths
        })
        .unwrap_or_default();
    for path in listed {
        // Names the writer refuses (duplicates …) are simply left out.
        let _ = zip.start_file(path, options);
    }
    for (member, bytes) in [
        ("WHEEL", wheel),
        ("METADATA", metadata),
        ("RECORD", record),
        ("entry_points.txt", entry_points),
    ] {
        if member == "entry_points.txt" && bytes.is_empty() {
            continue;
        }
        if zip
            .start_file(format!("{stem}.dist-info/{member}"), options)
            .is_ok()
        {
            zip.write_all(bytes).expect("writing to memory");
        }
    }
    let bytes = zip
        .finish()
        .expect("finishing a zip in memory")
        .into_inner();
    let path = scratch_file(&format!("{stem}-py3-none-any.whl"), &bytes);
    if let Ok(wheel) = Wheel::open(&path) {
        let _ = wheel.verify();
        let _ = layout_wheel(&wheel);
    }
    fs_err::remove_file(&path).expect("the scratch wheel is removable");
});
