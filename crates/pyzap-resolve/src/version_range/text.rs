//! How a range reads in a message: its intervals as the PEP 440
//! specifiers a requirement would use, with the bounds `after_locals`
//! makes written back as `<=V`, `>V` or `!=V`; a requirement on a name;
//! and the same range shortened to the versions that exist, which is what
//! a report says of what pubgrub derived (no empty set, no list of gaps).

use std::fmt;
use std::ops::Bound::{self, Excluded, Included, Unbounded};

use pubgrub::{Ranges, VersionSet};
use pyzap_spec::Version;

use super::{after_locals, before_locals, VersionRange};

/// One interval to print, with the single versions (or versions and their
/// local variants) cut out of it.
struct Span<'r> {
    lower: &'r Bound<Version>,
    upper: &'r Bound<Version>,
    holes: Vec<&'r Version>,
}

/// `[V, after_locals(V))` for a public `V`, or `[V, V]`: "V" in a report.
fn pinned<'r>(lower: &'r Bound<Version>, upper: &Bound<Version>) -> Option<&'r Version> {
    match (lower, upper) {
        (Included(v), Included(w)) if v == w => Some(v),
        (Included(v), Excluded(w)) if !v.is_local() && *w == after_locals(v) => Some(v),
        _ => None,
    }
}

/// The version missing between one interval's `upper` and the next one's
/// `lower`, when exactly one is (with its local variants when it has no label).
fn hole<'r>(upper: &'r Bound<Version>, lower: &Bound<Version>) -> Option<&'r Version> {
    match (upper, lower) {
        (Excluded(v), Excluded(w)) if v == w => Some(v),
        (Excluded(v), Included(w)) if !v.is_local() && *w == after_locals(v) => Some(v),
        _ => None,
    }
}

impl VersionRange {
    /// Each interval as the PEP 440 specifiers a requirement would use
    /// (`==1.2.3`, `>=1.0,<2`, `>=1.0,!=1.2.3`), with a single version or
    /// one version and its local variants cut out of an interval written as
    /// `!=`; "" for an interval that admits every version.
    pub(crate) fn specifiers(&self) -> Vec<String> {
        let mut spans: Vec<Span<'_>> = Vec::new();
        for (lower, upper) in self.0.iter() {
            match spans.last_mut() {
                Some(last) if hole(last.upper, lower).is_some() => {
                    last.holes.extend(hole(last.upper, lower));
                    last.upper = upper;
                }
                _ => spans.push(Span {
                    lower,
                    upper,
                    holes: Vec::new(),
                }),
            }
        }
        spans.iter().map(Span::specifiers).collect()
    }

    /// A requirement on `name` in this range, as a user would write it:
    /// `alpha>=2.1`, `alpha` for any version, `alpha<1 or alpha>2` for
    /// several intervals.
    pub(crate) fn requirement(&self, name: &str) -> String {
        let spans = self.specifiers();
        if spans.is_empty() {
            return format!("no version of {name}");
        }
        spans
            .iter()
            .map(|s| format!("{name}{s}"))
            .collect::<Vec<_>>()
            .join(" or ")
    }

    /// Whether a version of `known` lies in the range.
    pub(crate) fn holds_any(&self, known: &[Version]) -> bool {
        known.iter().any(|v| self.contains(v))
    }

    /// The same range as far as the versions of `known` (sorted, oldest
    /// first) go, written shorter: intervals that hold none of them are left
    /// out, and neighbours with none of them between are joined, keeping
    /// the outer bounds as written. `<1.0 | >1.0,<2.0 | >2.0` over `1.5`
    /// alone is `>1.0,<2.0`; `>=1.0,!=1.2` over `1.0, 2.0` is `>=1.0`. A
    /// range that holds none of them stays as it is.
    pub(crate) fn simplified(&self, known: &[Version]) -> VersionRange {
        let kept: Vec<(&Bound<Version>, &Bound<Version>)> = self
            .0
            .iter()
            .filter(|(lower, upper)| known.iter().any(|v| within(v, lower, upper)))
            .collect();
        if kept.is_empty() {
            return self.clone();
        }
        let mut merged: Vec<(Bound<Version>, Bound<Version>)> = Vec::new();
        for (lower, upper) in kept {
            if let Some(last) = merged.last_mut() {
                let gap = (flip(&last.1), flip(lower));
                if !known.iter().any(|v| within(v, &gap.0, &gap.1)) {
                    last.1 = upper.clone();
                    continue;
                }
            }
            merged.push((lower.clone(), upper.clone()));
        }
        // An interval that starts just past `V` and its local variants
        // has no PEP 440 spelling but `>=V.post0.dev0` (unless the interval
        // before it ends at `V`: that is `!=V`): it starts at its first
        // known version instead.
        for i in 0..merged.len() {
            let (before, rest) = merged.split_at_mut(i);
            let (lower, upper) = &mut rest[0];
            let Included(start) = &*lower else { continue };
            let after_hole = before
                .last()
                .is_some_and(|(_, end)| hole(end, lower).is_some());
            if after_hole || before_locals(start).is_none_or(|v| v.is_post()) {
                continue;
            }
            if let Some(first) = known.iter().find(|v| within(v, lower, upper)) {
                *lower = Included(first.clone());
            }
        }
        VersionRange(merged.into_iter().fold(Ranges::empty(), |all, interval| {
            all.union(&Ranges::from_range_bounds(interval))
        }))
    }
}

/// Whether `v` lies between `lower` and `upper`.
fn within(v: &Version, lower: &Bound<Version>, upper: &Bound<Version>) -> bool {
    let above = match lower {
        Unbounded => true,
        Included(l) => v >= l,
        Excluded(l) => v > l,
    };
    let below = match upper {
        Unbounded => true,
        Included(u) => v <= u,
        Excluded(u) => v < u,
    };
    above && below
}

/// The bound on the other side of the same point: the gap after an
/// interval ending at `<x` starts at `>=x`.
fn flip(bound: &Bound<Version>) -> Bound<Version> {
    match bound {
        Unbounded => Unbounded,
        Included(v) => Excluded(v.clone()),
        Excluded(v) => Included(v.clone()),
    }
}

impl Span<'_> {
    fn specifiers(&self) -> String {
        if let Some(v) = pinned(self.lower, self.upper).filter(|_| self.holes.is_empty()) {
            return format!("=={v}");
        }
        let mut parts: Vec<String> = Vec::new();
        match self.lower {
            Unbounded => {}
            Excluded(v) => parts.push(format!(">{v}")),
            Included(v) => match before_locals(v).filter(Version::is_post) {
                Some(after) => parts.push(format!(">{after}")),
                None => parts.push(format!(">={v}")),
            },
        }
        match self.upper {
            Unbounded => {}
            Included(v) => parts.push(format!("<={v}")),
            Excluded(v) => match before_locals(v) {
                Some(below) => parts.push(format!("<={below}")),
                None => parts.push(format!("<{v}")),
            },
        }
        parts.extend(self.holes.iter().map(|v| format!("!={v}")));
        parts.join(",")
    }
}

/// The specifiers, for logs and tests; messages use `requirement`.
impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let spans = self.specifiers();
        match spans.as_slice() {
            [] => f.write_str("no version"),
            [any] if any.is_empty() => f.write_str("any version"),
            _ => f.write_str(&spans.join(" or ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version_range::tests::{range, v};

    #[test]
    fn ranges_print_as_written() {
        for (specifiers, shown) in [
            ("==1.2.3", "==1.2.3"),
            ("==1.2.3+cpu", "==1.2.3+cpu"),
            ("!=1.2.3", "!=1.2.3"),
            ("!=1.2.3+cpu", "!=1.2.3+cpu"),
            ("<=1.2.3", "<=1.2.3"),
            ("<1.2.3", "<1.2.3"),
            (">1.2.3", ">1.2.3"),
            (">1.2.3.post1", ">1.2.3.post1"),
            (">=1.2.3", ">=1.2.3"),
            (">=1.0,!=1.2.3,!=1.4", ">=1.0,!=1.2.3,!=1.4"),
            (">=1.0,<2", ">=1.0,<2"),
            ("", "any version"),
        ] {
            assert_eq!(range(specifiers).to_string(), shown, "{specifiers}");
        }
        assert_eq!(
            range("<1").intersection(&range(">2")).to_string(),
            "no version"
        );
        assert_eq!(range(">=1.0,<2").requirement("pkg"), "pkg>=1.0,<2");
        assert_eq!(range("").requirement("pkg"), "pkg");
        assert_eq!(
            range("<1").union(&range(">2")).requirement("pkg"),
            "pkg<1 or pkg>2"
        );
    }

    /// What a report says of a range: only as much as the versions that
    /// exist need, never an empty set or a list of gaps.
    #[test]
    fn ranges_shrink_to_the_versions_that_exist() {
        let known: Vec<Version> = ["1.0", "1.5", "2.0"].iter().map(|s| v(s)).collect();
        let shown = |r: VersionRange| r.simplified(&known).requirement("b");
        // pubgrub's ranges between versions that exist: one interval.
        let gaps = VersionRange::singleton(v("1.0"))
            .union(&VersionRange::singleton(v("2.0")))
            .complement()
            .intersection(&range(">0.9"));
        assert_eq!(gaps.to_string(), ">0.9,!=1.0,!=2.0");
        assert_eq!(shown(gaps), "b>1.0,<2.0");
        // The same with local variants: no `>=1.0.post0.dev0`.
        assert_eq!(shown(range("!=1.0,!=2.0")), "b>=1.5,<2.0");
        assert_eq!(shown(range("==1.0").union(&range("==1.5"))), "b>=1.0,<=1.5");
        // `==1.0` also stands for `1.0+label`: a gap that holds no version.
        let exact = VersionRange::singleton(v("1.0"));
        assert!(!range("==1.0")
            .intersection(&exact.complement())
            .holds_any(&known));
        assert_eq!(shown(range(">=1.5")), "b>=1.5");
        assert_eq!(shown(range(">=1.0,!=1.2")), "b>=1.0");
        // A version that exists between keeps the hole.
        assert_eq!(shown(range("!=1.5")), "b!=1.5");
        // Nothing known in the range: as written.
        assert_eq!(shown(range(">2.0")), "b>2.0");
        assert!(!range(">2.0").holds_any(&known));
        assert!(range(">=2.0").holds_any(&known));
    }
}
