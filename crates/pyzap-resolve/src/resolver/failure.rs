//! The error of a resolution without a solution: pubgrub's derivation
//! without its steps about versions that do not exist, written in the
//! user's terms (`report.rs`), and hints per project it names — why it
//! offers nothing at all, which versions it has, why the others could not
//! be used (yanked, Requires-Python, no file for the target), and local
//! version labels a specifier refused.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use pubgrub::{DefaultStringReporter, DerivationTree, External, Reporter};
use pyzap_spec::{PackageName, Version};

use super::State;
use crate::report::{Availability, Formatter};
use crate::version_range::VersionRange;
use crate::{explain, Exclusion, Package, Provider, ResolveError};

type Tree = DerivationTree<Package, VersionRange, String>;

impl<P: Provider> State<'_, P> {
    /// The error for a resolution without a solution: the explanation, and
    /// hints for the projects it names.
    pub(super) fn no_solution(&self, tree: &Tree) -> ResolveError {
        let mut tree = tree.clone();
        let known: HashMap<PackageName, Vec<Version>> = tree
            .packages()
            .into_iter()
            .filter_map(Package::name)
            .map(|name| (name.clone(), self.known_versions(name)))
            .collect();
        explain::fold_gaps(&mut tree, &|package, range| {
            package
                .name()
                .and_then(|name| known.get(name))
                .is_some_and(|versions| range.holds_any(versions))
        });
        let explanation =
            DefaultStringReporter::report_with_formatter(&tree, &Formatter { known: &known });
        let mut missing: BTreeMap<PackageName, Vec<VersionRange>> = BTreeMap::new();
        no_versions(&tree, &mut missing);
        let names: BTreeSet<&PackageName> = tree
            .packages()
            .into_iter()
            .filter_map(Package::name)
            .collect();
        let mut hints: Vec<String> = Vec::new();
        for name in names {
            if let Some(reason) = self.provider.unavailable_reason(name) {
                hints.push(reason);
            }
            let availability = self.availability(name);
            match missing.get(name) {
                Some(ranges) => hints.extend(availability.hints(ranges)),
                // Versions passed over for an older one that then conflicted.
                None => {
                    let skipped = self.skipped.borrow();
                    let passed_over: Vec<&(Version, Exclusion)> = availability
                        .excluded
                        .iter()
                        .filter(|(v, _)| skipped.get(name).is_some_and(|s| s.contains(v)))
                        .collect();
                    hints.extend(availability.exclusion_lines(&passed_over));
                }
            }
            if let (Some(specifiers), Ok(versions)) =
                (self.refusing.borrow().get(name), self.versions(name))
            {
                hints.extend(explain::local_label_hints(name, &versions, specifiers));
            }
        }
        ResolveError::NoSolution { explanation, hints }
    }

    /// Every version of `name` its sources list, usable or not, oldest first.
    fn known_versions(&self, name: &PackageName) -> Vec<Version> {
        let mut known: Vec<Version> = self
            .provider
            .excluded(name)
            .into_iter()
            .map(|(v, _)| v)
            .chain(self.versions(name).map(|v| v.to_vec()).unwrap_or_default())
            .collect();
        known.sort_unstable();
        known.dedup();
        known
    }

    /// The versions of `name` that could be chosen and those that could not.
    fn availability<'n>(&'n self, name: &'n PackageName) -> Availability<'n> {
        let excluded = self.exclusions(name);
        let usable = self
            .versions(name)
            .map(|versions| {
                versions
                    .iter()
                    .filter(|v| !excluded.iter().any(|(x, _)| x == *v))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        Availability {
            name,
            usable,
            excluded,
            python: &self.python,
        }
    }

    /// Why versions of `name` could not be chosen, newest first: the
    /// provider's reasons, yanked files (chosen only under a pin), and the
    /// `Requires-Python` of metadata that `pick` read.
    fn exclusions(&self, name: &PackageName) -> Vec<(Version, Exclusion)> {
        let mut out = self.provider.excluded(name);
        let skipped = self.skipped.borrow();
        let metadata = self.metadata.borrow();
        for v in self.versions(name).iter().flat_map(|v| v.iter()) {
            if self.provider.yanked(name, v) {
                let reason = self.provider.yank_reason(name, v);
                out.push((v.clone(), Exclusion::Yanked(reason)));
            } else if skipped.get(name).is_some_and(|s| s.contains(v)) {
                let requires_python = metadata
                    .get(&(name.clone(), v.clone()))
                    .and_then(|m| m.requires_python.clone());
                if let Some(specifiers) = requires_python {
                    out.push((v.clone(), Exclusion::RequiresPython(specifiers)));
                }
            }
        }
        out.sort_by(|a, b| b.0.cmp(&a.0));
        out.dedup_by(|a, b| a.0 == b.0);
        out
    }
}

/// The ranges of every "no version of P in R" step, by project.
fn no_versions(tree: &Tree, out: &mut BTreeMap<PackageName, Vec<VersionRange>>) {
    match tree {
        DerivationTree::External(External::NoVersions(package, range)) => {
            if let Some(name) = package.name() {
                out.entry(name.clone()).or_default().push(range.clone());
            }
        }
        DerivationTree::External(_) => {}
        DerivationTree::Derived(derived) => {
            no_versions(&derived.cause1, out);
            no_versions(&derived.cause2, out);
        }
    }
}
