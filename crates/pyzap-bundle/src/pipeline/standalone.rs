//! A standalone executable (`pyzap build --standalone`): the CPython of
//! `--python-dist` (or, without one, the CPython `python.rs` chooses for
//! the target: uv's, or a python-build-standalone download), the launcher
//! stub (`--launcher`, or the one pyzap carries: build.rs builds it,
//! static), and the payload packed from the distribution.
//!
//! A `--python-dist` URL is fetched by the index client, as a wheel is: the
//! same retries, credentials (from the URL or `.netrc`, for its origin only),
//! `--offline`, progress bars and cache (`index/files-v1/<sha256>/`, found
//! again by its URL or by the digest promised for it). The digest comes from
//! `--python-dist-sha256` or the URL's `#sha256=` fragment; a local file is
//! checked against `--python-dist-sha256` here.
//!
//! The build target is read from the distribution by running its own
//! interpreter once (`-I -S`), as `--python` does: a relocatable CPython runs
//! from wherever it was unpacked, and asking it gives exact facts (ABI flags,
//! pyc magic, glibc, platform tags) that file names and directory layouts only
//! hint at. The same interpreter then precompiles the bundle's bytecode. A
//! distribution that cannot run here (another architecture) is refused,
//! unless `--platform` names the target: then `targets.rs` plans it as a
//! cross target of the distribution's version.
//!
//! The build states the oldest glibc the executable runs on, the newest any
//! of its parts needs (`pyzap_artifact::GlibcFloor`), and refuses one whose
//! parts need a newer glibc than its target platform has.

mod python;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use pyzap_artifact::{
    ArtifactEntry, ElfFacts, GlibcFloor, GlibcVersion, Manifest, PayloadOptions, PythonDist,
    StandaloneParts, StdlibBytecode, WriteOptions,
};
use pyzap_index::http::redact;
use pyzap_index::{IndexClient, PromisedSha256, Url};
use pyzap_python::{Interpreter, PythonVersion};
use pyzap_spec::{PlatformTag, Target};

use crate::{BundleError, BundleOptions, Reporter, Result, StandaloneOptions};

/// The launcher stub pyzap carries: the `pyzap-launcher` binary build.rs
/// built for [`LAUNCHER_TARGET`].
const LAUNCHER: &[u8] = include_bytes!(env!("PYZAP_LAUNCHER_STUB"));
/// The Rust target of [`LAUNCHER`]: `x86_64-unknown-linux-musl` (static),
/// or the build's own target where that one was not installed.
#[cfg(test)]
const LAUNCHER_TARGET: &str = env!("PYZAP_LAUNCHER_TARGET");

/// How many parts the payload is split into: the launcher unpacks them in
/// parallel, and each more costs compression (zstd finds less to share);
/// 4 keeps the first run's unpacking fast on small machines.
const PAYLOAD_PARTS: usize = 4;
/// zstd level of the payload: 19 is about 15% smaller than 9 and slow
/// (seconds per distribution), so it is packed once into the build cache.
const PAYLOAD_LEVEL: i32 = 19;

/// The options' level, else `PYZAP_TEST_PAYLOAD_LEVEL` (which only pyzap's
/// own tests of the command line set, so each test build with a cold cache
/// packs in a fraction of the time), else [`PAYLOAD_LEVEL`].
fn payload_level(options: &StandaloneOptions) -> i32 {
    options.payload_level.unwrap_or_else(|| {
        std::env::var("PYZAP_TEST_PAYLOAD_LEVEL")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(PAYLOAD_LEVEL)
    })
}

/// Everything `--standalone` needs beyond a `.pyz` build.
pub(crate) struct Standalone {
    dist: PythonDist,
    /// The distribution's version when it was chosen for the target (no
    /// `--python-dist`); `None`: only its interpreter can say.
    version: Option<PythonVersion>,
    stub: Stub,
    strip_stdlib: bool,
    /// Ship the stdlib's sources (else only its bytecode, where compiled).
    stdlib_sources: bool,
    /// zstd level of the payload.
    level: i32,
}

/// The launcher stub, read once: `--launcher`'s file or [`LAUNCHER`].
struct Stub {
    /// `--launcher`'s file; `None` for the one pyzap carries.
    path: Option<PathBuf>,
    bytes: Cow<'static, [u8]>,
    facts: ElfFacts,
}

impl Stub {
    fn read(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else {
            return Ok(Stub {
                path: None,
                bytes: Cow::Borrowed(LAUNCHER),
                facts: ElfFacts::parse(LAUNCHER).expect("build.rs built the stub as an ELF file"),
            });
        };
        let bytes = fs_err::read(path).map_err(|source| BundleError::ReadLauncher {
            path: path.to_path_buf(),
            source,
        })?;
        let facts = ElfFacts::parse(&bytes).map_err(|reason| BundleError::LauncherUnusable {
            path: path.to_path_buf(),
            reason: format!("{} {reason}", path.display()),
        })?;
        Ok(Stub {
            path: Some(path.to_path_buf()),
            bytes: Cow::Owned(bytes),
            facts,
        })
    }

    /// How messages name it.
    fn name(&self) -> String {
        match &self.path {
            Some(path) => path.display().to_string(),
            None => "built into pyzap".to_string(),
        }
    }
}

/// Finds the distribution (`--python-dist`, or the one chosen for the
/// target; downloaded and checked when needed) and the launcher stub, and
/// checks that they are built for one architecture.
pub(crate) fn prepare(
    bundle: &BundleOptions,
    options: &StandaloneOptions,
    index: &IndexClient,
    cache: &Path,
    reporter: &dyn Reporter,
) -> Result<Standalone> {
    let (input, version) = if options.python_dist.is_empty() {
        let chosen = python::choose(bundle, options, index, reporter)?;
        (chosen.path, Some(chosen.version))
    } else {
        (dist_input(options, index, reporter)?, None)
    };
    reporter.step(&format!("python distribution: {}", input.display()));
    let dist = pyzap_artifact::open_python_dist(&input, cache)?;
    let stub = Stub::read(options.launcher.as_deref())?;
    if stub.facts.arch != dist.arch {
        return Err(BundleError::ArchMismatch {
            dist: input,
            dist_arch: dist.arch,
            launcher: stub.name(),
            launcher_arch: stub.facts.arch,
        });
    }
    Ok(Standalone {
        dist,
        version,
        stub,
        strip_stdlib: options.strip_stdlib,
        stdlib_sources: options.stdlib_sources,
        level: payload_level(options),
    })
}

impl Standalone {
    /// The distribution's interpreter, probed for the build target.
    pub(crate) fn interpreter(&self) -> Result<Interpreter> {
        let path = self.dist.interpreter_path();
        Interpreter::probe(&path).map_err(|source| BundleError::DistInterpreter { path, source })
    }

    /// The distribution's version, when known without running it.
    pub(crate) fn version(&self) -> Option<PythonVersion> {
        self.version
    }

    /// Packs the payload and writes the executable for `target` (the
    /// distribution's); returns the zip's entry count.
    pub(crate) fn write(&self, artifact: Artifact<'_>, target: &Target) -> Result<usize> {
        let reporter = artifact.reporter;
        let facts = &target.facts;
        // Without our own bytecode (`--no-compile`) the sources stay: the
        // distribution's bytecode names paths of the machine that built it.
        let sourceless = self.strip_stdlib && !self.stdlib_sources && artifact.compiler.is_some();
        let overlay = match artifact.compiler {
            Some(c) => {
                reporter
                    .step("compiling the distribution's stdlib bytecode (once per distribution)");
                Some(pyzap_artifact::precompile_stdlib(
                    &self.dist,
                    c,
                    artifact.cache,
                    if sourceless {
                        StdlibBytecode::InsteadOfSources
                    } else {
                        StdlibBytecode::BesideSources
                    },
                    self.strip_stdlib,
                )?)
            }
            None => None,
        };
        let payload = pyzap_artifact::cached_payload(
            &self.dist,
            &PayloadOptions {
                strip_stdlib: self.strip_stdlib,
                cache_tag: facts.cache_tag.clone(),
                python: facts.python_full_version.clone(),
                parts: PAYLOAD_PARTS,
                level: self.level,
                overlay,
                sourceless_stdlib: sourceless,
            },
            artifact.cache,
            &|| reporter.step("packing the python distribution (once per distribution)"),
        )?;
        let glibc = GlibcFloor::new(&self.stub.facts, &payload, artifact.manifest);
        check_glibc(&glibc, &artifact.manifest.target.platform)?;
        let stub = &self.stub.bytes;
        if self.strip_stdlib {
            reporter.info(&format!(
                "stripped the stdlib: {} files, {:.1} MB saved (--no-strip-stdlib keeps them)",
                payload.stripped_files,
                payload.stripped_bytes as f64 / 1e6
            ));
        }
        if sourceless {
            reporter.info(&format!(
                "stdlib as bytecode only: {} source files, {:.1} MB left out (--stdlib-sources keeps them)",
                payload.sourceless_files,
                payload.sourceless_bytes as f64 / 1e6
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
        reporter.info(&glibc.to_string());
        Ok(pyzap_artifact::write_standalone(
            artifact.output,
            artifact.manifest,
            artifact.entries,
            artifact.write_options,
            &StandaloneParts {
                stub,
                payload: &payload,
                glibc: &glibc,
            },
        )?)
    }
}

/// Refuses an executable that needs a newer glibc than its target platform
/// (`manylinux_2_36_x86_64`) has. Without `--platform` the target is the
/// distribution's interpreter on this machine, so only an extension module
/// that cannot load here, or a `--launcher` built elsewhere, can; with
/// `--platform manylinux_2_17_x86_64` every part is held to glibc 2.17,
/// the CPython first.
fn check_glibc(floor: &GlibcFloor, platform: &str) -> Result<()> {
    let Ok(PlatformTag {
        libc: Some(("glibc", allowed)),
        ..
    }) = platform.parse::<PlatformTag>()
    else {
        return Ok(());
    };
    let allowed = GlibcVersion::from(allowed);
    match floor.newest() {
        Some((need, by)) if need > allowed => Err(BundleError::GlibcAbovePlatform {
            by,
            need,
            platform: platform.to_string(),
            allowed,
        }),
        _ => Ok(()),
    }
}

/// What writing an artifact takes, whichever kind it is.
pub(crate) struct Artifact<'a> {
    pub output: &'a Path,
    pub manifest: &'a Manifest,
    pub entries: Vec<ArtifactEntry>,
    pub write_options: &'a WriteOptions,
    pub compiler: Option<&'a dyn pyzap_artifact::BytecodeCompiler>,
    pub cache: &'a Path,
    pub reporter: &'a dyn Reporter,
}

/// The `--python-dist` archive or directory on disk: a URL through the
/// index client, a local file checked against `--python-dist-sha256`.
fn dist_input(
    options: &StandaloneOptions,
    index: &IndexClient,
    reporter: &dyn Reporter,
) -> Result<PathBuf> {
    let promised = options
        .python_dist_sha256
        .as_deref()
        .map(|text| {
            let hex = text.trim();
            let hex = hex.strip_prefix("sha256:").unwrap_or(hex);
            PromisedSha256::new(hex, "--python-dist-sha256").ok_or_else(|| {
                BundleError::DistSha256 {
                    value: text.to_string(),
                }
            })
        })
        .transpose()?;
    let spec = options.python_dist.as_str();
    if !(spec.starts_with("https://") || spec.starts_with("http://")) {
        let path = PathBuf::from(spec);
        if let (Some(promised), true) = (&promised, path.is_file()) {
            check_sha256(&path, promised)?;
        }
        return Ok(path);
    }
    let url = Url::parse(spec).map_err(|source| BundleError::DistUrl {
        url: Url::parse(spec).map_or_else(|_| "(unparsable)".into(), |u| redact(&u)),
        source,
    })?;
    reporter.step(&format!("getting the python distribution {}", redact(&url)));
    index
        .download_url(&url, promised.as_ref(), reporter)
        .map_err(|source| BundleError::DistDownload {
            url: redact(&url),
            source: Box::new(source),
        })
}

fn check_sha256(path: &Path, promised: &PromisedSha256) -> Result<()> {
    let actual = pyzap_fs::sha256_file(path)?;
    if actual != promised.hex() {
        return Err(BundleError::DistHash {
            what: format!("the python distribution {}", path.display()),
            actual,
            wanted: promised.hex().to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use pyzap_index::http::{HttpOptions, UreqClient};
    use pyzap_index::{IndexError, IndexOptions};
    use pyzap_test_support::{Route, RouteServer};

    use super::*;
    use crate::Silent;

    const DIST: &str = "cpython-3.11.2-x86_64-unknown-linux-gnu-install_only.tar.gz";

    fn index(cache: &Path, offline: bool) -> IndexClient {
        IndexClient::new(
            Arc::new(UreqClient::new(&HttpOptions::default())),
            IndexOptions {
                index_urls: Vec::new(),
                find_links: Vec::new(),
                cache_dir: cache.join("index"),
                offline,
                retries: 3,
            },
        )
        .unwrap()
    }

    fn options(python_dist: &str, sha256: Option<&str>) -> StandaloneOptions {
        StandaloneOptions {
            python_dist: python_dist.to_string(),
            python_dist_sha256: sha256.map(str::to_string),
            ..StandaloneOptions::default()
        }
    }

    /// Every line the CLI prints for `err`: the error, its causes, its hints.
    fn report(err: &BundleError) -> String {
        let mut lines = Vec::new();
        let mut cause: Option<&dyn std::error::Error> = Some(err);
        while let Some(e) = cause {
            lines.push(e.to_string());
            cause = e.source();
        }
        lines.extend(err.hints());
        lines.join("\n")
    }

    #[test]
    fn the_digest_option_takes_a_prefix_and_either_case_and_refuses_the_rest() {
        let dist = pyzap_test_support::python_dist();
        let digest = pyzap_fs::sha256_file(&dist).unwrap();
        let cache = tempfile::tempdir().unwrap();
        let index = index(cache.path(), true);
        let spec = dist.to_string_lossy();
        for given in [
            digest.clone(),
            format!(" sha256:{} ", digest.to_uppercase()),
        ] {
            let path = dist_input(&options(&spec, Some(&given)), &index, &Silent).unwrap();
            assert_eq!(path, dist);
        }
        let err = dist_input(&options(&spec, Some("abc123")), &index, &Silent).unwrap_err();
        assert_eq!(
            report(&err),
            "--python-dist-sha256 `abc123` is not a sha256 digest (64 hex digits)\n\
             give the archive's sha256 as 64 hex digits (`sha256sum FILE` prints it)"
        );
        let wrong = "0".repeat(64);
        let err = dist_input(&options(&spec, Some(&wrong)), &index, &Silent).unwrap_err();
        assert!(matches!(err, BundleError::DistHash { .. }), "{err}");
    }

    /// (c) at the pipeline's level: a URL whose file has another digest than
    /// `--python-dist-sha256` (or its own fragment) promised is refused,
    /// the report says who promised what and what to do.
    #[test]
    fn a_url_with_a_wrong_digest_is_refused_with_a_hint() {
        let archive = fs_err::read(pyzap_test_support::python_dist()).unwrap();
        let actual = pyzap_fs::sha256_hex(&archive);
        let server =
            RouteServer::start(BTreeMap::from([(format!("/{DIST}"), Route::file(archive))]));
        let url = server.url(&format!("/{DIST}"));
        let wrong = "0".repeat(64);
        let cache = tempfile::tempdir().unwrap();
        let index = index(cache.path(), false);
        let err = dist_input(&options(&url, Some(&wrong)), &index, &Silent).unwrap_err();
        assert_eq!(
            report(&err),
            format!(
                "getting the python distribution {url}\n\
                 hash mismatch for {url}: sha256 is {actual}, but --python-dist-sha256 promised {wrong}\n\
                 the server sent another file than the one promised: check the URL, and the \
                 digest against the one its release publishes (SHA256SUMS)"
            )
        );
        let fragment = format!("{url}#sha256={wrong}");
        let err = dist_input(&options(&fragment, None), &index, &Silent).unwrap_err();
        assert!(
            report(&err).contains("but its #sha256= fragment promised 0000"),
            "{}",
            report(&err)
        );
        let err = dist_input(&options(&fragment, Some(&actual)), &index, &Silent).unwrap_err();
        assert!(
            report(&err).contains("give one sha256, as --python-dist-sha256 or as the URL's"),
            "{}",
            report(&err)
        );
    }

    /// What every standalone executable carries: 661 KiB when this was
    /// written (static, musl, LTO, stripped); unstripped it is 2.8 MiB.
    const LAUNCHER_BUDGET: usize = 768 * 1024;

    #[test]
    fn the_built_in_launcher_fits_its_size_budget() {
        assert!(
            LAUNCHER.len() <= LAUNCHER_BUDGET,
            "the launcher stub is {} bytes, over its budget of {LAUNCHER_BUDGET}",
            LAUNCHER.len()
        );
    }

    /// The stub pyzap carries starts wherever python-build-standalone's
    /// CPython does (glibc 2.17: RHEL 7, Debian 9, Ubuntu 18.04 and later).
    /// Built for musl it is static: no loader, no libraries, and so no glibc
    /// symbol version at all. Built for the gnu target (the musl one was
    /// not installed), it needs the build machine's glibc: a skip locally,
    /// a failure in CI.
    #[test]
    fn the_built_in_launcher_runs_on_glibc_2_17() {
        let facts = ElfFacts::parse(LAUNCHER).unwrap();
        assert_eq!(facts.arch, std::env::consts::ARCH);
        if LAUNCHER_TARGET.contains("-linux-musl") {
            assert!(facts.is_static(), "{LAUNCHER_TARGET}: {facts:?}");
            assert_eq!(facts.glibc, None);
            return;
        }
        if let Some(v) = facts.glibc.filter(|v| *v > GlibcVersion::from((2, 17))) {
            pyzap_test_support::skip(&format!(
                "the built-in launcher was built for {LAUNCHER_TARGET} and needs glibc {v}; \
                 `rustup target add {}` makes it static",
                LAUNCHER_TARGET.replace("-gnu", "-musl")
            ));
        }
    }

    #[test]
    fn a_part_newer_than_the_target_platform_is_refused() {
        let floor = GlibcFloor {
            launcher: None,
            python: Some(pyzap_artifact::GlibcNeed {
                version: (2, 35).into(),
                file: "bin/python3.11".into(),
            }),
            wheels: None,
        };
        let err = check_glibc(&floor, "manylinux_2_17_x86_64").unwrap_err();
        assert_eq!(
            report(&err),
            "the CPython's bin/python3.11 needs glibc 2.35, but the target platform \
             manylinux_2_17_x86_64 has glibc 2.17\n\
             use parts built for glibc 2.17 or older: python-build-standalone's CPython \
             needs 2.17, and pyzap's own launcher (no --launcher) none"
        );
        for fits in [
            "manylinux_2_35_x86_64",
            "manylinux_2_36_x86_64",
            "linux_x86_64",
        ] {
            assert!(check_glibc(&floor, fits).is_ok(), "{fits}");
        }
        let stub = GlibcFloor {
            launcher: Some((2, 34).into()),
            ..floor.clone()
        };
        let err = check_glibc(&stub, "manylinux2014_x86_64").unwrap_err();
        assert!(report(&err).starts_with("the CPython's bin/python3.11 needs glibc 2.35"));
    }

    #[test]
    fn offline_without_the_dist_in_the_cache_says_what_to_do() {
        let cache = tempfile::tempdir().unwrap();
        let url = format!("https://user:s3cret@dist.example/{DIST}");
        let err =
            dist_input(&options(&url, None), &index(cache.path(), true), &Silent).unwrap_err();
        let BundleError::DistDownload { source, .. } = &err else {
            panic!("{err}");
        };
        assert!(matches!(**source, IndexError::Offline(_)), "{source}");
        let text = report(&err);
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("build once without --offline"), "{text}");
    }
}
