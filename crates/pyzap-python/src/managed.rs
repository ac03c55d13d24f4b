//! CPythons that uv already installed on this machine (`uv python
//! install`): python-build-standalone builds, unpacked under uv's
//! managed-python directory as `cpython-3.11.9-linux-x86_64-gnu/`. uv drops
//! the archive's leading `python/`, so each holds `bin/python3.11` and
//! `lib/python3.11/` itself, which is a layout `--python-dist` takes as a
//! directory. Reusing one saves a download of the same build.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::downloads::{PlatformRequest, PythonVersion, VersionRequest};

/// A CPython found under uv's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPython {
    /// The installation's directory (holding `bin/` and `lib/`).
    pub dir: PathBuf,
    pub version: PythonVersion,
}

/// uv's managed-python directory by uv's own rule: `UV_PYTHON_INSTALL_DIR`,
/// else `$XDG_DATA_HOME/uv/python`, else `~/.local/share/uv/python`.
pub(crate) fn uv_python_dir(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    if let Some(dir) = var("UV_PYTHON_INSTALL_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(data) = var("XDG_DATA_HOME") {
        return Some(PathBuf::from(data).join("uv/python"));
    }
    var("HOME").map(|home| PathBuf::from(home).join(".local/share/uv/python"))
}

/// The newest CPython under `dir` of `version` for `platform`, or `None`
/// (also when `dir` cannot be read: a download does instead). Free-threaded
/// builds, pre-releases and uv's `cpython-3.12-…` minor-version links are
/// passed over: only `cpython-X.Y.Z-linux-ARCH-LIBC` directories count.
pub fn find_uv_python(
    dir: &Path,
    version: VersionRequest,
    platform: &PlatformRequest,
) -> Option<ManagedPython> {
    let suffix = format!("-linux-{}-{}", platform.arch, platform.libc);
    fs_err::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let version: PythonVersion = name
                .strip_prefix("cpython-")?
                .strip_suffix(&suffix)?
                .parse()
                .ok()?;
            Some((version, entry.path()))
        })
        .filter(|(v, _)| version.matches(*v))
        .filter(|(v, path)| {
            let python = format!("python{}.{}", v.major, v.minor);
            path.join("bin").join(&python).is_file() && path.join("lib").join(&python).is_dir()
        })
        .max_by_key(|(v, _)| *v)
        .map(|(version, dir)| ManagedPython { dir, version })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::downloads::Libc;

    fn install(root: &Path, name: &str, minor: &str) {
        let dir = root.join(name);
        fs_err::create_dir_all(dir.join("bin")).unwrap();
        fs_err::create_dir_all(dir.join(format!("lib/python{minor}"))).unwrap();
        fs_err::write(dir.join(format!("bin/python{minor}")), "").unwrap();
    }

    fn host_gnu() -> PlatformRequest {
        PlatformRequest {
            arch: "x86_64".into(),
            libc: Libc::Gnu,
            glibc: None,
            name: "this machine".into(),
        }
    }

    #[test]
    fn the_newest_matching_installation_is_found() {
        let root = tempfile::tempdir().unwrap();
        install(root.path(), "cpython-3.11.9-linux-x86_64-gnu", "3.11");
        install(root.path(), "cpython-3.11.12-linux-x86_64-gnu", "3.11");
        install(root.path(), "cpython-3.11.13-linux-aarch64-gnu", "3.11");
        install(root.path(), "cpython-3.11.14-linux-x86_64-musl", "3.11");
        install(
            root.path(),
            "cpython-3.11.15+freethreaded-linux-x86_64-gnu",
            "3.11",
        );
        install(root.path(), "cpython-3.12.1-linux-x86_64-gnu", "3.12");
        // A directory of the right name without an interpreter in it.
        fs_err::create_dir_all(root.path().join("cpython-3.11.20-linux-x86_64-gnu/lib")).unwrap();
        let find = |v: &str| {
            find_uv_python(root.path(), VersionRequest::parse(v).unwrap(), &host_gnu())
                .map(|m| m.dir.file_name().unwrap().to_string_lossy().into_owned())
        };
        assert_eq!(
            find("3.11").as_deref(),
            Some("cpython-3.11.12-linux-x86_64-gnu")
        );
        assert_eq!(
            find("3.11.9").as_deref(),
            Some("cpython-3.11.9-linux-x86_64-gnu")
        );
        assert_eq!(find("3.11.10"), None);
        assert_eq!(find("3.13"), None);
        let musl = PlatformRequest {
            libc: Libc::Musl,
            ..host_gnu()
        };
        let found = find_uv_python(root.path(), VersionRequest::Minor(3, 11), &musl).unwrap();
        assert_eq!(found.version.to_string(), "3.11.14");
        assert_eq!(
            find_uv_python(
                &root.path().join("absent"),
                VersionRequest::Minor(3, 11),
                &musl
            ),
            None
        );
    }

    #[test]
    fn uv_s_directory_follows_uv_s_variables() {
        fn env<'a>(pairs: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| OsString::from(v))
            }
        }
        let all = [
            ("UV_PYTHON_INSTALL_DIR", "/opt/uv"),
            ("XDG_DATA_HOME", "/data"),
            ("HOME", "/home/me"),
        ];
        assert_eq!(uv_python_dir(env(&all)), Some(PathBuf::from("/opt/uv")));
        assert_eq!(
            uv_python_dir(env(&all[1..])),
            Some(PathBuf::from("/data/uv/python"))
        );
        assert_eq!(
            uv_python_dir(env(&all[2..])),
            Some(PathBuf::from("/home/me/.local/share/uv/python"))
        );
        assert_eq!(uv_python_dir(env(&[])), None);
    }
}
