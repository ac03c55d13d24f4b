//! Errors of `pyzap-resolve`.

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// No set of versions satisfies the requirements; the text explains the chain.
    #[error("no set of distributions satisfies the requirements:\n{explanation}")]
    NoSolution {
        explanation: String,
        hints: Vec<String>,
    },
    #[error("reading candidates for {package} failed")]
    Provider {
        package: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("invalid lock file: {message}")]
    LockFile { message: String },
    #[error("the lock file is for {environments}, not for {target}")]
    LockEnvironment {
        target: String,
        environments: String,
        /// The target's `X.Y` and platform tag, for the hint.
        python_version: String,
        platform: String,
    },
    #[error("{first} and {second} resolve differently, but no marker tells them apart, so one lock cannot hold both")]
    LockIndistinct { first: String, second: String },
    #[error("the lock file has {name} {versions} for {target}: the markers of its entries must exclude each other")]
    LockDuplicate {
        name: String,
        versions: String,
        target: String,
    },
    #[error("{package} in the lock file has no wheel for {target}, only the sdist {sdist}, {}", why_not_built(*no_build))]
    LockNeedsBuild {
        /// `name version`.
        package: String,
        target: String,
        sdist: String,
        /// `--no-build` refused the build (else: a cross-target build).
        no_build: bool,
    },
    #[error(
        "{name} {version} in the lock file has no file that fits {target}; files locked: {files}"
    )]
    LockNoFile {
        name: String,
        version: String,
        target: String,
        files: String,
    },
}

/// Why a locked sdist is not built for the target.
fn why_not_built(no_build: bool) -> &'static str {
    if no_build {
        "and --no-build refuses to build it"
    } else {
        "which only the target's own Python could build: a cross-target build \
         (--python-version, --platform) has none to run here"
    }
}

impl ResolveError {
    /// What the user can do about this error (shown as `hint:` lines): for a
    /// conflict, why some projects offered no usable version.
    pub fn hints(&self) -> Vec<String> {
        match self {
            ResolveError::NoSolution { hints, .. } => hints.clone(),
            ResolveError::LockEnvironment {
                python_version,
                platform,
                ..
            } => vec![format!(
                "lock for it too: `pyzap lock --python-version {python_version} --platform {platform}`, \
                 with a --python-version and --platform for each environment to keep"
            )],
            ResolveError::LockIndistinct { .. } => vec![
                "lock them one at a time, into two lock files".into(),
            ],
            ResolveError::LockNeedsBuild { no_build: true, .. } => {
                vec!["drop --no-build to build it".into()]
            }
            ResolveError::LockNeedsBuild { .. } => vec![
                "build where the target's Python runs, with --python naming it instead of \
                 --python-version and --platform, or lock a version that has a wheel for the target"
                    .into(),
            ],
            _ => Vec::new(),
        }
    }
}
