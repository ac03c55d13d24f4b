//! The trailer of a standalone executable (`Trailer::parse`, which the stub
//! runs on its own last 64 KiB): never panics; a trailer it accepts writes
//! (`to_bytes`) bytes that parse back equal. The input is the file's tail;
//! the file is taken to be as long as the input, then 2^64-1 bytes long.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyzap_launcher::Trailer;

fuzz_target!(|data: &[u8]| {
    let _ = Trailer::len_from_footer(data);
    for file_len in [data.len() as u64, u64::MAX] {
        let Ok(trailer) = Trailer::parse(data, file_len) else {
            continue;
        };
        let bytes = trailer.to_bytes();
        let again = Trailer::parse(&bytes, file_len)
            .unwrap_or_else(|e| panic!("the written trailer does not parse back: {e}\n{bytes:?}"));
        assert_eq!(again, trailer);
        assert_eq!(again.id(), trailer.id());
    }
});
