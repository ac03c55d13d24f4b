//! Errors of `pyzap-deploy`: each names the value a unit could not be
//! written for, and `hints()` says what to pass instead.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Artifact(#[from] pyzap_artifact::ArtifactError),
    #[error("cannot make {path} absolute")]
    Absolute {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the path {0} is not UTF-8, which a unit file cannot name")]
    NotUtf8(PathBuf),
    #[error("{what} `{value}` holds a control character, which a unit file cannot carry")]
    ControlCharacter { what: &'static str, value: String },
    #[error("`{0}` is not a place to listen: ADDR:PORT (127.0.0.1:8080, 0.0.0.0:8080, [::]:8080) or the absolute path of a Unix socket (/run/app.sock)")]
    Listen(String),
    #[error("the Unix socket path {path} is {len} bytes; a socket path holds at most 107")]
    SocketPathTooLong { path: String, len: usize },
    #[error("the instances of a template cannot share the Unix socket {0}")]
    SharedUnixSocket(String),
    #[error("`{value}` in {what}: only `%i` (a template's instance) may follow `%`")]
    Specifier { what: &'static str, value: String },
    #[error("{what} `{value}` holds `%i`, which names a template's instance; these units are not a template")]
    NotATemplate { what: &'static str, value: String },
    #[error("`{0}` is not KEY=VALUE")]
    EnvSyntax(String),
    #[error("`{0}` is not an environment variable name (letters, digits and `_`, not starting with a digit)")]
    EnvName(String),
    #[error(
        "`{0}` cannot name a systemd unit: only ASCII letters, digits, `:`, `_`, `.` and `-` may"
    )]
    UnitName(String),
    #[error("`{0}` is not a user name")]
    UserName(String),
    #[error(
        "`{0}` is not a cache directory: a relative path under /var/cache, without `.` or `..`"
    )]
    CacheDirectory(String),
    #[error("every instance runs as a dynamic user of its own, so they cannot share the cache directory {0}")]
    SharedCacheDirectory(String),
    #[error("the interpreter {0} is not an absolute path")]
    RelativePython(String),
    #[error("{0} is a standalone executable: it runs its own CPython, so --python does not apply")]
    PythonForStandalone(String),
    #[error("{path} carries targets of several Python versions ({versions}); a unit names one interpreter")]
    SeveralVersions { path: String, versions: String },
    #[error("{path} is under {dir}, which {directive} hides from the service")]
    Hidden {
        path: String,
        dir: &'static str,
        directive: String,
    },
    #[error("`{value}` is not a value of {directive} here (one of {allowed})")]
    Choice {
        directive: &'static str,
        value: String,
        allowed: &'static str,
    },
    #[error("cannot read the METADATA of {dir}")]
    Metadata {
        dir: String,
        #[source]
        source: pyzap_spec::SpecError,
    },
    #[error("`{0}` is not a distribution the artifact bundles")]
    DistNotBundled(String),
    #[error(
        "cannot tell which bundled distribution {path} is the app of (candidates: {candidates})"
    )]
    NoProject { path: String, candidates: String },
    #[error("`{0}` cannot name a snap: 2 to 40 lowercase letters, digits and `-`, with a letter, no `-` at either end or twice in a row")]
    SnapName(String),
    #[error("version `{0}` cannot be a snap's: at most 32 letters, digits and `:.+~-`")]
    SnapVersion(String),
    #[error("the console script `{0}` cannot name an app (letters, digits and `-`), or two scripts name the same app")]
    AppName(String),
    #[error("`{name}` is not a console script of {project} (it has: {scripts})")]
    UnknownApp {
        name: String,
        project: String,
        scripts: String,
    },
    #[error("no console script of {0} runs with what the artifact bundles")]
    NoApps(String),
    #[error("`{0}` is not an interface name (lowercase letters, digits and `-`)")]
    PlugName(String),
    #[error("{path} is for Python {python}, which no snap base has (core20: 3.8, core22: 3.10, core24: 3.12)")]
    NoBase { path: String, python: String },
    #[error("{path} needs {libc}, which {base} does not have")]
    Libc {
        path: String,
        libc: String,
        base: &'static str,
    },
    #[error("no snap architecture for the machine {0}")]
    Machine(String),
    #[error("{0} needs the base's Python, which a classic snap does not run on: it runs on the host's file system")]
    ClassicZipapp(String),
    #[error("cannot run mksquashfs")]
    Mksquashfs {
        #[source]
        source: std::io::Error,
    },
    #[error("mksquashfs failed ({status}): {stderr}")]
    MksquashfsFailed { status: String, stderr: String },
    #[error("cannot write the snap's file {path}")]
    Stage {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the unit {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: pyzap_fs::FsError,
    },
}

impl DeployError {
    /// What the user can do about it, one line each.
    pub fn hints(&self) -> Vec<String> {
        let hint = match self {
            DeployError::SharedUnixSocket(_) => {
                "put `%i` in the path (/run/app/%i.sock), or listen on ADDR:PORT, which the instances share"
            }
            DeployError::UnitName(_) => "choose the units' name with --name",
            DeployError::SharedCacheDirectory(_) => {
                "put `%i` in it (app/%i), or run every instance as one user with --user"
            }
            DeployError::RelativePython(_) => "give its full path, such as /usr/bin/python3.11",
            DeployError::SeveralVersions { .. } => {
                "choose the interpreter with --python, such as --python /usr/bin/python3.11"
            }
            DeployError::Hidden { directive, .. } if directive.starts_with("PrivateTmp") => {
                "install the artifact under /srv or /opt, or pass --private-tmp no"
            }
            DeployError::Hidden { .. } => {
                "install the artifact under /srv or /opt, or pass --protect-home read-only"
            }
            DeployError::NoProject { .. } | DeployError::DistNotBundled(_) => {
                "name the project with --dist NAME"
            }
            DeployError::SnapName(_) => "choose the snap's name with --name",
            DeployError::NoBase { .. } => {
                "build the artifact with --python 3.10 (core22) or 3.12 (core24), or --standalone, which needs no base Python"
            }
            DeployError::ClassicZipapp(_) => {
                "build a standalone executable (pyzap build --standalone), which brings its own Python"
            }
            DeployError::Mksquashfs { .. } => {
                "install squashfs-tools (apt-get install squashfs-tools)"
            }
            _ => return Vec::new(),
        };
        vec![hint.to_string()]
    }
}
