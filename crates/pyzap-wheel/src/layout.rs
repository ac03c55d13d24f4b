//! Where a wheel's files go in the artifact. A distribution stays in the
//! zip (imported by zipimport) only when its package files are all Python
//! source; anything else — native extensions, data read through `__file__`,
//! `.pth` files — makes the whole distribution extracted at run time, so code
//! that expects a real file system finds one.

use std::collections::HashMap;
use std::path::PathBuf;

use pyzap_spec::{EntryPoints, PackageName, Version};

use crate::{Scheme, Wheel, WheelError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Imported straight from the artifact's zip.
    Zip,
    /// Unpacked once into the runtime cache.
    Extract,
}

impl Placement {
    pub fn as_str(self) -> &'static str {
        match self {
            Placement::Zip => "zip",
            Placement::Extract => "extract",
        }
    }
}

#[derive(Debug, Clone)]
pub enum SiteSource {
    /// Entry `index` of the wheel, copied without recompression.
    Wheel {
        index: usize,
    },
    Bytes(Vec<u8>),
}

/// One file of the site tree: `dest` is relative to the site root.
#[derive(Debug, Clone)]
pub struct SiteFile {
    pub dest: String,
    pub source: SiteSource,
    pub mode: u32,
}

#[derive(Debug, Clone)]
pub struct InstalledDist {
    pub name: PackageName,
    pub version: Version,
    pub wheel_path: PathBuf,
    pub filename: String,
    pub placement: Placement,
    /// Why the distribution must be extracted (the first file that needs it).
    pub extract_reason: Option<String>,
    /// purelib/platlib files, relative to the site dir.
    pub site_files: Vec<SiteFile>,
    /// scripts/data/headers files, as `<scheme>/<path>`.
    pub scheme_files: Vec<SiteFile>,
    pub entry_points: EntryPoints,
    /// `.pth` files at the top of the site dir.
    pub pth_files: Vec<String>,
    /// METADATA `Requires-Python`, as written there.
    pub requires_python: Option<String>,
}

impl InstalledDist {
    /// Python sources to precompile, as site-relative paths.
    pub fn python_sources(&self) -> impl Iterator<Item = &SiteFile> {
        self.site_files.iter().filter(|f| f.dest.ends_with(".py"))
    }

    /// The bytes of the site file `dest` (site-relative), read from the
    /// wheel; `None` when the distribution has no such file, or when it is
    /// larger than `limit` bytes.
    pub fn read_site_file(&self, dest: &str, limit: u64) -> Result<Option<Vec<u8>>, WheelError> {
        let Some(file) = self.site_files.iter().find(|f| f.dest == dest) else {
            return Ok(None);
        };
        let index = match &file.source {
            SiteSource::Bytes(bytes) => {
                return Ok((bytes.len() as u64 <= limit).then(|| bytes.clone()))
            }
            SiteSource::Wheel { index } => *index,
        };
        let path = &self.wheel_path;
        let mut archive = crate::wheel::open_archive(path)?;
        let member = archive
            .by_index(index)
            .map_err(|source| crate::wheel::corrupt(path, source))?;
        if member.size() > limit {
            return Ok(None);
        }
        let mut data = Vec::new();
        // `take`: the size is the wheel's word.
        std::io::Read::read_to_end(&mut std::io::Read::take(member, limit), &mut data).map_err(
            |source| WheelError::Io {
                path: path.clone(),
                source,
            },
        )?;
        Ok(Some(data))
    }
}

/// Is this file fine to import from a zip? Python source, stubs and the
/// PEP 561 marker are; metadata lives in `.dist-info` and is read through
/// importlib.metadata, which understands zips.
fn zip_safe_file(rel: &str, dist_info: &str) -> bool {
    rel.starts_with(&format!("{dist_info}/"))
        || rel.ends_with(".py")
        || rel.ends_with(".pyi")
        || rel.rsplit('/').next() == Some("py.typed")
}

/// Refuses a bundle in which one wheel installs a file where another
/// installs a directory (`pkg/thing` and `pkg/thing/x`): pip would fail half
/// way, and the runtime could not extract the tree. Paths are compared
/// site-relative whatever the placement, as they would be in one
/// site-packages. (Within one wheel, `Wheel::open` has refused it already.)
pub fn check_site_clashes<'a>(
    dists: impl IntoIterator<Item = &'a InstalledDist>,
) -> Result<(), WheelError> {
    let dists: Vec<&InstalledDist> = dists.into_iter().collect();
    let mut dirs: HashMap<&str, usize> = HashMap::new();
    for (i, d) in dists.iter().enumerate() {
        for f in &d.site_files {
            for (end, _) in f.dest.match_indices('/') {
                dirs.entry(&f.dest[..end]).or_insert(i);
            }
        }
    }
    for (i, d) in dists.iter().enumerate() {
        for f in &d.site_files {
            let Some(&owner) = dirs.get(f.dest.as_str()) else {
                continue;
            };
            return Err(if owner == i {
                WheelError::FileDirClash {
                    path: d.wheel_path.clone(),
                    entry: f.dest.clone(),
                }
            } else {
                WheelError::SiteClash {
                    path: d.wheel_path.clone(),
                    entry: f.dest.clone(),
                    other: dists[owner].wheel_path.clone(),
                }
            });
        }
    }
    Ok(())
}

pub fn layout_wheel(wheel: &Wheel) -> InstalledDist {
    let mut site_files = Vec::new();
    let mut scheme_files = Vec::new();
    let mut extract_reason = None;
    let mut pth_files = Vec::new();
    for e in &wheel.entries {
        let file = SiteFile {
            dest: e.rel.clone(),
            source: SiteSource::Wheel { index: e.index },
            mode: if e.mode & 0o111 != 0 { 0o755 } else { 0o644 },
        };
        match e.scheme {
            Scheme::Purelib | Scheme::Platlib => {
                if extract_reason.is_none() && !zip_safe_file(&e.rel, &wheel.dist_info) {
                    extract_reason = Some(e.rel.clone());
                }
                if e.rel.ends_with(".pth") && !e.rel.contains('/') {
                    pth_files.push(e.rel.clone());
                }
                site_files.push(file);
            }
            Scheme::Scripts | Scheme::Data | Scheme::Headers => {
                let prefix = match e.scheme {
                    Scheme::Scripts => "scripts",
                    Scheme::Data => "data",
                    _ => "headers",
                };
                scheme_files.push(SiteFile {
                    dest: format!("{prefix}/{}", e.rel),
                    ..file
                });
            }
        }
    }
    site_files.sort_by(|a, b| a.dest.cmp(&b.dest));
    site_files.dedup_by(|a, b| a.dest == b.dest);
    InstalledDist {
        name: wheel.filename.name.clone(),
        version: wheel.metadata.version.clone(),
        wheel_path: wheel.path.clone(),
        filename: wheel.filename.to_string(),
        placement: if extract_reason.is_some() {
            Placement::Extract
        } else {
            Placement::Zip
        },
        extract_reason,
        site_files,
        scheme_files,
        entry_points: wheel.entry_points.clone(),
        pth_files,
        requires_python: wheel
            .metadata
            .requires_python
            .as_ref()
            .map(ToString::to_string),
    }
}
