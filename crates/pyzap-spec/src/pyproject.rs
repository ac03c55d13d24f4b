//! The parts of `pyproject.toml` pyzap reads: `[build-system]`, the
//! PEP 621 `[project]` table (name, dependencies, scripts) and the PEP 735
//! `[dependency-groups]` table.
//!
//! Dependency groups are kept as written and checked only when one is
//! asked for, as PEP 735 recommends: a malformed group nobody uses does not
//! stop a build.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::{EntryPoint, Requirement, SpecError};

#[derive(Debug, Clone, Default)]
pub struct PyProject {
    pub name: Option<String>,
    pub version: Option<String>,
    pub dependencies: Vec<Requirement>,
    pub optional_dependencies: BTreeMap<String, Vec<Requirement>>,
    pub scripts: BTreeMap<String, EntryPoint>,
    pub gui_scripts: BTreeMap<String, EntryPoint>,
    pub requires_python: Option<String>,
    /// Fields the project computes at build time (PEP 621 `dynamic`).
    pub dynamic: Vec<String>,
    pub build_system: Option<BuildSystem>,
    /// `[dependency-groups]` as written (read by `dependency_group`).
    dependency_groups: toml::Table,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct BuildSystem {
    #[serde(default)]
    pub requires: Vec<String>,
    pub build_backend: Option<String>,
    #[serde(default)]
    pub backend_path: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Raw {
    project: Option<RawProject>,
    build_system: Option<BuildSystem>,
    #[serde(default)]
    dependency_groups: toml::Table,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawProject {
    name: Option<String>,
    version: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    scripts: BTreeMap<String, String>,
    #[serde(default)]
    gui_scripts: BTreeMap<String, String>,
    requires_python: Option<String>,
    #[serde(default)]
    dynamic: Vec<String>,
}

impl PyProject {
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let raw: Raw = toml::from_str(text).map_err(|e| SpecError::PyProject(e.to_string()))?;
        let mut out = PyProject {
            build_system: raw.build_system,
            dependency_groups: raw.dependency_groups,
            ..Default::default()
        };
        let Some(p) = raw.project else {
            return Ok(out);
        };
        let reqs = |list: &[String]| -> Result<Vec<Requirement>, SpecError> {
            list.iter().map(|s| crate::parse_requirement(s)).collect()
        };
        let eps =
            |map: &BTreeMap<String, String>| -> Result<BTreeMap<String, EntryPoint>, SpecError> {
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), v.parse()?)))
                    .collect()
            };
        out.name = p.name;
        out.version = p.version;
        out.dependencies = reqs(&p.dependencies)?;
        out.optional_dependencies = p
            .optional_dependencies
            .iter()
            .map(|(k, v)| Ok((k.clone(), reqs(v)?)))
            .collect::<Result<_, SpecError>>()?;
        out.scripts = eps(&p.scripts)?;
        out.gui_scripts = eps(&p.gui_scripts)?;
        out.requires_python = p.requires_python;
        out.dynamic = p.dynamic;
        Ok(out)
    }

    /// The requirements of the dependency group `name`, its
    /// `{include-group = "…"}` entries expanded in place (PEP 735). Names
    /// compare normalised, as package names do.
    pub fn dependency_group(&self, name: &str) -> Result<Vec<Requirement>, SpecError> {
        let mut groups: BTreeMap<String, (&str, &toml::Value)> = BTreeMap::new();
        for (written, value) in &self.dependency_groups {
            if let Some((first, _)) = groups.insert(normalize_name(written), (written, value)) {
                return Err(SpecError::DependencyGroup(format!(
                    "`{first}` and `{written}` are the same group name"
                )));
            }
        }
        let mut out = Vec::new();
        expand(&groups, &normalize_name(name), &mut Vec::new(), &mut out)?;
        Ok(out)
    }

    /// The dependency groups' names as written, for messages.
    pub fn dependency_group_names(&self) -> Vec<&str> {
        self.dependency_groups.keys().map(String::as_str).collect()
    }
}

/// PEP 503 name normalisation (PEP 735 group names too): lowercase, runs
/// of `-_.` as one `-`. Unlike `PackageName`, it takes any text, so that a
/// name read from a file compares without first being validated.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Appends the requirements of `group` to `out`; `path` is the chain of
/// groups being expanded, to refuse a cycle instead of recursing forever.
fn expand(
    groups: &BTreeMap<String, (&str, &toml::Value)>,
    group: &str,
    path: &mut Vec<String>,
    out: &mut Vec<Requirement>,
) -> Result<(), SpecError> {
    let err = |message: String| Err(SpecError::DependencyGroup(message));
    if path.iter().any(|g| g == group) {
        path.push(group.to_string());
        return err(format!("groups include each other: {}", path.join(" -> ")));
    }
    let Some((written, value)) = groups.get(group) else {
        let known: Vec<&str> = groups.values().map(|(w, _)| *w).collect();
        return err(format!(
            "no dependency group `{group}` (the groups are: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ));
    };
    let Some(items) = value.as_array() else {
        return err(format!("group `{written}` is not a list"));
    };
    path.push(group.to_string());
    for item in items {
        match item {
            toml::Value::String(text) => out.push(crate::parse_requirement(text)?),
            toml::Value::Table(table) => match (table.len(), table.get("include-group")) {
                (1, Some(toml::Value::String(included))) => {
                    expand(groups, &normalize_name(included), path, out)?;
                }
                _ => {
                    return err(format!(
                        "group `{written}` has an entry that is neither a requirement \
                         nor {{include-group = \"NAME\"}}: {table}"
                    ))
                }
            },
            other => {
                return err(format!(
                    "group `{written}` has an entry that is not a requirement string: {other}"
                ))
            }
        }
    }
    path.pop();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_project_table() {
        let p = PyProject::parse(
            "[build-system]\nrequires=['flit_core']\nbuild-backend='flit_core.buildapi'\n[project]\nname='x'\nversion='1'\ndependencies=['waitress>=3']\n[project.scripts]\nx='x:main'\n",
        )
        .unwrap();
        assert_eq!(p.dependencies.len(), 1);
        assert_eq!(p.scripts["x"].to_string(), "x:main");
        assert_eq!(
            p.build_system.unwrap().build_backend.as_deref(),
            Some("flit_core.buildapi")
        );
    }

    #[test]
    fn bad_dependency_is_an_error() {
        let err =
            PyProject::parse("[project]\nname='x'\ndependencies=['wait ress']\n").unwrap_err();
        assert!(err.to_string().contains("wait ress"), "{err}");
    }

    fn groups(text: &str, name: &str) -> Result<Vec<String>, String> {
        let p = PyProject::parse(text).map_err(|e| e.to_string())?;
        p.dependency_group(name)
            .map(|reqs| reqs.iter().map(ToString::to_string).collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn dependency_groups_expand_includes() {
        let text = "[dependency-groups]\nTest = ['pytest>=8', {include-group = 'typing'}]\n\
            typing = ['mypy']\nserver = ['gunicorn', {include-group = 'test'}]\n";
        assert_eq!(
            groups(text, "server").unwrap(),
            ["gunicorn", "pytest>=8", "mypy"]
        );
        // Names compare normalised.
        assert_eq!(groups(text, "TEST").unwrap(), ["pytest>=8", "mypy"]);
        // A malformed group that is not asked for does not matter.
        let text = "[dependency-groups]\nok = ['six']\nbad = [1]\n";
        assert_eq!(groups(text, "ok").unwrap(), ["six"]);
    }

    #[test]
    fn dependency_group_errors_say_which_group() {
        let text =
            "[dependency-groups]\na = [{include-group = 'b'}]\nb = [{include-group = 'A'}]\n\
            c = [1]\nd = [{include-group = 'a', x = 1}]\ne = 'six'\nf = ['six >= = 1']\n";
        assert_eq!(
            groups(text, "a").unwrap_err(),
            "invalid dependency group: groups include each other: a -> b -> a"
        );
        assert_eq!(
            groups(text, "zzz").unwrap_err(),
            "invalid dependency group: no dependency group `zzz` (the groups are: a, b, c, d, e, f)"
        );
        assert_eq!(
            groups(text, "c").unwrap_err(),
            "invalid dependency group: group `c` has an entry that is not a requirement string: 1"
        );
        assert!(groups(text, "d")
            .unwrap_err()
            .contains("neither a requirement"));
        assert_eq!(
            groups(text, "e").unwrap_err(),
            "invalid dependency group: group `e` is not a list"
        );
        assert!(groups(text, "f")
            .unwrap_err()
            .starts_with("invalid requirement `six >= = 1`"));
        assert_eq!(
            groups("[dependency-groups]\nA_b = []\na-B = []\n", "a-b").unwrap_err(),
            "invalid dependency group: `A_b` and `a-B` are the same group name"
        );
        assert_eq!(
            groups("[project]\nname = 'x'\n", "dev").unwrap_err(),
            "invalid dependency group: no dependency group `dev` (the groups are: none)"
        );
    }

    #[test]
    fn pyproject_dependency_foo_dot_ge_does_not_panic() {
        let err = PyProject::parse("[project]\nname='x'\ndependencies=['foo.>=1']\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid requirement `foo.>=1`: name `foo.` must end with a letter or digit"
        );
        let err = PyProject::parse("[project]\noptional-dependencies={a=['x[y-]']}\n").unwrap_err();
        assert!(err.to_string().contains("extra `y-`"), "{err}");
    }
}
