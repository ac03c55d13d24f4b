//! SHA-256 helpers: digests are passed around as lowercase hex.

use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

pub fn sha256_hex(data: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(data))
}

pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = fs_err::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(data_encoding::HEXLOWER.encode(&hasher.finalize()))
}

/// A writer that hashes what passes through it (used to hash while streaming).
#[derive(Default)]
pub struct Sha256Writer {
    hasher: Sha256,
    pub len: u64,
}

impl Sha256Writer {
    pub fn finish(self) -> (String, u64) {
        (
            data_encoding::HEXLOWER.encode(&self.hasher.finalize()),
            self.len,
        )
    }

    /// The digest in the urlsafe-base64-nopad form RECORD files use.
    pub fn finish_record(self) -> (String, u64) {
        (
            data_encoding::BASE64URL_NOPAD.encode(&self.hasher.finalize()),
            self.len,
        )
    }
}

impl Write for Sha256Writer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.hasher.update(buf);
        self.len += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
