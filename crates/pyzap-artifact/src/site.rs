//! Turning installed distributions into artifact entries: wheel files are
//! copied raw (zipped site dir or the to-be-extracted one), and bytecode is
//! compiled once per (wheel, interpreter) and kept in the build cache as a
//! small zip whose entries are copied raw too — so a warm build neither
//! decompresses, compiles nor recompresses anything. A cold build reads and
//! compiles sources in batches of bounded size, so its memory does not grow
//! with the wheels; and a bundle whose wheels put a file where another puts
//! a directory is refused before anything is written.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use pyzap_wheel::{InstalledDist, Placement, SiteSource};

use crate::{
    ArtifactEntry, ArtifactError, EntrySource, DATA_DIR, SCRIPTS_DIR, SITE_EXTRACT, SITE_ZIP,
};

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

/// A wheel chosen for a target: its files as laid out by `pyzap-wheel`, and
/// the sha256 of the wheel file.
#[derive(Debug, Clone)]
pub struct Bundled {
    pub dist: InstalledDist,
    pub sha256: String,
}

pub(crate) fn prefix(p: Placement) -> &'static str {
    match p {
        Placement::Zip => SITE_ZIP,
        Placement::Extract => SITE_EXTRACT,
    }
}

/// Every distribution is unpacked into the runtime cache, pure Python too.
/// The bundle is then a real site dir, as in a venv: `importlib.metadata`,
/// `importlib.resources`, `__file__` and `.pth` files work the same in the
/// app and in the children of the bundle's venv, tracebacks show real paths
/// with source lines, and a running process reads nothing more from the
/// artifact, so replacing the file under it is safe. It is also faster
/// once unpacked: imports from a directory beat zipimport's (flake8
/// `--version`, warm: 80 ms unpacked against 87 ms zipped; black: ~3 ms),
/// for a first run 2–10 % slower (flake8's 160 files unpacked).
pub fn extract_everything(bundled: &mut [Bundled]) {
    for b in bundled.iter_mut() {
        b.dist.placement = Placement::Extract;
    }
}

/// Bumped whenever the cached bytecode zips change shape (names, compression).
const BYTECODE_LAYOUT: u32 = 2;

/// How an entry is stored. Bytecode that zipimport reads at every start is
/// stored uncompressed: inflating it costs more (~5 ms on black's
/// dependencies) than the bigger file does. Everything else is deflated.
pub(crate) fn compression_for(name: &str, len: usize) -> zip::CompressionMethod {
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

/// Sources are compiled in batches of at most this many bytes, and each
/// batch's bytecode is written out before the next is read: the memory a
/// build needs does not grow with the size of the wheels. Bytecode can be
/// five times the size of its source (measured: 660 kB of pyc for 131 kB of
/// one-line functions), so a batch holds about 50 MB at its peak.
pub(crate) const COMPILE_BATCH_BYTES: u64 = 8 << 20;
/// A source bigger than a batch is left for the runtime to compile (the
/// compiler would need some hundred times its size in memory anyway).
const MAX_COMPILED_SOURCE: u64 = COMPILE_BATCH_BYTES;

/// Adds every file of `bundled` (and their cached or fresh bytecode) to `entries`.
pub fn add_distributions(
    bundled: &[Bundled],
    compiler: Option<&dyn BytecodeCompiler>,
    cache: &Path,
    extra_jobs: Vec<CompileJob>,
    entries: &mut Vec<ArtifactEntry>,
) -> Result<()> {
    pyzap_wheel::check_site_clashes(bundled.iter().map(|b| &b.dist))?;
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
            match f.dest.strip_prefix("scripts/") {
                // Into the unpacked tree, executable (wheels seldom keep the
                // bit; installers set it): the venv's bin/ links to them.
                Some(script) if d.placement == Placement::Extract => entries.push(entry(
                    &d.wheel_path,
                    &format!("{SITE_EXTRACT}/{SCRIPTS_DIR}/{script}"),
                    &f.source,
                    0o755,
                )),
                _ => {
                    let name = format!("{DATA_DIR}/{}/{}", d.name, f.dest);
                    entries.push(entry(&d.wheel_path, &name, &f.source, f.mode));
                }
            }
        }
    }
    let Some(compiler) = compiler else {
        return Ok(());
    };
    let mut misses: Vec<(PathBuf, &InstalledDist)> = Vec::new();
    for b in bundled {
        let cached = cache.join("bytecode").join(format!(
            "{}-{}-{}-{}-v{BYTECODE_LAYOUT}.zip",
            b.sha256,
            compiler.cache_tag(),
            &pyzap_fs::sha256_hex(compiler.identity().as_bytes())[..16],
            // Entry names differ by placement (zip vs extracted layout).
            b.dist.placement.as_str()
        ));
        if cached.is_file() {
            add_zip_entries(&cached, entries)?;
            continue;
        }
        misses.push((cached, &b.dist));
    }
    let mut batches = Batches {
        compiler,
        sources: Vec::new(),
        dests: Vec::new(),
        bytes: 0,
        outputs: Vec::new(),
        enqueued: Vec::new(),
        extra: Vec::new(),
    };
    for (owner, (cached, dist)) in misses.iter().enumerate() {
        batches.outputs.push(Some(BytecodeZip::create(cached)?));
        each_python_job(dist, compiler.cache_tag(), |job| {
            batches.push(Some(owner), job)
        })?;
        batches.enqueued.push(owner);
    }
    for job in extra_jobs {
        batches.push(None, job)?;
    }
    batches.flush()?;
    for (cached, _) in &misses {
        add_zip_entries(cached, entries)?;
    }
    entries.extend(batches.extra);
    Ok(())
}

/// Compile jobs gathered up to `COMPILE_BATCH_BYTES`, then compiled and
/// written: bytecode of a distribution to its cache zip (`outputs[owner]`),
/// the rest (`owner` `None`) kept as entries.
struct Batches<'a> {
    compiler: &'a dyn BytecodeCompiler,
    sources: Vec<(String, Vec<u8>)>,
    dests: Vec<(Option<usize>, String)>,
    bytes: u64,
    /// Open until every job of the distribution is compiled.
    outputs: Vec<Option<BytecodeZip>>,
    /// Distributions whose jobs are all pushed: complete after the next flush.
    enqueued: Vec<usize>,
    extra: Vec<ArtifactEntry>,
}

impl Batches<'_> {
    fn push(&mut self, owner: Option<usize>, job: CompileJob) -> Result<()> {
        let len = job.source.len() as u64;
        if self.bytes + len > COMPILE_BATCH_BYTES {
            self.flush()?;
        }
        self.bytes += len;
        self.sources.push((job.co_filename, job.source));
        self.dests.push((owner, job.dest));
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if !self.sources.is_empty() {
            let compiled = self
                .compiler
                .compile(&self.sources)
                .map_err(|e| ArtifactError::Bytecode(e.to_string()))?;
            self.sources.clear();
            self.bytes = 0;
            for ((owner, dest), pyc) in self.dests.drain(..).zip(compiled) {
                let Some(pyc) = pyc else { continue };
                match owner {
                    Some(i) => self.outputs[i]
                        .as_mut()
                        .expect("open until its jobs are compiled")
                        .add(&dest, &pyc)?,
                    None => self.extra.push(ArtifactEntry {
                        name: dest,
                        source: EntrySource::Bytes(pyc),
                        mode: 0o644,
                    }),
                }
            }
        }
        for i in self.enqueued.drain(..) {
            if let Some(out) = self.outputs[i].take() {
                out.persist()?;
            }
        }
        Ok(())
    }
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

/// Calls `f` with each Python source of `dist` to compile, read one at a time.
fn each_python_job(
    dist: &InstalledDist,
    cache_tag: &str,
    mut f: impl FnMut(CompileJob) -> Result<()>,
) -> Result<()> {
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
    let root = prefix(dist.placement);
    for sf in dist.python_sources() {
        let SiteSource::Wheel { index } = sf.source else {
            continue;
        };
        let member = archive
            .by_index(index)
            .map_err(|source| ArtifactError::Source {
                archive: wheel.clone(),
                entry: sf.dest.clone(),
                source,
            })?;
        if member.size() > MAX_COMPILED_SOURCE {
            tracing::warn!(
                "{}: {} is {} bytes, over {MAX_COMPILED_SOURCE}: not precompiled",
                wheel.display(),
                sf.dest,
                member.size()
            );
            continue;
        }
        let mut source = Vec::with_capacity(member.size() as usize);
        // `take`: the size was checked, but it is the wheel's word.
        member
            .take(MAX_COMPILED_SOURCE)
            .read_to_end(&mut source)
            .map_err(|e| cache_io(wheel, e))?;
        f(CompileJob {
            // Relative names: the build machine's paths never reach tracebacks.
            co_filename: format!("{root}/{}", sf.dest),
            source,
            dest: pyc_name(dist.placement, &sf.dest, cache_tag),
        })?;
    }
    Ok(())
}

fn cache_io(path: &Path, source: std::io::Error) -> ArtifactError {
    ArtifactError::Cache {
        path: path.to_path_buf(),
        source,
    }
}

/// A bytecode cache zip being written, beside `path` where it is renamed to.
struct BytecodeZip {
    path: PathBuf,
    tmp: tempfile::NamedTempFile,
    zip: zip::ZipWriter<std::io::BufWriter<fs_err::File>>,
}

impl BytecodeZip {
    fn create(path: &Path) -> Result<Self> {
        let dir = path.parent().expect("cache file has a parent");
        fs_err::create_dir_all(dir).map_err(|e| cache_io(dir, e))?;
        let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| cache_io(dir, e))?;
        let file = tmp.as_file().try_clone().map_err(|e| cache_io(dir, e))?;
        let file = fs_err::File::from_parts(file, tmp.path());
        Ok(BytecodeZip {
            path: path.to_path_buf(),
            tmp,
            zip: zip::ZipWriter::new(std::io::BufWriter::new(file)),
        })
    }

    fn add(&mut self, name: &str, data: &[u8]) -> Result<()> {
        let path = self.tmp.path().to_path_buf();
        let opts = zip::write::SimpleFileOptions::default()
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o644)
            .compression_method(compression_for(name, data.len()));
        self.zip
            .start_file(name, opts)
            .map_err(ArtifactError::zip(&path))?;
        self.zip.write_all(data).map_err(|e| cache_io(&path, e))
    }

    fn persist(self) -> Result<()> {
        let path = &self.path;
        self.zip
            .finish()
            .map_err(ArtifactError::zip(path))?
            .into_inner()
            .map_err(|e| cache_io(path, e.into_error()))?;
        self.tmp
            .persist(path)
            .map_err(|e| cache_io(path, e.error))?;
        Ok(())
    }
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
    use std::cell::RefCell;

    use pyzap_test_support::WheelBuilder;

    use super::*;

    /// Records the bytes of source in each call.
    struct BatchRecorder(RefCell<Vec<u64>>);

    impl BytecodeCompiler for BatchRecorder {
        fn cache_tag(&self) -> &str {
            "cpython-311"
        }
        fn identity(&self) -> String {
            "recorder".into()
        }
        fn compile(
            &self,
            sources: &[(String, Vec<u8>)],
        ) -> std::result::Result<Vec<Option<Vec<u8>>>, Box<dyn std::error::Error + Send + Sync>>
        {
            let bytes = sources.iter().map(|(_, s)| s.len() as u64).sum();
            self.0.borrow_mut().push(bytes);
            Ok(sources
                .iter()
                .map(|(n, _)| Some(n.clone().into_bytes()))
                .collect())
        }
    }

    #[test]
    fn sources_are_compiled_in_bounded_batches_and_a_huge_one_is_left() {
        let tmp = tempfile::tempdir().unwrap();
        let bundled: Vec<Bundled> = ["one", "two", "three"]
            .iter()
            .map(|name| {
                let mut w = WheelBuilder::new(name, "1.0");
                for i in 0..6 {
                    w = w.zeros(&format!("{name}/m{i}.py"), 1 << 20);
                }
                if *name == "two" {
                    w = w.zeros("two/huge.py", MAX_COMPILED_SOURCE + 1);
                }
                let path = w.build(tmp.path());
                Bundled {
                    dist: pyzap_wheel::layout_wheel(&pyzap_wheel::Wheel::open(&path).unwrap()),
                    sha256: name.to_string(),
                }
            })
            .collect();
        let recorder = BatchRecorder(RefCell::new(Vec::new()));
        let cache = tmp.path().join("cache");
        let mut entries = Vec::new();
        let extra = vec![CompileJob {
            co_filename: "app.py".into(),
            source: b"x = 1\n".to_vec(),
            dest: "app.pyc".into(),
        }];
        add_distributions(&bundled, Some(&recorder), &cache, extra, &mut entries).unwrap();
        let batches = recorder.0.into_inner();
        assert_eq!(batches.len(), 3, "{batches:?}");
        assert!(
            batches.iter().all(|b| *b <= COMPILE_BATCH_BYTES),
            "{batches:?}"
        );
        assert_eq!(batches.iter().sum::<u64>(), 18 * (1 << 20) + 6);
        let pycs: Vec<&str> = entries
            .iter()
            .map(|e| e.name.as_str())
            .filter(|n| n.ends_with(".pyc"))
            .collect();
        assert_eq!(pycs.len(), 19, "{pycs:?}");
        assert!(!pycs.iter().any(|n| n.contains("huge")));
        let cached = fs_err::read_dir(cache.join("bytecode")).unwrap().count();
        assert_eq!(cached, 3, "one bytecode zip per wheel, no temporary left");
    }

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
