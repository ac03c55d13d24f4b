//! Opening a wheel: every entry name is checked before anything else (see
//! `names`), the `.dist-info` directory is found and its WHEEL, METADATA
//! and entry points are read and checked (see `dist_info`), and no path is
//! installed both as a file and as a directory. `verify` (in `verify`) then
//! checks every file against RECORD.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use pyzap_spec::{EntryPoints, Metadata, WheelFilename};

use crate::dist_info::{check_metadata, parse_wheel_file, read_text, Archive};
use crate::names::{self, NameProblem};
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
        let names = entry_names(&mut archive, path)?;
        let dist_info = find_dist_info(&names, &filename)
            .ok_or_else(|| {
                let expected = filename.name.as_dist_info_name();
                invalid(format!("no `{expected}-*.dist-info` directory"))
            })?
            .to_string();
        let has_record = names
            .iter()
            .any(|e| e.name == format!("{dist_info}/RECORD"));
        if !has_record {
            return Err(invalid(format!("{dist_info}/RECORD is missing")));
        }
        let wheel_name = format!("{dist_info}/WHEEL");
        let wheel_txt = read_text(&mut archive, path, &wheel_name)?
            .ok_or_else(|| invalid(format!("{wheel_name} is missing")))?;
        let wheel_file = parse_wheel_file(path, &wheel_name, &wheel_txt)?;
        let metadata_name = format!("{dist_info}/METADATA");
        let metadata_txt = read_text(&mut archive, path, &metadata_name)?
            .ok_or_else(|| invalid(format!("{metadata_name} is missing")))?;
        let metadata =
            Metadata::parse(&metadata_txt).map_err(|e| invalid(format!("METADATA: {e}")))?;
        check_metadata(path, &metadata_name, &metadata, &filename)?;
        let entry_points = read_text(&mut archive, path, &format!("{dist_info}/entry_points.txt"))?
            .map(|t| EntryPoints::parse(&t))
            .unwrap_or_default();
        let root_is_purelib = wheel_file.root_is_purelib;
        let entries = install_entries(path, names, &dist_info, root_is_purelib)?;
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
}

/// The `<name>-<version>.dist-info` directory of the project the file name names.
fn find_dist_info<'a>(names: &'a [EntryName], filename: &WheelFilename) -> Option<&'a str> {
    let expected = filename.name.as_dist_info_name();
    let dirs: std::collections::BTreeSet<&str> = names
        .iter()
        .filter_map(|e| e.name.split_once('/').map(|(d, _)| d))
        .filter(|d| d.ends_with(".dist-info"))
        .collect();
    dirs.into_iter().find(|d| {
        d.split_once('-').is_some_and(|(n, _)| {
            n.parse::<pyzap_spec::PackageName>()
                .is_ok_and(|n| n.as_dist_info_name() == expected)
        })
    })
}

/// The files of the wheel with their schemes, once no path in any install
/// tree is both a file and a directory (directory entries count too).
fn install_entries(
    path: &Path,
    names: Vec<EntryName>,
    dist_info: &str,
    root_is_purelib: bool,
) -> Result<Vec<WheelEntry>, WheelError> {
    let data_prefix = format!("{}.data/", dist_info.trim_end_matches(".dist-info"));
    let mut entries = Vec::new();
    // Install paths (`<tree><rel>`) and the wheel entries they came from.
    let mut tree = Vec::with_capacity(names.len());
    let mut tree_names = Vec::with_capacity(names.len());
    for (index, e) in names.into_iter().enumerate() {
        let (scheme, rel) = match install_path(&e.name, &data_prefix, root_is_purelib) {
            Ok(place) => place,
            // `x.data/` itself, as a directory entry, installs nothing.
            Err(_) if e.is_dir => continue,
            Err(reason) => {
                return Err(WheelError::Invalid {
                    path: path.to_path_buf(),
                    reason,
                })
            }
        };
        tree.push((format!("{}{rel}", scheme.tree()), e.is_dir));
        tree_names.push(e.name.clone());
        if !e.is_dir {
            entries.push(WheelEntry {
                index,
                name: e.name,
                scheme,
                rel,
                mode: e.mode,
            });
        }
    }
    match names::file_dir_clash(&tree) {
        Some(i) => Err(WheelError::FileDirClash {
            path: path.to_path_buf(),
            entry: tree_names.swap_remove(i),
        }),
        None => Ok(entries),
    }
}

impl Scheme {
    /// The install tree of the scheme, as a prefix: purelib and platlib
    /// share the site directory; the others each have their own.
    fn tree(self) -> &'static str {
        match self {
            Scheme::Purelib | Scheme::Platlib => "",
            Scheme::Scripts => "scripts/",
            Scheme::Data => "data/",
            Scheme::Headers => "headers/",
        }
    }
}

/// One central directory entry, its name checked.
struct EntryName {
    name: String,
    is_dir: bool,
    mode: u32,
}

/// Every entry of the archive in index order, each name checked against the
/// rules of `pyzap_fs` (inside the tree) and `names` (creatable, one line, once).
fn entry_names(archive: &mut Archive, path: &Path) -> Result<Vec<EntryName>, WheelError> {
    if archive.has_duplicate_names() {
        let reader = fs_err::File::open(path).map_err(|source| WheelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let entry = names::first_duplicate(
            BufReader::new(reader.into_file()),
            archive.central_directory_start(),
        )
        .unwrap_or_else(|| "an entry".to_string());
        return Err(WheelError::DuplicateEntry {
            path: path.to_path_buf(),
            entry,
        });
    }
    let mut out = Vec::with_capacity(archive.len());
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
        check_name(path, &name)?;
        if entry.is_symlink() {
            return Err(WheelError::Symlink {
                path: path.to_path_buf(),
                entry: name,
            });
        }
        let mode = entry.unix_mode().unwrap_or(0o644) & 0o777;
        out.push(EntryName {
            name,
            is_dir: entry.is_dir(),
            mode,
        });
    }
    Ok(out)
}

fn check_name(path: &Path, name: &str) -> Result<(), WheelError> {
    let path = path.to_path_buf();
    let entry = name.to_string();
    names::check_name(name).map_err(|problem| match problem {
        NameProblem::Control => WheelError::ControlCharacter {
            path,
            entry: names::printable(name),
        },
        NameProblem::ComponentTooLong { len, max } => WheelError::ComponentTooLong {
            path,
            entry,
            len,
            max,
        },
        NameProblem::TooDeep(depth) => WheelError::PathTooDeep {
            path,
            entry,
            depth,
            max: names::MAX_DEPTH,
        },
        NameProblem::TooLong(len) => WheelError::PathTooLong {
            path,
            entry,
            len,
            max: names::MAX_PATH_BYTES,
        },
    })
}

/// Where `name` is installed: its scheme and its path inside that scheme's
/// tree (`<dist>.data/<scheme>/` stripped, PEP 427).
fn install_path(
    name: &str,
    data_prefix: &str,
    root_is_purelib: bool,
) -> Result<(Scheme, String), String> {
    let Some(rest) = name.strip_prefix(data_prefix) else {
        let scheme = if root_is_purelib {
            Scheme::Purelib
        } else {
            Scheme::Platlib
        };
        return Ok((scheme, name.to_string()));
    };
    let (scheme, rel) = rest
        .split_once('/')
        .ok_or_else(|| format!("`{name}` is not inside a .data scheme"))?;
    let scheme = match scheme {
        "purelib" => Scheme::Purelib,
        "platlib" => Scheme::Platlib,
        "scripts" => Scheme::Scripts,
        "data" => Scheme::Data,
        "headers" => Scheme::Headers,
        other => return Err(format!("unknown .data scheme `{other}`")),
    };
    Ok((scheme, rel.to_string()))
}

pub(crate) fn corrupt(path: &Path, source: zip::result::ZipError) -> WheelError {
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
    zip::ZipArchive::new(BufReader::new(file)).map_err(|source| corrupt(path, source))
}
