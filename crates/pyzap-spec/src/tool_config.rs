//! `[tool.pyzap]` in a project's `pyproject.toml`: the `pyzap build`
//! options a project keeps with its source, so that a bare `pyzap build` in
//! its directory needs no flags. Keys are the long flags' names; a flag on
//! the command line wins over its key. An unknown key is an error naming
//! the closest known one: a misspelt option silently ignored would build
//! something else than the project asked for.

use std::path::PathBuf;

use serde::Deserialize;

use crate::SpecError;

/// The keys `[tool.pyzap]` accepts, as the flags of `pyzap build` spell them.
pub const TOOL_KEYS: [&str; 18] = [
    "console-script",
    "entry-point",
    "extra-index-url",
    "find-links",
    "index-url",
    "no-compile",
    "no-index",
    "output",
    "platform",
    "python",
    "python-dist",
    "python-dist-sha256",
    "python-version",
    "requirements",
    "shebang",
    "src",
    "standalone",
    "stdlib-sources",
];

/// `[tool.pyzap]`, read. Paths are as written: relative ones are relative to
/// the project's directory, which the caller knows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ToolConfig {
    /// `-c`: a console script of a bundled distribution.
    pub console_script: Option<String>,
    /// `-e`: `module[:function]`.
    pub entry_point: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub extra_index_url: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub find_links: Vec<String>,
    pub index_url: Option<String>,
    #[serde(default)]
    pub no_compile: bool,
    #[serde(default)]
    pub no_index: bool,
    /// `-o`.
    pub output: Option<PathBuf>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub platform: Vec<String>,
    pub python: Option<String>,
    pub python_dist: Option<String>,
    pub python_dist_sha256: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub python_version: Vec<String>,
    /// Requirement specs bundled besides the project (PEP 508 lines).
    #[serde(default, deserialize_with = "one_or_many")]
    pub requirements: Vec<String>,
    /// `-p`.
    pub shebang: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub src: Vec<PathBuf>,
    #[serde(default)]
    pub standalone: bool,
    /// `--stdlib-sources`: ship the stdlib's sources in a standalone executable.
    #[serde(default)]
    pub stdlib_sources: bool,
}

/// A key given as one value or a list of them (`platform = "manylinux_2_28_x86_64"`
/// or `platform = ["…", "…"]`), as the flags take one or many.
fn one_or_many<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany<T> {
        One(T),
        Many(Vec<T>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

impl ToolConfig {
    /// The `[tool.pyzap]` table of a `pyproject.toml`'s text; `None` when
    /// it has none.
    pub fn from_pyproject(text: &str) -> Result<Option<Self>, SpecError> {
        let doc: toml::Table =
            toml::from_str(text).map_err(|e| SpecError::PyProject(e.to_string()))?;
        let Some(table) = doc
            .get("tool")
            .and_then(|tool| tool.as_table())
            .and_then(|tool| tool.get("pyzap"))
        else {
            return Ok(None);
        };
        let Some(keys) = table.as_table() else {
            return Err(SpecError::ToolConfig(
                "[tool.pyzap] must be a table".to_string(),
            ));
        };
        for key in keys.keys() {
            if !TOOL_KEYS.contains(&key.as_str()) {
                return Err(SpecError::UnknownToolKey {
                    key: key.clone(),
                    closest: closest_key(key),
                });
            }
        }
        table
            .clone()
            .try_into()
            .map(Some)
            .map_err(|e: toml::de::Error| SpecError::ToolConfig(e.message().to_string()))
    }
}

/// The known key most like `key`, when one is alike enough to be what was
/// meant (Jaro-Winkler, as clap uses to suggest a mistyped flag).
fn closest_key(key: &str) -> Option<&'static str> {
    let key = key.replace('_', "-");
    TOOL_KEYS
        .iter()
        .map(|known| (strsim::jaro_winkler(&key, known), *known))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, known)| known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_key_one_value_or_many() {
        let text = r#"
[project]
name = "app"

[tool.pyzap]
console-script = "app"
entry-point = "app.cli:main"
extra-index-url = "https://extra.example/simple"
find-links = ["../wheels", "https://example.org/links"]
index-url = "https://index.example/simple"
no-compile = true
no-index = true
output = "dist/app.pyz"
platform = ["manylinux_2_28_x86_64", "manylinux_2_28_aarch64"]
python = "python3.11"
python-dist = "cpython.tar.gz"
python-dist-sha256 = "ab"
python-version = "3.11"
requirements = ["gunicorn>=22"]
shebang = "/usr/bin/python3.11"
src = "static"
standalone = true
stdlib-sources = true
"#;
        let config = ToolConfig::from_pyproject(text).unwrap().unwrap();
        assert_eq!(config.console_script.as_deref(), Some("app"));
        assert_eq!(config.entry_point.as_deref(), Some("app.cli:main"));
        assert_eq!(config.extra_index_url, ["https://extra.example/simple"]);
        assert_eq!(
            config.find_links,
            ["../wheels", "https://example.org/links"]
        );
        assert_eq!(
            config.index_url.as_deref(),
            Some("https://index.example/simple")
        );
        assert!(config.no_compile && config.no_index && config.standalone);
        assert!(config.stdlib_sources);
        assert_eq!(config.output, Some(PathBuf::from("dist/app.pyz")));
        assert_eq!(config.platform.len(), 2);
        assert_eq!(config.python.as_deref(), Some("python3.11"));
        assert_eq!(config.python_dist.as_deref(), Some("cpython.tar.gz"));
        assert_eq!(config.python_dist_sha256.as_deref(), Some("ab"));
        assert_eq!(config.python_version, ["3.11"]);
        assert_eq!(config.requirements, ["gunicorn>=22"]);
        assert_eq!(config.shebang.as_deref(), Some("/usr/bin/python3.11"));
        assert_eq!(config.src, [PathBuf::from("static")]);
    }

    #[test]
    fn no_table_is_no_config() {
        assert_eq!(
            ToolConfig::from_pyproject("[project]\nname = \"x\"\n").unwrap(),
            None
        );
        assert_eq!(
            ToolConfig::from_pyproject("[tool.black]\nline-length = 99\n").unwrap(),
            None
        );
        assert_eq!(
            ToolConfig::from_pyproject("[tool.pyzap]\n").unwrap(),
            Some(ToolConfig::default())
        );
    }

    #[test]
    fn an_unknown_key_names_the_closest_known_one() {
        for (key, closest) in [
            ("entry-pont", Some("entry-point")),
            ("entry_point", Some("entry-point")),
            ("ouput", Some("output")),
            ("python_version", Some("python-version")),
            ("frobnicate", None),
        ] {
            let err =
                ToolConfig::from_pyproject(&format!("[tool.pyzap]\n{key} = \"x\"\n")).unwrap_err();
            match err {
                SpecError::UnknownToolKey { key: k, closest: c } => {
                    assert_eq!((k.as_str(), c), (key, closest));
                }
                other => panic!("{other}"),
            }
        }
    }

    #[test]
    fn a_value_of_the_wrong_kind_is_an_error() {
        for text in [
            "[tool.pyzap]\nno-index = \"yes\"\n",
            "[tool.pyzap]\nplatform = 3\n",
            "tool.pyzap = 1\n",
        ] {
            assert!(
                matches!(
                    ToolConfig::from_pyproject(text),
                    Err(SpecError::ToolConfig(_))
                ),
                "{text}"
            );
        }
    }
}
