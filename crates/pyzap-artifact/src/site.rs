//! Turning installed distributions into artifact entries: wheel files are
//! copied raw (zipped site dir or the to-be-extracted one), and bytecode is
//! compiled once per (wheel, interpreter) and kept in the build cache as a
//! small zip whose entries are copied raw too — so a warm build neither
//! decompresses, compiles nor recompresses anything.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use pyzap_wheel::{InstalledDist, Placement, SiteSource};

use crate::{ArtifactEntry, ArtifactError, EntrySource};

type Result<T> = std::result::Result<T, ArtifactError>;

/// Compiles Python sources for the target; implemented by the caller (which
/// knows how to run the target interpreter), so this crate runs no Python.
pub trait BytecodeCompiler {
    /// `sys.implementation.cache_tag` of the target (`cpython-311`).
    fn cache_tag(&self) -> &str;
    /// Everything about the compiling interpreter that can change the bytes
    /// it writes: the magic number alone is shared by every patch release of
    /// a minor version, whose marshal output may differ, so a cache keyed by
    /// it would make artifact bytes depend on which release compiled first.
    fn identity(&self) -> String;
    /// `(co_filename, source)` pairs to pycs; `None` where a source does not compile.
    fn compile(
        &self,
        sources: &[(String, Vec<u8>)],
    ) -> std::result::Result<Vec<Option<Vec<u8>>>, Box<dyn std::error::Error + Send + Sync>>;
}

pub const SITE_ZIP: &str = "site-packages";
pub const SITE_EXTRACT: &str = "__pyzap__/extract";

pub struct Bundled {
    pub dist: InstalledDist,
    pub sha256: String,
}

pub fn prefix(p: Placement) -> &'static str {
    match p {
        Placement::Zip => SITE_ZIP,
        Placement::Extract => SITE_EXTRACT,
    }
}

/// When one distribution must be unpacked, unpack them all. The cache entry
/// is created on the first run anyway, and imports from a directory beat
/// zipimport's (measured on black: ~3 ms at every start for its zipped
/// dependencies); a bundle of pure Python only still runs from the zip.
pub fn unify_placement(bundled: &mut [Bundled]) {
    if bundled
        .iter()
        .any(|b| b.dist.placement == Placement::Extract)
    {
        for b in bundled.iter_mut() {
            b.dist.placement = Placement::Extract;
        }
    }
}

/// Bumped whenever the cached bytecode zips change shape (names, compression).
const BYTECODE_LAYOUT: u32 = 2;

/// How an entry is stored. Bytecode that zipimport reads at every start is
/// stored uncompressed: inflating it costs more (~5 ms on black's
/// dependencies) than the bigger file does. Everything else is deflated.
pub fn compression_for(name: &str, len: usize) -> zip::CompressionMethod {
    let extracted = name.starts_with(SITE_EXTRACT)
        || (name.starts_with(crate::TARGETS_DIR) && name.contains("/extract/"));
    let imported_from_zip = name.ends_with(".pyc") && !extracted;
    if imported_from_zip || len < 64 {
        zip::CompressionMethod::Stored
    } else {
        zip::CompressionMethod::Deflated
    }
}

/// Where the pyc of `dest` (a site-relative `.py`) goes.
pub fn pyc_name(placement: Placement, dest: &str, cache_tag: &str) -> String {
    let stem = dest.strip_suffix(".py").unwrap_or(dest);
    match placement {
        // zipimport looks for `mod.pyc` beside `mod.py`.
        Placement::Zip => format!("{SITE_ZIP}/{stem}.pyc"),
        // The file-system importer looks in `__pycache__/mod.<tag>.pyc`.
        Placement::Extract => match stem.rsplit_once('/') {
            Some((dir, file)) => format!("{SITE_EXTRACT}/{dir}/__pycache__/{file}.{cache_tag}.pyc"),
            None => format!("{SITE_EXTRACT}/__pycache__/{stem}.{cache_tag}.pyc"),
        },
    }
}

/// One source to compile and where its pyc goes.
pub struct CompileJob {
    pub co_filename: String,
    pub source: Vec<u8>,
    pub dest: String,
}

/// Adds every file of `bundled` (and their cached or fresh bytecode) to `entries`.
pub fn add_distributions(
    bundled: &[Bundled],
    compiler: Option<&dyn BytecodeCompiler>,
    cache: &Path,
    extra_jobs: Vec<CompileJob>,
    entries: &mut Vec<ArtifactEntry>,
) -> Result<()> {
    for b in bundled {
        let d = &b.dist;
        let root = prefix(d.placement);
        for f in &d.site_files {
            entries.push(entry(
                &d.wheel_path,
                &format!("{root}/{}", f.dest),
                &f.source,
                f.mode,
            ));
        }
        for f in &d.scheme_files {
            let name = format!("__pyzap__/data/{}/{}", d.name, f.dest);
            entries.push(entry(&d.wheel_path, &name, &f.source, f.mode));
        }
    }
    let Some(compiler) = compiler else {
        return Ok(());
    };
    let mut misses: Vec<(PathBuf, Vec<CompileJob>)> = Vec::new();
    for b in bundled {
        let cached = cache.join("bytecode").join(format!(
            "{}-{}-{}-{}-v{BYTECODE_LAYOUT}.zip",
            b.sha256,
            compiler.cache_tag(),
            pyzap_fs::sha256_hex(compiler.identity().as_bytes())[..16].to_string(),
            // Entry names differ by placement (zip vs extracted layout).
            b.dist.placement.as_str()
        ));
        if cached.is_file() {
            add_zip_entries(&cached, entries)?;
            continue;
        }
        misses.push((cached, python_jobs(&b.dist, compiler.cache_tag())?));
    }
    let mut all: Vec<(String, Vec<u8>)> = Vec::new();
    for (_, jobs) in &misses {
        all.extend(
            jobs.iter()
                .map(|j| (j.co_filename.clone(), j.source.clone())),
        );
    }
    all.extend(
        extra_jobs
            .iter()
            .map(|j| (j.co_filename.clone(), j.source.clone())),
    );
    let compiled = compiler
        .compile(&all)
        .map_err(|e| ArtifactError::Bytecode(e.to_string()))?;
    let mut results = compiled.into_iter();
    for (cached, jobs) in misses {
        let pycs: Vec<(String, Vec<u8>)> = jobs
            .iter()
            .zip(results.by_ref())
            .filter_map(|(job, pyc)| Some((job.dest.clone(), pyc?)))
            .collect();
        write_bytecode_zip(&cached, &pycs)?;
        add_zip_entries(&cached, entries)?;
    }
    for (job, pyc) in extra_jobs.iter().zip(results) {
        if let Some(pyc) = pyc {
            entries.push(ArtifactEntry {
                name: job.dest.clone(),
                source: EntrySource::Bytes(pyc),
                mode: 0o644,
            });
        }
    }
    Ok(())
}

fn entry(wheel: &Path, name: &str, source: &SiteSource, mode: u32) -> ArtifactEntry {
    ArtifactEntry {
        name: name.to_string(),
        source: match source {
            SiteSource::Wheel { index } => EntrySource::Zip {
                archive: wheel.to_path_buf(),
                index: *index,
            },
            SiteSource::Bytes(b) => EntrySource::Bytes(b.clone()),
        },
        mode,
    }
}

fn python_jobs(dist: &InstalledDist, cache_tag: &str) -> Result<Vec<CompileJob>> {
    let wheel = &dist.wheel_path;
    let file = fs_err::File::open(wheel).map_err(|e| cache_io(wheel, e))?;
    let mut archive =
        zip::ZipArchive::new(std::io::BufReader::new(file.into_file())).map_err(|source| {
            ArtifactError::Source {
                archive: wheel.clone(),
                entry: String::new(),
                source,
            }
        })?;
    let mut jobs = Vec::new();
    for f in dist.python_sources() {
        let SiteSource::Wheel { index } = f.source else {
            continue;
        };
        let mut source = Vec::new();
        archive
            .by_index(index)
            .map_err(|source| ArtifactError::Source {
                archive: wheel.clone(),
                entry: f.dest.clone(),
                source,
            })?
            .read_to_end(&mut source)
            .map_err(|e| cache_io(wheel, e))?;
        let root = prefix(dist.placement);
        jobs.push(CompileJob {
            // Relative names: the build machine's paths never reach tracebacks.
            co_filename: format!("{root}/{}", f.dest),
            source,
            dest: pyc_name(dist.placement, &f.dest, cache_tag),
        });
    }
    Ok(jobs)
}

fn cache_io(path: &Path, source: std::io::Error) -> ArtifactError {
    ArtifactError::Cache {
        path: path.to_path_buf(),
        source,
    }
}

fn write_bytecode_zip(path: &Path, pycs: &[(String, Vec<u8>)]) -> Result<()> {
    let dir = path.parent().expect("cache file has a parent");
    fs_err::create_dir_all(dir).map_err(|e| cache_io(dir, e))?;
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| cache_io(dir, e))?;
    let zip_err = ArtifactError::zip(path);
    {
        let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(tmp.as_file()));
        let opts = zip::write::SimpleFileOptions::default()
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o644);
        for (name, data) in pycs {
            let opts = opts.compression_method(compression_for(name, data.len()));
            zip.start_file(name.as_str(), opts).map_err(zip_err)?;
            zip.write_all(data).map_err(|e| cache_io(path, e))?;
        }
        zip.finish().map_err(zip_err)?;
    }
    tmp.persist(path).map_err(|e| cache_io(path, e.error))?;
    Ok(())
}

fn add_zip_entries(path: &Path, entries: &mut Vec<ArtifactEntry>) -> Result<()> {
    let file = fs_err::File::open(path).map_err(|e| cache_io(path, e))?;
    let zip_err = ArtifactError::zip(path);
    let archive =
        zip::ZipArchive::new(std::io::BufReader::new(file.into_file())).map_err(zip_err)?;
    for (index, name) in archive.file_names().enumerate() {
        entries.push(ArtifactEntry {
            name: name.map_err(zip_err)?.into_owned(),
            source: EntrySource::Zip {
                archive: path.to_path_buf(),
                index,
            },
            mode: 0o644,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyc_locations() {
        assert_eq!(
            pyc_name(Placement::Zip, "click/core.py", "cpython-311"),
            "site-packages/click/core.pyc"
        );
        assert_eq!(
            pyc_name(Placement::Extract, "black/__init__.py", "cpython-311"),
            "__pyzap__/extract/black/__pycache__/__init__.cpython-311.pyc"
        );
        assert_eq!(
            pyc_name(Placement::Extract, "six.py", "cpython-311"),
            "__pyzap__/extract/__pycache__/six.cpython-311.pyc"
        );
    }
}
