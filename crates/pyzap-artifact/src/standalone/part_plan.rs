//! How the payload's files are split into parts: about equal sizes, so the
//! launcher's threads finish together, and each stdlib source kept with its
//! bytecode, right before it, so zstd finds what they share.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::standalone::payload::Item;

/// The source a `.pyc` was compiled from (`d/__pycache__/m.<tag>.pyc` →
/// `d/m.py`); any other file stands for itself. A source and its bytecode
/// share names and docstrings: packed side by side, in one part, zstd finds
/// one in the other (about 5% of the payload).
fn unit_of(rel: &str) -> Cow<'_, str> {
    let Some((dir, file)) = rel.rsplit_once('/') else {
        return Cow::Borrowed(rel);
    };
    let Some(parent) = dir.strip_suffix("__pycache__") else {
        return Cow::Borrowed(rel);
    };
    if !file.ends_with(".pyc") || !(parent.is_empty() || parent.ends_with('/')) {
        return Cow::Borrowed(rel);
    }
    let module = file.split('.').next().unwrap_or(file);
    Cow::Owned(format!("{parent}{module}.py"))
}

/// Splits `items` into `n` parts of about equal size (longest processing
/// time first: the biggest unit to the lightest part), a source and its
/// bytecode being one unit; each part ordered so every `.pyc` directly
/// follows its source.
pub(crate) fn balance(items: &[Item], n: usize) -> Vec<Vec<usize>> {
    let mut units: BTreeMap<Cow<'_, str>, (u64, Vec<usize>)> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let unit = units.entry(unit_of(&item.rel)).or_default();
        unit.0 += item.size + 512;
        unit.1.push(i);
    }
    let mut units: Vec<(u64, Cow<'_, str>, Vec<usize>)> = units
        .into_iter()
        .map(|(unit, (load, members))| (load, unit, members))
        .collect();
    units.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut groups: Vec<(u64, Vec<usize>)> = vec![(0, Vec::new()); n.max(1)];
    for (load, _, members) in units {
        let lightest = groups
            .iter_mut()
            .min_by_key(|(load, _)| *load)
            .expect("at least one part");
        lightest.0 += load;
        lightest.1.extend(members);
    }
    groups
        .into_iter()
        .map(|(_, mut members)| {
            members.sort_by_cached_key(|&i| {
                let rel = &items[i].rel;
                let unit = unit_of(rel).into_owned();
                let is_bytecode = unit != *rel;
                (unit, is_bytecode, rel.clone())
            });
            members
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn item(rel: &str, size: u64) -> Item {
        Item {
            rel: rel.to_string(),
            path: PathBuf::from(rel),
            size,
            link: None,
            mtime: None,
        }
    }

    #[test]
    fn bytecode_belongs_to_its_source() {
        assert_eq!(unit_of("os.py"), "os.py");
        assert_eq!(
            unit_of("lib/python3.11/__pycache__/os.cpython-311.pyc"),
            "lib/python3.11/os.py"
        );
        assert_eq!(
            unit_of("lib/python3.11/json/__pycache__/__init__.cpython-311.opt-1.pyc"),
            "lib/python3.11/json/__init__.py"
        );
        assert_eq!(unit_of("__pycache__/a.cpython-311.pyc"), "a.py");
        assert_eq!(
            unit_of("lib/not__pycache__/a.cpython-311.pyc"),
            "lib/not__pycache__/a.cpython-311.pyc"
        );
        assert_eq!(unit_of("lib/__pycache__/README"), "lib/__pycache__/README");
    }

    /// A source and its bytecode land in one part, the `.pyc` files right
    /// after their `.py`; the big unit (source + bytecode) goes alone.
    #[test]
    fn parts_keep_sources_and_bytecode_together() {
        let d = "lib/python3.11";
        let items = vec![
            item(&format!("{d}/__pycache__/big.cpython-311.opt-1.pyc"), 3000),
            item(&format!("{d}/__pycache__/big.cpython-311.pyc"), 3000),
            item(&format!("{d}/__pycache__/small.cpython-311.pyc"), 100),
            item(&format!("{d}/big.py"), 4000),
            item(&format!("{d}/bigger.py"), 9000),
            item(&format!("{d}/small.py"), 200),
            item(&format!("{d}/small.pyi"), 10),
            item("bin/python3.11", 5000),
        ];
        let parts = balance(&items, 3);
        let names: Vec<Vec<&str>> = parts
            .iter()
            .map(|p| p.iter().map(|&i| items[i].rel.as_str()).collect())
            .collect();
        let expected_big = vec![
            format!("{d}/big.py"),
            format!("{d}/__pycache__/big.cpython-311.opt-1.pyc"),
            format!("{d}/__pycache__/big.cpython-311.pyc"),
        ];
        assert_eq!(names[0], expected_big, "{names:?}");
        assert_eq!(names[1], vec![format!("{d}/bigger.py")], "{names:?}");
        assert_eq!(
            names[2],
            vec![
                "bin/python3.11".to_string(),
                format!("{d}/small.py"),
                format!("{d}/__pycache__/small.cpython-311.pyc"),
                format!("{d}/small.pyi"),
            ],
            "{names:?}"
        );
        // Deterministic whatever order the items come in.
        let mut reversed: Vec<Item> = items.iter().rev().map(|i| item(&i.rel, i.size)).collect();
        reversed.rotate_left(3);
        let again: Vec<Vec<&str>> = balance(&reversed, 3)
            .iter()
            .map(|p| p.iter().map(|&i| reversed[i].rel.as_str()).collect())
            .collect();
        assert_eq!(again, names);
    }
}
