//! The `.dist-info` files `Wheel::open` reads: each is size-checked before it
//! is read, WHEEL's `Wheel-Version` is checked as PEP 427 asks of a consumer,
//! and METADATA must name the project and version the file name does.

use std::io::{BufReader, Read};
use std::path::Path;

use pyzap_spec::{Metadata, WheelFilename};

use crate::WheelError;

/// METADATA, WHEEL, RECORD and entry_points.txt are read whole; past this
/// they are not metadata but an attempt to exhaust memory (a RECORD of
/// 200,000 files is about 30 MB).
pub const MAX_METADATA_BYTES: u64 = 32 * 1024 * 1024;

pub(crate) type Archive = zip::ZipArchive<BufReader<fs_err::File>>;

/// The text of `name`, or `None` when the wheel has no such entry.
pub(crate) fn read_text(
    archive: &mut Archive,
    path: &Path,
    name: &str,
) -> Result<Option<String>, WheelError> {
    let Some(index) = archive.index_for_name(name) else {
        return Ok(None);
    };
    let too_large = |len| WheelError::MetadataTooLarge {
        path: path.to_path_buf(),
        entry: name.to_string(),
        len,
        max: MAX_METADATA_BYTES,
    };
    let member = archive
        .by_index(index)
        .map_err(|source| WheelError::Corrupt {
            path: path.to_path_buf(),
            source,
        })?;
    if member.size() > MAX_METADATA_BYTES {
        return Err(too_large(member.size()));
    }
    // The declared size is checked above; `take` holds even if it lies.
    let mut text = String::new();
    member
        .take(MAX_METADATA_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| WheelError::Invalid {
            path: path.to_path_buf(),
            reason: format!("{name} is unreadable: {e}"),
        })?;
    if text.len() as u64 > MAX_METADATA_BYTES {
        return Err(too_large(text.len() as u64));
    }
    Ok(Some(text))
}

/// What the WHEEL file says that matters here.
pub(crate) struct WheelFile {
    pub root_is_purelib: bool,
}

/// Parses WHEEL (`entry` names it in errors): `Wheel-Version` must be there
/// and its major version 1; a newer minor version is installed with a warning.
pub(crate) fn parse_wheel_file(
    path: &Path,
    entry: &str,
    text: &str,
) -> Result<WheelFile, WheelError> {
    let field = |key: &str| {
        text.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim().eq_ignore_ascii_case(key).then(|| v.trim())
        })
    };
    let version = field("Wheel-Version")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| WheelError::WheelVersionMissing {
            path: path.to_path_buf(),
            entry: entry.to_string(),
        })?;
    let unsupported = || WheelError::WheelVersionUnsupported {
        path: path.to_path_buf(),
        entry: entry.to_string(),
        version: version.to_string(),
    };
    let (major, minor) = version.split_once('.').unwrap_or((version, "0"));
    let major: u64 = major.parse().map_err(|_| unsupported())?;
    let minor: u64 = minor.parse().map_err(|_| unsupported())?;
    if major != 1 {
        return Err(unsupported());
    }
    if minor > 0 {
        tracing::warn!(
            "wheel {}: Wheel-Version {version} is newer than 1.0, the version pyzap knows; \
             installing it as 1.0",
            path.display()
        );
    }
    let root_is_purelib = field("Root-Is-Purelib")
        .map(|v| v.eq_ignore_ascii_case("true"))
        .unwrap_or(true);
    Ok(WheelFile { root_is_purelib })
}

/// METADATA's `Name` and `Version` against the file name's: names compared
/// normalised (PEP 503), versions by PEP 440 equality (`1.0` is `1.0.0`).
pub(crate) fn check_metadata(
    path: &Path,
    entry: &str,
    metadata: &Metadata,
    filename: &WheelFilename,
) -> Result<(), WheelError> {
    let entry = entry.to_string();
    if metadata.name != filename.name {
        return Err(WheelError::NameMismatch {
            path: path.to_path_buf(),
            entry,
            found: Box::new(metadata.name.clone()),
            expected: Box::new(filename.name.clone()),
        });
    }
    if metadata.version != filename.version {
        return Err(WheelError::VersionMismatch {
            path: path.to_path_buf(),
            entry,
            found: metadata.version.clone(),
            expected: filename.version.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wheel_file(text: &str) -> Result<bool, String> {
        parse_wheel_file(Path::new("x.whl"), "x-1.dist-info/WHEEL", text)
            .map(|w| w.root_is_purelib)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn wheel_version_rules() {
        assert_eq!(wheel_file("Wheel-Version: 1.0\n"), Ok(true));
        assert_eq!(
            wheel_file("Wheel-Version: 1.9\nRoot-Is-Purelib: false\n"),
            Ok(false)
        );
        for missing in ["Generator: x\n", "Wheel-Version:\n"] {
            assert_eq!(
                wheel_file(missing).unwrap_err(),
                "wheel x.whl: x-1.dist-info/WHEEL has no Wheel-Version"
            );
        }
        assert_eq!(wheel_file("Wheel-Version: 1\n"), Ok(true));
        for bad in ["2.0", "0.9", "9", "one.0", "1.x", "1.0.1"] {
            let err = wheel_file(&format!("Wheel-Version: {bad}\n")).unwrap_err();
            assert!(
                err.contains(&format!("declares Wheel-Version {bad};")),
                "{err}"
            );
        }
    }
}
