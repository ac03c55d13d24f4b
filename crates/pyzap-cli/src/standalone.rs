//! `pyzap build --standalone`: the CPython of `--python-dist` (downloaded
//! into the build cache when it is a URL, checked against
//! `--python-dist-sha256`), the launcher stub found next to `pyzap`, and the
//! payload packed from the distribution.
//!
//! The build target is read from the distribution by running its own
//! interpreter once (`-I -S`), as `--python` does: a relocatable CPython runs
//! from wherever it was unpacked, and asking it gives exact facts (ABI flags,
//! pyc magic, glibc, platform tags) that file names and directory layouts only
//! hint at. The same interpreter then precompiles the bundle's bytecode. A
//! distribution that cannot run here (another architecture) is refused.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use pyzap_artifact::{ArtifactEntry, Manifest, PayloadOptions, PythonDist, WriteOptions};
use pyzap_python::Interpreter;

use crate::cli::BuildArgs;
use crate::ui::Ui;

/// Everything `--standalone` needs beyond a `.pyz` build.
pub struct Standalone {
    dist: PythonDist,
    stub: PathBuf,
    strip_stdlib: bool,
}

/// Reads the `--standalone` options; `None` for a `.pyz` build.
pub fn prepare(args: &BuildArgs, cache: &Path, ui: &Ui) -> Result<Option<Standalone>> {
    if !args.standalone {
        return Ok(None);
    }
    let Some(spec) = args.python_dist.as_deref() else {
        bail!("--standalone needs --python-dist\nhint: pass a python-build-standalone install_only archive, its URL, or an extracted CPython directory");
    };
    let wanted = args
        .python_dist_sha256
        .as_deref()
        .map(|h| h.trim().trim_start_matches("sha256:").to_ascii_lowercase());
    let input = if spec.starts_with("https://") || spec.starts_with("http://") {
        download(spec, wanted.as_deref(), cache, ui)?
    } else {
        let path = PathBuf::from(spec);
        if let (Some(want), true) = (&wanted, path.is_file()) {
            check_sha256(&path, want)?;
        }
        path
    };
    ui.step(&format!("python distribution: {}", input.display()));
    let dist = pyzap_artifact::open_python_dist(&input, cache)?;
    let stub = match &args.launcher {
        Some(p) => p.clone(),
        None => default_launcher()?,
    };
    let stub_arch = pyzap_artifact::elf_arch(&stub)
        .map_err(|e| anyhow::anyhow!("the launcher stub is unusable: {e}"))?;
    if stub_arch != dist.arch {
        bail!(
            "the python distribution {} is built for {}, but the launcher {} runs on {}\nhint: use a distribution built for {}, or pass --launcher with a pyzap-launcher built for {}",
            input.display(),
            dist.arch,
            stub.display(),
            stub_arch,
            stub_arch,
            dist.arch
        );
    }
    Ok(Some(Standalone {
        dist,
        stub,
        strip_stdlib: !args.no_strip_stdlib,
    }))
}

impl Standalone {
    /// The distribution's interpreter, probed for the build target.
    pub fn interpreter(&self) -> Result<Interpreter> {
        let path = self.dist.interpreter_path();
        Interpreter::probe(&path).with_context(|| {
            format!(
                "cannot run the interpreter of --python-dist ({}); pyzap runs it once to read the target\nhint: the distribution must be built for this machine ({})",
                path.display(),
                std::env::consts::ARCH
            )
        })
    }

    /// Packs the payload and writes the executable; returns the zip's entry count.
    #[allow(clippy::too_many_arguments)]
    pub fn write(
        &self,
        out: &Path,
        manifest: &Manifest,
        entries: Vec<ArtifactEntry>,
        opts: &WriteOptions,
        python: &Interpreter,
        compiler: Option<&dyn pyzap_artifact::BytecodeCompiler>,
        cache: &Path,
        ui: &Ui,
    ) -> Result<usize> {
        let facts = &python.target.facts;
        let overlay = match compiler {
            Some(c) => {
                ui.step("compiling the distribution's stdlib bytecode (once per distribution)");
                Some(pyzap_artifact::precompile_stdlib(&self.dist, c, cache)?)
            }
            None => None,
        };
        ui.step("packing the python distribution");
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
        let stub = fs_err::read(&self.stub).context("reading the launcher stub")?;
        if self.strip_stdlib {
            ui.info(&format!(
                "stripped the stdlib: {} files, {:.1} MB saved (--no-strip-stdlib keeps them)",
                payload.stripped_files,
                payload.stripped_bytes as f64 / 1e6
            ));
        }
        ui.info(&format!(
            "python payload: CPython {}, {} files, {:.1} MB → {:.1} MB zstd; launcher {:.0} KiB",
            payload.python,
            payload.files,
            payload.bytes as f64 / 1e6,
            payload.compressed_size() as f64 / 1e6,
            stub.len() as f64 / 1024.0
        ));
        Ok(pyzap_artifact::write_standalone(
            out, manifest, entries, opts, &stub, &payload,
        )?)
    }
}

/// `pyzap-launcher` beside the running `pyzap` (one `cargo build` makes both).
fn default_launcher() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the pyzap binary")?;
    let stub = exe.with_file_name("pyzap-launcher");
    if !stub.is_file() {
        bail!(
            "no launcher stub at {}\nhint: build it with `cargo build` (it is the pyzap-launcher binary), or pass --launcher FILE",
            stub.display()
        );
    }
    Ok(stub)
}

fn check_sha256(path: &Path, want: &str) -> Result<()> {
    let actual = pyzap_fs::sha256_file(path)?;
    if actual != want {
        bail!(
            "hash mismatch for the python distribution {}: sha256 is {actual}, --python-dist-sha256 wants {want}",
            path.display()
        );
    }
    Ok(())
}

/// Downloads `url` once into `<cache>/python-dist-downloads/`, keyed by the
/// wanted sha256 when given (then a cached copy needs no network), else by URL.
fn download(url: &str, wanted: Option<&str>, cache: &Path, ui: &Ui) -> Result<PathBuf> {
    use pyzap_index::http::HttpClient;
    let parsed = pyzap_index::Url::parse(url).with_context(|| format!("bad URL {url}"))?;
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
    ui.step(&format!(
        "downloading {}",
        pyzap_index::http::redact(&parsed)
    ));
    let client = pyzap_index::http::UreqClient::new(&Default::default());
    let mut response = client
        .get(&parsed, &[])
        .with_context(|| format!("downloading {}", pyzap_index::http::redact(&parsed)))?;
    if response.status != 200 {
        bail!(
            "downloading {} failed: HTTP {}",
            pyzap_index::http::redact(&parsed),
            response.status
        );
    }
    fs_err::create_dir_all(&dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
    let mut hasher = sha2::Sha256::default();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = response
            .body
            .read(&mut buf)
            .context("reading the download")?;
        if n == 0 {
            break;
        }
        sha2::Digest::update(&mut hasher, &buf[..n]);
        tmp.write_all(&buf[..n])?;
    }
    let actual = data_encoding::HEXLOWER.encode(&sha2::Digest::finalize(hasher));
    if let Some(want) = wanted {
        if actual != want {
            bail!("hash mismatch for {url}: sha256 is {actual}, --python-dist-sha256 wants {want}");
        }
    }
    tmp.persist(&dest).map_err(|e| e.error)?;
    Ok(dest)
}
