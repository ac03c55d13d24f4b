//! The extract key (`extract_hash` in the manifest and `boot`): the name of
//! an extracted site dir in the runtime cache, `<root>/site/<key>/`. The
//! bootstrap only reads it; it is content-addressed, so artifacts whose
//! extracted trees are the same share one directory, and a tree that
//! differs in any byte gets one of its own.

use pyzap_wheel::Placement;

use crate::site::{Bundled, BytecodeCompiler};
use crate::{FORMAT, RUNTIME_MODULE};

/// The key of the tree that `bundled`'s extracted wheels make when their
/// bytecode is compiled by `compilers` (one per target sharing the tree).
/// `own` is `Some(--src files)` for the tree that also holds the runtime
/// module and those files (every artifact has one), `None` for a target's
/// own tree of wheels; `None` when the tree would be empty.
pub(crate) fn extract_hash(
    bundled: &[Bundled],
    compilers: &[&dyn BytecodeCompiler],
    own: Option<&[(String, Vec<u8>)]>,
) -> Option<String> {
    key_text(bundled, compilers, own)
        .map(|text| pyzap_fs::sha256_hex(text.as_bytes())[..32].to_string())
}

/// What the key is a hash of. The extracted tree is a function of these
/// wheels, the bytecode compiled for them (its cache tag, and the identity
/// of the interpreter that compiled it), the runtime module it carries and
/// the layout rules of this format (its version).
fn key_text(
    bundled: &[Bundled],
    compilers: &[&dyn BytecodeCompiler],
    own: Option<&[(String, Vec<u8>)]>,
) -> Option<String> {
    let extracted: Vec<&Bundled> = bundled
        .iter()
        .filter(|b| b.dist.placement == Placement::Extract)
        .collect();
    (!extracted.is_empty() || own.is_some()).then(|| {
        let mut key = format!("pyzap-extract-{FORMAT}\n");
        for c in compilers {
            key.push_str(&format!("{} {}\n", c.cache_tag(), c.identity()));
        }
        if let Some(src_files) = own {
            key.push_str(&format!(
                "pyzap_runtime {}\n",
                pyzap_fs::sha256_hex(RUNTIME_MODULE.as_bytes())
            ));
            for (name, data) in src_files {
                key.push_str(&format!("src {name} {}\n", pyzap_fs::sha256_hex(data)));
            }
        }
        for b in &extracted {
            key.push_str(&format!("{} {}\n", b.dist.filename, b.sha256));
        }
        key
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{bundled, Recorder};

    #[test]
    fn the_key_covers_format_bytecode_and_every_extracted_wheel() {
        let wheels = [
            bundled("six-1.17.0-py2.py3-none-any.whl", Placement::Zip, "aa"),
            bundled(
                "black-24.8.0-cp311-cp311-manylinux_2_28_x86_64.whl",
                Placement::Extract,
                "bb",
            ),
            bundled(
                "certifi-2026.10.18-py3-none-any.whl",
                Placement::Extract,
                "cc",
            ),
        ];
        let compiler = Recorder::new("cpython 3.11.7 magic a70d0d0a");
        assert_eq!(
            key_text(&wheels, &[&compiler], None).unwrap(),
            "pyzap-extract-1\n\
             cpython-311 cpython 3.11.7 magic a70d0d0a\n\
             black-24.8.0-cp311-cp311-manylinux_2_28_x86_64.whl bb\n\
             certifi-2026.10.18-py3-none-any.whl cc\n"
        );
        // The first 32 hex digits of its sha256 (computed with Python's
        // hashlib): a change of the rule renames every tree in every cache.
        assert_eq!(
            extract_hash(&wheels, &[&compiler], None).unwrap(),
            "88fe98d231d65099f9a4b87c0ea00155"
        );
        assert_eq!(
            key_text(&wheels, &[], None).unwrap(),
            "pyzap-extract-1\n\
             black-24.8.0-cp311-cp311-manylinux_2_28_x86_64.whl bb\n\
             certifi-2026.10.18-py3-none-any.whl cc\n"
        );
        // A tree shared by targets names every compiler; one with the
        // runtime module names its digest, so a pyzap with another runtime
        // never reuses the tree of an older one.
        let other = Recorder::new("cpython 3.12.1 magic cb0d0d0a");
        let runtime = pyzap_fs::sha256_hex(RUNTIME_MODULE.as_bytes());
        assert_eq!(
            key_text(
                &wheels[1..2],
                &[&compiler, &other],
                Some(&[("app/main.py".to_string(), b"X = 1\n".to_vec())])
            )
            .unwrap(),
            format!(
                "pyzap-extract-1\n\
                 cpython-311 cpython 3.11.7 magic a70d0d0a\n\
                 cpython-311 cpython 3.12.1 magic cb0d0d0a\n\
                 pyzap_runtime {runtime}\n\
                 src app/main.py {}\n\
                 black-24.8.0-cp311-cp311-manylinux_2_28_x86_64.whl bb\n",
                pyzap_fs::sha256_hex(b"X = 1\n")
            )
        );
        assert_eq!(
            key_text(&[], &[], Some(&[])).unwrap(),
            format!("pyzap-extract-1\npyzap_runtime {runtime}\n"),
            "the runtime module alone is a tree"
        );
    }

    #[test]
    fn zipped_wheels_do_not_count_and_nothing_extracted_has_no_key() {
        let zipped = [bundled(
            "six-1.17.0-py2.py3-none-any.whl",
            Placement::Zip,
            "aa",
        )];
        assert_eq!(extract_hash(&zipped, &[], None), None);
        let one = |sha: &str| {
            let wheels = [
                zipped[0].clone(),
                bundled(
                    "certifi-2026.10.18-py3-none-any.whl",
                    Placement::Extract,
                    sha,
                ),
            ];
            extract_hash(&wheels, &[], None).unwrap()
        };
        let mut other_zip = zipped[0].clone();
        other_zip.sha256 = "zz".into();
        let with_other_zip = extract_hash(
            &[
                other_zip,
                bundled(
                    "certifi-2026.10.18-py3-none-any.whl",
                    Placement::Extract,
                    "cc",
                ),
            ],
            &[],
            None,
        )
        .unwrap();
        assert_eq!(one("cc"), with_other_zip);
        assert_ne!(one("cc"), one("dd"), "another wheel's bytes, another tree");
    }

    #[test]
    fn another_compiling_release_is_another_tree() {
        let wheels = [bundled(
            "certifi-2026.10.18-py3-none-any.whl",
            Placement::Extract,
            "cc",
        )];
        let a = Recorder::new("cpython 3.11.2 magic a70d0d0a");
        let b = Recorder::new("cpython 3.11.7 magic a70d0d0a");
        assert_ne!(
            extract_hash(&wheels, &[&a], Some(&[])),
            extract_hash(&wheels, &[&b], Some(&[]))
        );
    }
}
