//! The parts of `pyproject.toml` pyzap reads: `[build-system]` and the
//! PEP 621 `[project]` table (name, dependencies, scripts).

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
