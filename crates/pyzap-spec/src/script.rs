//! PEP 723 inline script metadata: the `# /// script` … `# ///` comment
//! block of a single-file script, TOML with `dependencies` and
//! `requires-python`.
//!
//! The block is found as the PEP's reference regular expression finds it:
//! a line that is exactly `# /// TYPE`, then lines that are `#` or start
//! with `# `, up to the *last* line that is exactly `# ///` among them (so
//! a `# ///` inside the TOML does not end the block early). Two `script`
//! blocks are an error (the PEP says tools must refuse them), and so is a
//! `# /// script` line with no closing line: the regular expression would
//! skip it silently, and the script would be bundled without its
//! dependencies. Blocks of other types are ignored.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::requirement::parse_specifiers;
use crate::{Requirement, SpecError, VersionSpecifiers};

/// What a script's `# /// script` block says.
#[derive(Debug, Clone, Default)]
pub struct ScriptMetadata {
    pub dependencies: Vec<Requirement>,
    pub requires_python: Option<VersionSpecifiers>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Raw {
    #[serde(default)]
    dependencies: Vec<String>,
    requires_python: Option<String>,
    /// `[tool.*]` tables belong to other tools; other keys are left for
    /// later PEPs, as the PEP asks.
    #[serde(default, rename = "tool")]
    _tool: BTreeMap<String, toml::Value>,
}

/// One metadata block: its type, the line it starts on (1-based) and the
/// TOML text inside.
struct Block {
    kind: String,
    line: usize,
    toml: String,
}

impl ScriptMetadata {
    /// Reads the `script` block of `source`; `None` when there is none.
    pub fn parse(source: &str) -> Result<Option<Self>, SpecError> {
        let lines: Vec<&str> = source.lines().collect();
        let mut found: Option<Block> = None;
        for block in blocks(&lines)? {
            if block.kind != "script" {
                continue;
            }
            if let Some(first) = &found {
                return Err(SpecError::ScriptMetadata(format!(
                    "line {}: a second `# /// script` block (the first is on line {}); \
                     a script has one",
                    block.line, first.line
                )));
            }
            found = Some(block);
        }
        let Some(block) = found else {
            return Ok(None);
        };
        let at = |line: usize, message: &str| {
            SpecError::ScriptMetadata(format!("line {line}: {message}"))
        };
        let raw: Raw = toml::from_str(&block.toml).map_err(|e| {
            // The span is in the block's text, whose first line is the one
            // after `# /// script`.
            let offset = e
                .span()
                .and_then(|s| block.toml.get(..s.start))
                .map_or(0, |before| before.matches('\n').count());
            at(block.line + 1 + offset, e.message().trim())
        })?;
        let dependencies = raw
            .dependencies
            .iter()
            .map(|d| crate::parse_requirement(d))
            .collect::<Result<_, _>>()?;
        let requires_python = raw
            .requires_python
            .as_deref()
            .map(parse_specifiers)
            .transpose()?;
        Ok(Some(ScriptMetadata {
            dependencies,
            requires_python,
        }))
    }
}

/// Every `# /// TYPE` … `# ///` block, in order.
fn blocks(lines: &[&str]) -> Result<Vec<Block>, SpecError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(kind) = lines[i].strip_prefix("# /// ").filter(|k| is_block_type(k)) else {
            i += 1;
            continue;
        };
        let body: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| **l == "#" || l.starts_with("# "))
            .copied()
            .collect();
        let Some(end) = body.iter().rposition(|l| *l == "# ///") else {
            if kind == "script" {
                return Err(SpecError::ScriptMetadata(format!(
                    "line {}: the `# /// script` block has no closing `# ///` line",
                    i + 1
                )));
            }
            i += 1;
            continue;
        };
        let toml = body[..end]
            .iter()
            .map(|l| l.strip_prefix("# ").unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        out.push(Block {
            kind: kind.to_string(),
            line: i + 1,
            toml,
        });
        i += end + 2;
    }
    Ok(out)
}

/// `[a-zA-Z0-9-]+`, the PEP's TYPE.
fn is_block_type(kind: &str) -> bool {
    !kind.is_empty() && kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(source: &str) -> Result<Option<ScriptMetadata>, SpecError> {
        ScriptMetadata::parse(source)
    }

    #[test]
    fn reads_dependencies_and_requires_python() {
        let source = "#!/usr/bin/env python3\n# /// script\n# requires-python = \">=3.9\"\n\
            # dependencies = [\n#   \"six>=1.16\",\n#   \"tomli; python_version < '3.11'\",\n# ]\n\
            #\n# [tool.other]\n# x = 1\n# ///\nimport six\n";
        let m = parse(source).unwrap().unwrap();
        let names: Vec<String> = m.dependencies.iter().map(|d| d.name.to_string()).collect();
        assert_eq!(names, ["six", "tomli"]);
        assert_eq!(m.requires_python.unwrap().to_string(), ">=3.9");
    }

    #[test]
    fn no_block_and_other_blocks_are_none() {
        assert!(parse("print('hi')\n").unwrap().is_none());
        assert!(parse("# /// pyproject\n# x = 1\n# ///\n")
            .unwrap()
            .is_none());
        // Not a block: trailing space after the type, or no space after `#`.
        assert!(parse("# /// script \n# dependencies = []\n# ///\n")
            .unwrap()
            .is_none());
        assert!(parse("#/// script\n# ///\n").unwrap().is_none());
    }

    #[test]
    fn the_last_closing_line_ends_the_block() {
        // As the reference regex reads it: the block runs to the last
        // `# ///` of the comment lines, so this one is one TOML document.
        let source =
            "# /// script\n# dependencies = ['six']\n# ///\n# requires-python = '>=3.8'\n# ///\n";
        let m = parse(source).unwrap_err();
        // `# ///` inside the TOML is a line `///`: not TOML.
        assert!(m.to_string().contains("line 3"), "{m}");
        // A blank line ends the comment run, so the first `# ///` closes it.
        let source = "# /// script\n# dependencies = ['six']\n# ///\n\n# ///\n";
        assert_eq!(parse(source).unwrap().unwrap().dependencies.len(), 1);
        // CRLF line ends read like LF ones.
        let source = "# /// script\r\n# dependencies = ['six']\r\n# ///\r\n";
        assert_eq!(parse(source).unwrap().unwrap().dependencies.len(), 1);
    }

    #[test]
    fn errors_name_the_line() {
        let message = |source: &str| parse(source).unwrap_err().to_string();
        assert_eq!(
            message("x = 1\n# /// script\n# dependencies = []\n"),
            "invalid `# /// script` block: line 2: the `# /// script` block has no closing `# ///` line"
        );
        assert_eq!(
            message("# /// script\n# ///\nx = 1\n# /// script\n# ///\n"),
            "invalid `# /// script` block: line 4: a second `# /// script` block (the first is on line 1); a script has one"
        );
        let err =
            message("# /// script\n# requires-python = '>=3.8'\n# dependencies = 'six'\n# ///\n");
        assert!(
            err.starts_with("invalid `# /// script` block: line 3: "),
            "{err}"
        );
        assert_eq!(
            message("# /// script\n# dependencies = ['six >= = 1']\n# ///\n"),
            "invalid requirement `six >= = 1`: expected version to start with a number, but no leading ASCII digits were found"
        );
        assert!(message("# /// script\n# requires-python = '>=é'\n# ///\n")
            .starts_with("invalid version `>=é`"));
    }
}
