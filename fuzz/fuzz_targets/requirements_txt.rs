//! `requirements.txt` (`RequirementsFile::parse`): never panics. Every file
//! it includes (`-r`/`-c`) reads as the same input, at most 16 reads per
//! run: real trees are bounded by the file system, the harness by the count.
#![no_main]

use std::io;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use pyzap_spec::RequirementsFile;

fuzz_target!(|data: &[u8]| {
    let Some(text) = pyzap_fuzz::text(data) else {
        return;
    };
    let mut reads = 0;
    let mut read = |_: &Path| -> io::Result<String> {
        reads += 1;
        if reads > 16 {
            return Err(io::Error::new(io::ErrorKind::NotFound, "fuzz: read limit"));
        }
        Ok(text.to_string())
    };
    let _ = RequirementsFile::parse(Path::new("/fuzz/requirements.txt"), &mut read);
});
