//! The digest of an extracted tree: what the bootstrap checks the tree it
//! unpacked against before trusting it (docs/artifact-format.md, "Tree
//! digest"). It is computed from a zip's central directory alone — every
//! file's name (relative to the tree), CRC-32 and size — so the build side
//! and the runtime compute it from the same facts, and the runtime's zip
//! reader checks each file's data against its CRC as it unpacks.

use std::collections::BTreeMap;
use std::io::{Read, Seek};

use sha2::{Digest, Sha256};

/// `sha256("<name>\t<crc32 as 8 hex digits>\t<size>\n" for each file, sorted by name)`.
pub fn digest<'a>(files: impl IntoIterator<Item = (&'a str, u32, u64)>) -> String {
    let mut files: Vec<(&str, u32, u64)> = files.into_iter().collect();
    files.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut hasher = Sha256::new();
    for (name, crc, size) in files {
        hasher.update(format!("{name}\t{crc:08x}\t{size}\n").as_bytes());
    }
    data_encoding::HEXLOWER.encode(&hasher.finalize())
}

/// The digest of every file entry of a (nested) zip.
pub(crate) fn of_zip<R: Read + Seek>(reader: R) -> Result<String, zip::result::ZipError> {
    let mut archive = zip::ZipArchive::new(reader)?;
    let mut files: Vec<(String, u32, u64)> = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i)?;
        if !entry.is_dir() {
            files.push((entry.name()?.into_owned(), entry.crc32(), entry.size()));
        }
    }
    Ok(digest(files.iter().map(|(n, c, s)| (n.as_str(), *c, *s))))
}

/// The `boot` lines for the digests of the nested trees, by tree
/// (`__pyzap__/extract`, `__pyzap__/targets/<name>/extract`).
pub(crate) fn boot_lines(digests: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (tree, digest) in digests {
        match tree
            .strip_prefix(&format!("{}/", crate::TARGETS_DIR))
            .and_then(|t| t.strip_suffix("/extract"))
        {
            Some(target) => out.push_str(&format!("target_digest={target} {digest}\n")),
            None => out.push_str(&format!("extract_digest={digest}\n")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectors the bootstrap's tests read too (python/tests).
    #[test]
    fn shared_vectors() {
        let text = include_str!("../../../docs/tree-digest-vectors.json");
        let vectors: serde_json::Value = serde_json::from_str(text).unwrap();
        for v in vectors.as_array().unwrap() {
            let files: Vec<(String, u32, u64)> = v["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f[0].as_str().unwrap().to_string(),
                        u32::try_from(f[1].as_u64().unwrap()).unwrap(),
                        f[2].as_u64().unwrap(),
                    )
                })
                .collect();
            let got = digest(files.iter().map(|(n, c, s)| (n.as_str(), *c, *s)));
            assert_eq!(got, v["digest"].as_str().unwrap(), "{}", v["name"]);
        }
    }

    #[test]
    fn boot_lines_name_trees() {
        let d = BTreeMap::from([
            ("__pyzap__/extract".to_string(), "aa".to_string()),
            (
                "__pyzap__/targets/cp39/extract".to_string(),
                "bb".to_string(),
            ),
        ]);
        assert_eq!(boot_lines(&d), "extract_digest=aa\ntarget_digest=cp39 bb\n");
    }
}
