//! The one error type of `pyzap-bundle`: every message is lowercase and
//! names the offending value; causes are typed `#[source]`s; `hints()` says
//! what the user can do (the CLI prints them as `hint:` lines).

use std::path::PathBuf;

use pyzap_spec::{PackageName, Version};

pub type Result<T, E = BundleError> = std::result::Result<T, E>;

/// A `ResolveError` with context and a `Pep517Error` are boxed, which keeps
/// every `Result` of this error within clippy's `result_large_err` bound.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    // The build cache.
    #[error("cannot find a cache directory")]
    NoCacheDir,
    #[error("preparing the build cache {path}")]
    CacheDir {
        path: PathBuf,
        #[source]
        source: pyzap_fs::FsError,
    },
    #[error("{dir} does not look like a pyzap cache (it holds `{name}`), so nothing was removed")]
    NotACache { dir: PathBuf, name: String },

    // The runtime cache.
    #[error("cannot find the runtime cache directory")]
    RuntimeRoot {
        #[source]
        source: pyzap_launcher::LauncherError,
    },
    #[error("runtime cache {path} is not a directory")]
    RuntimeNotADirectory { path: PathBuf },
    #[error("runtime cache {path} belongs to uid {owner}, not to you (uid {me}), so nothing was removed")]
    RuntimeOwner { path: PathBuf, owner: u32, me: u32 },
    #[error("cannot read the process table (/proc), so which trees running apps use is unknown")]
    ProcessTable {
        #[source]
        source: std::io::Error,
    },
    #[error("cannot lock {path}")]
    RuntimeLock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    // Inputs.
    #[error(
        "nothing to bundle: no requirement, project, wheel, script or source directory was given"
    )]
    NoInputs,
    #[error("wheel file {path} does not exist")]
    NoWheelFile { path: PathBuf },
    #[error("{path} is not named like a wheel")]
    NotAWheelName { path: PathBuf },
    #[error("{dir} is not a directory (a requirement spec cannot start with `.` or `/`)")]
    NotADirectory { dir: PathBuf },
    #[error("{dir} has no pyproject.toml or setup.py, so it is not a Python project")]
    NotAProject { dir: PathBuf },
    #[error("reading {path}")]
    PyProject {
        path: PathBuf,
        #[source]
        source: pyzap_spec::SpecError,
    },
    #[error("`{spec}` is not a git URL (expected git+https://…, git+ssh://… or git+file://…)")]
    NotAGitUrl { spec: String },
    #[error("cannot run git")]
    GitSpawn {
        #[source]
        source: std::io::Error,
    },
    #[error("{action}: {command} failed: {stderr}")]
    Git {
        action: String,
        command: String,
        stderr: String,
    },
    #[error("invalid index URL {url}")]
    IndexUrl {
        url: String,
        #[source]
        source: pyzap_index::UrlParseError,
    },
    #[error("--src {dir} is not a directory")]
    SrcNotADirectory { dir: PathBuf },
    #[error("two --src directories both hold {name}")]
    SrcTwice { name: String },
    #[error("--src {dir} holds `{name}`, a name pyzap reserves inside the artifact")]
    SrcReserved { dir: PathBuf, name: String },
    #[error("`{reference}` names {expected}, but the distribution there is {found}")]
    DirectReferenceName {
        reference: String,
        expected: PackageName,
        found: PackageName,
    },
    #[error("`{reference}`: there is no wheel, sdist or project directory at {path}")]
    DirectReferencePath { reference: String, path: PathBuf },
    #[error("{name} is named by two direct references: `{first}` and `{second}`")]
    DirectReferenceConflict {
        name: PackageName,
        first: String,
        second: String,
    },
    /// Boxed: an `IndexError` beside the reference passes clippy's `result_large_err` bound.
    #[error("downloading `{reference}`")]
    DirectDownload {
        reference: String,
        #[source]
        source: Box<pyzap_index::IndexError>,
    },
    #[error("reading the inline metadata of {path}")]
    ScriptMetadata {
        path: PathBuf,
        #[source]
        source: pyzap_spec::SpecError,
    },
    #[error("{path} needs Python {requires_python} (its `# /// script` block), but the target is Python {python}")]
    ScriptPython {
        path: PathBuf,
        requires_python: String,
        python: String,
    },
    #[error("two scripts were given, {first} and {second}: an artifact runs one")]
    ScriptTwice { first: PathBuf, second: PathBuf },
    #[error("the script {script} and the __main__.py of a --src directory would both be the entry script")]
    ScriptAndSrcMain { script: PathBuf },
    #[error("--group {group}: there is no {path}")]
    NoGroupFile { group: String, path: PathBuf },

    // Hash checking.
    #[error("in --require-hashes mode, all requirements must have their versions pinned with ==. These do not:\n{requirements}")]
    Unpinned { requirements: String },
    #[error("cannot verify hashes for the local project {dir}: a directory has no hash")]
    HashOfProject { dir: PathBuf },
    #[error("--hash {hash} for {name}: pip accepts sha256, sha384 and sha512 only")]
    HashAlgorithm { hash: String, name: PackageName },
    /// pip's report of missing and mismatched hashes, every file at once.
    #[error("{report}")]
    Hashes { report: String },

    // Targets and resolution.
    #[error("building a local project needs a Python on the build machine")]
    NoBuildPython {
        #[source]
        source: pyzap_python::PythonError,
    },
    #[error(
        "without --platform (or --python-version) the target takes the build machine's Python"
    )]
    NoHostPython {
        #[source]
        source: pyzap_python::PythonError,
    },
    #[error("a standalone executable bundles one CPython: it cannot have several targets")]
    StandaloneTargets,
    #[error("no file for {name} {version}")]
    NoFile { name: PackageName, version: Version },
    #[error(
        "{filename} has no wheel for {target}, and its PKG-INFO does not fix its dependencies \
         (metadata older than 2.2, or named `Dynamic`): a cross-target lock cannot know them without a build"
    )]
    DynamicSdist { filename: String, target: String },
    #[error("resolving the build requirements of {dir} ({requires})")]
    BuildRequirements {
        dir: PathBuf,
        requires: String,
        #[source]
        source: Box<pyzap_resolve::ResolveError>,
    },

    // Lock files.
    #[error("pyzap lock cannot lock the local project {dir}: a directory has no file to hash")]
    LockProject { dir: PathBuf },
    #[error("pyzap lock cannot lock `{reference}`: it is built from source, and a wheel built here has no file to hash")]
    LockBuild { reference: String },
    #[error("reading {path}")]
    LockFile {
        path: PathBuf,
        #[source]
        source: Box<pyzap_resolve::ResolveError>,
    },
    #[error("installing from {path}")]
    LockInstall {
        path: PathBuf,
        #[source]
        source: Box<pyzap_resolve::ResolveError>,
    },
    #[error("{filename} in {path} is not a wheel or sdist of {name} {version}")]
    LockFileName {
        filename: String,
        path: PathBuf,
        name: PackageName,
        version: Version,
    },
    #[error("invalid URL {url} in the lock file")]
    LockUrl {
        url: String,
        #[source]
        source: pyzap_index::UrlParseError,
    },

    // The entry point.
    #[error("no console script named `{name}` in the bundled distributions")]
    NoConsoleScript { name: String, available: String },
    #[error("entry point module `{module}` is not in the bundle")]
    NoEntryModule { module: String },
    /// `functions`: what the module defines at its top level, by a static
    /// look; only the first name of `function` (`Class` of `Class.method`)
    /// is looked for.
    #[error("entry point `{module}:{function}`: module `{module}` has no `{}` (read from {origin}, without running it)", function.split('.').next().unwrap_or(function))]
    NoEntryFunction {
        module: String,
        function: String,
        origin: String,
        functions: Vec<String>,
    },
    #[error("{dist} declares several console scripts, so the entry point is ambiguous: {scripts}")]
    AmbiguousEntryPoint { dist: PackageName, scripts: String },
    #[error("no entry point was given and none could be detected")]
    NoEntryPoint,

    // Standalone executables.
    #[error("--python-dist {url} is not a valid URL")]
    DistUrl {
        url: String,
        #[source]
        source: pyzap_index::UrlParseError,
    },
    #[error("--python-dist-sha256 `{value}` is not a sha256 digest (64 hex digits)")]
    DistSha256 { value: String },
    /// Boxed: an `IndexError` beside the URL passes clippy's `result_large_err` bound.
    #[error("getting the python distribution {url}")]
    DistDownload {
        url: String,
        #[source]
        source: Box<pyzap_index::IndexError>,
    },
    #[error("hash mismatch for {what}: sha256 is {actual}, --python-dist-sha256 wants {wanted}")]
    DistHash {
        what: String,
        actual: String,
        wanted: String,
    },
    /// Boxed: an `IndexError` beside the URL passes clippy's `result_large_err` bound.
    #[error("getting CPython {version} from {url}")]
    PythonDownload {
        version: String,
        url: String,
        #[source]
        source: Box<pyzap_index::IndexError>,
    },
    #[error("the CPython download URL {url} is not a valid URL")]
    PythonMirrorUrl {
        url: String,
        #[source]
        source: pyzap_index::UrlParseError,
    },
    #[error("a standalone build without --python-dist bundles a CPython of the version of --python, and there is none to ask")]
    NoStandaloneVersion {
        #[source]
        source: pyzap_python::PythonError,
    },
    #[error("cannot run the interpreter of --python-dist ({path}); pyzap runs it once to read the target")]
    DistInterpreter {
        path: PathBuf,
        #[source]
        source: pyzap_python::PythonError,
    },
    /// `reason` names the file (`pyzap_artifact::ElfFacts::parse` says why
    /// it is not one).
    #[error("the launcher stub is unusable: {reason}")]
    LauncherUnusable { path: PathBuf, reason: String },
    #[error("cannot read the launcher stub {path}")]
    ReadLauncher {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `launcher` is `--launcher`'s path, or says it is pyzap's own.
    #[error("the python distribution {dist} is built for {dist_arch}, but the launcher {launcher} runs on {launcher_arch}")]
    ArchMismatch {
        dist: PathBuf,
        dist_arch: String,
        launcher: String,
        launcher_arch: String,
    },
    /// `by` names the part of the standalone executable and its file.
    #[error("{by} needs glibc {need}, but the target platform {platform} has glibc {allowed}")]
    GlibcAbovePlatform {
        by: String,
        need: pyzap_artifact::GlibcVersion,
        platform: String,
        allowed: pyzap_artifact::GlibcVersion,
    },

    #[error("the output {path} is a directory")]
    OutputIsDirectory { path: PathBuf },
    #[error("no output file given")]
    NoOutput,
    #[error("cannot use the project configuration in {path}")]
    ToolConfig {
        path: PathBuf,
        #[source]
        source: pyzap_spec::SpecError,
    },

    // I/O outside `fs_err` (whose errors name their path themselves).
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    // The stages' own errors, as they say them.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Fs(#[from] pyzap_fs::FsError),
    #[error(transparent)]
    Spec(#[from] pyzap_spec::SpecError),
    #[error(transparent)]
    Index(#[from] pyzap_index::IndexError),
    #[error(transparent)]
    Resolve(#[from] pyzap_resolve::ResolveError),
    #[error(transparent)]
    Python(#[from] pyzap_python::PythonError),
    /// Boxed: it holds a whole `WheelError`.
    #[error(transparent)]
    Pep517(Box<pyzap_pep517::Pep517Error>),
    #[error(transparent)]
    Wheel(#[from] pyzap_wheel::WheelError),
    #[error(transparent)]
    Artifact(#[from] pyzap_artifact::ArtifactError),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

impl From<pyzap_pep517::Pep517Error> for BundleError {
    fn from(e: pyzap_pep517::Pep517Error) -> Self {
        BundleError::Pep517(Box::new(e))
    }
}

impl BundleError {
    /// What the user can do about this error, one sentence each. The
    /// hints of a `ResolveError` it holds come from here too: transparent or
    /// boxed, that error has no place of its own in the source chain.
    pub fn hints(&self) -> Vec<String> {
        use BundleError as E;
        let hint = match self {
            E::Index(e) => return index_hints(e),
            E::Resolve(pyzap_resolve::ResolveError::Provider { source, .. }) => {
                return source
                    .downcast_ref::<pyzap_index::IndexError>()
                    .map(index_hints)
                    .unwrap_or_default()
            }
            E::Resolve(e) => return e.hints(),
            E::BuildRequirements { source, .. }
            | E::LockFile { source, .. }
            | E::LockInstall { source, .. } => return source.hints(),
            E::NoInputs => {
                return vec![
                    "name what to bundle: requirement specs (`black`, `flask>=3`), \
                     -r requirements.txt, a project directory (`.`, `./path`), \
                     wheels or sdists (`./app-1.0-py3-none-any.whl`), \
                     or a PEP 723 script (`tool.py`)"
                        .into(),
                    "for `pyzap build`, also --src DIR (plain source files, with a __main__.py) \
                     or --lock pylock.toml"
                        .into(),
                ]
            }
            E::NoCacheDir => "set PYZAP_CACHE_DIR".to_string(),
            E::NoOutput => "give -o FILE, or `output` in the project's [tool.pyzap]".into(),
            E::ToolConfig { .. } => {
                "[tool.pyzap] takes the long names of `pyzap build`'s flags (see pyzap build --help)"
                    .into()
            }
            E::OutputIsDirectory { path } => format!(
                "name the artifact's file, e.g. -o {}",
                path.join("app.pyz").display()
            ),
            E::CacheDir { .. } => "set PYZAP_CACHE_DIR to a private, writable directory".into(),
            E::NotACache { .. } => "check PYZAP_CACHE_DIR".into(),
            E::RuntimeRoot { .. } | E::RuntimeNotADirectory { .. } => {
                "set PYZAP_ROOT, or give --root DIR".into()
            }
            E::RuntimeOwner { .. } => {
                "run it as the user whose apps use that cache, or give --root DIR".into()
            }
            E::ProcessTable { .. } => {
                "mount /proc: pyzap reads it to keep the trees running apps use".into()
            }
            E::NotAProject { dir } => format!(
                "to bundle plain source files as they are, use --src {}",
                dir.display()
            ),
            E::GitSpawn { .. } => "git+ inputs need git installed".into(),
            E::DirectReferenceName { found, .. } => format!(
                "the name before `@` must be the distribution's own: `{found} @ …`"
            ),
            E::DirectReferencePath { .. } => "a file: URL names a wheel (.whl), an sdist (.tar.gz, .zip) or a directory with pyproject.toml or setup.py".into(),
            E::DirectReferenceConflict { .. } => {
                "give the one to use as an input yourself: it is then used for both".into()
            }
            E::DirectDownload { source, .. } => return direct_download_hints(source),
            E::ScriptPython { .. } => {
                "give --python an interpreter the script accepts, or change its requires-python"
                    .into()
            }
            E::ScriptTwice { .. } => {
                "build one artifact per script; code the script imports can go in with --src"
                    .into()
            }
            E::ScriptAndSrcMain { .. } => {
                "rename the __main__.py of the --src directory, or leave the script out".into()
            }
            E::NoGroupFile { .. } => "run pyzap in the project's directory, or name the file: --group path/to/pyproject.toml:NAME".into(),
            E::HashOfProject { .. } => "build its wheel, then give the wheel's path with a --hash in the requirements file".into(),
            E::NoBuildPython { .. } => "give --python".into(),
            E::NoHostPython { .. } => "give both --python-version and --platform".into(),
            E::DynamicSdist { .. } => "lock where the target's Python runs, with --python instead of \
                --python-version and --platform, or require a version that has a wheel for the target"
                .into(),
            E::LockProject { .. } => {
                "build its wheel and lock the wheel's path, or lock its dependencies".into()
            }
            E::LockBuild { .. } => {
                "build its wheel and lock the wheel's path or URL, or lock its dependencies".into()
            }
            E::NoConsoleScript { available, .. } => {
                format!("available console scripts: {available}")
            }
            E::NoEntryModule { .. } => "check the module name; the bundle's code comes from the requirements, projects and --src directories you gave".into(),
            E::NoEntryFunction { module, functions, .. } if functions.is_empty() => format!(
                "`{module}` defines no function or class at its top level: give -e {module} to run it as a script (`python -m {module}`)"
            ),
            E::NoEntryFunction { module, functions, .. } => format!(
                "functions and classes at the top level of `{module}`: {}",
                functions.join(", ")
            ),
            E::AmbiguousEntryPoint { .. } => "choose one with -c NAME, or give -e module:function".into(),
            E::NoEntryPoint => "pass -c CONSOLE_SCRIPT or -e module:function".into(),
            E::DistSha256 { .. } => {
                "give the archive's sha256 as 64 hex digits (`sha256sum FILE` prints it)".into()
            }
            E::DistDownload { source, .. } => return dist_download_hints(source),
            E::PythonDownload { source, .. } => return python_download_hints(source),
            E::Python(e) => return python_hints(e),
            E::PythonMirrorUrl { .. } => {
                "PYZAP_PYTHON_MIRROR replaces https://github.com/astral-sh/python-build-standalone/releases/download in it: give a URL such as https://mirror.example/pbs".into()
            }
            E::NoStandaloneVersion { .. } => {
                "give --python-version X.Y, --python with an interpreter of that version, or --python-dist".into()
            }
            E::DistInterpreter { .. } => format!(
                "the distribution must be built for this machine ({})",
                std::env::consts::ARCH
            ),
            E::ArchMismatch {
                dist_arch,
                launcher_arch,
                ..
            } => format!(
                "use a distribution built for {launcher_arch}, or pass --launcher with a pyzap-launcher built for {dist_arch}"
            ),
            E::GlibcAbovePlatform { allowed, .. } => format!(
                "use parts built for glibc {allowed} or older: python-build-standalone's CPython \
                 needs 2.17, and pyzap's own launcher (no --launcher) none"
            ),
            _ => return Vec::new(),
        };
        vec![hint]
    }
}

/// What to do when an index or find-links location failed, by the index
/// client's reason.
fn index_hints(source: &pyzap_index::IndexError) -> Vec<String> {
    use pyzap_index::IndexError as I;
    let hint = match source.kind() {
        I::Unreachable { source, .. } if source.unreachable => "nothing answered (no network, or a wrong host or port in the URL); without network a build uses what an earlier build cached, but the cache holds no copy of this",
        I::Unreachable { .. } | I::Transfer { .. } => "check the network and the proxy (HTTPS_PROXY); PYZAP_HTTP_TIMEOUT sets the timeout",
        I::Offline(_) => "--offline uses only what the cache holds: build once without it to fill the cache",
        I::Status { status: 401 | 403, .. } => "give credentials in the URL (https://USER:PASSWORD@host/…) or in ~/.netrc ($NETRC names another file)",
        _ => return Vec::new(),
    };
    vec![hint.to_string()]
}

/// What to do when `--python-dist` could not be fetched, by the index
/// client's reason.
fn dist_download_hints(source: &pyzap_index::IndexError) -> Vec<String> {
    use pyzap_index::IndexError as I;
    let hint = match source.kind() {
        I::Offline(_) => "build once without --offline to download it into the cache, or pass the archive's path to --python-dist",
        I::Status { status: 401 | 403, .. } => "give credentials in the URL (https://USER:PASSWORD@host/…) or in ~/.netrc ($NETRC names another file)",
        I::Status { status: 404 | 410, .. } | I::NoFileName(_) => "check the URL: it must name the archive itself (…-install_only.tar.gz)",
        I::Unreachable { .. } | I::Transfer { .. } => "check the network and the proxy (HTTPS_PROXY); PYZAP_HTTP_TIMEOUT sets the timeout; or download the archive yourself and pass its path to --python-dist",
        I::HashMismatch { .. } => "the server sent another file than the one promised: check the URL, and the digest against the one its release publishes (SHA256SUMS)",
        I::DigestConflict { .. } | I::BadDigest(_) => "give one sha256, as --python-dist-sha256 or as the URL's #sha256= fragment",
        I::NotAnArchive { .. } => "the server sent something else than an archive (an error page?): check the URL",
        _ => return Vec::new(),
    };
    vec![hint.to_string()]
}

/// What to do when a CPython of pyzap's table could not be fetched, by the
/// index client's reason.
fn python_download_hints(source: &pyzap_index::IndexError) -> Vec<String> {
    use pyzap_index::IndexError as I;
    let hint = match source.kind() {
        I::Offline(_) => "build once without --offline to download it into the cache, or give --python-dist with an archive you have",
        I::HashMismatch { .. } => "the file served is not the build pyzap's table names: a mirror (PYZAP_PYTHON_MIRROR) must serve python-build-standalone's files unchanged",
        I::Status { status: 404 | 410, .. } => "the mirror (PYZAP_PYTHON_MIRROR) does not have this build: it must mirror python-build-standalone's release downloads, RELEASE/FILE under its URL",
        I::Status { status: 401 | 403, .. } => "give credentials in PYZAP_PYTHON_MIRROR's URL (https://USER:PASSWORD@host/…) or in ~/.netrc ($NETRC names another file)",
        I::Unreachable { .. } | I::Transfer { .. } => "check the network and the proxy (HTTPS_PROXY); PYZAP_PYTHON_MIRROR names a mirror of python-build-standalone's downloads; or give --python-dist with an archive you have",
        _ => return Vec::new(),
    };
    vec![hint.to_string()]
}

/// What to do when no CPython could be chosen for the target.
fn python_hints(source: &pyzap_python::PythonError) -> Vec<String> {
    use pyzap_python::PythonError as P;
    let hint = match source {
        P::NoDownload { .. } => "choose a version and platform the table has (--python-version, --platform), or give --python-dist with a CPython of your own",
        P::DownloadGlibc { need: (a, b), .. } => {
            return vec![format!(
                "give a --platform with glibc {a}.{b} or newer (manylinux_{a}_{b}_ARCH), or --python-dist with a CPython built for the older glibc"
            )]
        }
        P::DownloadTable { .. } | P::DownloadTableIo { .. } => "PYZAP_PYTHON_DOWNLOADS names the table to read instead of pyzap's: unset it, or fix the file (scripts/update-python-downloads.py writes one)",
        _ => return Vec::new(),
    };
    vec![hint.to_string()]
}

/// What to do when the file of a direct reference could not be fetched, by
/// the index client's reason.
fn direct_download_hints(source: &pyzap_index::IndexError) -> Vec<String> {
    use pyzap_index::IndexError as I;
    let hint = match source.kind() {
        I::Offline(_) => "build once without --offline to download it into the cache, or download it yourself and give its path",
        I::Status { status: 401 | 403, .. } => "give credentials in the URL (https://USER:PASSWORD@host/…) or in ~/.netrc ($NETRC names another file)",
        I::Status { status: 404 | 410, .. } => "check the URL: it must name the wheel or sdist itself",
        I::Unreachable { .. } | I::Transfer { .. } => "check the network and the proxy (HTTPS_PROXY); PYZAP_HTTP_TIMEOUT sets the timeout",
        I::HashMismatch { .. } => "the server sent another file than the one promised: check the URL, and its #sha256= fragment against the digest its publisher gives",
        I::BadDigest(_) => "a #sha256= fragment holds 64 hex digits",
        I::NotAnArchive { .. } => "the server sent something else than an archive (an error page?): check the URL",
        _ => return Vec::new(),
    };
    vec![hint.to_string()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_value_and_hints_say_what_to_do() {
        let err = BundleError::NotAProject {
            dir: PathBuf::from("./app"),
        };
        assert_eq!(
            err.to_string(),
            "./app has no pyproject.toml or setup.py, so it is not a Python project"
        );
        assert_eq!(
            err.hints(),
            ["to bundle plain source files as they are, use --src ./app"]
        );
        assert!(BundleError::StandaloneTargets.hints().is_empty());
    }

    #[test]
    fn a_resolution_failure_keeps_its_hints_transparent_or_boxed() {
        let conflict = || pyzap_resolve::ResolveError::NoSolution {
            explanation: "a conflicts with b".into(),
            hints: vec!["no distribution named `a` was found".into()],
        };
        let transparent = BundleError::from(conflict());
        assert!(transparent.to_string().contains("a conflicts with b"));
        assert_eq!(transparent.hints(), ["no distribution named `a` was found"]);
        let boxed = BundleError::BuildRequirements {
            dir: PathBuf::from("proj"),
            requires: "setuptools".into(),
            source: Box::new(conflict()),
        };
        assert_eq!(
            boxed.to_string(),
            "resolving the build requirements of proj (setuptools)"
        );
        assert_eq!(boxed.hints(), ["no distribution named `a` was found"]);
    }
}
