//! What each command is asked to do, as plain values. The CLI fills them
//! from its arguments; a test or another front end can fill them from
//! anything. pip's and uv's environment variables (`PIP_INDEX_URL`, …) and
//! `SOURCE_DATE_EPOCH` are read by the pipeline itself, as pip reads them.

use std::path::PathBuf;

use pyzap_spec::FormatOption;

/// What to resolve and where to find it: the part `bundle` and `lock` share,
/// so both resolve alike.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// Requirement specs (direct references `name @ URL` too), `git+URL[@REF]`
    /// sources, paths of projects (`./proj[extra]`), wheels and sdists, or one
    /// PEP 723 script (`tool.py`).
    pub inputs: Vec<String>,
    /// Requirements files (pip's format).
    pub requirements: Vec<PathBuf>,
    /// Constraints files (pip's format).
    pub constraints: Vec<PathBuf>,
    /// PEP 735 dependency groups, `[PATH:]NAME` (pip's `--group`): PATH is a
    /// pyproject.toml, by default the only local project's, else `./pyproject.toml`.
    pub groups: Vec<String>,
    /// `--find-links` directories, pages or URLs.
    pub find_links: Vec<String>,
    /// The primary index; `None`: a requirements file's, the environment's, or PyPI.
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    /// Use no index at all, only find-links locations.
    pub no_index: bool,
    /// Make no network request.
    pub offline: bool,
    /// pip's hash-checking mode.
    pub require_hashes: bool,
    /// The target interpreter (name on PATH or path); `None`: `python3`.
    pub python: Option<String>,
    /// Allow pre-releases.
    pub pre: bool,
    /// Never build sdists.
    pub no_build: bool,
    /// `--no-binary` / `--only-binary` values, in the order given (pip
    /// applies them in turn).
    pub binary_options: Vec<(FormatOption, String)>,
}

/// `bundle`: the artifact to write and how.
#[derive(Debug, Clone, Default)]
pub struct BundleOptions {
    pub source: SourceOptions,
    /// Plain source directories copied into the artifact root as they are.
    pub src: Vec<PathBuf>,
    /// Install exactly this PEP 751 lock file's distributions (no resolution).
    pub lock: Option<PathBuf>,
    /// The console script to run (from any bundled distribution).
    pub console_script: Option<String>,
    /// The entry point, `module` or `module:function`.
    pub entry_point: Option<String>,
    /// Target CPython versions (`X.Y` or `X.Y.Z`) built for without their interpreter.
    pub python_versions: Vec<String>,
    /// Target platform tags.
    pub platforms: Vec<String>,
    /// The shebang line, taken literally (`#!` added when missing); `None`
    /// for `#!/usr/bin/env python3.X`, naming the targets' version when they
    /// share one (`python3` otherwise).
    pub shebang: Option<String>,
    /// Where to write the artifact.
    pub output: PathBuf,
    /// Do not precompile bytecode.
    pub no_compile: bool,
    /// A standalone executable instead of a `.pyz`.
    pub standalone: Option<StandaloneOptions>,
    /// The build cache (`default_cache_dir()` for the usual one).
    pub cache_dir: PathBuf,
}

/// `bundle` of a standalone executable.
#[derive(Debug, Clone, Default)]
pub struct StandaloneOptions {
    /// A python-build-standalone `install_only` archive, a URL to one, or
    /// an extracted relocatable CPython directory; empty: the one chosen for
    /// the target (a CPython uv installed, or a download from pyzap's table).
    pub python_dist: String,
    /// Where a chosen CPython comes from (mirror, table, uv's directory);
    /// `None`: `PythonSources::from_env()` (`PYZAP_PYTHON_MIRROR`,
    /// `PYZAP_PYTHON_DOWNLOADS`, uv's variables).
    pub python_sources: Option<pyzap_python::PythonSources>,
    /// The sha256 the archive must have (hex, `sha256:` prefix allowed).
    pub python_dist_sha256: Option<String>,
    /// Leave out the stdlib's test suites, idlelib, tkinter and Tcl/Tk,
    /// ensurepip, pydoc_data, C headers, man pages, the interpreter's own
    /// site-packages and other versions' bytecode.
    pub strip_stdlib: bool,
    /// Ship the stdlib's `.py` sources next to its bytecode. Without them
    /// (the default, with `strip_stdlib` and bytecode compiled) each module
    /// is a sourceless `.pyc`: a third less to download and half the files
    /// to unpack on a first run, but tracebacks through stdlib frames show
    /// no line text.
    pub stdlib_sources: bool,
    /// zstd level of the CPython payload; `None`: 19 (packed once per
    /// distribution into the build cache). Tests pack at a low level.
    pub payload_level: Option<i32>,
    /// The launcher stub; `None`: the one this crate carries (its build
    /// script builds it, static).
    pub launcher: Option<PathBuf>,
}

/// `lock`: resolve as `bundle` would and write a PEP 751 lock file.
#[derive(Debug, Clone, Default)]
pub struct LockOptions {
    pub source: SourceOptions,
    /// Target CPython versions (`X.Y` or `X.Y.Z`) locked for without their
    /// interpreter; with `platforms`, each version × platform is an
    /// environment of one universal lock.
    pub python_versions: Vec<String>,
    /// Target platform tags.
    pub platforms: Vec<String>,
    /// Where to write the lock file.
    pub output: PathBuf,
    /// The build cache (`default_cache_dir()` for the usual one).
    pub cache_dir: PathBuf,
}
