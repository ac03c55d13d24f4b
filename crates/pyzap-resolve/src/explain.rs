//! What a failed resolution's report leaves out or adds: steps about
//! versions that do not exist are folded away (`fold_gaps`), and hints
//! name the surprises a report cannot show (here: local version labels).
//! The report's sentences are written in `report.rs`.

use std::sync::Arc;

use pubgrub::{DerivationTree, External};
use pyzap_spec::{Operator, PackageName, Version, VersionSpecifier};

use crate::version_range::VersionRange;
use crate::Package;

type Tree = DerivationTree<Package, VersionRange, String>;

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
/// version of P that exists (`holds_versions` says which do), when the
/// step they were combined with still speaks of P: the derived step then
/// says what that other step says, as far as the versions that exist go,
/// and the report shortens ranges to those versions (`report.rs`). Such
/// gaps come from ranges wider than the versions on offer: `==3.1.3` also
/// stands for `3.1.3+anything`, so once `3.1.3` is ruled out pubgrub proves
/// that no local variant of it exists either, a step that only adds noise
/// (and reads `no version of flask in >3.1.3, <=3.1.3`). A step whose
/// derivation no longer names P stays: the missing versions are the
/// reason itself. (pubgrub's own `collapse_no_versions` folds all of them,
/// and may panic.)
pub(crate) fn fold_gaps(
    tree: &mut Tree,
    holds_versions: &impl Fn(&Package, &VersionRange) -> bool,
) {
    let DerivationTree::Derived(derived) = tree else {
        return;
    };
    fold_gaps(Arc::make_mut(&mut derived.cause1), holds_versions);
    fold_gaps(Arc::make_mut(&mut derived.cause2), holds_versions);
    let kept = match (&*derived.cause1, &*derived.cause2) {
        (DerivationTree::External(External::NoVersions(package, gap)), other)
        | (other, DerivationTree::External(External::NoVersions(package, gap)))
            if !holds_versions(package, gap) && derived.terms.contains_key(package) =>
        {
            Some(other.clone())
        }
        _ => None,
    };
    if let Some(mut kept) = kept {
        // Other mentions of this derivation refer to it by its number.
        if let DerivationTree::Derived(inner) = &mut kept {
            inner.shared_id = inner.shared_id.or(derived.shared_id);
        }
        *tree = kept;
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use pubgrub::{Derived, Map, Term, VersionSet};
    use pyzap_spec::VersionSpecifiers;

    use super::*;

    fn range(text: &str) -> VersionRange {
        VersionRange::from_specifiers(&VersionSpecifiers::from_str(text).unwrap())
    }

    fn base(name: &str) -> Package {
        Package::Base(PackageName::from_str(name).unwrap())
    }

    /// "no version of flask in (3.1.3, 3.1.3+anything]" and "flask 3.1.3
    /// depends on werkzeug >=3.1.0": the dependency step alone, when the
    /// gap holds no version and `3.1.3` exists.
    #[test]
    fn gaps_fold_into_the_step_beside_them() {
        let pin = range("==3.1.3");
        let exact = VersionRange::singleton(Version::from_str("3.1.3").unwrap());
        let gap = pin.intersection(&exact.complement());
        let dependency = External::FromDependencyOf(
            base("flask"),
            exact.clone(),
            base("werkzeug"),
            range(">=3.1.0"),
        );
        let tree = |flask_term: Option<VersionRange>| {
            let mut terms = Map::default();
            if let Some(range) = flask_term {
                terms.insert(base("flask"), Term::Positive(range));
            }
            terms.insert(base("werkzeug"), Term::Negative(range(">=3.1.0")));
            DerivationTree::Derived(Derived {
                terms,
                shared_id: None,
                cause1: Arc::new(DerivationTree::External(External::NoVersions(
                    base("flask"),
                    gap.clone(),
                ))),
                cause2: Arc::new(DerivationTree::External(dependency.clone())),
            })
        };
        // Only `3.1.3` exists.
        let exists =
            |_: &Package, r: &VersionRange| r.contains(&Version::from_str("3.1.3").unwrap());
        let mut folded = tree(Some(pin.clone()));
        fold_gaps(&mut folded, &exists);
        let DerivationTree::External(External::FromDependencyOf(p, p_range, dep, _)) = folded
        else {
            panic!("not folded: {folded:?}");
        };
        assert_eq!((p, p_range, dep), (base("flask"), exact, base("werkzeug")));

        // The derivation no longer names flask: the gap is the reason.
        let mut kept = tree(None);
        fold_gaps(&mut kept, &exists);
        assert!(matches!(kept, DerivationTree::Derived(_)));
        // A version exists in the gap: the step says something.
        let mut kept = tree(Some(pin));
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
