//! Finding an interpreter (`python3.11`, `/usr/bin/python3`) and probing it
//! once with `python/buildtime/probe.py`.

use std::path::{Path, PathBuf};
use std::process::Command;

use pyzap_spec::{InterpreterFacts, Target};

use crate::PythonError;

const PROBE: &str = include_str!("../../../python/buildtime/probe.py");

#[derive(Debug, Clone)]
pub struct Interpreter {
    pub path: PathBuf,
    pub target: Target,
}

impl Interpreter {
    /// `spec` is a path (contains `/`) or a command name looked up on PATH.
    pub fn find(spec: &str) -> Result<Self, PythonError> {
        let path = if spec.contains('/') {
            PathBuf::from(spec)
        } else {
            which(spec).ok_or_else(|| PythonError::NotFound(spec.to_string()))?
        };
        Self::probe(&path)
    }

    pub fn probe(path: &Path) -> Result<Self, PythonError> {
        let out = Command::new(path)
            .args(["-I", "-S", "-B", "-c", PROBE])
            .output()
            .map_err(|source| PythonError::Spawn {
                path: path.to_path_buf(),
                source,
            })?;
        if !out.status.success() {
            return Err(PythonError::Probe {
                path: path.to_path_buf(),
                stderr: String::from_utf8_lossy(&out.stderr)
                    .trim()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .to_string(),
            });
        }
        let answer: ProbeAnswer =
            serde_json::from_slice(&out.stdout).map_err(|e| PythonError::Probe {
                path: path.to_path_buf(),
                stderr: format!("unexpected answer ({e})"),
            })?;
        let executable = PathBuf::from(answer.executable);
        let path = if executable.is_file() {
            executable
        } else {
            path.to_path_buf()
        };
        let target = Target::from_facts(answer.facts).map_err(|source| PythonError::Target {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Interpreter { path, target })
    }
}

#[derive(serde::Deserialize)]
struct ProbeAnswer {
    facts: InterpreterFacts,
    executable: String,
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}
