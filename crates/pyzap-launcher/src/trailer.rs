//! The trailer of a standalone executable: where the CPython payload is and
//! how to check it, as `key=value` text lines followed by a fixed 16-byte
//! footer (`{len:08x}PYZAPSA1`, `len` counting the text before it).
//!
//! The trailer is the zip's comment, so it ends the file and the zip stays a
//! valid zip: zipimport (every CPython 3.8+) and the `zip` crate look for the
//! end-of-central-directory record within the last 64 KiB + 22 bytes and
//! accept a comment after it. See `docs/artifact-format.md` ("Standalone
//! executables").

use crate::LauncherError;

/// The footer's magic; the `1` is the trailer format version.
pub const MAGIC: &[u8; 8] = b"PYZAPSA1";
/// The footer: eight hex digits (the text length) and the magic.
pub const FOOTER_LEN: usize = 16;
/// A zip comment holds at most 65,535 bytes.
pub const MAX_LEN: usize = 65_535;

/// One independently compressed slice of the payload (a zstd-compressed
/// tar stream), so the cold path can unpack slices in parallel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Offset from the start of the payload.
    pub offset: u64,
    pub size: u64,
    /// sha256 of the compressed bytes, hex.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trailer {
    /// Absolute offset of the payload in the executable.
    pub payload_offset: u64,
    pub payload_size: u64,
    /// The interpreter, relative to the extracted tree (`bin/python3.11`).
    pub interpreter: String,
    /// `std::env::consts::ARCH` of the interpreter (`x86_64`).
    pub arch: String,
    /// The interpreter's full version (`3.11.2`), informational.
    pub python: String,
    /// The oldest glibc the executable runs on (`2.17`), the newest any of
    /// its parts needs; informational (`pyzap info`), absent when no part
    /// needs glibc and in executables of older pyzap versions.
    pub glibc: Option<String>,
    pub parts: Vec<Part>,
}

impl Trailer {
    /// The content address of the extracted interpreter: a digest of the
    /// parts' hashes and the interpreter path, so artifacts built from the
    /// same distribution with the same options share one extracted tree.
    pub fn id(&self) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(format!("pyzap-python-1\n{}\n", self.interpreter));
        for p in &self.parts {
            h.update(format!("{} {}\n", p.size, p.sha256));
        }
        let digest = h.finalize();
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The text and footer, ready to be the zip comment.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut text = format!(
            "\npyzap-standalone=1\npayload_offset={}\npayload_size={}\ninterpreter={}\narch={}\npython={}\n",
            self.payload_offset, self.payload_size, self.interpreter, self.arch, self.python
        );
        if let Some(glibc) = &self.glibc {
            text.push_str(&format!("glibc={glibc}\n"));
        }
        for p in &self.parts {
            text.push_str(&format!("part={} {} {}\n", p.offset, p.size, p.sha256));
        }
        let mut out = text.into_bytes();
        let len = out.len();
        out.extend_from_slice(format!("{len:08x}").as_bytes());
        out.extend_from_slice(MAGIC);
        out
    }

    /// How many bytes from the end of the file the trailer takes, given its footer.
    pub fn len_from_footer(footer: &[u8]) -> Result<usize, LauncherError> {
        let bad = |why: &str| LauncherError::Trailer(why.to_string());
        if footer.len() < FOOTER_LEN || &footer[footer.len() - 8..] != MAGIC {
            return Err(bad("no pyzap trailer at the end of the file"));
        }
        let hex = &footer[footer.len() - FOOTER_LEN..footer.len() - 8];
        let len = std::str::from_utf8(hex)
            .ok()
            .and_then(|s| usize::from_str_radix(s, 16).ok())
            .filter(|n| *n + FOOTER_LEN <= MAX_LEN)
            .ok_or_else(|| bad("the trailer's length field is corrupt"))?;
        Ok(len + FOOTER_LEN)
    }

    /// Parses a whole trailer (text and footer). `file_len` bounds the offsets.
    pub fn parse(bytes: &[u8], file_len: u64) -> Result<Self, LauncherError> {
        let bad = |why: String| LauncherError::Trailer(why);
        let total = Self::len_from_footer(bytes)?;
        if bytes.len() < total {
            return Err(bad("the trailer is cut short".into()));
        }
        let text = &bytes[bytes.len() - total..bytes.len() - FOOTER_LEN];
        let text = std::str::from_utf8(text).map_err(|_| bad("the trailer is not UTF-8".into()))?;
        let mut t = Trailer {
            payload_offset: 0,
            payload_size: 0,
            interpreter: String::new(),
            arch: String::new(),
            python: String::new(),
            glibc: None,
            parts: Vec::new(),
        };
        let mut version = None;
        let num = |k: &str, v: &str| {
            v.parse::<u64>()
                .map_err(|_| bad(format!("{k} is not a number: {v:?}")))
        };
        // Lines end at `\n` only, as `to_bytes` writes them: `str::lines`
        // would also strip a `\r` before a `\n` but not one ending the text,
        // so a value could lose or keep its `\r` depending on where it sat.
        for line in text.split('\n').filter(|l| !l.is_empty()) {
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| bad(format!("line without '=': {line:?}")))?;
            match key {
                "pyzap-standalone" => version = Some(value.to_string()),
                "payload_offset" => t.payload_offset = num(key, value)?,
                "payload_size" => t.payload_size = num(key, value)?,
                "interpreter" => t.interpreter = value.to_string(),
                "arch" => t.arch = value.to_string(),
                "python" => t.python = value.to_string(),
                "glibc" => t.glibc = Some(value.to_string()),
                "part" => {
                    let f: Vec<&str> = value.split(' ').collect();
                    let [offset, size, sha256] = f[..] else {
                        return Err(bad(format!("bad part line: {line:?}")));
                    };
                    t.parts.push(Part {
                        offset: num("part offset", offset)?,
                        size: num("part size", size)?,
                        sha256: sha256.to_string(),
                    });
                }
                _ => {} // forward compatibility
            }
        }
        if version.as_deref() != Some("1") {
            return Err(bad(format!(
                "unsupported standalone format {:?}",
                version.unwrap_or_default()
            )));
        }
        let end = t.payload_offset.checked_add(t.payload_size);
        if end.is_none_or(|e| e > file_len)
            || t.interpreter.is_empty()
            || t.interpreter.starts_with('/')
            || t.interpreter.split('/').any(|c| c == "..")
            || t.parts.is_empty()
            || t.parts.iter().any(|p| {
                p.offset
                    .checked_add(p.size)
                    .is_none_or(|e| e > t.payload_size)
                    || p.sha256.len() != 64
                    || !p.sha256.bytes().all(|b| b.is_ascii_hexdigit())
            })
        {
            return Err(bad("the trailer's fields are out of range".into()));
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Trailer {
        Trailer {
            payload_offset: 100,
            payload_size: 50,
            interpreter: "bin/python3.11".into(),
            arch: "x86_64".into(),
            python: "3.11.2".into(),
            glibc: Some("2.17".into()),
            parts: vec![
                Part {
                    offset: 0,
                    size: 20,
                    sha256: "a".repeat(64),
                },
                Part {
                    offset: 20,
                    size: 30,
                    sha256: "b".repeat(64),
                },
            ],
        }
    }

    #[test]
    fn round_trip() {
        let t = sample();
        let mut file = vec![0u8; 7];
        file.extend(t.to_bytes());
        assert_eq!(Trailer::parse(&file, 1000).unwrap(), t);
        assert_eq!(t.id().len(), 32);
        // The glibc floor describes the executable; it does not name the tree.
        let without = Trailer {
            glibc: None,
            ..t.clone()
        };
        assert_eq!(Trailer::parse(&without.to_bytes(), 1000).unwrap(), without);
        assert_eq!(without.id(), t.id());
    }

    /// Found by fuzz/fuzz_targets/trailer.rs: a value ending the text with a
    /// `\r` kept it, but written back (`…\r\n`) lost it to `str::lines`.
    #[test]
    fn carriage_return_ending_the_text_round_trips() {
        let text = format!(
            "\npyzap-standalone=1\npayload_offset=100\npayload_size=50\n\
             interpreter=bin/python3.11\npart=0 50 {}\npython=3.11.2\r",
            "a".repeat(64)
        );
        let mut bytes = text.clone().into_bytes();
        bytes.extend_from_slice(format!("{:08x}", text.len()).as_bytes());
        bytes.extend_from_slice(MAGIC);
        let parsed = Trailer::parse(&bytes, 1000).unwrap();
        assert_eq!(parsed.python, "3.11.2\r");
        assert_eq!(Trailer::parse(&parsed.to_bytes(), 1000).unwrap(), parsed);
    }

    #[test]
    fn refuses_damage() {
        let bytes = sample().to_bytes();
        assert!(Trailer::parse(&bytes[..bytes.len() - 1], 1000).is_err());
        assert!(Trailer::parse(&bytes, 120).is_err()); // payload past the end
        let mut flipped = bytes.clone();
        flipped[bytes.len() - 10] = b'z';
        assert!(Trailer::parse(&flipped, 1000).is_err());
        let text = String::from_utf8(bytes).unwrap().replace("bin/", "../");
        assert!(Trailer::parse(text.as_bytes(), 1000).is_err());
    }
}
