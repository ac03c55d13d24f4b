//! PEP 751 lock files (`pylock.toml`): a resolution written down with every
//! file it may install and their hashes, and read back to install exactly
//! that set with no resolution.
//!
//! What pyzap writes (for one target, PEP 751 "Locking for one
//! environment"; for several, one marker per target and package markers,
//! see `universal.rs`): `lock-version = "1.0"`, `created-by`, `environments`
//! (a marker naming each target's platform, implementation and Python, so a
//! lock is not silently used for another target), `requires-python`, then one
//! `[[packages]]` per distribution, sorted by normalised name, with every
//! wheel of that version whose hash is known (`wheels = [{ name, url | path,
//! size?, hashes = { sha256 } }]`) and its sdist. The names of the
//! requirements the user gave go in `[tool.pyzap] roots`, so entry-point
//! detection works the same as in a plain build. Output is a pure function
//! of the `Lock` value: same resolution, same bytes.
//!
//! What pyzap reads: any PEP 751 file with `lock-version` 1.x; packages whose
//! `marker` is false for the target are skipped, and two entries of one
//! project whose markers both hold are refused; `vcs`, `directory` and
//! `archive` sources are refused (pyzap installs wheels and sdists only).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use pyzap_spec::{FormatControl, MarkerTree, PackageName, Target, Version, WheelFilename};
use serde::Deserialize;

use crate::{FileKind, FileRules, ResolveError};

/// The lock-file format version pyzap writes (and the major it reads).
pub const LOCK_VERSION: &str = "1.0";

/// A whole `pylock.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lock {
    pub created_by: String,
    /// PEP 508 markers; the lock applies where any is true (none: anywhere).
    pub environments: Vec<String>,
    pub requires_python: Option<String>,
    pub packages: Vec<LockedPackage>,
    /// `[tool.pyzap] roots`: the projects the user asked for.
    pub roots: Vec<PackageName>,
}

/// One `[[packages]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPackage {
    pub name: PackageName,
    pub version: Version,
    pub marker: Option<String>,
    pub requires_python: Option<String>,
    pub wheels: Vec<LockedFile>,
    pub sdist: Option<LockedFile>,
}

/// A wheel or sdist of a package: where it is and what it hashes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedFile {
    pub filename: String,
    pub source: FileSource,
    pub size: Option<u64>,
    /// Lowercase hex.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileSource {
    Url(String),
    /// Relative to the lock file's directory, or absolute (PEP 751).
    Path(String),
}

/// Whether a locked sdist may be built for the target, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdistBuilds {
    Allowed,
    /// `--no-build`.
    Refused,
    /// A cross-target build (`--python-version`, `--platform`): only the
    /// target's own interpreter could build it, and it is not here.
    CrossTarget,
}

/// The file chosen from a lock for one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedChoice<'a> {
    pub package: &'a LockedPackage,
    pub file: &'a LockedFile,
    pub is_wheel: bool,
}

impl Lock {
    /// The marker pyzap writes into `environments` for a target.
    pub fn environment_marker(target: &Target) -> String {
        let f = &target.facts;
        format!(
            "sys_platform == '{}' and platform_machine == '{}' and implementation_name == '{}' and python_version == '{}'",
            f.sys_platform, f.platform_machine, f.implementation_name, f.python_version
        )
    }

    /// Serialises deterministically: packages sorted by name, files by filename.
    pub fn to_toml(&self) -> String {
        let mut packages = self.packages.clone();
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        // Roots keep the user's order: entry-point detection reads the first.
        let mut roots: Vec<&PackageName> = Vec::new();
        for r in &self.roots {
            if !roots.contains(&r) {
                roots.push(r);
            }
        }
        let mut out = String::new();
        let _ = writeln!(out, "lock-version = {}", quote(LOCK_VERSION));
        let _ = writeln!(out, "created-by = {}", quote(&self.created_by));
        if !self.environments.is_empty() {
            let _ = writeln!(out, "environments = {}", array(&self.environments));
        }
        if let Some(rp) = &self.requires_python {
            let _ = writeln!(out, "requires-python = {}", quote(rp));
        }
        for p in &packages {
            out.push_str("\n[[packages]]\n");
            let _ = writeln!(out, "name = {}", quote(p.name.as_ref()));
            let _ = writeln!(out, "version = {}", quote(&p.version.to_string()));
            if let Some(m) = &p.marker {
                let _ = writeln!(out, "marker = {}", quote(m));
            }
            if let Some(rp) = &p.requires_python {
                let _ = writeln!(out, "requires-python = {}", quote(rp));
            }
            if let Some(sdist) = &p.sdist {
                let _ = writeln!(out, "sdist = {}", file_table(sdist));
            }
            if !p.wheels.is_empty() {
                let mut wheels = p.wheels.clone();
                wheels.sort_by(|a, b| a.filename.cmp(&b.filename));
                out.push_str("wheels = [\n");
                for w in &wheels {
                    let _ = writeln!(out, "    {},", file_table(w));
                }
                out.push_str("]\n");
            }
        }
        if !roots.is_empty() {
            let names: Vec<String> = roots.iter().map(std::string::ToString::to_string).collect();
            let _ = write!(out, "\n[tool.pyzap]\nroots = {}\n", array(&names));
        }
        out
    }

    /// Parses and checks a lock file's text.
    pub fn from_toml(text: &str) -> Result<Lock, ResolveError> {
        let raw: RawLock = toml::from_str(text).map_err(|e| ResolveError::LockFile {
            message: e.to_string(),
        })?;
        let bad = |message: String| ResolveError::LockFile { message };
        let major = raw.lock_version.split('.').next().unwrap_or("");
        if major != "1" {
            return Err(bad(format!(
                "lock-version {} is not supported (pyzap reads 1.x)",
                raw.lock_version
            )));
        }
        let mut packages = Vec::new();
        for p in raw.packages {
            let name: PackageName = p
                .name
                .parse()
                .map_err(|e| bad(format!("invalid package name `{}`: {e}", p.name)))?;
            if p.vcs.is_some() || p.directory.is_some() || p.archive.is_some() {
                return Err(bad(format!(
                    "package {name} comes from a VCS, directory or archive source, which pyzap cannot install from a lock"
                )));
            }
            let version_text = p
                .version
                .ok_or_else(|| bad(format!("package {name} has no version (pyzap needs one)")))?;
            let version: Version = version_text
                .parse()
                .map_err(|e| bad(format!("package {name} has an invalid version: {e}")))?;
            let file = |f: RawFile| -> Result<LockedFile, ResolveError> {
                let filename = f
                    .name
                    .clone()
                    .or_else(|| {
                        let loc = f.url.as_deref().or(f.path.as_deref())?;
                        loc.rsplit('/').next().map(str::to_string)
                    })
                    .ok_or_else(|| bad(format!("a file of {name} has no name, url or path")))?;
                let source = match (f.url, f.path) {
                    (Some(u), _) => FileSource::Url(u),
                    (None, Some(p)) => FileSource::Path(p),
                    (None, None) => {
                        return Err(bad(format!(
                            "{filename} of {name} has neither url nor path"
                        )))
                    }
                };
                let sha256 = f
                    .hashes
                    .get("sha256")
                    .map(|h| h.to_ascii_lowercase())
                    .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .ok_or_else(|| {
                        bad(format!(
                            "{filename} of {name} has no valid sha256 hash (pyzap verifies every file)"
                        ))
                    })?;
                Ok(LockedFile {
                    filename,
                    source,
                    size: f.size,
                    sha256,
                })
            };
            let wheels = p
                .wheels
                .into_iter()
                .map(file)
                .collect::<Result<Vec<_>, _>>()?;
            let sdist = p.sdist.map(file).transpose()?;
            if wheels.is_empty() && sdist.is_none() {
                return Err(bad(format!("package {name} lists no wheel and no sdist")));
            }
            packages.push(LockedPackage {
                name,
                version,
                marker: p.marker,
                requires_python: p.requires_python,
                wheels,
                sdist,
            });
        }
        let roots = raw
            .tool
            .and_then(|t| t.pyzap)
            .map(|p| p.roots)
            .unwrap_or_default()
            .iter()
            .map(|r| {
                r.parse::<PackageName>()
                    .map_err(|e| bad(format!("invalid root `{r}`: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Lock {
            created_by: raw.created_by,
            environments: raw.environments,
            requires_python: raw.requires_python,
            packages,
            roots,
        })
    }

    /// The file to install for each package that applies to `target`, chosen
    /// by the same rule as a resolution's (`FileRules::choose`).
    pub fn select<'a>(
        &'a self,
        target: &Target,
        builds: SdistBuilds,
        formats: &FormatControl,
    ) -> Result<Vec<LockedChoice<'a>>, ResolveError> {
        let bad_marker = |m: &str, e: String| ResolveError::LockFile {
            message: format!("invalid marker `{m}`: {e}"),
        };
        if !self.environments.is_empty() {
            let mut fits = false;
            for env in &self.environments {
                let tree: MarkerTree = env.parse().map_err(|e| bad_marker(env, format!("{e}")))?;
                fits |= tree.evaluate(&target.markers, &[]);
            }
            if !fits {
                return Err(ResolveError::LockEnvironment {
                    target: target.describe(),
                    environments: describe_environments(&self.environments),
                    python_version: target.version_string(),
                    platform: target.best_platform().unwrap_or_default().to_string(),
                });
            }
        }
        let rules = FileRules {
            target,
            allow_sdists: builds == SdistBuilds::Allowed,
            formats,
        };
        let mut out: Vec<LockedChoice<'a>> = Vec::new();
        for p in &self.packages {
            if let Some(m) = &p.marker {
                let tree: MarkerTree = m.parse().map_err(|e| bad_marker(m, format!("{e}")))?;
                if !tree.evaluate(&target.markers, &[]) {
                    continue;
                }
            }
            if let Some(other) = out.iter().find(|c| c.package.name == p.name) {
                return Err(ResolveError::LockDuplicate {
                    name: p.name.to_string(),
                    versions: format!("{} and {}", other.package.version, p.version),
                    target: target.describe(),
                });
            }
            let wheels: Vec<(Option<WheelFilename>, &LockedFile)> = p
                .wheels
                .iter()
                .map(|w| (w.filename.parse().ok(), w))
                .collect();
            // A wheel whose name does not parse fits no target: it is skipped.
            let files = wheels
                .iter()
                .filter_map(|(parsed, w)| Some((FileKind::Wheel(parsed.as_ref()?), (*w, true))))
                .chain(p.sdist.iter().map(|s| (FileKind::Sdist, (s, false))));
            let chosen = rules.choose(&p.name, files);
            let choice = match chosen {
                Some((file, is_wheel)) => LockedChoice {
                    package: p,
                    file,
                    is_wheel,
                },
                None if builds != SdistBuilds::Allowed && p.sdist.is_some() && {
                    let with_builds = FileRules {
                        allow_sdists: true,
                        ..rules
                    };
                    let sdist = p.sdist.iter().map(|s| (FileKind::Sdist, s));
                    with_builds.choose(&p.name, sdist).is_some()
                } =>
                {
                    return Err(ResolveError::LockNeedsBuild {
                        package: format!("{} {}", p.name, p.version),
                        target: target.describe(),
                        sdist: p
                            .sdist
                            .as_ref()
                            .map(|s| s.filename.clone())
                            .unwrap_or_default(),
                        no_build: builds == SdistBuilds::Refused,
                    })
                }
                None => {
                    return Err(ResolveError::LockNoFile {
                        name: p.name.to_string(),
                        version: p.version.to_string(),
                        target: target.describe(),
                        files: p
                            .wheels
                            .iter()
                            .chain(p.sdist.iter())
                            .map(|f| f.filename.clone())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
                }
            };
            out.push(choice);
        }
        Ok(out)
    }
}

/// The environments of a lock, for a message: the markers pyzap writes
/// (`Lock::environment_marker`) as `Python 3.9, 3.12 on x86_64, aarch64`
/// when they are every version × platform, else one `Python X.Y on ARCH`
/// each; any other marker as it is.
fn describe_environments(environments: &[String]) -> String {
    let ours: Option<Vec<(String, String)>> = environments
        .iter()
        .map(|env| {
            let mut python = None;
            let mut machine = None;
            for clause in env.split(" and ") {
                let (key, value) = clause.split_once(" == ")?;
                let value = value.strip_prefix('\'')?.strip_suffix('\'')?;
                match key {
                    "python_version" => python = Some(value.to_string()),
                    "platform_machine" => machine = Some(value.to_string()),
                    "sys_platform" | "implementation_name" => {}
                    _ => return None,
                }
            }
            Some((python?, machine?))
        })
        .collect();
    let Some(pairs) = ours.filter(|p| !p.is_empty()) else {
        return environments.join(" | ");
    };
    let mut versions: Vec<&str> = Vec::new();
    let mut machines: Vec<&str> = Vec::new();
    for (v, m) in &pairs {
        if !versions.contains(&v.as_str()) {
            versions.push(v);
        }
        if !machines.contains(&m.as_str()) {
            machines.push(m);
        }
    }
    if versions.len() * machines.len() == pairs.len() {
        format!("Python {} on {}", versions.join(", "), machines.join(", "))
    } else {
        let each: Vec<String> = pairs
            .iter()
            .map(|(v, m)| format!("Python {v} on {m}"))
            .collect();
        each.join(", ")
    }
}

/// A TOML basic string, escaped by the `toml` crate.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn array(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| quote(i)).collect();
    format!("[{}]", quoted.join(", "))
}

fn file_table(f: &LockedFile) -> String {
    let mut parts = vec![format!("name = {}", quote(&f.filename))];
    match &f.source {
        FileSource::Url(u) => parts.push(format!("url = {}", quote(u))),
        FileSource::Path(p) => parts.push(format!("path = {}", quote(p))),
    }
    if let Some(size) = f.size {
        parts.push(format!("size = {size}"));
    }
    parts.push(format!("hashes = {{ sha256 = {} }}", quote(&f.sha256)));
    format!("{{ {} }}", parts.join(", "))
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawLock {
    lock_version: String,
    #[serde(default)]
    created_by: String,
    #[serde(default)]
    environments: Vec<String>,
    requires_python: Option<String>,
    #[serde(default)]
    packages: Vec<RawPackage>,
    tool: Option<RawTool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawPackage {
    name: String,
    version: Option<String>,
    marker: Option<String>,
    requires_python: Option<String>,
    #[serde(default)]
    wheels: Vec<RawFile>,
    sdist: Option<RawFile>,
    vcs: Option<toml::Value>,
    directory: Option<toml::Value>,
    archive: Option<toml::Value>,
}

#[derive(Deserialize)]
struct RawFile {
    name: Option<String>,
    url: Option<String>,
    path: Option<String>,
    size: Option<u64>,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawTool {
    pyzap: Option<RawPyzapTool>,
}

#[derive(Deserialize)]
struct RawPyzapTool {
    #[serde(default)]
    roots: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyzap_spec::Target;

    /// CPython 3.11.7 on manylinux_2_36_x86_64, as `--python-version` makes it.
    fn target() -> Target {
        let platform: pyzap_spec::PlatformTag = "manylinux_2_36_x86_64".parse().unwrap();
        Target::cross("3.11.7", Some(&platform), None).unwrap()
    }

    fn file(name: &str, hash: char) -> LockedFile {
        LockedFile {
            filename: name.into(),
            source: FileSource::Url(format!("https://example.org/files/{name}")),
            size: Some(10),
            sha256: hash.to_string().repeat(64),
        }
    }

    fn sample() -> Lock {
        Lock {
            created_by: "pyzap 0.1.0".into(),
            environments: vec![Lock::environment_marker(&target())],
            requires_python: Some("==3.11.*".into()),
            packages: vec![
                LockedPackage {
                    name: "markupsafe".parse().unwrap(),
                    version: "3.0.4".parse().unwrap(),
                    marker: None,
                    requires_python: Some(">=3.9".into()),
                    wheels: vec![
                        file("markupsafe-3.0.4-cp312-cp312-manylinux2014_x86_64.whl", 'b'),
                        file("markupsafe-3.0.4-cp311-cp311-manylinux2014_x86_64.whl", 'a'),
                    ],
                    sdist: Some(file("markupsafe-3.0.4.tar.gz", 'c')),
                },
                LockedPackage {
                    name: "click".parse().unwrap(),
                    version: "8.1.8".parse().unwrap(),
                    marker: None,
                    requires_python: None,
                    wheels: vec![LockedFile {
                        source: FileSource::Path("../wheels/click-8.1.8-py3-none-any.whl".into()),
                        size: None,
                        ..file("click-8.1.8-py3-none-any.whl", 'd')
                    }],
                    sdist: None,
                },
            ],
            roots: vec!["click".parse().unwrap()],
        }
    }

    #[test]
    fn writes_sorted_and_reads_back() {
        let text = sample().to_toml();
        assert!(text.starts_with("lock-version = \"1.0\"\ncreated-by = \"pyzap 0.1.0\"\n"));
        let click = text.find("name = \"click\"").unwrap();
        let markupsafe = text.find("name = \"markupsafe\"").unwrap();
        assert!(click < markupsafe, "{text}");
        assert!(
            text.find("cp311").unwrap() < text.find("cp312").unwrap(),
            "wheels sorted: {text}"
        );
        let back = Lock::from_toml(&text).unwrap();
        assert_eq!(back.to_toml(), text);
        assert_eq!(back.packages.len(), 2);
        assert_eq!(back.roots, sample().roots);
        assert_eq!(
            back.packages[0].wheels[0].source,
            FileSource::Path("../wheels/click-8.1.8-py3-none-any.whl".into())
        );
    }

    #[test]
    fn selects_the_best_wheel_for_the_target() {
        let lock = sample();
        let chosen = lock
            .select(&target(), SdistBuilds::Allowed, &FormatControl::default())
            .unwrap();
        let names: Vec<&str> = chosen.iter().map(|c| c.file.filename.as_str()).collect();
        assert_eq!(
            names,
            [
                "markupsafe-3.0.4-cp311-cp311-manylinux2014_x86_64.whl",
                "click-8.1.8-py3-none-any.whl"
            ]
        );
    }

    #[test]
    fn no_fitting_wheel_names_the_package_and_files() {
        let mut lock = sample();
        lock.packages[0].wheels.remove(1);
        // The sdist is the fallback when builds are allowed…
        let chosen = lock
            .select(&target(), SdistBuilds::Allowed, &FormatControl::default())
            .unwrap();
        assert!(!chosen[0].is_wheel);
        // …and an error otherwise, saying why it cannot be built…
        let err = |lock: &Lock, builds| {
            lock.select(&target(), builds, &FormatControl::default())
                .unwrap_err()
                .to_string()
        };
        let refused = err(&lock, SdistBuilds::Refused);
        assert!(
            refused.contains("markupsafe 3.0.4") && refused.contains("--no-build refuses"),
            "{refused}"
        );
        let cross = err(&lock, SdistBuilds::CrossTarget);
        assert!(
            cross.contains("markupsafe-3.0.4.tar.gz") && cross.contains("cross-target build"),
            "{cross}"
        );
        // …or, without an sdist, naming the files it has.
        lock.packages[0].sdist = None;
        let none = err(&lock, SdistBuilds::Allowed);
        assert!(
            none.contains("markupsafe 3.0.4")
                && none.contains("markupsafe-3.0.4-cp312-cp312-manylinux2014_x86_64.whl"),
            "{none}"
        );
    }

    #[test]
    fn two_entries_of_a_project_for_one_target_are_refused() {
        let mut lock = sample();
        let mut other = lock.packages[1].clone();
        other.version = "8.1.7".parse().unwrap();
        lock.packages[1].marker = Some("python_version >= '3.11'".into());
        other.marker = Some("python_version < '3.12'".into());
        lock.packages.push(other);
        let err = lock
            .select(&target(), SdistBuilds::Allowed, &FormatControl::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("click 8.1.8 and 8.1.7"), "{err}");
    }

    #[test]
    fn binary_options_pick_the_sdist_or_refuse_it() {
        use pyzap_spec::{FormatChoice, FormatOption};
        let lock = sample();
        let control = |option, value| {
            let mut c = FormatControl::default();
            c.apply(&FormatChoice::parse(option, value).unwrap());
            c
        };
        let no_binary = control(FormatOption::NoBinary, "MarkupSafe");
        let chosen = lock
            .select(&target(), SdistBuilds::Allowed, &no_binary)
            .unwrap();
        assert!(!chosen[0].is_wheel && chosen[1].is_wheel);
        let mut lock = lock;
        lock.packages[0].wheels.remove(1);
        let only_binary = control(FormatOption::OnlyBinary, ":all:");
        let err = lock
            .select(&target(), SdistBuilds::Allowed, &only_binary)
            .unwrap_err();
        assert!(err.to_string().contains("markupsafe 3.0.4"), "{err}");
    }

    #[test]
    fn another_environment_is_refused() {
        let mut lock = sample();
        lock.environments = vec!["sys_platform == 'win32'".into()];
        let err = lock
            .select(&target(), SdistBuilds::Allowed, &FormatControl::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("sys_platform == 'win32'"), "{err}");
    }

    #[test]
    fn environments_are_described_briefly() {
        let env = |v: &str, m: &str| {
            format!("sys_platform == 'linux' and platform_machine == '{m}' and implementation_name == 'cpython' and python_version == '{v}'")
        };
        let all = [
            env("3.9", "x86_64"),
            env("3.9", "aarch64"),
            env("3.13", "x86_64"),
            env("3.13", "aarch64"),
        ];
        assert_eq!(
            describe_environments(&all),
            "Python 3.9, 3.13 on x86_64, aarch64"
        );
        assert_eq!(
            describe_environments(&all[1..]),
            "Python 3.9 on aarch64, Python 3.13 on x86_64, Python 3.13 on aarch64"
        );
        let theirs = ["sys_platform == 'linux'".to_string(), env("3.9", "x86_64")];
        assert_eq!(describe_environments(&theirs), theirs.join(" | "));
    }

    #[test]
    fn markers_skip_packages() {
        let mut lock = sample();
        lock.packages[1].marker = Some("python_version < '3.8'".into());
        assert_eq!(
            lock.select(&target(), SdistBuilds::Allowed, &FormatControl::default())
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn reads_a_pep_751_example() {
        // The shape of PEP 751's own example, trimmed.
        let text = r#"
lock-version = '1.0'
environments = ["sys_platform == 'linux'"]
requires-python = '==3.11.*'
created-by = 'mousebender'

[[packages]]
name = 'attrs'
version = '25.1.0'
requires-python = '>=3.8'
wheels = [
  {name = 'attrs-25.1.0-py3-none-any.whl', upload-time = 2025-01-25T11:30:10.164985+00:00, url = 'https://files.pythonhosted.org/packages/attrs-25.1.0-py3-none-any.whl', size = 63152, hashes = {sha256 = 'C85E90B405569D9EAB2D5BEB0FB70B2A4D0D7A1C6E3FB0A4A0CEE1C2E5EC8D3F'}},
]

[[packages.attestation-identities]]
environment = 'release-pypi'
kind = 'GitHub'
repository = 'python-attrs/attrs'
workflow = 'pypi-package.yml'
"#;
        let lock = Lock::from_toml(text).unwrap();
        assert_eq!(lock.packages[0].wheels[0].size, Some(63152));
        assert!(lock.packages[0].wheels[0].sha256.starts_with("c85e90"));
    }

    #[test]
    fn invalid_locks_say_why() {
        let err = |t: &str| Lock::from_toml(t).unwrap_err().to_string();
        assert!(err("lock-version = '2.0'\ncreated-by='x'").contains("lock-version 2.0"));
        let no_hash = "lock-version='1.0'\ncreated-by='x'\n[[packages]]\nname='a'\nversion='1'\nwheels=[{name='a-1-py3-none-any.whl', url='https://x/a-1-py3-none-any.whl', hashes={}}]";
        assert!(err(no_hash).contains("a-1-py3-none-any.whl of a has no valid sha256"));
        let vcs = "lock-version='1.0'\ncreated-by='x'\n[[packages]]\nname='a'\nvcs={type='git', url='https://x', commit-id='abc'}";
        assert!(err(vcs).contains("VCS"));
    }
}
