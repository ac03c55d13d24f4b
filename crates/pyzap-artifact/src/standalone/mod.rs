//! Standalone executables: `[launcher stub][CPython payload][zip][trailer]`,
//! the trailer being the zip's comment (format in `pyzap_launcher::trailer`).
//! The zip is the very one a `.pyz` holds, written after the stub and the
//! payload in one stream so its offsets are absolute and zipimport reads it.
//! The trailer also states the glibc the executable needs (`glibc.rs`).

mod dist;
mod elf;
mod glibc;
mod part_plan;
mod payload;
mod payload_cache;
mod stdlib_bytecode;

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use pyzap_launcher::{Part, Trailer};

pub use dist::{open_python_dist, PythonDist};
pub use elf::{elf_arch, ElfFacts};
pub use glibc::{GlibcFloor, GlibcNeed, GlibcVersion};
pub use payload::{build_payload, Payload, PayloadOptions};
pub use payload_cache::cached_payload;
pub use stdlib_bytecode::{precompile_stdlib, StdlibBytecode};

use crate::writer::write_zip;
use crate::{ArtifactEntry, ArtifactError, Manifest, WriteOptions};

/// What a standalone executable holds besides its zip.
pub struct StandaloneParts<'a> {
    /// The launcher stub (the `pyzap-launcher` binary).
    pub stub: &'a [u8],
    pub payload: &'a Payload,
    /// The glibc its parts need, stated in the trailer.
    pub glibc: &'a GlibcFloor,
}

/// Writes a standalone executable to `out` (atomically, mode 0755): the
/// stub, the payload, the zip of `entries`, and the trailer. Returns the
/// zip's entry count.
pub fn write_standalone(
    out: &Path,
    manifest: &Manifest,
    entries: Vec<ArtifactEntry>,
    opts: &WriteOptions,
    standalone: &StandaloneParts<'_>,
) -> Result<usize, ArtifactError> {
    let StandaloneParts {
        stub,
        payload,
        glibc,
    } = *standalone;
    let mut parts = Vec::new();
    let mut offset = 0;
    for (bytes, sha256) in &payload.parts {
        parts.push(Part {
            offset,
            size: bytes.len() as u64,
            sha256: sha256.clone(),
        });
        offset += bytes.len() as u64;
    }
    let trailer = Trailer {
        payload_offset: stub.len() as u64,
        payload_size: offset,
        interpreter: payload.interpreter.clone(),
        arch: payload.arch.clone(),
        python: payload.python.clone(),
        glibc: glibc.newest().map(|(version, _)| version.to_string()),
        parts,
    };
    let mut head: Vec<&[u8]> = vec![stub];
    head.extend(payload.parts.iter().map(|(b, _)| b.as_slice()));
    write_zip(
        out,
        manifest,
        entries,
        opts,
        &head,
        Some(trailer.to_bytes()),
    )
}

/// The trailer of a standalone executable, or `None` for a `.pyz`.
pub fn read_trailer(path: &Path) -> Result<Option<Trailer>, ArtifactError> {
    let io = |source| ArtifactError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut f = fs_err::File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    let tail_len = len.min(pyzap_launcher::trailer::MAX_LEN as u64);
    f.seek(SeekFrom::End(-(tail_len as i64))).map_err(io)?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).map_err(io)?;
    if !tail.ends_with(pyzap_launcher::trailer::MAGIC) {
        return Ok(None);
    }
    Trailer::parse(&tail, len)
        .map(Some)
        .map_err(|e| ArtifactError::NotAnArtifact {
            path: path.to_path_buf(),
            reason: format!("its standalone trailer is corrupt ({e})"),
        })
}
