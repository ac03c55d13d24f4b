//! Opening a wheel: every entry name is checked before anything else, the
//! `.dist-info` directory is found and its WHEEL, METADATA, RECORD and
//! entry points are read; `verify` then checks every file against RECORD.

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use pyzap_spec::{EntryPoints, Metadata, WheelFilename};
use sha2::Digest;

use crate::record::parse_record;
use crate::WheelError;

/// Where a wheel entry is installed (PEP 427 `.data/<scheme>/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    Purelib,
    Platlib,
    Scripts,
    Data,
    Headers,
}

#[derive(Debug, Clone)]
pub struct WheelEntry {
    pub index: usize,
    /// The name inside the wheel.
    pub name: String,
    pub scheme: Scheme,
    /// The path relative to the scheme's root (`.data/<scheme>/` stripped).
    pub rel: String,
    pub mode: u32,
}

#[derive(Debug, Clone)]
pub struct Wheel {
    pub path: PathBuf,
    pub filename: WheelFilename,
    pub dist_info: String,
    pub metadata: Metadata,
    pub entry_points: EntryPoints,
    pub root_is_purelib: bool,
    pub entries: Vec<WheelEntry>,
}

type Archive = zip::ZipArchive<BufReader<std::fs::File>>;

impl Wheel {
    pub fn open(path: &Path) -> Result<Self, WheelError> {
        let invalid = |reason: String| WheelError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        let fname = path
            .file_name()
            .and_then(|f| f.to_str())
            .ok_or_else(|| invalid("file name is not UTF-8".into()))?;
        let filename: WheelFilename = fname
            .parse()
            .map_err(|e: pyzap_spec::SpecError| invalid(e.to_string()))?;
        let mut archive = open_archive(path)?;
        let mut names = Vec::with_capacity(archive.len());
        for i in 0..archive.len() {
            let entry = archive
                .by_index_raw(i)
                .map_err(|source| corrupt(path, source))?;
            let name = entry
                .name()
                .map_err(|source| corrupt(path, source))?
                .into_owned();
            pyzap_fs::validate_archive_path(&name).map_err(|source| WheelError::Escape {
                path: path.to_path_buf(),
                entry: name.clone(),
                source,
            })?;
            if entry.is_symlink() {
                return Err(WheelError::Symlink {
                    path: path.to_path_buf(),
                    entry: name,
                });
            }
            let mode = entry.unix_mode().unwrap_or(0o644) & 0o777;
            names.push((name, entry.is_dir(), mode));
        }
        let dist_infos: std::collections::BTreeSet<&str> = names
            .iter()
            .filter_map(|(n, _, _)| n.split_once('/').map(|(d, _)| d))
            .filter(|d| d.ends_with(".dist-info"))
            .collect();
        let expected_name = filename.name.as_dist_info_name();
        let dist_info = dist_infos
            .iter()
            .find(|d| {
                d.split_once('-').is_some_and(|(n, _)| {
                    n.parse::<pyzap_spec::PackageName>()
                        .is_ok_and(|n| n.as_dist_info_name() == expected_name)
                })
            })
            .ok_or_else(|| invalid(format!("no `{expected_name}-*.dist-info` directory")))?
            .to_string();
        let mut read_text = |member: &str| -> Result<Option<String>, WheelError> {
            let full = format!("{dist_info}/{member}");
            let Some(idx) = archive.index_for_name(&full) else {
                return Ok(None);
            };
            let mut text = String::new();
            archive
                .by_index(idx)
                .map_err(|source| corrupt(path, source))?
                .read_to_string(&mut text)
                .map_err(|e| invalid(format!("{full} is unreadable: {e}")))?;
            Ok(Some(text))
        };
        let has_record = names
            .iter()
            .any(|(n, _, _)| *n == format!("{dist_info}/RECORD"));
        if !has_record {
            return Err(invalid(format!("{dist_info}/RECORD is missing")));
        }
        let wheel_txt =
            read_text("WHEEL")?.ok_or_else(|| invalid(format!("{dist_info}/WHEEL is missing")))?;
        let metadata_txt = read_text("METADATA")?
            .ok_or_else(|| invalid(format!("{dist_info}/METADATA is missing")))?;
        let entry_points = read_text("entry_points.txt")?
            .map(|t| EntryPoints::parse(&t))
            .unwrap_or_default();
        let metadata =
            Metadata::parse(&metadata_txt).map_err(|e| invalid(format!("METADATA: {e}")))?;
        let root_is_purelib = wheel_txt
            .lines()
            .find_map(|l| l.strip_prefix("Root-Is-Purelib:"))
            .map(|v| v.trim().eq_ignore_ascii_case("true"))
            .unwrap_or(true);
        let data_prefix = format!("{}.data/", dist_info.trim_end_matches(".dist-info"));
        let mut entries = Vec::new();
        for (index, (name, is_dir, mode)) in names.into_iter().enumerate() {
            if is_dir {
                continue;
            }
            let (scheme, rel) = match name.strip_prefix(&data_prefix) {
                Some(rest) => {
                    let (scheme, rel) = rest
                        .split_once('/')
                        .ok_or_else(|| invalid(format!("`{name}` is not inside a .data scheme")))?;
                    let scheme = match scheme {
                        "purelib" => Scheme::Purelib,
                        "platlib" => Scheme::Platlib,
                        "scripts" => Scheme::Scripts,
                        "data" => Scheme::Data,
                        "headers" => Scheme::Headers,
                        other => return Err(invalid(format!("unknown .data scheme `{other}`"))),
                    };
                    (scheme, rel.to_string())
                }
                None if root_is_purelib => (Scheme::Purelib, name.clone()),
                None => (Scheme::Platlib, name.clone()),
            };
            entries.push(WheelEntry {
                index,
                name,
                scheme,
                rel,
                mode,
            });
        }
        Ok(Wheel {
            path: path.to_path_buf(),
            filename,
            dist_info,
            metadata,
            entry_points,
            root_is_purelib,
            entries,
        })
    }

    /// Checks every file against RECORD (PEP 376/427): listed, and its digest matching.
    pub fn verify(&self) -> Result<(), WheelError> {
        let path = &self.path;
        let mut archive = open_archive(path)?;
        let record_name = format!("{}/RECORD", self.dist_info);
        let mut text = String::new();
        archive
            .by_name(&record_name)
            .map_err(|source| corrupt(path, source))?
            .read_to_string(&mut text)
            .map_err(|e| WheelError::Invalid {
                path: path.clone(),
                reason: format!("RECORD is unreadable: {e}"),
            })?;
        let record = parse_record(&text).map_err(|reason| WheelError::Invalid {
            path: path.clone(),
            reason,
        })?;
        let mut buf = Vec::new();
        for entry in &self.entries {
            let name = &entry.name;
            if name == &record_name || name.ends_with(".jws") || name.ends_with(".p7s") {
                continue;
            }
            let expected = match record.get(name) {
                Some(Some(e)) => e,
                _ => {
                    return Err(WheelError::NotInRecord {
                        path: path.clone(),
                        entry: name.clone(),
                    })
                }
            };
            buf.clear();
            archive
                .by_index(entry.index)
                .map_err(|source| corrupt(path, source))?
                .read_to_end(&mut buf)
                .map_err(|e| WheelError::Corrupt {
                    path: path.clone(),
                    source: zip::result::ZipError::Io(std::io::Error::new(
                        e.kind(),
                        format!("{name}: {e}"),
                    )),
                })?;
            let actual = match expected.algorithm.as_str() {
                "sha256" => b64(&sha2::Sha256::digest(&buf)),
                "sha384" => b64(&sha2::Sha384::digest(&buf)),
                "sha512" => b64(&sha2::Sha512::digest(&buf)),
                other => {
                    return Err(WheelError::Invalid {
                        path: path.clone(),
                        reason: format!(
                            "RECORD uses unsupported hash algorithm `{other}` for {name}"
                        ),
                    })
                }
            };
            if actual != expected.digest {
                return Err(WheelError::HashMismatch {
                    path: path.clone(),
                    entry: name.clone(),
                    expected: format!("{}={}", expected.algorithm, expected.digest),
                    actual: format!("{}={actual}", expected.algorithm),
                });
            }
        }
        Ok(())
    }
}

fn b64(digest: &[u8]) -> String {
    data_encoding::BASE64URL_NOPAD.encode(digest)
}

fn corrupt(path: &Path, source: zip::result::ZipError) -> WheelError {
    WheelError::Corrupt {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn open_archive(path: &Path) -> Result<Archive, WheelError> {
    let file = fs_err::File::open(path).map_err(|source| WheelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    zip::ZipArchive::new(BufReader::new(file.into_file())).map_err(|source| corrupt(path, source))
}
