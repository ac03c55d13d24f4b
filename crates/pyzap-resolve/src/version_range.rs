//! PEP 440 specifiers as the version sets pubgrub reasons about, local
//! version labels included.
//!
//! A local label (`1.2.3+cpu`) sorts just above its public version, below
//! every other later version: `1.2.3 < 1.2.3+cpu < 1.2.3.post0.dev0`. The
//! spec says a specifier without a local label ignores the candidate's
//! label, so
//! `==1.2.3` is the half-open interval from `1.2.3` up to [`after_locals`]
//! (the next version that is not a local variant of it), `<=1.2.3` ends
//! there too, and `!=1.2.3` is the complement of that interval. With a label
//! (`==1.2.3+cpu`) only that exact version matches. `<V` and `>V` already
//! exclude `V+label` because of the same order. `pep440_rs`' own
//! conversion maps `==V` to `V` alone, ends `<=V` at `V`, and turns
//! `<V.postN` into "below every `V`" (it drops `V` itself), hence this module.
//!
//! `VersionRange` wraps `Ranges<Version>` only to print those intervals the
//! way they were written (`!=1.2.3`, `<=1.2.3`) in a conflict's explanation
//! (`text.rs`).

mod text;

use pubgrub::{Ranges, VersionSet};
use pyzap_spec::{Operator, Prerelease, Version, VersionSpecifier, VersionSpecifiers};

/// A set of versions: what a requirement admits, or what pubgrub derived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionRange(Ranges<Version>);

impl VersionRange {
    /// The versions every specifier of `specifiers` admits.
    pub(crate) fn from_specifiers(specifiers: &VersionSpecifiers) -> Self {
        let mut range = Ranges::full();
        for specifier in specifiers.iter() {
            range = range.intersection(&specifier_range(specifier));
        }
        VersionRange(range)
    }

    /// The range of a requirement that pins one version, as pip's
    /// `is_pinned` reads it: exactly one specifier, `==` without a wildcard
    /// or `===`. A yanked file is chosen only under such a pin (PEP 592).
    pub(crate) fn pin(specifiers: &VersionSpecifiers) -> Option<Self> {
        match &specifiers[..] {
            [only] if matches!(only.operator(), Operator::Equal | Operator::ExactEqual) => {
                Some(VersionRange(specifier_range(only)))
            }
            _ => None,
        }
    }
}

/// The least version above `version` and every local variant of it
/// (`1.2.3+anything`), with nothing else in between: the next development
/// release when `version` is one, else the first development release of the
/// next post-release. Numbers in specifiers are capped well below
/// `u64::MAX` (`pyzap-spec`), so the additions cannot saturate.
fn after_locals(version: &Version) -> Version {
    let public = version.clone().without_local();
    match (public.post(), public.dev()) {
        (_, Some(dev)) => public.with_dev(Some(dev.saturating_add(1))),
        (Some(post), None) => public
            .with_post(Some(post.saturating_add(1)))
            .with_dev(Some(0)),
        (None, None) => public.with_post(Some(0)).with_dev(Some(0)),
    }
}

/// The version `bound` is [`after_locals`] of, when it is one for a version
/// whose `after_locals` ends in `.dev0` (every version but a development
/// release), so that a bound can be printed the way it was written.
fn before_locals(bound: &Version) -> Option<Version> {
    if bound.dev() != Some(0) || bound.is_local() || bound.min().is_some() || bound.max().is_some()
    {
        return None;
    }
    let post = bound.post()?;
    let version = bound.clone().with_dev(None).with_post(post.checked_sub(1));
    (after_locals(&version) == *bound).then_some(version)
}

/// One specifier as a range (module doc). Pre-releases are not filtered
/// here: the resolver decides when they are acceptable.
fn specifier_range(specifier: &VersionSpecifier) -> Ranges<Version> {
    let version = specifier.version();
    match specifier.operator() {
        Operator::Equal => matching(version),
        Operator::NotEqual => matching(version).complement(),
        // Arbitrary equality compares the text: no local variant matches
        // (`1.2.3.0` still equals `1.2.3` here, which `Version` cannot tell apart).
        Operator::ExactEqual => Ranges::singleton(version.clone()),
        Operator::EqualStar => prefix(version),
        Operator::NotEqualStar => prefix(version).complement(),
        Operator::TildeEqual => compatible(version),
        Operator::LessThan => less_than(version),
        Operator::LessThanEqual => Ranges::strictly_lower_than(after_locals(version)),
        Operator::GreaterThan => greater_than(version),
        Operator::GreaterThanEqual => Ranges::higher_than(version.clone()),
    }
}

/// `==V`: with a local label exactly `V`, without one `V` and its local variants.
fn matching(version: &Version) -> Ranges<Version> {
    if version.is_local() {
        Ranges::singleton(version.clone())
    } else {
        Ranges::from_range_bounds(version.clone()..after_locals(version))
    }
}

/// `==V.*`: from the first development release of `V` up to that of the
/// next prefix (`1.2.*` is `[1.2.dev0, 1.3.dev0)`); every local variant of a
/// version in it sorts below the upper bound too.
fn prefix(version: &Version) -> Ranges<Version> {
    let low = version.clone().without_local().with_dev(Some(0));
    let high = if let Some(post) = low.post() {
        low.clone().with_post(Some(post.saturating_add(1)))
    } else if let Some(pre) = low.pre() {
        low.clone().with_pre(Some(Prerelease {
            kind: pre.kind,
            number: pre.number.saturating_add(1),
        }))
    } else {
        let mut release = low.release().to_vec();
        let Some(last) = release.last_mut() else {
            return Ranges::higher_than(low);
        };
        *last = last.saturating_add(1);
        low.clone().with_release(release)
    };
    Ranges::from_range_bounds(low..high)
}

/// `~=V.N`: `>=V.N, ==V.*`. `pep440_rs` guarantees two release numbers at
/// least; with fewer, only the lower bound is left.
fn compatible(version: &Version) -> Ranges<Version> {
    let Some((_, kept)) = version.release().split_last() else {
        return Ranges::higher_than(version.clone());
    };
    let Some((last, leading)) = kept.split_last() else {
        return Ranges::higher_than(version.clone());
    };
    let upper = Version::new(leading.iter().copied().chain([last.saturating_add(1)]))
        .with_epoch(version.epoch())
        .with_dev(Some(0));
    Ranges::from_range_bounds(version.clone()..upper)
}

/// `<V`: below `V` (so below its local variants too), and, unless `V` is a
/// pre-release itself, no pre-release of `V`'s release: `<1.2.3` stops
/// before `1.2.3.dev0`, `<1.2.3.post1` admits `1.2.3` but not `1.2.3a1`.
fn less_than(version: &Version) -> Ranges<Version> {
    if version.any_prerelease() {
        return Ranges::strictly_lower_than(version.clone());
    }
    let release = Version::new(version.release().iter().copied()).with_epoch(version.epoch());
    let below = Ranges::strictly_lower_than(release.clone().with_min(Some(0)));
    if version.is_post() {
        below.union(&Ranges::from_range_bounds(release..version.clone()))
    } else {
        below
    }
}

/// `>V`: above `V` and its local variants, and, unless `V` is a
/// post-release itself, above its post-releases too: `>1.2.3` starts after
/// `1.2.3.post*`, `>1.2.3.post1` at `1.2.3.post2.dev0`.
fn greater_than(version: &Version) -> Ranges<Version> {
    if version.is_post() || version.is_dev() {
        Ranges::higher_than(after_locals(version))
    } else {
        Ranges::strictly_higher_than(version.clone().without_local().with_max(Some(0)))
    }
}

impl VersionSet for VersionRange {
    type V = Version;

    fn empty() -> Self {
        VersionRange(Ranges::empty())
    }

    fn singleton(v: Version) -> Self {
        VersionRange(Ranges::singleton(v))
    }

    fn complement(&self) -> Self {
        VersionRange(self.0.complement())
    }

    fn intersection(&self, other: &Self) -> Self {
        VersionRange(self.0.intersection(&other.0))
    }

    fn contains(&self, v: &Version) -> bool {
        self.0.contains(v)
    }

    fn full() -> Self {
        VersionRange(Ranges::full())
    }

    fn union(&self, other: &Self) -> Self {
        VersionRange(self.0.union(&other.0))
    }

    fn is_disjoint(&self, other: &Self) -> bool {
        self.0.is_disjoint(&other.0)
    }

    fn subset_of(&self, other: &Self) -> bool {
        self.0.subset_of(&other.0)
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    pub(super) fn v(text: &str) -> Version {
        Version::from_str(text).unwrap()
    }

    pub(super) fn range(specifiers: &str) -> VersionRange {
        VersionRange::from_specifiers(&VersionSpecifiers::from_str(specifiers).unwrap())
    }

    /// PEP 440, "Version specifiers": every operator against a candidate
    /// with and without a local label, and specifiers with and without one.
    /// (specifier, candidate, admitted)
    const TABLE: &[(&str, &str, bool)] = &[
        // `==`: without a label the candidate's label is ignored; with one, exact.
        ("==1.2.3", "1.2.3", true),
        ("==1.2.3", "1.2.3+foo", true),
        ("==1.2.3", "1.2.3+foo.1.bar", true),
        ("==1.2.3", "1.2.3.0+foo", true),
        ("==1.2.3", "1.2.3.post1", false),
        ("==1.2.3", "1.2.4+foo", false),
        ("==1.2.3+foo", "1.2.3+foo", true),
        ("==1.2.3+foo", "1.2.3", false),
        ("==1.2.3+foo", "1.2.3+bar", false),
        ("==1.2.3+foo", "1.2.3+foo.1", false),
        ("==1.2.3.post1", "1.2.3.post1+foo", true),
        ("==1.2.3a1", "1.2.3a1+foo", true),
        ("==1.2.3.dev1", "1.2.3.dev1+foo", true),
        ("==1!1.2.3", "1!1.2.3+foo", true),
        ("==1!1.2.3", "1.2.3+foo", false),
        // `!=`: the inverse of `==`, label rules included.
        ("!=1.2.3", "1.2.3", false),
        ("!=1.2.3", "1.2.3+foo", false),
        ("!=1.2.3", "1.2.3.post1", true),
        ("!=1.2.3", "1.2.2+foo", true),
        ("!=1.2.3+foo", "1.2.3+foo", false),
        ("!=1.2.3+foo", "1.2.3", true),
        ("!=1.2.3+foo", "1.2.3+bar", true),
        // `<=` and `>=`: the label is ignored, so `V+label` compares as `V`.
        ("<=1.2.3", "1.2.3", true),
        ("<=1.2.3", "1.2.3+foo", true),
        ("<=1.2.3", "1.2.2+foo", true),
        ("<=1.2.3", "1.2.3.post1", false),
        ("<=1.2.3", "1.2.4+foo", false),
        ("<=1.2.3a1", "1.2.3a1+foo", true),
        ("<=1.2.3a1", "1.2.3a1.post1", false),
        ("<=1.2.3.post1", "1.2.3.post1+foo", true),
        ("<=1.2.3.dev1", "1.2.3.dev1+foo", true),
        ("<=1.2.3.dev1", "1.2.3.dev2", false),
        (">=1.2.3", "1.2.3", true),
        (">=1.2.3", "1.2.3+foo", true),
        (">=1.2.3", "1.2.2+foo", false),
        // `<` and `>`: `V+label` is `V`, which is neither below nor above `V`.
        ("<1.2.3", "1.2.3", false),
        ("<1.2.3", "1.2.3+foo", false),
        ("<1.2.3", "1.2.2+foo", true),
        ("<1.2.3", "1.2.3.dev1", false),
        ("<1.2.3.post1", "1.2.3", true),
        ("<1.2.3.post1", "1.2.3+foo", true),
        ("<1.2.3.post1", "1.2.3.post1+foo", false),
        ("<1!1.0.post1", "1!1.0+foo", true),
        ("<1!1.0.post1", "1.5", true),
        ("<1.2.3a2", "1.2.3a1+foo", true),
        ("<1.2.3a2", "1.2.3a2+foo", false),
        (">1.2.3", "1.2.3", false),
        (">1.2.3", "1.2.3+foo", false),
        (">1.2.3", "1.2.3.post1", false),
        (">1.2.3", "1.2.4+foo", true),
        (">1.2.3.post1", "1.2.3.post1+foo", false),
        (">1.2.3.post1", "1.2.3.post2", true),
        (">1.2.3.post1", "1.2.3.post2+foo", true),
        (">1.2.3a1", "1.2.3a1+foo", false),
        (">1.2.3.dev1", "1.2.3.dev1+foo", false),
        (">1.2.3.dev1", "1.2.3.dev2", true),
        // `~=`: `>=V.N, ==V.*`, both of which ignore the label.
        ("~=1.2.3", "1.2.3", true),
        ("~=1.2.3", "1.2.3+foo", true),
        ("~=1.2.3", "1.2.9+foo", true),
        ("~=1.2.3", "1.2.2+foo", false),
        ("~=1.2.3", "1.3.0+foo", false),
        ("~=1.2", "1.9+foo", true),
        ("~=1.2", "2.0+foo", false),
        // `==V.*` and `!=V.*`: prefix matching on the public version.
        ("==1.2.*", "1.2+foo", true),
        ("==1.2.*", "1.2.3+foo", true),
        ("==1.2.*", "1.3+foo", false),
        ("==1.2.*", "1.1.9+foo", false),
        ("!=1.2.*", "1.2.3+foo", false),
        ("!=1.2.*", "1.3.0+foo", true),
        // `===`: the whole text, label included.
        ("===1.2.3", "1.2.3", true),
        ("===1.2.3", "1.2.3+foo", false),
        ("===1.2.3+foo", "1.2.3+foo", true),
        ("===1.2.3+foo", "1.2.3", false),
        // Several specifiers: the intersection.
        (">=1.0,!=1.2.3", "1.2.3+foo", false),
        (">=1.0,!=1.2.3", "1.2.4+foo", true),
        ("<=1.2.3,>=1.2.3", "1.2.3+foo", true),
    ];

    #[test]
    fn pep440_table() {
        let mut wrong = Vec::new();
        for (specifiers, candidate, admitted) in TABLE {
            if range(specifiers).contains(&v(candidate)) != *admitted {
                wrong.push(format!("{specifiers} {candidate}: expected {admitted}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    /// `pep440_rs` tests one candidate against a specifier without ranges;
    /// it agrees with the table but on one row: under `<V` it refuses every
    /// pre-release of `V`'s release even when `V` is a pre-release itself,
    /// where the spec (and `packaging`) admit `1.2.3a1` under `<1.2.3a2`.
    #[test]
    fn table_agrees_with_pep440_rs_contains() {
        let known = ["<1.2.3a2 1.2.3a1+foo"];
        let mut disagree = Vec::new();
        for (specifiers, candidate, admitted) in TABLE {
            let parsed = VersionSpecifiers::from_str(specifiers).unwrap();
            if parsed.contains(&v(candidate)) != *admitted {
                disagree.push(format!("{specifiers} {candidate}"));
            }
        }
        assert_eq!(disagree, known);
    }

    #[test]
    fn after_locals_is_the_next_version_past_every_local_variant() {
        for (version, after) in [
            ("1.2.3", "1.2.3.post0.dev0"),
            ("1.2.3+cpu", "1.2.3.post0.dev0"),
            ("1.2.3a1", "1.2.3a1.post0.dev0"),
            ("1.2.3.post4", "1.2.3.post5.dev0"),
            ("1.2.3.dev4", "1.2.3.dev5"),
            ("1.2.3.post1.dev4", "1.2.3.post1.dev5"),
        ] {
            let next = after_locals(&v(version));
            assert_eq!(next, v(after), "{version}");
            let public = v(version).without_local();
            assert!(v(&format!("{public}+zzz.999.zzz")) < next, "{version}");
            assert!(public < next, "{version}");
            assert_eq!(before_locals(&next).is_some(), next.dev() == Some(0));
        }
    }

    #[test]
    fn pins_for_yanked_files_are_single_equals_or_arbitrary_equality() {
        let pin = |text: &str| VersionRange::pin(&VersionSpecifiers::from_str(text).unwrap());
        let exact = pin("==1.2.3").unwrap();
        assert!(exact.contains(&v("1.2.3+cpu")));
        assert!(pin("===1.2.3").is_some());
        assert!(pin("==1.2.*").is_none());
        assert!(pin("==1.2.3,>=1").is_none());
        assert!(pin(">=1.2.3").is_none());
    }
}
