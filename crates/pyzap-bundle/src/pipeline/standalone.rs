//! A standalone executable (`pyzap build --standalone`): the CPython of
//! `--python-dist` (downloaded into the build cache when it is a URL,
//! checked against `--python-dist-sha256`), the launcher stub found next to
//! `pyzap`, and the payload packed from the distribution.
//!
//! The build target is read from the distribution by running its own
//! interpreter once (`-I -S`), as `--python` does: a relocatable CPython runs
//! from wherever it was unpacked, and asking it gives exact facts (ABI flags,
//! pyc magic, glibc, platform tags) that file names and directory layouts only
//! hint at. The same interpreter then precompiles the bundle's bytecode. A
//! distribution that cannot run here (another architecture) is refused.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use pyzap_artifact::{ArtifactEntry, Manifest, PayloadOptions, PythonDist, WriteOptions};
use pyzap_index::http::{redact, HttpClient};
use pyzap_python::Interpreter;

use crate::{BundleError, Reporter, Result, StandaloneOptions};

/// Everything `--standalone` needs beyond a `.pyz` build.
pub struct Standalone {
    dist: PythonDist,
    stub: PathBuf,
    strip_stdlib: bool,
}

/// Finds the distribution (downloaded and checked when needed) and the
/// launcher stub, and checks that they are built for one architecture.
pub fn prepare(
    options: &StandaloneOptions,
    cache: &Path,
    reporter: &dyn Reporter,
) -> Result<Standalone> {
    let spec = options.python_dist.as_str();
    let wanted = options
        .python_dist_sha256
        .as_deref()
        .map(|h| h.trim().trim_start_matches("sha256:").to_ascii_lowercase());
    let input = if spec.starts_with("https://") || spec.starts_with("http://") {
        download(spec, wanted.as_deref(), cache, reporter)?
    } else {
        let path = PathBuf::from(spec);
        if let (Some(want), true) = (&wanted, path.is_file()) {
            check_sha256(&path, want)?;
        }
        path
    };
    reporter.step(&format!("python distribution: {}", input.display()));
    let dist = pyzap_artifact::open_python_dist(&input, cache)?;
    let stub = match &options.launcher {
        Some(p) => p.clone(),
        None => default_launcher()?,
    };
    let stub_arch =
        pyzap_artifact::elf_arch(&stub).map_err(|reason| BundleError::LauncherUnusable {
            path: stub.clone(),
            reason,
        })?;
    if stub_arch != dist.arch {
        return Err(BundleError::ArchMismatch {
            dist: input,
            dist_arch: dist.arch,
            launcher: stub,
            launcher_arch: stub_arch,
        });
    }
    Ok(Standalone {
        dist,
        stub,
        strip_stdlib: options.strip_stdlib,
    })
}

impl Standalone {
    /// The distribution's interpreter, probed for the build target.
    pub fn interpreter(&self) -> Result<Interpreter> {
        let path = self.dist.interpreter_path();
        Interpreter::probe(&path).map_err(|source| BundleError::DistInterpreter { path, source })
    }

    /// Packs the payload and writes the executable; returns the zip's entry count.
    pub fn write(&self, artifact: Artifact<'_>, python: &Interpreter) -> Result<usize> {
        let reporter = artifact.reporter;
        let facts = &python.target.facts;
        let overlay = match artifact.compiler {
            Some(c) => {
                reporter
                    .step("compiling the distribution's stdlib bytecode (once per distribution)");
                Some(pyzap_artifact::precompile_stdlib(
                    &self.dist,
                    c,
                    artifact.cache,
                )?)
            }
            None => None,
        };
        reporter.step("packing the python distribution");
        let payload = pyzap_artifact::build_payload(
            &self.dist,
            &PayloadOptions {
                strip_stdlib: self.strip_stdlib,
                cache_tag: facts.cache_tag.clone(),
                python: facts.python_full_version.clone(),
                parts: 8,
                level: 9,
                overlay,
            },
        )?;
        let stub = fs_err::read(&self.stub).map_err(|source| BundleError::ReadLauncher {
            path: self.stub.clone(),
            source,
        })?;
        if self.strip_stdlib {
            reporter.info(&format!(
                "stripped the stdlib: {} files, {:.1} MB saved (--no-strip-stdlib keeps them)",
                payload.stripped_files,
                payload.stripped_bytes as f64 / 1e6
            ));
        }
        reporter.info(&format!(
            "python payload: CPython {}, {} files, {:.1} MB → {:.1} MB zstd; launcher {:.0} KiB",
            payload.python,
            payload.files,
            payload.bytes as f64 / 1e6,
            payload.compressed_size() as f64 / 1e6,
            stub.len() as f64 / 1024.0
        ));
        Ok(pyzap_artifact::write_standalone(
            artifact.output,
            artifact.manifest,
            artifact.entries,
            artifact.write_options,
            &stub,
            &payload,
        )?)
    }
}

/// What writing an artifact takes, whichever kind it is.
pub struct Artifact<'a> {
    pub output: &'a Path,
    pub manifest: &'a Manifest,
    pub entries: Vec<ArtifactEntry>,
    pub write_options: &'a WriteOptions,
    pub compiler: Option<&'a dyn pyzap_artifact::BytecodeCompiler>,
    pub cache: &'a Path,
    pub reporter: &'a dyn Reporter,
}

/// `pyzap-launcher` beside the running `pyzap` (one `cargo build` makes both).
fn default_launcher() -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|source| BundleError::CurrentExe { source })?;
    let stub = exe.with_file_name("pyzap-launcher");
    if !stub.is_file() {
        return Err(BundleError::NoLauncher { path: stub });
    }
    Ok(stub)
}

fn check_sha256(path: &Path, want: &str) -> Result<()> {
    let actual = pyzap_fs::sha256_file(path)?;
    if actual != want {
        return Err(BundleError::DistHash {
            what: format!("the python distribution {}", path.display()),
            actual,
            wanted: want.to_string(),
        });
    }
    Ok(())
}

/// Downloads `url` once into `<cache>/python-dist-downloads/`, keyed by the
/// wanted sha256 when given (then a cached copy needs no network), else by URL.
fn download(
    url: &str,
    wanted: Option<&str>,
    cache: &Path,
    reporter: &dyn Reporter,
) -> Result<PathBuf> {
    let parsed = pyzap_index::Url::parse(url).map_err(|source| BundleError::DistUrl {
        url: url.to_string(),
        source,
    })?;
    let name = parsed
        .path_segments()
        .and_then(|mut s| s.next_back())
        .filter(|n| !n.is_empty())
        .unwrap_or("python.tar.gz")
        .to_string();
    let key = wanted.map_or_else(
        || pyzap_fs::sha256_hex(url.as_bytes())[..32].to_string(),
        str::to_string,
    );
    let dir = cache.join("python-dist-downloads").join(key);
    let dest = dir.join(&name);
    if dest.is_file() {
        if let Some(want) = wanted {
            check_sha256(&dest, want)?;
        }
        return Ok(dest);
    }
    let shown = redact(&parsed);
    reporter.step(&format!("downloading {shown}"));
    let client = pyzap_index::http::UreqClient::new(&Default::default());
    let mut response = client
        .get(&parsed, &[])
        .map_err(|source| BundleError::DistDownload {
            url: shown.clone(),
            source,
        })?;
    if response.status != 200 {
        return Err(BundleError::DistStatus {
            url: shown,
            status: response.status,
        });
    }
    fs_err::create_dir_all(&dir)?;
    save_checked(&mut response.body, &shown, wanted, &dest)?;
    Ok(dest)
}

/// Streams a download into `dest` (temp file, then rename), checking its
/// sha256 against `wanted` first.
fn save_checked(body: &mut dyn Read, shown: &str, wanted: Option<&str>, dest: &Path) -> Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let write_err = |source| BundleError::Write {
        path: dir.to_path_buf(),
        source,
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(write_err)?;
    let mut hasher = sha2::Sha256::default();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = body
            .read(&mut buf)
            .map_err(|source| BundleError::DistRead {
                url: shown.to_string(),
                source,
            })?;
        if n == 0 {
            break;
        }
        sha2::Digest::update(&mut hasher, &buf[..n]);
        tmp.write_all(&buf[..n]).map_err(write_err)?;
    }
    let actual = data_encoding::HEXLOWER.encode(&sha2::Digest::finalize(hasher));
    if let Some(want) = wanted {
        if actual != want {
            return Err(BundleError::DistHash {
                what: shown.to_string(),
                actual,
                wanted: want.to_string(),
            });
        }
    }
    tmp.persist(dest).map_err(|e| BundleError::Write {
        path: dest.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}
