//! Wheel compatibility tags and their priority, generated the way pip ranks
//! them (packaging's `sys_tags`): interpreter-specific ABI first, then abi3,
//! then `none`, older abi3 releases, and finally the `py3*-none` families.

use std::collections::HashMap;
use std::fmt;

/// One `python-abi-platform` triple.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    pub python: String,
    pub abi: String,
    pub platform: String,
}

impl Tag {
    pub fn new(python: &str, abi: &str, platform: &str) -> Self {
        Tag {
            python: python.to_string(),
            abi: abi.to_string(),
            platform: platform.to_string(),
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.python, self.abi, self.platform)
    }
}

/// The ordered list of tags a target accepts; a lower rank is preferred.
#[derive(Debug, Clone)]
pub struct TagPriority {
    ordered: Vec<Tag>,
    rank: HashMap<Tag, usize>,
}

impl TagPriority {
    /// Tags for CPython `major.minor` with ABI `abi` (`cp311`, `cp313t`) on
    /// `platforms` (most specific first, e.g. `manylinux_2_36_x86_64` … `linux_x86_64`).
    pub fn cpython(major: u32, minor: u32, abi: &str, platforms: &[String]) -> Self {
        let interp = format!("cp{major}{minor}");
        let mut out = Vec::new();
        let push_all = |py: &str, abi: &str, out: &mut Vec<Tag>| {
            for p in platforms {
                out.push(Tag::new(py, abi, p));
            }
        };
        push_all(&interp, abi, &mut out);
        // abi3 is the stable ABI of non-debug, non-free-threaded builds (PEP 384, PEP 703).
        let abi3 = major == 3 && minor >= 2 && abi == interp;
        if abi3 {
            push_all(&interp, "abi3", &mut out);
        }
        push_all(&interp, "none", &mut out);
        if abi3 {
            for older in (2..minor).rev() {
                push_all(&format!("cp{major}{older}"), "abi3", &mut out);
            }
        }
        let py_range = py_interpreter_range(major, minor);
        for py in &py_range {
            push_all(py, "none", &mut out);
        }
        out.push(Tag::new(&interp, "none", "any"));
        for py in &py_range {
            out.push(Tag::new(py, "none", "any"));
        }
        Self::from_ordered(out)
    }

    fn from_ordered(ordered: Vec<Tag>) -> Self {
        let mut rank = HashMap::with_capacity(ordered.len());
        for (i, tag) in ordered.iter().enumerate() {
            rank.entry(tag.clone()).or_insert(i);
        }
        TagPriority { ordered, rank }
    }

    /// The rank of a tag, `None` when the target cannot use it.
    pub fn rank(&self, tag: &Tag) -> Option<usize> {
        self.rank.get(tag).copied()
    }

    /// The best rank among several tags (a wheel's compressed set).
    pub fn best<I: IntoIterator<Item = Tag>>(&self, tags: I) -> Option<usize> {
        tags.into_iter().filter_map(|t| self.rank(&t)).min()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Tag> {
        self.ordered.iter()
    }

    pub fn len(&self) -> usize {
        self.ordered.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ordered.is_empty()
    }
}

/// `py311, py3, py310, …, py30`, as packaging's `_py_interpreter_range`.
fn py_interpreter_range(major: u32, minor: u32) -> Vec<String> {
    let mut out = vec![format!("py{major}{minor}"), format!("py{major}")];
    out.extend((0..minor).rev().map(|m| format!("py{major}{m}")));
    out
}

/// Linux platform tags for a glibc `major.minor` on `arch`, newest first, with
/// the legacy aliases (PEP 600/599/571/513) right after their equivalents.
pub(crate) fn manylinux_platforms(glibc: (u32, u32), arch: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (gmaj, gmin) = glibc;
    if gmaj == 2 {
        for minor in (5..=gmin).rev() {
            // manylinux2014 is only defined for these architectures.
            if !matches!(
                arch,
                "x86_64" | "i686" | "aarch64" | "armv7l" | "ppc64" | "ppc64le" | "s390x"
            ) {
                break;
            }
            out.push(format!("manylinux_2_{minor}_{arch}"));
            let legacy = match minor {
                17 => Some("manylinux2014"),
                12 if matches!(arch, "x86_64" | "i686") => Some("manylinux2010"),
                5 if matches!(arch, "x86_64" | "i686") => Some("manylinux1"),
                _ => None,
            };
            if let Some(legacy) = legacy {
                out.push(format!("{legacy}_{arch}"));
            }
        }
    }
    out.push(format!("linux_{arch}"));
    out
}

/// musllinux platform tags (PEP 656) for musl `1.minor` on `arch`, newest first.
pub(crate) fn musllinux_platforms(musl_minor: u32, arch: &str) -> Vec<String> {
    let mut out: Vec<String> = (0..=musl_minor)
        .rev()
        .map(|m| format!("musllinux_1_{m}_{arch}"))
        .collect();
    out.push(format!("linux_{arch}"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_matches_pip_for_cpython_311() {
        let plats = manylinux_platforms((2, 36), "x86_64");
        let t = TagPriority::cpython(3, 11, "cp311", &plats);
        let first: Vec<String> = t
            .iter()
            .take(2)
            .map(std::string::ToString::to_string)
            .collect();
        assert_eq!(
            first,
            [
                "cp311-cp311-manylinux_2_36_x86_64",
                "cp311-cp311-manylinux_2_35_x86_64"
            ]
        );
        let rank = |s: &str| {
            let p: Vec<&str> = s.split('-').collect();
            t.rank(&Tag::new(p[0], p[1], p[2])).unwrap()
        };
        assert!(rank("cp311-cp311-linux_x86_64") < rank("cp311-abi3-manylinux_2_36_x86_64"));
        assert!(rank("cp311-abi3-linux_x86_64") < rank("cp311-none-manylinux_2_36_x86_64"));
        assert!(rank("cp37-abi3-manylinux1_x86_64") < rank("py3-none-manylinux1_x86_64"));
        assert!(rank("cp311-none-any") < rank("py3-none-any"));
        assert!(rank("py311-none-any") < rank("py3-none-any"));
        assert!(rank("py3-none-any") < rank("py30-none-any"));
        assert!(
            rank(
                "manylinux2014_x86_64"
                    .replace("m", "cp311-cp311-m")
                    .as_str()
            ) > rank("cp311-cp311-manylinux_2_17_x86_64")
        );
        assert!(t
            .rank(&Tag::new("cp312", "cp312", "manylinux_2_17_x86_64"))
            .is_none());
        assert!(t
            .rank(&Tag::new("cp311", "cp311", "manylinux_2_37_x86_64"))
            .is_none());
    }

    #[test]
    fn free_threaded_has_no_abi3() {
        let t = TagPriority::cpython(3, 13, "cp313t", &["linux_x86_64".to_string()]);
        assert!(t.rank(&Tag::new("cp313", "abi3", "linux_x86_64")).is_none());
        assert!(t
            .rank(&Tag::new("cp313", "cp313t", "linux_x86_64"))
            .is_some());
    }

    #[test]
    fn legacy_aliases_follow_their_equivalent() {
        let p = manylinux_platforms((2, 17), "x86_64");
        let i = p.iter().position(|p| p == "manylinux_2_17_x86_64").unwrap();
        assert_eq!(p[i + 1], "manylinux2014_x86_64");
        assert_eq!(p.last().unwrap(), "linux_x86_64");
        assert!(p.contains(&"manylinux1_x86_64".to_string()));
    }
}
