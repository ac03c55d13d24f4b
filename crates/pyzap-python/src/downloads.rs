//! Which python-build-standalone CPython a standalone executable bundles
//! when none is named: the table `python-downloads.json` (written by
//! `scripts/update-python-downloads.py` from the releases' `SHA256SUMS`)
//! lists one `install_only_stripped` build per minor version, architecture
//! and libc, with its sha256; `PythonDownloads::select` picks the one for
//! a Python version and a platform.
//!
//! Where the builds are fetched from is `PythonSources`: the table's base
//! URL (GitHub's release downloads), replaced by `PYZAP_PYTHON_MIRROR` as
//! uv's `UV_PYTHON_INSTALL_MIRROR` replaces it; `PYZAP_PYTHON_DOWNLOADS`
//! names another table (tests, air-gapped mirrors with builds of their own).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::managed::uv_python_dir;
use crate::PythonError;

/// The table pyzap carries.
const BUILTIN: &str = include_str!("../python-downloads.json");

/// Where CPythons for standalone executables come from; read from the
/// environment by [`PythonSources::from_env`].
#[derive(Debug, Clone, Default)]
pub struct PythonSources {
    /// Replaces the table's base URL (`PYZAP_PYTHON_MIRROR`).
    pub mirror: Option<String>,
    /// Another table to read instead of pyzap's (`PYZAP_PYTHON_DOWNLOADS`).
    pub table: Option<PathBuf>,
    /// uv's managed-python directory, whose CPythons are used instead of a
    /// download; `None`: none is looked for.
    pub uv_dir: Option<PathBuf>,
}

impl PythonSources {
    /// `PYZAP_PYTHON_MIRROR`, `PYZAP_PYTHON_DOWNLOADS` and uv's directory
    /// (`UV_PYTHON_INSTALL_DIR`, `$XDG_DATA_HOME/uv/python`,
    /// `~/.local/share/uv/python`). Empty variables count as unset.
    pub fn from_env() -> Self {
        fn var(name: &str) -> Option<std::ffi::OsString> {
            std::env::var_os(name).filter(|v| !v.is_empty())
        }
        PythonSources {
            mirror: var("PYZAP_PYTHON_MIRROR").map(|v| v.to_string_lossy().into_owned()),
            table: var("PYZAP_PYTHON_DOWNLOADS").map(PathBuf::from),
            uv_dir: uv_python_dir(var),
        }
    }

    /// The table to choose from: `table`'s file, or pyzap's.
    pub fn downloads(&self) -> Result<PythonDownloads, PythonError> {
        match &self.table {
            None => PythonDownloads::parse(BUILTIN, Path::new("python-downloads.json (built in)")),
            Some(path) => {
                let text = fs_err::read_to_string(path).map_err(|source| {
                    PythonError::DownloadTableIo {
                        path: path.clone(),
                        source,
                    }
                })?;
                PythonDownloads::parse(&text, path)
            }
        }
    }

    /// Where `download` is fetched from: under the mirror when one is set.
    pub fn url(&self, downloads: &PythonDownloads, download: &PythonDownload) -> String {
        let base = self.mirror.as_deref().unwrap_or(&downloads.base_url);
        // `+` separates version and release in the file names; GitHub's
        // links (and uv's) escape it.
        format!(
            "{}/{}/{}",
            base.trim_end_matches('/'),
            download.release,
            download.file.replace('+', "%2B")
        )
    }
}

/// The table, parsed and checked.
#[derive(Debug, Clone)]
pub struct PythonDownloads {
    base_url: String,
    downloads: Vec<PythonDownload>,
}

/// One build of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonDownload {
    pub version: PythonVersion,
    /// The release tag (`20260814`), the URL's directory.
    pub release: String,
    /// `x86_64`, `aarch64` (as in platform tags).
    pub arch: String,
    pub libc: Libc,
    /// The oldest glibc it loads on (gnu builds).
    pub glibc: Option<(u32, u32)>,
    /// The archive's name.
    pub file: String,
    /// Lowercase hex.
    pub sha256: String,
}

/// `3.11.16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PythonVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl std::str::FromStr for PythonVersion {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let mut parts = text.split('.').map(|p| p.parse::<u32>().map_err(|_| ()));
        let version = PythonVersion {
            major: parts.next().ok_or(())??,
            minor: parts.next().ok_or(())??,
            patch: parts.next().ok_or(())??,
        };
        match parts.next() {
            None => Ok(version),
            Some(_) => Err(()),
        }
    }
}

/// The C library a build links against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Libc {
    Gnu,
    Musl,
}

impl fmt::Display for Libc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Libc::Gnu => "gnu",
            Libc::Musl => "musl",
        })
    }
}

/// The Python version asked for: `3.11` takes the newest 3.11 there is,
/// `3.11.9` only that one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionRequest {
    Minor(u32, u32),
    Exact(PythonVersion),
}

impl VersionRequest {
    /// `3.11` or `3.11.9`.
    pub fn parse(text: &str) -> Option<Self> {
        let parts: Vec<u32> = text
            .split('.')
            .map(str::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        match parts[..] {
            [major, minor] => Some(VersionRequest::Minor(major, minor)),
            [major, minor, patch] => Some(VersionRequest::Exact(PythonVersion {
                major,
                minor,
                patch,
            })),
            _ => None,
        }
    }

    pub fn matches(&self, version: PythonVersion) -> bool {
        match *self {
            VersionRequest::Minor(major, minor) => (version.major, version.minor) == (major, minor),
            VersionRequest::Exact(v) => v == version,
        }
    }

    /// `(major, minor)`.
    pub fn minor(&self) -> (u32, u32) {
        match *self {
            VersionRequest::Minor(major, minor) => (major, minor),
            VersionRequest::Exact(v) => (v.major, v.minor),
        }
    }
}

impl fmt::Display for VersionRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionRequest::Minor(major, minor) => write!(f, "{major}.{minor}"),
            VersionRequest::Exact(v) => v.fmt(f),
        }
    }
}

/// The platform a CPython is wanted for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformRequest {
    pub arch: String,
    pub libc: Libc,
    /// The glibc the platform has (`manylinux_2_28` has 2.28); `None`:
    /// this machine, or a platform that does not say.
    pub glibc: Option<(u32, u32)>,
    /// How messages name it: the platform tag, or `this machine`.
    pub name: String,
}

impl PlatformRequest {
    /// This machine: its architecture, musl when its loader is musl's.
    pub fn host() -> Self {
        let arch = std::env::consts::ARCH.to_string();
        let musl = Path::new(&format!("/lib/ld-musl-{arch}.so.1")).exists();
        PlatformRequest {
            name: "this machine".to_string(),
            libc: if musl { Libc::Musl } else { Libc::Gnu },
            glibc: None,
            arch,
        }
    }

    /// A `--platform` tag: manylinux and `linux_` tags are glibc's,
    /// musllinux ones musl's.
    pub fn from_tag(tag: &pyzap_spec::PlatformTag) -> Self {
        let (libc, glibc) = match tag.libc {
            Some(("musl", _)) => (Libc::Musl, None),
            Some((_, version)) => (Libc::Gnu, Some(version)),
            None => (Libc::Gnu, None),
        };
        PlatformRequest {
            arch: tag.arch.clone(),
            libc,
            glibc,
            name: tag.tag.clone(),
        }
    }
}

#[derive(Deserialize)]
struct RawTable {
    base_url: String,
    downloads: Vec<RawDownload>,
}

#[derive(Deserialize)]
struct RawDownload {
    version: String,
    release: String,
    arch: String,
    libc: Libc,
    glibc: Option<String>,
    file: String,
    sha256: String,
}

impl PythonDownloads {
    /// Parses a table; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, PythonError> {
        let bad = |reason: String| PythonError::DownloadTable {
            path: path.to_path_buf(),
            reason,
        };
        let raw: RawTable = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let downloads = raw
            .downloads
            .into_iter()
            .map(|d| {
                let version = d
                    .version
                    .parse()
                    .map_err(|()| bad(format!("`{}` is not a version X.Y.Z", d.version)))?;
                let glibc = d
                    .glibc
                    .map(|g| {
                        let (a, b) = g.split_once('.').unwrap_or((&g, ""));
                        a.parse()
                            .ok()
                            .zip(b.parse().ok())
                            .ok_or_else(|| bad(format!("`{g}` is not a glibc version X.Y")))
                    })
                    .transpose()?;
                let sha256 = d.sha256.to_ascii_lowercase();
                if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(bad(format!("{}: `{}` is not a sha256", d.file, d.sha256)));
                }
                if d.file.contains('/') || d.release.contains('/') {
                    return Err(bad(format!("{}/{}: not a file name", d.release, d.file)));
                }
                Ok(PythonDownload {
                    version,
                    release: d.release,
                    arch: d.arch,
                    libc: d.libc,
                    glibc,
                    file: d.file,
                    sha256,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(PythonDownloads {
            base_url: raw.base_url,
            downloads,
        })
    }

    pub fn downloads(&self) -> &[PythonDownload] {
        &self.downloads
    }

    /// The newest build of `version` for `platform`; an error lists what the
    /// table has, or names the glibc the build needs when the platform's
    /// is older.
    pub fn select(
        &self,
        version: VersionRequest,
        platform: &PlatformRequest,
    ) -> Result<&PythonDownload, PythonError> {
        let chosen = self
            .downloads
            .iter()
            .filter(|d| d.arch == platform.arch && d.libc == platform.libc)
            .filter(|d| version.matches(d.version))
            .max_by_key(|d| (d.version, &d.release));
        let Some(chosen) = chosen else {
            return Err(PythonError::NoDownload {
                wanted: format!(
                    "{version} for {} ({}-linux-{})",
                    platform.name, platform.arch, platform.libc
                ),
                available: self.available(),
            });
        };
        match (chosen.glibc, platform.glibc) {
            (Some(need), Some(has)) if need > has => Err(PythonError::DownloadGlibc {
                file: chosen.file.clone(),
                platform: platform.name.clone(),
                need,
                has,
            }),
            _ => Ok(chosen),
        }
    }

    /// `3.8.20, 3.9.25 for x86_64-linux-gnu; …`, one group per platform.
    fn available(&self) -> String {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for d in &self.downloads {
            let platform = format!("{}-linux-{}", d.arch, d.libc);
            match groups.iter_mut().find(|(p, _)| *p == platform) {
                Some((_, versions)) => versions.push(d.version.to_string()),
                None => groups.push((platform, vec![d.version.to_string()])),
            }
        }
        if groups.is_empty() {
            return "nothing".into();
        }
        groups.sort();
        groups
            .iter_mut()
            .map(|(platform, versions)| {
                versions.sort_by_key(|v| v.parse::<PythonVersion>().ok());
                versions.dedup();
                format!("{} for {platform}", versions.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(entries: &[(&str, &str, &str, Option<&str>)]) -> PythonDownloads {
        let downloads: Vec<serde_json::Value> = entries
            .iter()
            .map(|(version, arch, libc, glibc)| {
                serde_json::json!({
                    "version": version, "release": "20260814", "arch": arch,
                    "libc": libc, "glibc": glibc,
                    "file": format!("cpython-{version}+20260814-{arch}-unknown-linux-{libc}-install_only_stripped.tar.gz"),
                    "sha256": "ab".repeat(32),
                })
            })
            .collect();
        let text =
            serde_json::json!({"base_url": "https://example.test/dl", "downloads": downloads});
        PythonDownloads::parse(&text.to_string(), Path::new("t.json")).unwrap()
    }

    fn platform(tag: &str) -> PlatformRequest {
        PlatformRequest::from_tag(&tag.parse().unwrap())
    }

    fn v(text: &str) -> VersionRequest {
        VersionRequest::parse(text).unwrap()
    }

    #[test]
    fn the_newest_build_of_the_version_for_the_platform_is_chosen() {
        let t = table(&[
            ("3.11.9", "x86_64", "gnu", Some("2.17")),
            ("3.11.14", "x86_64", "gnu", Some("2.17")),
            ("3.11.14", "aarch64", "gnu", Some("2.17")),
            ("3.11.14", "x86_64", "musl", None),
            ("3.12.4", "x86_64", "gnu", Some("2.17")),
        ]);
        let pick = |version: &str, tag: &str| {
            let d = t.select(v(version), &platform(tag)).unwrap();
            format!("{} {} {}", d.version, d.arch, d.libc)
        };
        assert_eq!(pick("3.11", "manylinux_2_28_x86_64"), "3.11.14 x86_64 gnu");
        assert_eq!(pick("3.11.9", "manylinux2014_x86_64"), "3.11.9 x86_64 gnu");
        assert_eq!(
            pick("3.11", "manylinux_2_17_aarch64"),
            "3.11.14 aarch64 gnu"
        );
        assert_eq!(pick("3.11", "musllinux_1_2_x86_64"), "3.11.14 x86_64 musl");
        assert_eq!(pick("3.11", "linux_x86_64"), "3.11.14 x86_64 gnu");
        assert_eq!(pick("3.12", "manylinux_2_17_x86_64"), "3.12.4 x86_64 gnu");
    }

    #[test]
    fn nothing_for_the_request_lists_what_the_table_has() {
        let t = table(&[
            ("3.11.14", "x86_64", "gnu", Some("2.17")),
            ("3.12.4", "x86_64", "gnu", Some("2.17")),
            ("3.12.4", "aarch64", "gnu", Some("2.17")),
        ]);
        let err = t
            .select(v("3.7"), &platform("manylinux_2_28_x86_64"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no python-build-standalone CPython 3.7 for manylinux_2_28_x86_64 \
             (x86_64-linux-gnu) in pyzap's table; it has 3.12.4 for aarch64-linux-gnu; \
             3.11.14, 3.12.4 for x86_64-linux-gnu"
        );
        let err = t
            .select(v("3.11.2"), &platform("manylinux_2_28_x86_64"))
            .unwrap_err();
        assert!(err.to_string().contains("CPython 3.11.2 for"), "{err}");
        let err = t
            .select(v("3.12"), &platform("musllinux_1_2_x86_64"))
            .unwrap_err();
        assert!(err.to_string().contains("(x86_64-linux-musl)"), "{err}");
    }

    #[test]
    fn a_platform_with_an_older_glibc_than_the_build_needs_is_refused() {
        let t = table(&[("3.11.14", "x86_64", "gnu", Some("2.17"))]);
        let err = t
            .select(v("3.11"), &platform("manylinux2010_x86_64"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "python-build-standalone's cpython-3.11.14+20260814-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz \
             needs glibc 2.17, but the target platform manylinux2010_x86_64 has glibc 2.12"
        );
        let host = PlatformRequest {
            glibc: None,
            ..platform("manylinux_2_17_x86_64")
        };
        assert!(t.select(v("3.11"), &host).is_ok());
    }

    #[test]
    fn the_mirror_replaces_the_base_url_and_plus_is_escaped() {
        let t = table(&[("3.11.14", "x86_64", "gnu", Some("2.17"))]);
        let d = &t.downloads()[0];
        let mut sources = PythonSources::default();
        assert_eq!(
            sources.url(&t, d),
            "https://example.test/dl/20260814/cpython-3.11.14%2B20260814-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz"
        );
        sources.mirror = Some("http://127.0.0.1:8080/pbs/".into());
        assert!(sources
            .url(&t, d)
            .starts_with("http://127.0.0.1:8080/pbs/20260814/cpython-3.11.14%2B"));
    }

    #[test]
    fn malformed_tables_are_refused_naming_the_entry() {
        let path = Path::new("t.json");
        let entry = |field: &str, value: &str| {
            let mut d = serde_json::json!({
                "version": "3.11.14", "release": "1", "arch": "x86_64", "libc": "gnu",
                "file": "a.tar.gz", "sha256": "ab".repeat(32),
            });
            d[field] = value.into();
            serde_json::json!({"base_url": "x", "downloads": [d]}).to_string()
        };
        for (field, value, says) in [
            ("version", "3.11", "`3.11` is not a version X.Y.Z"),
            ("sha256", "abc", "a.tar.gz: `abc` is not a sha256"),
            ("glibc", "two", "`two` is not a glibc version X.Y"),
            ("file", "../a.tar.gz", "1/../a.tar.gz: not a file name"),
            ("libc", "bionic", "unknown variant `bionic`"),
        ] {
            let err = PythonDownloads::parse(&entry(field, value), path).unwrap_err();
            assert!(err.to_string().contains(says), "{field}: {err}");
        }
    }

    /// The table pyzap carries covers what the README promises: CPython
    /// 3.8–3.13 for x86_64 and aarch64 glibc, each with a digest and a
    /// glibc floor, one build per minor version and platform.
    #[test]
    fn the_builtin_table_covers_every_supported_version_and_platform() {
        let t = PythonSources::default().downloads().unwrap();
        for minor in 8..=13 {
            for arch in ["x86_64", "aarch64"] {
                let d = t
                    .select(
                        VersionRequest::Minor(3, minor),
                        &platform(&format!("manylinux_2_17_{arch}")),
                    )
                    .unwrap();
                assert!(d.file.ends_with("-install_only_stripped.tar.gz"), "{d:?}");
                assert!(
                    d.file.contains(&format!("-{arch}-unknown-linux-gnu-")),
                    "{d:?}"
                );
                assert_eq!(d.glibc, Some((2, 17)), "{d:?}");
            }
        }
        let mut keys: Vec<_> = t
            .downloads()
            .iter()
            .map(|d| (d.version.minor, &d.arch, d.libc))
            .collect();
        let all = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), all, "one build per minor version and platform");
    }
}
