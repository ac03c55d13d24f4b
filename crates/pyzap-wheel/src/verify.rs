//! Checking a wheel's files against its RECORD (PEP 376/427). Each entry is
//! streamed through its hash, never held whole: a wheel of a few megabytes
//! may inflate to gigabytes (a zero-filled entry compresses 1000:1).

use std::io::Write;

use sha2::Digest;

use crate::dist_info::read_text;
use crate::record::parse_record;
use crate::wheel::{corrupt, open_archive};
use crate::{Wheel, WheelError};

impl Wheel {
    /// Checks every file against RECORD: listed, and its digest matching.
    pub fn verify(&self) -> Result<(), WheelError> {
        let path = &self.path;
        let mut archive = open_archive(path)?;
        let record_name = format!("{}/RECORD", self.dist_info);
        let text =
            read_text(&mut archive, path, &record_name)?.ok_or_else(|| WheelError::Invalid {
                path: path.clone(),
                reason: format!("{record_name} is missing"),
            })?;
        let record = parse_record(&text).map_err(|reason| WheelError::Invalid {
            path: path.clone(),
            reason,
        })?;
        drop(text);
        for entry in &self.entries {
            let name = &entry.name;
            if name == &record_name || name.ends_with(".jws") || name.ends_with(".p7s") {
                continue;
            }
            let Some(Some(expected)) = record.get(name) else {
                return Err(WheelError::NotInRecord {
                    path: path.clone(),
                    entry: name.clone(),
                });
            };
            let mut hasher =
                RecordHasher::new(&expected.algorithm).ok_or_else(|| WheelError::Invalid {
                    path: path.clone(),
                    reason: format!(
                        "RECORD uses unsupported hash algorithm `{}` for {name}",
                        expected.algorithm
                    ),
                })?;
            let mut member = archive
                .by_index(entry.index)
                .map_err(|source| corrupt(path, source))?;
            std::io::copy(&mut member, &mut hasher).map_err(|e| WheelError::Corrupt {
                path: path.clone(),
                source: zip::result::ZipError::Io(std::io::Error::new(
                    e.kind(),
                    format!("{name}: {e}"),
                )),
            })?;
            let actual = hasher.finish();
            if actual != expected.digest {
                return Err(WheelError::HashMismatch {
                    path: path.clone(),
                    entry: name.clone(),
                    expected: format!("{}={}", expected.algorithm, expected.digest),
                    actual: format!("{}={actual}", expected.algorithm),
                });
            }
        }
        Ok(())
    }
}

/// A RECORD hash being computed; `finish` gives it as RECORD writes it
/// (urlsafe base64, no padding).
enum RecordHasher {
    Sha256(pyzap_fs::Sha256Writer),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl RecordHasher {
    fn new(algorithm: &str) -> Option<Self> {
        match algorithm {
            "sha256" => Some(Self::Sha256(pyzap_fs::Sha256Writer::default())),
            "sha384" => Some(Self::Sha384(sha2::Sha384::new())),
            "sha512" => Some(Self::Sha512(sha2::Sha512::new())),
            _ => None,
        }
    }

    fn finish(self) -> String {
        let b64 = |d: &[u8]| data_encoding::BASE64URL_NOPAD.encode(d);
        match self {
            Self::Sha256(w) => w.finish_record().0,
            Self::Sha384(h) => b64(&h.finalize()),
            Self::Sha512(h) => b64(&h.finalize()),
        }
    }
}

impl Write for RecordHasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Sha256(w) => return w.write(buf),
            Self::Sha384(h) => h.update(buf),
            Self::Sha512(h) => h.update(buf),
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_as_record_writes_them() {
        for (algorithm, digest) in [
            ("sha256", b64(&sha2::Sha256::digest(b"abc"))),
            ("sha384", b64(&sha2::Sha384::digest(b"abc"))),
            ("sha512", b64(&sha2::Sha512::digest(b"abc"))),
        ] {
            let mut h = RecordHasher::new(algorithm).unwrap();
            h.write_all(b"ab").unwrap();
            h.write_all(b"c").unwrap();
            assert_eq!(h.finish(), digest, "{algorithm}");
        }
        assert!(RecordHasher::new("md5").is_none());
    }

    fn b64(d: &[u8]) -> String {
        data_encoding::BASE64URL_NOPAD.encode(d)
    }
}
