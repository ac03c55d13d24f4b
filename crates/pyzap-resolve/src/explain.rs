//! A failed resolution in the user's words: pubgrub's report without its
//! root-package vocabulary or steps about versions that do not exist, and
//! hints for the surprises a report cannot show (here: local version labels).

use std::sync::Arc;

use pubgrub::{DerivationTree, External, VersionSet};
use pyzap_spec::{Operator, PackageName, Version, VersionSpecifier};

use crate::version_range::VersionRange;
use crate::Package;

type Tree = DerivationTree<Package, VersionRange, String>;

/// pubgrub speaks of the root package as a package at version 0; say "you" instead.
pub(crate) fn humanize(report: &str) -> String {
    report
        .replace(
            ", the requirements you gave 0 are incompatible",
            " and your requirements are incompatible",
        )
        .replace("the requirements you gave 0 depends on", "you require")
        .replace(
            "the requirements you gave 0 is forbidden",
            "no set of versions satisfies all of them",
        )
        .replace("the requirements you gave 0", "your requirements")
        .replace(" *", "")
}

/// Whether a requirement's specifier can turn away a local version of the
/// very version it names, which deserves a hint when nothing fits:
/// `!=1.2.3`, `<1.2.3` and `>1.2.3` all refuse `1.2.3+cpu` (PEP 440 ignores
/// the label), though the label makes it look like another version.
pub(crate) fn may_refuse_local_variants(specifier: &VersionSpecifier) -> bool {
    !specifier.version().is_local()
        && matches!(
            specifier.operator(),
            Operator::NotEqual | Operator::LessThan | Operator::GreaterThan
        )
}

/// One hint per version of `name` with a local label that one of
/// `specifiers` refuses because of its public version.
pub(crate) fn local_label_hints(
    name: &PackageName,
    versions: &[Version],
    specifiers: &[VersionSpecifier],
) -> Vec<String> {
    let mut hints = Vec::new();
    for specifier in specifiers {
        for version in versions.iter().filter(|v| v.is_local()) {
            let public = version.clone().without_local();
            if public != *specifier.version() || specifier.contains(version) {
                continue;
            }
            let text = version.to_string();
            let label = text.split_once('+').map_or("", |(_, label)| label);
            hints.push(format!(
                "{name} {version} does not satisfy `{name}{specifier}`: PEP 440 ignores its \
                 local label `+{label}` there and compares it as {public}"
            ));
        }
    }
    hints
}

/// Folds away the "there is no version of P in R" steps where R holds no
/// version of P that exists (`holds_versions` says which do) into the
/// dependency step they were combined with, whose range for P grows by R,
/// when that range holds a version that exists. Such gaps come from ranges
/// wider than the versions on offer: `==3.1.3` also stands for
/// `3.1.3+anything`, so once `3.1.3` is ruled out pubgrub proves that no
/// local variant of it exists either, a step that only adds noise. The
/// folded step describes the same incompatibility as the two it replaces.
/// A step whose whole range is empty stays: it is the reason itself.
/// (pubgrub's own `collapse_no_versions` folds all of them, and may panic.)
pub(crate) fn fold_gaps(
    tree: &mut Tree,
    holds_versions: &impl Fn(&Package, &VersionRange) -> bool,
) {
    let DerivationTree::Derived(derived) = tree else {
        return;
    };
    fold_gaps(Arc::make_mut(&mut derived.cause1), holds_versions);
    fold_gaps(Arc::make_mut(&mut derived.cause2), holds_versions);
    let folded = match (&*derived.cause1, &*derived.cause2) {
        (DerivationTree::External(External::NoVersions(package, gap)), other)
        | (other, DerivationTree::External(External::NoVersions(package, gap)))
            if !holds_versions(package, gap) =>
        {
            widen(other, package, gap)
                .filter(|(widened, _)| holds_versions(package, widened))
                .map(|(_, step)| step)
        }
        _ => None,
    };
    if let Some(folded) = folded {
        *tree = DerivationTree::External(folded);
    }
}

/// `step` with `gap` added to its range for `package`, and that range,
/// when `step` is a dependency step that names `package`.
fn widen(
    step: &Tree,
    package: &Package,
    gap: &VersionRange,
) -> Option<(VersionRange, External<Package, VersionRange, String>)> {
    let DerivationTree::External(External::FromDependencyOf(p, p_range, dep, dep_range)) = step
    else {
        return None;
    };
    if p == package {
        let widened = p_range.union(gap);
        let step =
            External::FromDependencyOf(p.clone(), widened.clone(), dep.clone(), dep_range.clone());
        Some((widened, step))
    } else if dep == package {
        let widened = dep_range.union(gap);
        let step =
            External::FromDependencyOf(p.clone(), p_range.clone(), dep.clone(), widened.clone());
        Some((widened, step))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use pubgrub::{Derived, Map};
    use pyzap_spec::VersionSpecifiers;

    use super::*;

    fn range(text: &str) -> VersionRange {
        VersionRange::from_specifiers(&VersionSpecifiers::from_str(text).unwrap())
    }

    fn base(name: &str) -> Package {
        Package::Base(PackageName::from_str(name).unwrap())
    }

    /// "no version of flask in (3.1.3, 3.1.3+anything]" and "flask 3.1.3
    /// depends on werkzeug >=3.1.0": one step for `==3.1.3`, when the gap
    /// holds no version and `3.1.3` exists.
    #[test]
    fn gaps_fold_into_the_dependency_step_beside_them() {
        let pin = range("==3.1.3");
        let exact = VersionRange::singleton(Version::from_str("3.1.3").unwrap());
        let gap = pin.intersection(&exact.complement());
        let tree = || {
            DerivationTree::Derived(Derived {
                terms: Map::default(),
                shared_id: None,
                cause1: Arc::new(DerivationTree::External(External::NoVersions(
                    base("flask"),
                    gap.clone(),
                ))),
                cause2: Arc::new(DerivationTree::External(External::FromDependencyOf(
                    base("flask"),
                    exact.clone(),
                    base("werkzeug"),
                    range(">=3.1.0"),
                ))),
            })
        };
        // Only `3.1.3` exists.
        let exists =
            |_: &Package, r: &VersionRange| r.contains(&Version::from_str("3.1.3").unwrap());
        let mut folded = tree();
        fold_gaps(&mut folded, &exists);
        let DerivationTree::External(External::FromDependencyOf(p, p_range, dep, dep_range)) =
            folded
        else {
            panic!("not folded: {folded:?}");
        };
        assert_eq!((p, p_range), (base("flask"), pin));
        assert_eq!((dep, dep_range), (base("werkzeug"), range(">=3.1.0")));

        // Nothing exists: "no version of flask in …" is the reason itself.
        let mut kept = tree();
        fold_gaps(&mut kept, &|_, _| false);
        assert!(matches!(kept, DerivationTree::Derived(_)));
        // A version exists in the gap: the step says something.
        let mut kept = tree();
        fold_gaps(&mut kept, &|_, _| true);
        assert!(matches!(kept, DerivationTree::Derived(_)));
    }

    #[test]
    fn local_variants_refused_by_their_public_version_get_a_hint() {
        let name = PackageName::from_str("pkg").unwrap();
        let versions: Vec<Version> = ["1.2.3+cpu", "1.2.3", "1.2.4+cpu"]
            .iter()
            .map(|v| Version::from_str(v).unwrap())
            .collect();
        let specifier = |text: &str| VersionSpecifier::from_str(text).unwrap();
        assert_eq!(
            local_label_hints(&name, &versions, &[specifier("!=1.2.3")]),
            [
                "pkg 1.2.3+cpu does not satisfy `pkg!=1.2.3`: PEP 440 ignores its local label \
              `+cpu` there and compares it as 1.2.3"
            ]
        );
        assert_eq!(
            local_label_hints(&name, &versions, &[specifier(">1.2.3")]).len(),
            1
        );
        // `<=1.2.3` admits `1.2.3+cpu`; `1.2.4+cpu` is another version anyway.
        assert!(local_label_hints(&name, &versions, &[specifier("<=1.2.3")]).is_empty());
        // A specifier that names the label itself is no surprise.
        assert!(!may_refuse_local_variants(&specifier("!=1.2.3+cpu")));
        assert!(!may_refuse_local_variants(&specifier("==1.2.3")));
        assert!(may_refuse_local_variants(&specifier("<1.2.3")));
    }
}
