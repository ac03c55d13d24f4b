//! Finding an interpreter (`python3.11`, `/usr/bin/python3`) and probing it
//! once with `python/buildtime/probe.py`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

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
        let out = run_bounded(
            Command::new(path).args(["-I", "-S", "-B", "-c", PROBE]),
            path,
            timeout(),
        )?;
        if !out.status.success() {
            // Python 2 (and 3 before 3.4) know no -I: ask the version the
            // way every Python answers, to say so in one line.
            if let Some(version) = old_version(path) {
                return Err(PythonError::TooOld {
                    path: path.to_path_buf(),
                    version,
                });
            }
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
            serde_json::from_slice(&out.stdout).map_err(|_| PythonError::NotPython {
                path: path.to_path_buf(),
                printed: String::from_utf8_lossy(&out.stdout)
                    .trim()
                    .chars()
                    .take(80)
                    .collect(),
            })?;
        let executable = PathBuf::from(answer.executable);
        let path = if executable.is_file() {
            executable
        } else {
            path.to_path_buf()
        };
        let target = Target::from_facts(answer.facts).map_err(|source| PythonError::Target {
            path: path.clone(),
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

/// How long an interpreter may take to answer: `PYZAP_PYTHON_TIMEOUT`
/// seconds, 60 by default (a cold first start of a big interpreter on a
/// slow disk takes seconds; a program that never exits must not hang pyzap).
fn timeout() -> Duration {
    let seconds = std::env::var("PYZAP_PYTHON_TIMEOUT")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(60);
    Duration::from_secs(seconds)
}

/// Runs `command` with its output captured, killed when it outlives
/// `limit`. The probe's output is a few kilobytes, well within a pipe's
/// buffer, so reading after the wait cannot block the child.
fn run_bounded(command: &mut Command, path: &Path, limit: Duration) -> Result<Output, PythonError> {
    let spawn_err = |source| PythonError::Spawn {
        path: path.to_path_buf(),
        source,
    };
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_err)?;
    let Some(status) = child.wait_timeout(limit).map_err(spawn_err)? else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(PythonError::Timeout {
            path: path.to_path_buf(),
            seconds: limit.as_secs(),
        });
    };
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    if let Some(mut pipe) = child.stdout.take() {
        pipe.read_to_end(&mut stdout).map_err(spawn_err)?;
    }
    if let Some(mut pipe) = child.stderr.take() {
        pipe.read_to_end(&mut stderr).map_err(spawn_err)?;
    }
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// `Some("2.7.18")` when `path -V` names a Python older than 3.8.
fn old_version(path: &Path) -> Option<String> {
    let out = run_bounded(Command::new(path).arg("-V"), path, timeout()).ok()?;
    // Python 2 prints its version to stderr, Python 3 to stdout.
    let text = [out.stdout, out.stderr].concat();
    let text = String::from_utf8_lossy(&text);
    let version = text
        .trim()
        .strip_prefix("Python ")?
        .split_whitespace()
        .next()?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    let (major, minor) = (parts.next()??, parts.next()??);
    ((major, minor) < (3, 8)).then(|| version.to_string())
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_that_never_answers_is_killed_at_the_limit() {
        let start = std::time::Instant::now();
        let err = run_bounded(
            Command::new("sleep").arg("30"),
            Path::new("sleep"),
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(matches!(err, PythonError::Timeout { .. }), "{err}");
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_python_2_is_named_with_its_version() {
        let Some(python27) = [
            "/root/.pyenv/versions/2.7.18/bin/python",
            "/usr/bin/python2.7",
        ]
        .iter()
        .map(Path::new)
        .find(|p| p.exists()) else {
            pyzap_test_support::skip("no Python 2.7 here");
            return;
        };
        let err = Interpreter::probe(python27).unwrap_err();
        assert!(
            matches!(&err, PythonError::TooOld { version, .. } if version.starts_with("2.7")),
            "{err}"
        );
    }

    #[test]
    fn a_program_that_is_no_python_says_what_it_printed() {
        let err = Interpreter::probe(Path::new("/bin/echo")).unwrap_err();
        assert!(matches!(err, PythonError::NotPython { .. }), "{err}");
    }
}
