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

impl ResolveError {
    /// What the user can do about this error (shown as `hint:` lines): for a
    /// conflict, why some projects offered no usable version.
    pub fn hints(&self) -> Vec<String> {
        match self {
            ResolveError::NoSolution { hints, .. } => hints.clone(),
            _ => Vec::new(),
        }
    }
}
