//! From an artifact and the options to the service the units describe:
//! the command line (which interpreter, which path), the name, the cache
//! directory, and the checks that the sandbox leaves the artifact visible.

use std::path::Path;

use pyzap_artifact::Manifest;

use super::escape::exec_word;
use super::values::{check_cache_directory, check_unit_name, check_user, refuse_control};
use super::{EnvVar, Hardening, Listen, SystemdOptions};
use crate::DeployError;

/// What the units need to know of an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ArtifactFacts {
    /// Absolute, as the user named it: a `current` symlink stays one, so a
    /// deploy that flips it changes what the next start runs.
    pub(crate) path: String,
    /// The file name without its extension (`echo` for `echo.pyz`).
    pub(crate) stem: String,
    /// The console script the entry point came from, if any.
    pub(crate) script: Option<String>,
    pub(crate) runner: Runner,
}

/// How the artifact is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Runner {
    /// A standalone executable: it brings its own CPython.
    Standalone,
    /// A `.pyz`, run by an interpreter.
    Zipapp {
        /// The shebang's interpreter when it is a path given literally
        /// (`pyzap build -p /opt/python/bin/python3`), not `env NAME`.
        literal: Option<String>,
        /// The targets' Python versions (`3.11`), sorted, each once.
        versions: Vec<String>,
    },
}

impl ArtifactFacts {
    /// The facts of the artifact at the absolute `path`, from its manifest.
    pub(crate) fn of(
        path: &Path,
        manifest: &Manifest,
        standalone: bool,
    ) -> Result<Self, DeployError> {
        let utf8 = |p: &Path| {
            p.to_str()
                .map(str::to_string)
                .ok_or_else(|| DeployError::NotUtf8(p.to_path_buf()))
        };
        let runner = if standalone {
            Runner::Standalone
        } else {
            let mut versions: Vec<String> = if manifest.targets.is_empty() {
                vec![manifest.target.python.clone()]
            } else {
                manifest
                    .targets
                    .iter()
                    .map(|t| t.target.python.clone())
                    .collect()
            };
            versions.sort();
            versions.dedup();
            Runner::Zipapp {
                literal: literal_interpreter(&manifest.shebang),
                versions,
            }
        };
        Ok(ArtifactFacts {
            path: utf8(path)?,
            stem: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            script: manifest.entry_point.script.clone(),
            runner,
        })
    }
}

/// `#!/opt/python/bin/python3` gives `/opt/python/bin/python3`; a shebang
/// through `env`, or with arguments, gives nothing.
fn literal_interpreter(shebang: &str) -> Option<String> {
    let line = shebang.strip_prefix("#!")?.trim();
    let plain = line.starts_with('/') && !line.contains(char::is_whitespace);
    let through_env = Path::new(line).file_name().is_some_and(|n| n == "env");
    (plain && !through_env).then(|| line.to_string())
}

/// Everything the two unit files say, decided and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Service {
    pub(crate) name: String,
    pub(crate) template: bool,
    pub(crate) artifact: String,
    /// `ExecStart=`, each word already escaped.
    pub(crate) exec_start: String,
    /// Where the interpreter came from, for the comment above `ExecStart=`.
    pub(crate) interpreter: Interpreter,
    pub(crate) listen: Listen,
    pub(crate) user: Option<String>,
    pub(crate) env: Vec<EnvVar>,
    pub(crate) cache_directory: String,
    pub(crate) hardening: Hardening,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Interpreter {
    /// The artifact runs by itself.
    Standalone,
    /// `/usr/bin/python3.X` for a target of version 3.X.
    TargetVersion,
    /// The shebang's literal path.
    Shebang,
    /// `--python`.
    Given,
}

impl Service {
    pub(crate) fn plan(
        facts: &ArtifactFacts,
        options: &SystemdOptions,
    ) -> Result<Self, DeployError> {
        let template = options.template || options.instances.is_some();
        let name = match &options.name {
            Some(name) => name.clone(),
            None => facts.script.clone().unwrap_or_else(|| facts.stem.clone()),
        };
        check_unit_name(&name)?;
        let listen = options.listen.clone();
        if let Listen::Unix(path) = &listen {
            match (template, path.contains("%i")) {
                (true, false) => return Err(DeployError::SharedUnixSocket(path.clone())),
                (false, true) => {
                    return Err(DeployError::NotATemplate {
                        what: "the socket path",
                        value: path.clone(),
                    })
                }
                _ => {}
            }
        }
        if let Some(user) = &options.user {
            check_user(user)?;
        }
        let cache_directory = match &options.cache_directory {
            Some(dir) => dir.clone(),
            // One per instance: each has a dynamic user of its own, and
            // their first starts unpack at the same time.
            None if template => format!("{name}/%i"),
            None => name.clone(),
        };
        check_cache_directory(&cache_directory)?;
        match (template, cache_directory.contains("%i")) {
            (true, false) if options.user.is_none() => {
                return Err(DeployError::SharedCacheDirectory(cache_directory))
            }
            (false, true) => {
                return Err(DeployError::NotATemplate {
                    what: "the cache directory",
                    value: cache_directory,
                })
            }
            _ => {}
        }

        let (program, interpreter) = program(facts, options)?;
        let mut words = Vec::new();
        if let Some(program) = &program {
            check_visible(program, &options.hardening)?;
            words.push(exec_word("the interpreter", program)?);
        }
        check_visible(&facts.path, &options.hardening)?;
        words.push(exec_word("the artifact path", &facts.path)?);
        for arg in &options.args {
            words.push(exec_word("the argument", arg)?);
        }
        Ok(Service {
            name,
            template,
            artifact: facts.path.clone(),
            exec_start: words.join(" "),
            interpreter,
            listen,
            user: options.user.clone(),
            env: options.env.clone(),
            cache_directory,
            hardening: options.hardening,
        })
    }
}

/// The program `ExecStart=` runs the artifact with (`None`: the artifact
/// itself), written out in full: a unit never looks it up through `env`,
/// so what runs does not depend on the service's `PATH`.
fn program(
    facts: &ArtifactFacts,
    options: &SystemdOptions,
) -> Result<(Option<String>, Interpreter), DeployError> {
    let given = match &options.python {
        Some(path) => Some(
            path.to_str()
                .ok_or_else(|| DeployError::NotUtf8(path.clone()))?
                .to_string(),
        ),
        None => None,
    };
    match (&facts.runner, given) {
        (Runner::Standalone, Some(_)) => Err(DeployError::PythonForStandalone(facts.path.clone())),
        (Runner::Standalone, None) => Ok((None, Interpreter::Standalone)),
        (Runner::Zipapp { .. }, Some(python)) => {
            refuse_control("the interpreter", &python)?;
            if !python.starts_with('/') {
                return Err(DeployError::RelativePython(python));
            }
            Ok((Some(python), Interpreter::Given))
        }
        (
            Runner::Zipapp {
                literal: Some(path),
                ..
            },
            None,
        ) => Ok((Some(path.clone()), Interpreter::Shebang)),
        (Runner::Zipapp { versions, .. }, None) => match versions.as_slice() {
            [version] => Ok((
                Some(format!("/usr/bin/python{version}")),
                Interpreter::TargetVersion,
            )),
            _ => Err(DeployError::SeveralVersions {
                path: facts.path.clone(),
                versions: versions.join(", "),
            }),
        },
    }
}

/// Refuses a path the sandbox would hide: the service would fail on its
/// first start with "No such file or directory" and nothing else.
fn check_visible(path: &str, hardening: &Hardening) -> Result<(), DeployError> {
    let under = |dir: &str| {
        path.strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
    };
    if hardening.protect_home.hides() {
        for dir in ["/home", "/root", "/run/user"] {
            if under(dir) {
                return Err(DeployError::Hidden {
                    path: path.to_string(),
                    dir,
                    directive: format!("ProtectHome={}", hardening.protect_home.as_str()),
                });
            }
        }
    }
    if hardening.private_tmp {
        for dir in ["/tmp", "/var/tmp"] {
            if under(dir) {
                return Err(DeployError::Hidden {
                    path: path.to_string(),
                    dir,
                    directive: "PrivateTmp=yes".to_string(),
                });
            }
        }
    }
    Ok(())
}
