//! The simple-API pages of a directory of distributions: which projects and
//! files it holds (read once per process and directory), and their PEP 691
//! JSON or PEP 503 HTML pages with PEP 658/714 metadata digests, PEP 592
//! yanked marks and PEP 700 sizes and versions.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::json;

use crate::index_server::{IndexConfig, PageFormat};

/// PEP 691's JSON content type.
pub(crate) const JSON_TYPE: &str = "application/vnd.pypi.simple.v1+json";

/// One wheel or sdist of the directory.
pub(crate) struct Distribution {
    pub filename: String,
    pub version: String,
    pub sha256: String,
    pub size: u64,
    pub requires_python: Option<String>,
    /// The wheel's `.dist-info/METADATA` (PEP 658 serves it); `None` for sdists.
    pub metadata: Option<Vec<u8>>,
}

/// Normalized project name → its files, sorted by file name.
pub(crate) type Projects = BTreeMap<String, Vec<Distribution>>;

/// PEP 503 normalization: runs of `-_.` become one `-`, lowercase.
pub(crate) fn normalize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Each directory is read (digests, METADATA) once per process.
pub(crate) fn scan_cached(dir: &Path) -> Arc<Projects> {
    static SCANS: OnceLock<Mutex<BTreeMap<PathBuf, Arc<Projects>>>> = OnceLock::new();
    let mut scans = SCANS.get_or_init(Default::default).lock().unwrap();
    scans
        .entry(dir.to_path_buf())
        .or_insert_with(|| Arc::new(scan(dir)))
        .clone()
}

fn scan(dir: &Path) -> Projects {
    let mut names: Vec<String> = fs_err::read_dir(dir)
        .expect("index dir")
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut out = Projects::new();
    for filename in names {
        let Some((project, version)) = parse_filename(&filename) else {
            continue;
        };
        let path = dir.join(&filename);
        let metadata = filename
            .ends_with(".whl")
            .then(|| wheel_metadata(&path))
            .flatten();
        let requires_python = match &metadata {
            Some(m) => requires_python(m),
            None => sdist_pkg_info(&path).and_then(|m| requires_python(&m)),
        };
        out.entry(normalize(project))
            .or_default()
            .push(Distribution {
                version: version.to_string(),
                sha256: crate::sha256_file(&path),
                size: fs_err::metadata(&path).map_or(0, |m| m.len()),
                filename,
                requires_python,
                metadata,
            });
    }
    out
}

/// (project, version) of a wheel (PEP 427: 5 or 6 dash-separated parts) or
/// an sdist (`.tar.gz`, `.zip`) file name.
fn parse_filename(filename: &str) -> Option<(&str, &str)> {
    if let Some(stem) = filename.strip_suffix(".whl") {
        let parts: Vec<&str> = stem.split('-').collect();
        return matches!(parts.len(), 5 | 6).then(|| (parts[0], parts[1]));
    }
    let stem = filename
        .strip_suffix(".tar.gz")
        .or_else(|| filename.strip_suffix(".zip"))?;
    stem.rsplit_once('-')
}

fn wheel_metadata(path: &Path) -> Option<Vec<u8>> {
    let mut zip = zip::ZipArchive::new(fs_err::File::open(path).ok()?).ok()?;
    let name = zip
        .file_names()
        .filter_map(std::result::Result::ok)
        .find(|n| n.ends_with(".dist-info/METADATA") && n.matches('/').count() == 1)?
        .to_string();
    let mut data = Vec::new();
    zip.by_name(&name).ok()?.read_to_end(&mut data).ok()?;
    Some(data)
}

/// The top-level `PKG-INFO` of a `.tar.gz` sdist.
fn sdist_pkg_info(path: &Path) -> Option<Vec<u8>> {
    if !path.to_string_lossy().ends_with(".tar.gz") {
        return None;
    }
    let gz = flate2::read::GzDecoder::new(fs_err::File::open(path).ok()?);
    let mut archive = tar::Archive::new(gz);
    for entry in archive.entries().ok()? {
        let mut entry = entry.ok()?;
        let name = entry.path().ok()?.to_string_lossy().into_owned();
        if name.matches('/').count() == 1 && name.ends_with("/PKG-INFO") {
            let mut data = Vec::new();
            entry.read_to_end(&mut data).ok()?;
            return Some(data);
        }
    }
    None
}

/// The `Requires-Python` header of core metadata.
fn requires_python(metadata: &[u8]) -> Option<String> {
    String::from_utf8_lossy(metadata)
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            l.strip_prefix("Requires-Python:")
                .map(|v| v.trim().to_string())
        })
}

/// The list of projects: (content type, body).
pub(crate) fn root_page(projects: &Projects, format: PageFormat) -> (&'static str, Vec<u8>) {
    if format == PageFormat::Json {
        let names: Vec<_> = projects.keys().map(|n| json!({ "name": n })).collect();
        let page = json!({ "meta": { "api-version": "1.1" }, "projects": names });
        return (JSON_TYPE, page.to_string().into_bytes());
    }
    let mut body = String::from("<!DOCTYPE html><html><body>\n");
    for n in projects.keys() {
        body.push_str(&format!("<a href=\"/simple/{n}/\">{n}</a>\n"));
    }
    body.push_str("</body></html>\n");
    ("text/html", body.into_bytes())
}

/// One project's files: (content type, body). Files link to `/files/NAME`.
pub(crate) fn project_page(
    name: &str,
    files: &[Distribution],
    config: &IndexConfig,
) -> (&'static str, Vec<u8>) {
    let yanked = |f: &Distribution| {
        config
            .yanked
            .iter()
            .find(|(n, _)| n == &f.filename)
            .map(|(_, reason)| reason.as_str())
    };
    // Announced also when the files themselves answer 404 (as on PyPI at times).
    let metadata_digest = |f: &Distribution| {
        f.metadata
            .as_deref()
            .filter(|_| config.metadata_files || config.metadata_files_missing)
            .map(crate::sha256_hex)
    };
    if config.format == PageFormat::Json {
        let entries: Vec<_> = files
            .iter()
            .map(|f| {
                let mut entry = json!({
                    "filename": f.filename,
                    "url": format!("../../files/{}", f.filename),
                    "hashes": { "sha256": f.sha256 },
                    "size": f.size,
                });
                if let Some(rp) = &f.requires_python {
                    entry["requires-python"] = rp.as_str().into();
                }
                if let Some(reason) = yanked(f) {
                    entry["yanked"] = reason.into();
                }
                // PEP 714: JSON pages carry only the new key (pip 23.0
                // crashes on the old one given as an object).
                if let Some(digest) = metadata_digest(f) {
                    entry["core-metadata"] = json!({ "sha256": digest });
                }
                entry
            })
            .collect();
        let versions: BTreeSet<&str> = files.iter().map(|f| f.version.as_str()).collect();
        let page = json!({
            "meta": { "api-version": "1.1" },
            "name": name,
            "versions": versions,
            "files": entries,
        });
        return (JSON_TYPE, page.to_string().into_bytes());
    }
    let mut body =
        format!("<!DOCTYPE html><html><head><title>Links for {name}</title></head><body>\n");
    for f in files {
        let mut attrs = format!(
            "href=\"../../files/{}#sha256={}\"",
            html_escape(&f.filename),
            f.sha256
        );
        if let Some(rp) = &f.requires_python {
            attrs.push_str(&format!(" data-requires-python=\"{}\"", html_escape(rp)));
        }
        if let Some(reason) = yanked(f) {
            attrs.push_str(&format!(" data-yanked=\"{}\"", html_escape(reason)));
        }
        if let Some(digest) = metadata_digest(f) {
            attrs.push_str(&format!(
                " data-core-metadata=\"sha256={digest}\" data-dist-info-metadata=\"sha256={digest}\""
            ));
        }
        let text = html_escape(&f.filename);
        body.push_str(&format!("<a {attrs}>{text}</a><br/>\n"));
    }
    body.push_str("</body></html>\n");
    ("text/html", body.into_bytes())
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
