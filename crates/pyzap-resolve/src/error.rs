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
}

impl ResolveError {
    pub fn hints(&self) -> &[String] {
        match self {
            ResolveError::NoSolution { hints, .. } => hints,
            _ => &[],
        }
    }
}
