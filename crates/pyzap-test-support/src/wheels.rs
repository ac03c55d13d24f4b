//! Wheels built in code, so tests can feed pyzap both well-formed and
//! hostile archives (traversal paths, symlinks, tampered RECORD, truncation,
//! names listed twice, WHEEL and METADATA that lie, entries that inflate to
//! gigabytes).

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::Digest;
use zip::write::SimpleFileOptions;

/// The shared wheelhouse (`../shared/wheelhouse` beside the checkout).
pub fn wheelhouse() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = here.join("../../../shared/wheelhouse");
    assert!(
        path.is_dir(),
        "the shared wheelhouse is missing at {}: tests need ../shared/wheelhouse beside the checkout",
        path.display()
    );
    path.canonicalize().expect("canonical wheelhouse path")
}

/// Builds `name-version-py3-none-any.whl` with the files added.
pub struct WheelBuilder {
    name: String,
    version: String,
    tag: String,
    files: Vec<(String, Vec<u8>)>,
    requires: Vec<String>,
    headers: Vec<(String, String)>,
    entry_points: Option<String>,
    symlinks: Vec<(String, String)>,
    record_override: Option<String>,
    skip_record: Vec<String>,
    tampered: Vec<String>,
    wheel_text: Option<String>,
    metadata_name: Option<String>,
    metadata_version: Option<String>,
    directories: Vec<String>,
    duplicates: Vec<(String, Vec<u8>)>,
    zeros: Vec<(String, u64)>,
}

impl WheelBuilder {
    pub fn new(name: &str, version: &str) -> Self {
        WheelBuilder {
            name: name.to_string(),
            version: version.to_string(),
            tag: "py3-none-any".into(),
            files: Vec::new(),
            requires: Vec::new(),
            headers: Vec::new(),
            entry_points: None,
            symlinks: Vec::new(),
            record_override: None,
            skip_record: Vec::new(),
            tampered: Vec::new(),
            wheel_text: None,
            metadata_name: None,
            metadata_version: None,
            directories: Vec::new(),
            duplicates: Vec::new(),
            zeros: Vec::new(),
        }
    }

    pub fn tag(mut self, tag: &str) -> Self {
        self.tag = tag.to_string();
        self
    }

    pub fn file(mut self, path: &str, content: &str) -> Self {
        self.files
            .push((path.to_string(), content.as_bytes().to_vec()));
        self
    }

    pub fn requires(mut self, req: &str) -> Self {
        self.requires.push(req.to_string());
        self
    }

    /// Adds a `key: value` line to METADATA (`Requires-Python`, `Provides-Extra`).
    pub fn header(mut self, key: &str, value: &str) -> Self {
        self.headers.push((key.to_string(), value.to_string()));
        self
    }

    pub fn entry_points(mut self, text: &str) -> Self {
        self.entry_points = Some(text.to_string());
        self
    }

    /// Adds a symbolic link entry (forbidden in wheels).
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.symlinks.push((path.to_string(), target.to_string()));
        self
    }

    /// Replaces the computed RECORD text.
    pub fn record(mut self, text: &str) -> Self {
        self.record_override = Some(text.to_string());
        self
    }

    /// Leaves `path` out of RECORD.
    pub fn unrecorded(mut self, path: &str) -> Self {
        self.skip_record.push(path.to_string());
        self
    }

    /// Records a wrong digest for `path` in RECORD.
    pub fn tamper(mut self, path: &str) -> Self {
        self.tampered.push(path.to_string());
        self
    }

    /// Replaces the WHEEL file's text (by default `Wheel-Version: 1.0`, …).
    pub fn wheel_text(mut self, text: &str) -> Self {
        self.wheel_text = Some(text.to_string());
        self
    }

    /// Makes METADATA say `Name: name` whatever the file name says.
    pub fn metadata_name(mut self, name: &str) -> Self {
        self.metadata_name = Some(name.to_string());
        self
    }

    /// Makes METADATA say `Version: version` whatever the file name says.
    pub fn metadata_version(mut self, version: &str) -> Self {
        self.metadata_version = Some(version.to_string());
        self
    }

    /// Adds an explicit directory entry (`path/`).
    pub fn directory(mut self, path: &str) -> Self {
        self.directories
            .push(format!("{}/", path.trim_end_matches('/')));
        self
    }

    /// Adds a second entry named `path` (a name at least 8 bytes long),
    /// after everything else: the zip directory then lists it twice.
    pub fn duplicate(mut self, path: &str, content: &str) -> Self {
        assert!(
            path.len() >= 8,
            "duplicate names need 8 bytes for a placeholder"
        );
        self.duplicates
            .push((path.to_string(), content.as_bytes().to_vec()));
        self
    }

    /// Adds `size` zero bytes at `path`, never held in memory: a deflate
    /// stream made by hand (27 MB for 4 GiB, written in a few seconds even
    /// in a debug build) with ZIP64 sizes, and its real sha256 in RECORD.
    pub fn zeros(mut self, path: &str, size: u64) -> Self {
        self.zeros.push((path.to_string(), size));
        self
    }

    pub fn dist_info(&self) -> String {
        format!("{}-{}.dist-info", self.name.replace('-', "_"), self.version)
    }

    pub fn filename(&self) -> String {
        format!(
            "{}-{}-{}.whl",
            self.name.replace('-', "_"),
            self.version,
            self.tag
        )
    }

    /// Writes the wheel into `dir` and returns its path.
    pub fn build(self, dir: &Path) -> PathBuf {
        let di = self.dist_info();
        let mut files = self.files.clone();
        let mut metadata = format!(
            "Metadata-Version: 2.1\nName: {}\nVersion: {}\n",
            self.metadata_name.as_deref().unwrap_or(&self.name),
            self.metadata_version.as_deref().unwrap_or(&self.version)
        );
        for (key, value) in &self.headers {
            metadata.push_str(&format!("{key}: {value}\n"));
        }
        for r in &self.requires {
            metadata.push_str(&format!("Requires-Dist: {r}\n"));
        }
        files.push((format!("{di}/METADATA"), metadata.into_bytes()));
        let wheel = self.wheel_text.clone().unwrap_or_else(|| {
            format!(
                "Wheel-Version: 1.0\nGenerator: pyzap-tests\nRoot-Is-Purelib: true\nTag: {}\n",
                self.tag
            )
        });
        files.push((format!("{di}/WHEEL"), wheel.into_bytes()));
        if let Some(ep) = &self.entry_points {
            files.push((format!("{di}/entry_points.txt"), ep.clone().into_bytes()));
        }
        let record = self.record_override.clone().unwrap_or_else(|| {
            let mut r = String::new();
            for (p, data) in &files {
                if self.skip_record.contains(p) {
                    continue;
                }
                let mut digest = data_encoding::BASE64URL_NOPAD.encode(&sha2::Sha256::digest(data));
                if self.tampered.contains(p) {
                    digest = "A".repeat(digest.len());
                }
                r.push_str(&format!("{p},sha256={digest},{}\n", data.len()));
            }
            for (p, size) in &self.zeros {
                let mut hasher = sha2::Sha256::new();
                for chunk in zero_chunks(*size) {
                    hasher.update(chunk);
                }
                let mut digest = data_encoding::BASE64URL_NOPAD.encode(&hasher.finalize());
                if self.tampered.contains(p) {
                    digest = "A".repeat(digest.len());
                }
                r.push_str(&format!("{p},sha256={digest},{size}\n"));
            }
            r.push_str(&format!("{di}/RECORD,,\n"));
            r
        });
        files.push((format!("{di}/RECORD"), record.into_bytes()));
        let path = dir.join(self.filename());
        let mut zip = zip::ZipWriter::new(fs_err::File::create(&path).unwrap());
        let opts = SimpleFileOptions::default().unix_permissions(0o644);
        for (p, data) in &files {
            zip.start_file(p.as_str(), opts).unwrap();
            zip.write_all(data).unwrap();
        }
        for (p, target) in &self.symlinks {
            zip.add_symlink(p.as_str(), target.as_str(), opts).unwrap();
        }
        for p in &self.directories {
            zip.add_directory(p.as_str(), opts.unix_permissions(0o755))
                .unwrap();
        }
        for (p, size) in &self.zeros {
            // Deflating gigabytes in a debug build takes minutes: the entry
            // is made by hand (see `zeros_zip`) and copied raw.
            let mut source = zip::ZipArchive::new(std::io::Cursor::new(zeros_zip(*size))).unwrap();
            zip.raw_copy_file_rename(source.by_index_raw(0).unwrap(), p.as_str())
                .unwrap();
        }
        // The zip writer refuses a name twice: write a placeholder of the
        // same length, then put the real name over it in the finished file.
        let placeholders: Vec<(String, &String)> = self
            .duplicates
            .iter()
            .enumerate()
            .map(|(i, (p, data))| {
                let mut name = format!("~dup{i}~");
                while name.len() < p.len() {
                    name.push('~');
                }
                zip.start_file(name.as_str(), opts).unwrap();
                zip.write_all(data).unwrap();
                (name, p)
            })
            .collect();
        zip.finish().unwrap();
        if !placeholders.is_empty() {
            let mut bytes = fs_err::read(&path).unwrap();
            for (placeholder, real) in placeholders {
                let at: Vec<usize> = bytes
                    .windows(placeholder.len())
                    .enumerate()
                    .filter(|(_, w)| *w == placeholder.as_bytes())
                    .map(|(i, _)| i)
                    .collect();
                assert_eq!(at.len(), 2, "local header and central directory");
                for i in at {
                    bytes[i..i + real.len()].copy_from_slice(real.as_bytes());
                }
            }
            fs_err::write(&path, bytes).unwrap();
        }
        path
    }
}

/// A zip holding one entry of `size` zero bytes, deflated by hand: one
/// fixed-Huffman block (RFC 1951 3.2.6) of a literal zero then matches of
/// length 258 at distance 1, 13 bits each (27 MB for 4 GiB), with ZIP64
/// sizes (APPNOTE 4.5.3) and the CRC-32 computed without reading the zeros.
fn zeros_zip(size: u64) -> Vec<u8> {
    let mut bits = BitWriter::default();
    bits.put(1, 1); // BFINAL
    bits.put(1, 2); // BTYPE 01: fixed Huffman codes
    let literal_zero = |bits: &mut BitWriter| bits.put_code(0b0011_0000, 8);
    if size > 0 {
        literal_zero(&mut bits);
    }
    let rest = size.saturating_sub(1);
    for _ in 0..rest / 258 {
        bits.put_code(0b1100_0101, 8); // length code 285: 258 bytes
        bits.put_code(0, 5); // distance code 0: distance 1
    }
    for _ in 0..rest % 258 {
        literal_zero(&mut bits);
    }
    bits.put_code(0, 7); // end of block (256)
    let data = bits.finish();

    let crc = crc32_of_zeros(size);
    let name = b"zeros";
    let zip64_extra = |out: &mut Vec<u8>| {
        out.extend(1u16.to_le_bytes());
        out.extend(16u16.to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend((data.len() as u64).to_le_bytes());
    };
    let common = |out: &mut Vec<u8>| {
        out.extend(45u16.to_le_bytes()); // version needed: ZIP64
        out.extend(0u16.to_le_bytes()); // flags
        out.extend(8u16.to_le_bytes()); // deflated
        out.extend(0u16.to_le_bytes()); // time
        out.extend(0x21u16.to_le_bytes()); // date: 1980-01-01
        out.extend(crc.to_le_bytes());
        out.extend(u32::MAX.to_le_bytes()); // sizes: in the ZIP64 extra field
        out.extend(u32::MAX.to_le_bytes());
        out.extend((name.len() as u16).to_le_bytes());
        out.extend(20u16.to_le_bytes());
    };
    let mut out = Vec::with_capacity(data.len() + 200);
    out.extend(0x0403_4b50u32.to_le_bytes());
    common(&mut out);
    out.extend(name);
    zip64_extra(&mut out);
    out.extend(&data);
    let directory = out.len();
    out.extend(0x0201_4b50u32.to_le_bytes());
    out.extend((3u16 << 8 | 45).to_le_bytes()); // made by: unix
    common(&mut out);
    out.extend(0u16.to_le_bytes()); // comment length
    out.extend(0u16.to_le_bytes()); // disk
    out.extend(0u16.to_le_bytes()); // internal attributes
    out.extend((0o100644u32 << 16).to_le_bytes());
    out.extend(0u32.to_le_bytes()); // local header offset
    out.extend(name);
    zip64_extra(&mut out);
    let directory_size = out.len() - directory;
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]); // disk numbers
    out.extend(1u16.to_le_bytes());
    out.extend(1u16.to_le_bytes());
    out.extend((directory_size as u32).to_le_bytes());
    out.extend((directory as u32).to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// Bits packed least significant first, as deflate stores them.
#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    len: u32,
}

impl BitWriter {
    fn put(&mut self, value: u64, count: u32) {
        self.acc |= value << self.len;
        self.len += count;
        while self.len >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.len -= 8;
        }
    }

    /// A Huffman code goes most significant bit first.
    fn put_code(&mut self, code: u32, count: u32) {
        let reversed = code.reverse_bits() >> (32 - count);
        self.put(u64::from(reversed), count);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.len > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// CRC-32 (the zip one, reflected polynomial 0xedb88320) of `n` zero bytes:
/// zeros leave only the initial register, multiplied by x^(8n) modulo the
/// polynomial (zlib's `crc32_combine` arithmetic).
fn crc32_of_zeros(n: u64) -> u32 {
    const POLY: u32 = 0xedb8_8320;
    fn mul(a: u32, mut b: u32) -> u32 {
        let mut product = 0;
        let mut m = 1u32 << 31;
        while m != 0 {
            if a & m != 0 {
                product ^= b;
            }
            m >>= 1;
            b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
        }
        product
    }
    // x^(8n) by squaring: `power` runs through x^(2^k), from x^8.
    let mut result = 1u32 << 31; // x^0
    let mut power = 1u32 << 23; // x^8
    let mut n = n;
    while n != 0 {
        if n & 1 != 0 {
            result = mul(power, result);
        }
        power = mul(power, power);
        n >>= 1;
    }
    mul(result, u32::MAX) ^ u32::MAX
}

/// `size` zero bytes as 1 MiB slices of one buffer.
fn zero_chunks(size: u64) -> impl Iterator<Item = &'static [u8]> {
    static ZEROS: [u8; 1 << 20] = [0; 1 << 20];
    let full = size / ZEROS.len() as u64;
    let rest = (size % ZEROS.len() as u64) as usize;
    (0..full)
        .map(|_| &ZEROS[..])
        .chain((rest > 0).then(|| &ZEROS[..rest]))
}

/// Hex SHA-256 of a file, to compare with what pyzap reports.
pub fn sha256_file(path: &Path) -> String {
    sha256_hex(&fs_err::read(path).unwrap())
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex(data: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn hand_made_zeros_inflate_to_zeros() {
        for size in [0u64, 1, 2, 258, 259, 1000, (1 << 20) + 3] {
            let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zeros_zip(size))).unwrap();
            let mut data = Vec::new();
            // The zip reader checks the CRC-32 at the end.
            archive.by_index(0).unwrap().read_to_end(&mut data).unwrap();
            assert_eq!(data.len() as u64, size);
            assert!(data.iter().all(|b| *b == 0));
        }
    }
}
