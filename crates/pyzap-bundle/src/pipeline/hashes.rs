//! Hash checking, as pip does it. `--hash` options in requirements files
//! (sha256, sha384 or sha512) are checked against the file actually used —
//! for an sdist, the sdist, not the wheel built from it. Hash-checking mode
//! (`--require-hashes`, on by itself when any requirement has a `--hash`)
//! further demands, before anything is resolved, that every requirement be
//! pinned with `==` (or `===`) and that no local project be an input (it has
//! no file to hash); and after resolution, that every distribution, the
//! dependencies too, have hashes. Build requirements of sdists and projects
//! are not hash-checked (pip does not check them either). A lock file is the
//! same check with one hash per distribution: the locked file's.
//!
//! Every file is checked before any is used; all failures come in one report,
//! with the hashes the files actually had, as pip prints them.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use pyzap_index::DistFile;
use pyzap_spec::{PackageName, VersionOrUrl};
use sha2::Digest;

use super::inputs::Inputs;
use super::locals::LocalSource;
use crate::{BundleError, Result};

pub(crate) struct HashCheck {
    /// Allowed `algorithm:hex` digests per project.
    wanted: BTreeMap<PackageName, Vec<String>>,
    /// Hash-checking mode: a distribution without hashes is an error.
    required: bool,
    /// "the requirements file" or "the lock file", for messages.
    source: &'static str,
}

impl HashCheck {
    /// From `--hash` options; refuses unpinned requirements and local
    /// projects in hash-checking mode.
    pub(crate) fn from_inputs(inputs: &Inputs, require_hashes: bool) -> Result<Self> {
        let mut wanted: BTreeMap<PackageName, Vec<String>> = BTreeMap::new();
        for (name, hashes) in &inputs.hashes {
            if let Ok(name) = name.parse::<PackageName>() {
                wanted
                    .entry(name)
                    .or_default()
                    .extend(hashes.iter().cloned());
            }
        }
        let required = require_hashes || inputs.require_hashes || !wanted.is_empty();
        if required {
            let unpinned: Vec<String> = inputs
                .requirements
                .iter()
                .filter(|r| !is_pinned(r))
                .map(|r| format!("    {r}"))
                .collect();
            if !unpinned.is_empty() {
                return Err(BundleError::Unpinned {
                    requirements: unpinned.join("\n"),
                });
            }
            // A repository is a directory too once cloned.
            let project = inputs.locals.iter().find_map(|l| match &l.source {
                LocalSource::Project(p) => Some(p.dir.clone()),
                LocalSource::Git(spec) => Some(spec.into()),
                _ => None,
            });
            if let Some(dir) = project {
                return Err(BundleError::HashOfProject { dir });
            }
            for (name, hashes) in &wanted {
                for h in hashes {
                    if !["sha256", "sha384", "sha512"].contains(&algorithm(h)) {
                        return Err(BundleError::HashAlgorithm {
                            hash: h.clone(),
                            name: name.clone(),
                        });
                    }
                }
            }
        }
        Ok(HashCheck {
            wanted,
            required,
            source: "the requirements file",
        })
    }

    /// One sha256 per project: the files a lock file names.
    pub(crate) fn from_lock(files: &[DistFile]) -> Self {
        let wanted = files
            .iter()
            .filter_map(|f| {
                Some((
                    f.name.clone(),
                    vec![format!("sha256:{}", f.sha256.as_ref()?)],
                ))
            })
            .collect();
        HashCheck {
            wanted,
            required: true,
            source: "the lock file",
        }
    }

    /// Checks every downloaded file; returns each one's sha256.
    pub(crate) fn verify(&self, files: &[DistFile], paths: &[PathBuf]) -> Result<Vec<String>> {
        let mut sha256s = Vec::new();
        let mut missing = Vec::new();
        let mut mismatched = Vec::new();
        for (file, path) in files.iter().zip(paths) {
            let wanted = self.wanted.get(&file.name);
            let algorithms: Vec<&str> = wanted
                .map(|w| w.iter().map(|h| algorithm(h)).collect())
                .unwrap_or_default();
            let digests = digests(path, &algorithms)?;
            sha256s.push(digests["sha256"].clone());
            let Some(wanted) = wanted else {
                if self.required {
                    missing.push(format!(
                        "    {}=={} --hash=sha256:{}",
                        file.name, file.version, digests["sha256"]
                    ));
                }
                continue;
            };
            let ok = wanted.iter().any(|h| {
                h.split_once(':')
                    .is_some_and(|(algo, hex)| digests.get(algo).map(String::as_str) == Some(hex))
            });
            if !ok {
                let expected: Vec<String> = wanted
                    .iter()
                    .map(|h| {
                        let (algo, hex) = h.split_once(':').unwrap_or(("?", h));
                        format!("        Expected {algo} {hex}")
                    })
                    .collect();
                let got: Vec<String> = {
                    let mut algos: Vec<&str> = algorithms.clone();
                    algos.sort();
                    algos.dedup();
                    algos
                        .iter()
                        .map(|a| format!("             Got        {}", digests[*a]))
                        .collect()
                };
                mismatched.push(format!(
                    "    {}=={} from {}:\n{}\n{}",
                    file.name,
                    file.version,
                    file.display_location(),
                    expected.join("\n"),
                    got.join("\n")
                ));
            }
        }
        let mut report = Vec::new();
        if !missing.is_empty() {
            report.push(format!(
                "hashes are required in --require-hashes mode, but they are missing from some requirements. Here is a list of those requirements along with the hashes their downloaded archives actually had. You can add lines like these to {}:\n{}",
                self.source,
                missing.join("\n")
            ));
        }
        if !mismatched.is_empty() {
            report.push(format!(
                "these packages do not match the hashes from {}. If you have updated the package versions, update the hashes. Otherwise, examine the package contents carefully; someone may have tampered with them:\n{}",
                self.source,
                mismatched.join("\n")
            ));
        }
        if !report.is_empty() {
            return Err(BundleError::Hashes {
                report: report.join("\n"),
            });
        }
        Ok(sha256s)
    }
}

fn algorithm(hash: &str) -> &str {
    hash.split_once(':').map_or("", |(a, _)| a)
}

/// `==1.2` or `===1.2` (pip accepts no other pin; `==1.*` is not one).
fn is_pinned(req: &pyzap_spec::Requirement) -> bool {
    match &req.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(specs)) => {
            let specs: Vec<_> = specs.iter().collect();
            specs.len() == 1 && {
                let text = specs[0].to_string();
                (text.starts_with("==") && !text.ends_with(".*")) || text.starts_with("===")
            }
        }
        _ => false,
    }
}

/// The file's sha256 and any other of `algorithms`, hex, in one read.
fn digests(path: &Path, algorithms: &[&str]) -> Result<BTreeMap<String, String>> {
    let mut sha256 = sha2::Sha256::new();
    let mut sha384 = algorithms.contains(&"sha384").then(sha2::Sha384::new);
    let mut sha512 = algorithms.contains(&"sha512").then(sha2::Sha512::new);
    let mut file = fs_err::File::open(path)?;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        sha256.update(&buf[..n]);
        if let Some(h) = &mut sha384 {
            h.update(&buf[..n]);
        }
        if let Some(h) = &mut sha512 {
            h.update(&buf[..n]);
        }
    }
    let hex = |b: &[u8]| data_encoding::HEXLOWER.encode(b);
    let mut out = BTreeMap::new();
    out.insert("sha256".to_string(), hex(&sha256.finalize()));
    if let Some(h) = sha384 {
        out.insert("sha384".to_string(), hex(&h.finalize()));
    }
    if let Some(h) = sha512 {
        out.insert("sha512".to_string(), hex(&h.finalize()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins() {
        let pinned = |s: &str| is_pinned(&pyzap_spec::parse_requirement(s).unwrap());
        assert!(pinned("flask==3.1.3"));
        assert!(pinned("flask===3.1.3"));
        assert!(!pinned("flask==3.*"));
        assert!(!pinned("flask>=3"));
        assert!(!pinned("flask>=3,==3.1.3"));
        assert!(!pinned("flask"));
    }

    #[test]
    fn digests_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs_err::write(&path, b"abc").unwrap();
        let d = digests(&path, &["sha512"]).unwrap();
        assert_eq!(
            d["sha256"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(d["sha512"].starts_with("ddaf35a193617aba"));
        assert!(!d.contains_key("sha384"));
    }
}
