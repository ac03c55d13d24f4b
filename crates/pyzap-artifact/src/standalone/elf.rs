//! What an ELF file asks of the machine that loads it: its machine
//! (`e_machine`), its dynamic loader (`PT_INTERP`), the libraries it links
//! (`DT_NEEDED`) and the newest glibc symbol version among its version needs
//! (`DT_VERNEED`: the `GLIBC_2.34` names `readelf -V` lists, which `ld.so`
//! refuses to load on an older glibc).
//!
//! Read through the program headers and the dynamic segment, as the loader
//! reads them, so a file stripped of its section headers is read alike.
//! Every offset is checked: the launcher stub may come from `--launcher`.

use std::io::Read;
use std::path::Path;

use crate::standalone::GlibcVersion;

/// The facts of one ELF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfFacts {
    /// `std::env::consts::ARCH`'s word for its machine (`x86_64`).
    pub arch: String,
    /// The dynamic loader it names (`/lib64/ld-linux-x86-64.so.2`); `None`
    /// for a static executable or a shared library.
    pub interpreter: Option<String>,
    /// The shared libraries it links (`libc.so.6`).
    pub needed: Vec<String>,
    /// The newest `GLIBC_x.y` among its version needs; `None` when it
    /// needs no versioned glibc symbol (static, or not linked to glibc).
    pub glibc: Option<GlibcVersion>,
}

impl ElfFacts {
    /// Reads `bytes`, a whole ELF file. The error completes a sentence
    /// whose subject is the file: "is not an ELF file".
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let elf = Reader::new(bytes)?;
        let arch = machine_name(elf.half(18)?);
        let mut interpreter = None;
        let mut dynamic = None;
        let mut loads = Vec::new();
        for ph in elf.program_headers()? {
            match ph.kind {
                PT_INTERP => {
                    let raw = elf.slice(ph.offset, ph.filesz)?;
                    let path = raw.split(|b| *b == 0).next().unwrap_or_default();
                    interpreter = Some(String::from_utf8_lossy(path).into_owned());
                }
                PT_DYNAMIC => dynamic = Some(ph),
                PT_LOAD => loads.push(ph),
                _ => {}
            }
        }
        let (needed, glibc) = match dynamic {
            Some(d) => elf.dynamic_needs(&d, &loads)?,
            None => (Vec::new(), None),
        };
        Ok(ElfFacts {
            arch,
            interpreter,
            needed,
            glibc,
        })
    }

    /// Neither a loader nor a library: the kernel runs it as it is.
    pub fn is_static(&self) -> bool {
        self.interpreter.is_none() && self.needed.is_empty()
    }
}

/// The architecture an ELF executable was built for, in Rust's words.
pub fn elf_arch(path: &Path) -> Result<String, String> {
    let mut head = [0u8; 20];
    fs_err::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if &head[..4] != ELF_MAGIC {
        return Err(format!("{} is not an ELF executable", path.display()));
    }
    let machine = if head[5] == 2 {
        u16::from_be_bytes([head[18], head[19]])
    } else {
        u16::from_le_bytes([head[18], head[19]])
    };
    Ok(machine_name(machine))
}

/// Whether `bytes` start like an ELF file.
pub(crate) fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(ELF_MAGIC)
}

const ELF_MAGIC: &[u8; 4] = b"\x7fELF";
const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;
const DT_STRSZ: u64 = 10;
const DT_VERNEED: u64 = 0x6fff_fffe;
const DT_VERNEEDNUM: u64 = 0x6fff_ffff;
/// More version needs or names than any real file has: a bound on loops
/// over offsets a corrupt file could make circular.
const MAX_ENTRIES: u64 = 4096;

fn machine_name(machine: u16) -> String {
    match machine {
        0x03 => "x86",
        0x3e => "x86_64",
        0x28 => "arm",
        0xb7 => "aarch64",
        0x08 => "mips",
        0x14 => "powerpc",
        0x15 => "powerpc64",
        0x16 => "s390x",
        0xf3 => "riscv64",
        0x102 => "loongarch64",
        other => return format!("elf-machine-{other:#x}"),
    }
    .to_string()
}

/// A `GLIBC_2.17` (or `GLIBC_2.2.5`) version name as a version; `None` for
/// other names (`GLIBC_PRIVATE`, `GCC_3.0`).
fn glibc_version_of(name: &[u8]) -> Option<GlibcVersion> {
    let rest = std::str::from_utf8(name.strip_prefix(b"GLIBC_")?).ok()?;
    let mut parts = rest.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some(GlibcVersion { major, minor })
}

struct ProgramHeader {
    kind: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
}

/// Bounds-checked reads of an ELF file of either class and byte order.
struct Reader<'a> {
    bytes: &'a [u8],
    wide: bool,
    big_endian: bool,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Result<Self, String> {
        if !is_elf(bytes) || bytes.len() < 52 {
            return Err("is not an ELF executable".into());
        }
        let wide = match bytes[4] {
            1 => false,
            2 => true,
            other => return Err(format!("is a corrupt ELF file (class {other})")),
        };
        Ok(Reader {
            bytes,
            wide,
            big_endian: bytes[5] == 2,
        })
    }

    fn corrupt(what: &str) -> String {
        format!("is a corrupt ELF file ({what} past its end)")
    }

    fn slice(&self, offset: u64, len: u64) -> Result<&'a [u8], String> {
        let start = usize::try_from(offset).map_err(|_| Self::corrupt("an offset"))?;
        let len = usize::try_from(len).map_err(|_| Self::corrupt("a size"))?;
        start
            .checked_add(len)
            .and_then(|end| self.bytes.get(start..end))
            .ok_or_else(|| Self::corrupt("a table"))
    }

    fn uint(&self, offset: u64, size: u64) -> Result<u64, String> {
        let raw = self.slice(offset, size)?;
        let mut buf = [0u8; 8];
        if self.big_endian {
            buf[8 - raw.len()..].copy_from_slice(raw);
            Ok(u64::from_be_bytes(buf))
        } else {
            buf[..raw.len()].copy_from_slice(raw);
            Ok(u64::from_le_bytes(buf))
        }
    }

    fn half(&self, offset: u64) -> Result<u16, String> {
        // Two bytes always fit a u16.
        self.uint(offset, 2).map(|v| v as u16)
    }

    fn word(&self, offset: u64) -> Result<u64, String> {
        self.uint(offset, 4)
    }

    /// An address-sized field (`Elf32_Addr`, `Elf64_Off`, …).
    fn addr(&self, offset: u64) -> Result<u64, String> {
        self.uint(offset, if self.wide { 8 } else { 4 })
    }

    fn program_headers(&self) -> Result<Vec<ProgramHeader>, String> {
        let (phoff, entsize, count) = if self.wide {
            (self.addr(32)?, self.half(54)?, self.half(56)?)
        } else {
            (self.addr(28)?, self.half(42)?, self.half(44)?)
        };
        let mut out = Vec::with_capacity(usize::from(count));
        for i in 0..u64::from(count) {
            let at = phoff
                .checked_add(i * u64::from(entsize))
                .ok_or_else(|| Self::corrupt("a program header"))?;
            let ph = if self.wide {
                ProgramHeader {
                    kind: self.word(at)? as u32,
                    offset: self.addr(at.saturating_add(8))?,
                    vaddr: self.addr(at.saturating_add(16))?,
                    filesz: self.addr(at.saturating_add(32))?,
                }
            } else {
                ProgramHeader {
                    kind: self.word(at)? as u32,
                    offset: self.addr(at.saturating_add(4))?,
                    vaddr: self.addr(at.saturating_add(8))?,
                    filesz: self.addr(at.saturating_add(16))?,
                }
            };
            out.push(ph);
        }
        Ok(out)
    }

    /// `DT_NEEDED` names and the newest glibc version need of the dynamic
    /// segment `dynamic`; its addresses are found in the file through the
    /// `PT_LOAD` segments `loads`.
    fn dynamic_needs(
        &self,
        dynamic: &ProgramHeader,
        loads: &[ProgramHeader],
    ) -> Result<(Vec<String>, Option<GlibcVersion>), String> {
        let entry = if self.wide { 16 } else { 8 };
        let table = self.slice(dynamic.offset, dynamic.filesz)?;
        let (mut needed_at, mut strtab, mut strsz) = (Vec::new(), None, None);
        let (mut verneed, mut verneednum) = (None, 0);
        for i in 0..(table.len() as u64 / entry).min(MAX_ENTRIES) {
            let at = dynamic.offset.saturating_add(i * entry);
            let tag = self.addr(at)?;
            let value = self.addr(at.saturating_add(entry / 2))?;
            match tag {
                DT_NULL => break,
                DT_NEEDED => needed_at.push(value),
                DT_STRTAB => strtab = Some(value),
                DT_STRSZ => strsz = Some(value),
                DT_VERNEED => verneed = Some(value),
                DT_VERNEEDNUM => verneednum = value.min(MAX_ENTRIES),
                _ => {}
            }
        }
        let Some(strtab) = strtab else {
            return Ok((Vec::new(), None));
        };
        let strings = self.slice(file_offset(strtab, loads)?, strsz.unwrap_or(0))?;
        let name = |offset: u64| -> Result<&'a [u8], String> {
            let tail = usize::try_from(offset)
                .ok()
                .and_then(|o| strings.get(o..))
                .ok_or_else(|| Self::corrupt("a name"))?;
            Ok(tail.split(|b| *b == 0).next().unwrap_or_default())
        };
        let needed = needed_at
            .into_iter()
            .map(|o| name(o).map(|n| String::from_utf8_lossy(n).into_owned()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut glibc = None;
        if let Some(verneed) = verneed {
            // Elf_Verneed and Elf_Vernaux have one layout in both classes;
            // offsets only grow (and saturate), so every loop ends.
            let mut at = file_offset(verneed, loads)?;
            for _ in 0..verneednum {
                let count = self.half(at.saturating_add(2))?;
                let mut aux = at.saturating_add(self.word(at.saturating_add(8))?);
                for _ in 0..count {
                    let version = glibc_version_of(name(self.word(aux.saturating_add(8))?)?);
                    glibc = glibc.max(version);
                    aux = aux.saturating_add(self.word(aux.saturating_add(12))?);
                }
                let next = self.word(at.saturating_add(12))?;
                if next == 0 {
                    break;
                }
                at = at.saturating_add(next);
            }
        }
        Ok((needed, glibc))
    }
}

/// The file offset of the virtual address `addr`, through the segment that
/// loads it.
fn file_offset(addr: u64, loads: &[ProgramHeader]) -> Result<u64, String> {
    loads
        .iter()
        .find(|l| addr >= l.vaddr && addr - l.vaddr < l.filesz)
        .map(|l| l.offset.saturating_add(addr - l.vaddr))
        .ok_or_else(|| "is a corrupt ELF file (an address no segment loads)".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ELF64 little-endian executable built here: one `PT_LOAD` mapping
    /// the whole file at 0x1000, an optional `PT_INTERP`, and a dynamic
    /// segment linking libc.so.6 with version needs `versions`.
    fn elf64(interp: Option<&str>, versions: &[&str]) -> Vec<u8> {
        let base = 0x1000u64;
        let mut strtab = vec![0u8];
        let mut add = |s: &str| {
            let at = strtab.len() as u64;
            strtab.extend_from_slice(s.as_bytes());
            strtab.push(0);
            at
        };
        let libc = add("libc.so.6");
        let names: Vec<u64> = versions.iter().map(|v| add(v)).collect();
        let interp_at = interp.map(&mut add);
        // Layout: header (64), 3 program headers (3 * 56), dynamic, verneed, strtab.
        let phoff = 64u64;
        let dyn_off = phoff + 3 * 56;
        let dyn_entries = 6u64;
        let verneed_off = dyn_off + dyn_entries * 16;
        let verneed_len = 16 + 16 * versions.len() as u64;
        let strtab_off = verneed_off + verneed_len;
        let mut f = vec![0u8; strtab_off as usize];
        f[..4].copy_from_slice(ELF_MAGIC);
        f[4] = 2; // 64-bit
        f[5] = 1; // little-endian
        f[6] = 1;
        f[16..18].copy_from_slice(&3u16.to_le_bytes()); // ET_DYN
        f[18..20].copy_from_slice(&0x3eu16.to_le_bytes());
        f[32..40].copy_from_slice(&phoff.to_le_bytes());
        f[54..56].copy_from_slice(&56u16.to_le_bytes());
        f[56..58].copy_from_slice(&3u16.to_le_bytes());
        let mut ph = |i: u64, kind: u32, offset: u64, size: u64| {
            let at = (phoff + i * 56) as usize;
            f[at..at + 4].copy_from_slice(&kind.to_le_bytes());
            f[at + 8..at + 16].copy_from_slice(&offset.to_le_bytes());
            f[at + 16..at + 24].copy_from_slice(&(base + offset).to_le_bytes());
            f[at + 32..at + 40].copy_from_slice(&size.to_le_bytes());
        };
        let total = strtab_off + strtab.len() as u64;
        ph(0, PT_LOAD, 0, total);
        ph(1, PT_DYNAMIC, dyn_off, dyn_entries * 16);
        match interp_at {
            Some(at) => ph(
                2,
                PT_INTERP,
                strtab_off + at,
                interp.map_or(0, |i| i.len() as u64 + 1),
            ),
            None => ph(2, 6 /* PT_PHDR */, phoff, 3 * 56),
        }
        let dynamic = [
            (DT_NEEDED, libc),
            (DT_STRTAB, base + strtab_off),
            (DT_STRSZ, strtab.len() as u64),
            (DT_VERNEED, base + verneed_off),
            (DT_VERNEEDNUM, 1),
            (DT_NULL, 0),
        ];
        for (i, (tag, value)) in dynamic.iter().enumerate() {
            let at = dyn_off as usize + i * 16;
            f[at..at + 8].copy_from_slice(&tag.to_le_bytes());
            f[at + 8..at + 16].copy_from_slice(&value.to_le_bytes());
        }
        let v = verneed_off as usize;
        f[v..v + 2].copy_from_slice(&1u16.to_le_bytes());
        f[v + 2..v + 4].copy_from_slice(&(versions.len() as u16).to_le_bytes());
        f[v + 4..v + 8].copy_from_slice(&(libc as u32).to_le_bytes());
        f[v + 8..v + 12].copy_from_slice(&16u32.to_le_bytes());
        for (i, name) in names.iter().enumerate() {
            let a = v + 16 + i * 16;
            f[a + 8..a + 12].copy_from_slice(&(*name as u32).to_le_bytes());
            let next: u32 = if i + 1 < names.len() { 16 } else { 0 };
            f[a + 12..a + 16].copy_from_slice(&next.to_le_bytes());
        }
        f.extend_from_slice(&strtab);
        f
    }

    fn v(major: u32, minor: u32) -> Option<GlibcVersion> {
        Some(GlibcVersion { major, minor })
    }

    #[test]
    fn the_newest_glibc_version_need_counts() {
        let bytes = elf64(
            Some("/lib64/ld-linux-x86-64.so.2"),
            &["GLIBC_2.2.5", "GLIBC_2.34", "GLIBC_PRIVATE", "GLIBC_2.17"],
        );
        let facts = ElfFacts::parse(&bytes).unwrap();
        assert_eq!(facts.arch, "x86_64");
        assert_eq!(
            facts.interpreter.as_deref(),
            Some("/lib64/ld-linux-x86-64.so.2")
        );
        assert_eq!(facts.needed, ["libc.so.6"]);
        assert_eq!(facts.glibc, v(2, 34));
        assert!(!facts.is_static());
        // A shared library names no loader but links libraries all the same.
        let lib = ElfFacts::parse(&elf64(None, &["GLIBC_2.14"])).unwrap();
        assert_eq!((lib.interpreter.as_deref(), lib.glibc), (None, v(2, 14)));
        assert!(!lib.is_static());
    }

    /// This test binary, linked here against this machine's glibc.
    #[test]
    fn a_real_dynamic_executable() {
        let facts = ElfFacts::parse(&fs_err::read("/proc/self/exe").unwrap()).unwrap();
        assert_eq!(facts.arch, std::env::consts::ARCH);
        assert!(facts.interpreter.is_some(), "{facts:?}");
        assert!(
            facts.needed.iter().any(|n| n.starts_with("libc.so")),
            "{facts:?}"
        );
        assert!(facts.glibc >= v(2, 2), "{facts:?}");
    }

    #[test]
    fn hostile_files_are_refused_without_panicking() {
        let good = elf64(Some("/lib/ld.so"), &["GLIBC_2.28"]);
        assert_eq!(
            ElfFacts::parse(b"#!/bin/sh\n").unwrap_err(),
            "is not an ELF executable"
        );
        // Every truncation, and garbage over every header byte.
        for len in 0..good.len() {
            let _ = ElfFacts::parse(&good[..len]);
        }
        for at in 0..good.len() {
            for garbage in [0xff, 0x80, 0x01] {
                let mut bad = good.clone();
                bad[at] ^= garbage;
                let _ = ElfFacts::parse(&bad);
            }
        }
        // Offsets that would overflow are refused, not wrapped.
        let mut far = good.clone();
        far[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(ElfFacts::parse(&far).unwrap_err().contains("corrupt"));
    }

    #[test]
    fn version_names() {
        assert_eq!(glibc_version_of(b"GLIBC_2.17"), v(2, 17));
        assert_eq!(glibc_version_of(b"GLIBC_2.2.5"), v(2, 2));
        assert_eq!(glibc_version_of(b"GLIBC_PRIVATE"), None);
        assert_eq!(glibc_version_of(b"GCC_3.0"), None);
    }
}
