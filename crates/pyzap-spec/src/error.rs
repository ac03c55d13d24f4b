//! The one error type of `pyzap-spec`: every parse failure names the text it
//! could not read.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("invalid requirement `{text}`: {message}")]
    Requirement { text: String, message: String },
    #[error("{file}:{line}: {message}")]
    RequirementsLine {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error("cannot read requirements file {file}")]
    RequirementsRead {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{0}` is not a valid wheel filename")]
    WheelFilename(String),
    #[error("invalid version `{text}`: {message}")]
    Version { text: String, message: String },
    #[error("METADATA has no `{0}` field")]
    MetadataField(&'static str),
    #[error("invalid entry point `{text}`: expected `module` or `module:function`")]
    EntryPoint { text: String },
    #[error("invalid pyproject.toml: {0}")]
    PyProject(String),
    #[error("[tool.pyzap] has an unknown key `{key}`{}", closest.map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default())]
    UnknownToolKey {
        key: String,
        closest: Option<&'static str>,
    },
    #[error("[tool.pyzap]: {0}")]
    ToolConfig(String),
    #[error("{option}: `{value}` is not a project name, `:all:` or `:none:`")]
    FormatControl { option: &'static str, value: String },
    #[error("invalid interpreter description: {0}")]
    Interpreter(String),
    #[error("unsupported direct reference `{requirement}`: {message}")]
    DirectReference {
        requirement: String,
        message: String,
    },
    #[error("invalid `# /// script` block: {0}")]
    ScriptMetadata(String),
    #[error("invalid dependency group: {0}")]
    DependencyGroup(String),
}
