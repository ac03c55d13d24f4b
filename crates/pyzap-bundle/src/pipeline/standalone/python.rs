//! The CPython of a standalone build that names none (no `--python-dist`):
//! one of the target's Python version (`--python-version`, else the
//! version of `--python` or `python3`) for the target's platform
//! (`--platform`, else this machine). A CPython uv already installed
//! (`uv python install`) is used as it is; otherwise pyzap's table of
//! python-build-standalone builds (`pyzap_python::PythonDownloads`) names
//! the archive and its sha256, and the index client fetches it (from
//! `PYZAP_PYTHON_MIRROR` when set) with its retries, credentials, progress
//! and cache, checked against that digest. The table's glibc floor is
//! checked first, for uv's copies of its builds too.

use std::path::PathBuf;

use pyzap_index::http::redact;
use pyzap_index::{IndexClient, PromisedSha256, Url};
use pyzap_python::{
    find_uv_python, Interpreter, PlatformRequest, PythonError, PythonSources, PythonVersion,
    VersionRequest,
};
use pyzap_spec::{PlatformTag, SpecError};

use crate::{BundleError, BundleOptions, Reporter, Result, StandaloneOptions};

/// Who promises the digest of a table download, as a mismatch names it.
const TABLE_PROMISE: &str = "pyzap's table of python downloads";

/// The CPython chosen: where it is on disk and which version it is.
pub(crate) struct Chosen {
    pub path: PathBuf,
    pub version: PythonVersion,
}

/// The CPython for `options`' target: uv's, else downloaded by the table.
pub(crate) fn choose(
    options: &BundleOptions,
    standalone: &StandaloneOptions,
    index: &IndexClient,
    reporter: &dyn Reporter,
) -> Result<Chosen> {
    if options.python_versions.len() > 1 || options.platforms.len() > 1 {
        return Err(BundleError::StandaloneTargets);
    }
    let platform = match options.platforms.first() {
        Some(tag) => PlatformRequest::from_tag(&tag.parse::<PlatformTag>()?),
        None => PlatformRequest::host(),
    };
    let version = version_request(options)?;
    let sources = standalone
        .python_sources
        .clone()
        .unwrap_or_else(PythonSources::from_env);
    let table = sources.downloads()?;
    // The table's glibc floor holds for uv's copies of its builds too; a
    // version the table lacks may still be one uv installed.
    let selected = match table.select(version, &platform) {
        Err(e @ PythonError::DownloadGlibc { .. }) => return Err(e.into()),
        other => other,
    };
    if let Some(found) = sources
        .uv_dir
        .as_deref()
        .and_then(|dir| find_uv_python(dir, version, &platform))
    {
        reporter.info(&format!(
            "CPython {} installed by uv: {}",
            found.version,
            found.dir.display()
        ));
        return Ok(Chosen {
            path: found.dir,
            version: found.version,
        });
    }
    let download = selected?;
    let url_text = sources.url(&table, download);
    let url = Url::parse(&url_text).map_err(|source| BundleError::PythonMirrorUrl {
        url: url_text.clone(),
        source,
    })?;
    let promised = PromisedSha256::new(&download.sha256, TABLE_PROMISE)
        .expect("the table's digests are checked when it is read");
    reporter.step(&format!(
        "getting CPython {} for {}",
        download.version, platform.name
    ));
    let path = index
        .download_url(&url, Some(&promised), reporter)
        .map_err(|source| BundleError::PythonDownload {
            version: download.version.to_string(),
            url: redact(&url),
            source: Box::new(source),
        })?;
    reporter.info(&format!(
        "CPython {} from {}",
        download.version,
        redact(&url)
    ));
    Ok(Chosen {
        path,
        version: download.version,
    })
}

/// `--python-version`, else the version of `--python` (or `python3`):
/// any build of its minor version will do.
fn version_request(options: &BundleOptions) -> Result<VersionRequest> {
    if let Some(given) = options.python_versions.first() {
        return VersionRequest::parse(given)
            .filter(|v| v.minor().0 == 3)
            .ok_or_else(|| {
                SpecError::Interpreter(format!(
                    "unsupported Python version `{given}` (pyzap targets CPython 3.8 and later: 3.9, 3.12.4)"
                ))
                .into()
            });
    }
    let spec = options.source.python.as_deref().unwrap_or("python3");
    let python =
        Interpreter::find(spec).map_err(|source| BundleError::NoStandaloneVersion { source })?;
    Ok(VersionRequest::Minor(
        python.target.major,
        python.target.minor,
    ))
}
