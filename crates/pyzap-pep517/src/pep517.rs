//! The build itself: lay the build requirements' wheels into a private
//! directory, then run `python/buildtime/pep517.py` with `-I -S` so nothing from
//! the build machine's site-packages leaks into the build.
//!
//! Everything a build writes stays in its own work directory (`env/`, the
//! backend's `tmp/`), whose path the caller chooses: given the same path,
//! the same sources and the same compiler, a build gives the same bytes.
//! The work directory's path is also mapped away in what C compilers
//! record (`-ffile-prefix-map` in `CFLAGS`/`CXXFLAGS`, as Debian's builds
//! do): debugging information names the build directory, which differs
//! from one cache to another.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use pyzap_wheel::{layout_wheel, SiteSource, Wheel};

use crate::Pep517Error;

const HOOK: &str = include_str!("../../../python/buildtime/pep517.py");

/// The default backend when `[build-system]` names none (PEP 517).
const LEGACY_BACKEND: &str = "setuptools.build_meta:__legacy__";

pub struct BuildRequest<'a> {
    pub python: &'a Path,
    pub source_dir: &'a Path,
    /// The project or sdist as the user named it, for messages (the
    /// source directory is a copy or an unpacked sdist).
    pub origin: &'a Path,
    pub backend: Option<&'a str>,
    pub backend_path: &'a [String],
    /// Wheels of the resolved build requirements.
    pub requirement_wheels: &'a [PathBuf],
    pub out_dir: &'a Path,
    /// This build's own directory, in the caller's scratch space (which it
    /// cleans up even after a kill): the isolated environment is made in
    /// `env/`, the backend's temporary files go to `tmp/`. Sources and
    /// `out_dir` belong inside it too, so that its path, mapped away for C
    /// compilers, is the only one a compiled file could name.
    pub work_dir: &'a Path,
    /// A file the caller holds a lock on, handed to the backend as its
    /// stdin: a lock belongs to the open file, so it is held until the
    /// backend and every process it starts have exited, even when the
    /// caller is killed first and they go on (a later build then waits
    /// before it empties the same work directory).
    pub hold: Option<&'a fs_err::File>,
}

/// What the work directory is called in compiled files.
const MAPPED_WORK_DIR: &str = "/pyzap-build";

/// Compiler flag variables the path mapping is added to.
const FLAG_VARIABLES: &[&str] = &["CFLAGS", "CXXFLAGS"];

/// Builds a wheel and returns its path in `out_dir`.
pub fn build_wheel(req: &BuildRequest<'_>) -> Result<PathBuf, Pep517Error> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Pep517Error::Io { path, source }
    };
    let env = req.work_dir.join("env");
    let tmp = req.work_dir.join("tmp");
    for dir in [&env, &tmp, &req.out_dir.to_path_buf()] {
        fs_err::create_dir_all(dir).map_err(io(dir))?;
    }
    for wheel_path in req.requirement_wheels {
        install_plain(wheel_path, &env)?;
    }
    let backend = req.backend.unwrap_or(LEGACY_BACKEND);
    let mut command = Command::new(req.python);
    command
        .args(["-I", "-S", "-B", "-c", HOOK])
        .arg(&env)
        .arg(req.source_dir)
        .arg(req.out_dir)
        .arg(backend)
        .args(req.backend_path)
        // The backend's own temporary files land in the caller's scratch
        // space too, swept after a kill like the rest of it.
        .env("TMPDIR", &tmp)
        .env(
            "SOURCE_DATE_EPOCH",
            pyzap_fs::source_date_epoch().to_string(),
        )
        // Set iteration order must not vary from one build to the next.
        .env("PYTHONHASHSEED", "0")
        // A copied project's `.git` names the user's repository: git run
        // by the backend (setuptools-scm) must not rewrite its index.
        .env("GIT_OPTIONAL_LOCKS", "0");
    if let Some(map) = prefix_map_flag(req.work_dir) {
        for name in FLAG_VARIABLES {
            let flags = match std::env::var(name) {
                Ok(user) if !user.trim().is_empty() => format!("{user} {map}"),
                _ => map.clone(),
            };
            command.env(name, flags);
        }
    }
    if let Some(file) = req.hold {
        let inherited = file.file().try_clone().map_err(io(file.path()))?;
        command.stdin(inherited);
    }
    let out = command.output().map_err(io(req.python))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let name = stdout.lines().last().unwrap_or("").trim().to_string();
    if !out.status.success() || !name.ends_with(".whl") {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        return Err(Pep517Error::Backend {
            path: req.origin.to_path_buf(),
            backend: backend.to_string(),
            output: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        });
    }
    // The backend is the project's code: the name it returns becomes a path
    // only as one plain file name inside `out_dir`.
    let plain = Path::new(&name)
        .file_name()
        .is_some_and(|f| f == name.as_str());
    if !plain || name.starts_with('.') {
        return Err(Pep517Error::WheelName {
            path: req.origin.to_path_buf(),
            backend: backend.to_string(),
            name,
        });
    }
    Ok(req.out_dir.join(name))
}

/// `-ffile-prefix-map=<work_dir>=/pyzap-build`, unless the path holds a
/// character that build tools would split or quote `CFLAGS` at (they split
/// it at whitespace; `=` separates the map's halves): no mapping then,
/// rather than a flag that breaks the build.
fn prefix_map_flag(work_dir: &Path) -> Option<String> {
    let path = work_dir.to_str()?;
    let plain = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+,@~".contains(c));
    plain.then(|| format!("-ffile-prefix-map={path}={MAPPED_WORK_DIR}"))
}

/// Installs a wheel's library files flat into `dir`: enough for a build backend.
fn install_plain(wheel_path: &Path, dir: &Path) -> Result<(), Pep517Error> {
    let err = |source| Pep517Error::Requirement {
        wheel: wheel_path.to_path_buf(),
        source,
    };
    let wheel = Wheel::open(wheel_path).map_err(err)?;
    wheel.verify().map_err(err)?;
    let dist = layout_wheel(&wheel);
    let file = fs_err::File::open(wheel_path).map_err(|source| Pep517Error::Io {
        path: wheel_path.to_path_buf(),
        source,
    })?;
    let mut archive =
        zip::ZipArchive::new(std::io::BufReader::new(file.into_file())).map_err(|e| {
            Pep517Error::Requirement {
                wheel: wheel_path.to_path_buf(),
                source: pyzap_wheel::WheelError::Corrupt {
                    path: wheel_path.to_path_buf(),
                    source: e,
                },
            }
        })?;
    for f in &dist.site_files {
        let SiteSource::Wheel { index } = f.source else {
            continue;
        };
        let dest = dir.join(&f.dest);
        let io = |source| Pep517Error::Io {
            path: dest.clone(),
            source,
        };
        fs_err::create_dir_all(dest.parent().unwrap_or(dir)).map_err(io)?;
        let mut data = Vec::new();
        archive
            .by_index(index)
            .map_err(|e| io(std::io::Error::other(e)))?
            .read_to_end(&mut data)
            .map_err(io)?;
        fs_err::write(&dest, data).map_err(io)?;
    }
    Ok(())
}

/// Unpacks an sdist (`.tar.gz`) into `dir` and returns its single top directory.
pub fn unpack_sdist(sdist: &Path, dir: &Path) -> Result<PathBuf, Pep517Error> {
    let bad = |reason: String| Pep517Error::BadSdist {
        path: sdist.to_path_buf(),
        reason,
    };
    let file = fs_err::File::open(sdist).map_err(|source| Pep517Error::Io {
        path: sdist.to_path_buf(),
        source,
    })?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut top: Option<String> = None;
    for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
        let mut entry = entry.map_err(|e| bad(e.to_string()))?;
        let name = entry
            .path()
            .map_err(|e| bad(e.to_string()))?
            .to_string_lossy()
            .into_owned();
        pyzap_fs::validate_archive_path(name.trim_end_matches('/'))
            .map_err(|e| bad(e.to_string()))?;
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            continue; // links and devices have no place in a build tree
        }
        let first = name.split('/').next().unwrap_or("").to_string();
        top.get_or_insert(first);
        let dest = dir.join(&name);
        if kind.is_dir() {
            fs_err::create_dir_all(&dest).map_err(|source| Pep517Error::Io {
                path: dest.clone(),
                source,
            })?;
        } else {
            if let Some(p) = dest.parent() {
                fs_err::create_dir_all(p).map_err(|source| Pep517Error::Io {
                    path: p.to_path_buf(),
                    source,
                })?;
            }
            entry.unpack(&dest).map_err(|source| Pep517Error::Io {
                path: dest.clone(),
                source,
            })?;
        }
    }
    let top = top.ok_or_else(|| bad("it is empty".into()))?;
    Ok(dir.join(top))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backend whose `build_wheel` returns a name that leaves the output
    /// directory (or is not a file name at all) is refused, naming it.
    #[test]
    fn a_wheel_name_outside_the_output_directory_is_refused() {
        let python = Path::new("/usr/bin/python3.11");
        assert!(python.exists(), "tests need Debian's /usr/bin/python3.11");
        for name in [
            "../evil-1.0-py3-none-any.whl",
            "sub/evil-1.0-py3-none-any.whl",
            "/tmp/evil-1.0-py3-none-any.whl",
            ".whl",
        ] {
            let tmp = tempfile::tempdir().unwrap();
            let source = tmp.path().join("src");
            fs_err::create_dir_all(&source).unwrap();
            fs_err::write(
                source.join("evil_backend.py"),
                format!("def build_wheel(out, *args):\n    return {name:?}\n"),
            )
            .unwrap();
            let work = tmp.path().join("work");
            fs_err::create_dir_all(&work).unwrap();
            let err = build_wheel(&BuildRequest {
                python,
                source_dir: &source,
                origin: Path::new("./proj"),
                backend: Some("evil_backend"),
                backend_path: &[".".to_string()],
                requirement_wheels: &[],
                out_dir: &tmp.path().join("out"),
                work_dir: &work,
                hold: None,
            })
            .unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "the build backend `evil_backend` of ./proj named its wheel `{name}`, \
                     which is not the name of a file in the output directory it was given"
                )
            );
        }
    }

    #[test]
    fn the_work_dir_is_mapped_only_when_flags_can_carry_it() {
        assert_eq!(
            prefix_map_flag(Path::new("/home/u/.cache/pyzap/work/sdist-ab12")).as_deref(),
            Some("-ffile-prefix-map=/home/u/.cache/pyzap/work/sdist-ab12=/pyzap-build")
        );
        for odd in ["/home/u/My Cache/work", "/tmp/a=b", "/tmp/$x", "/tmp/é"] {
            assert_eq!(prefix_map_flag(Path::new(odd)), None, "{odd}");
        }
    }
}
