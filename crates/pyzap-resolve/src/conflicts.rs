//! Which packages keep conflicting, and the order of decisions that follows.
//!
//! pubgrub decides one package at a time and keeps a decision for as long as
//! it can. When `a` is decided first and every recent `b` pins an older `a`
//! (boto3 and botocore), each `b` is discarded in turn and `b` walks down to
//! an ancient release instead of `a` being revisited. Like uv, we count,
//! for each discarded candidate, the package it was discarded for (the
//! *culprit*, decided earlier) and the package it belonged to (the
//! *affected*). Past [`CONFLICT_THRESHOLD`] the affected package is decided
//! [`Tier::Early`] and the culprit [`Tier::Late`], still before the
//! packages nobody conflicted with.
//!
//! uv then undoes the culprit's decision inside its pubgrub state. pubgrub
//! 0.4 offers no such call through `resolve`, so the resolution restarts
//! with the new tiers instead; the candidates and metadata the resolver
//! caches make that cheap. A package becomes `Late` at most once and an
//! `Early` one never becomes `Late`, so a resolution restarts at most once
//! per package.
//!
//! The tracker sees what the provider sees: which version was chosen for
//! each package and what it depends on. A package chosen again with a range
//! that no longer holds its previous choice had that choice discarded; the
//! culprits are the dependencies of that choice whose range excludes the
//! version last chosen for them. A discard with no such dependency (a
//! plain backtrack) counts for nobody.

use std::cmp::Reverse;
use std::collections::HashMap;

use pubgrub::VersionSet;
use pyzap_spec::{PackageName, Version};

use crate::version_range::VersionRange;
use crate::Package;

/// Discards a package suffers (or causes) before its tier changes; uv's value.
pub(crate) const CONFLICT_THRESHOLD: u32 = 5;

/// Where a package stands in the order of decisions, before pubgrub's own
/// conflict count and the number of candidates left (`resolver.rs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Tier {
    /// Not involved in repeated conflicts.
    #[default]
    Plain,
    /// Often the reason another package's candidate was discarded: decided
    /// after the `Early` ones. The number orders packages of one tier by
    /// when they got there, first first.
    Late(Reverse<usize>),
    /// Its candidates were often discarded: decided first.
    Early(Reverse<usize>),
}

#[derive(Debug, Default)]
pub(crate) struct ConflictTracker {
    /// Kept across restarts: what the earlier attempts learned.
    tiers: HashMap<PackageName, Tier>,
    /// The dependencies each (package, version) declared, as given to pubgrub.
    dependencies: HashMap<(Package, Version), Vec<(Package, VersionRange)>>,
    /// This attempt's latest choice per package.
    chosen: HashMap<Package, Version>,
    affected: HashMap<PackageName, u32>,
    culprit: HashMap<PackageName, u32>,
    /// How many tier changes so far: orders packages within a tier.
    changes: usize,
    /// A culprit just became `Late`: the current attempt should stop.
    restart: bool,
}

impl ConflictTracker {
    pub(crate) fn tier(&self, name: &PackageName) -> Tier {
        self.tiers.get(name).copied().unwrap_or_default()
    }

    pub(crate) fn record_dependencies(
        &mut self,
        package: &Package,
        version: &Version,
        dependencies: &[(Package, VersionRange)],
    ) {
        self.dependencies
            .entry((package.clone(), version.clone()))
            .or_insert_with(|| dependencies.to_vec());
    }

    /// pubgrub asks for a version of `package` within `range`: when that
    /// range lost the previous choice, count who was to blame.
    pub(crate) fn choosing(&mut self, package: &Package, range: &VersionRange) {
        let Some(name) = package.name() else { return };
        let Some(previous) = self.chosen.get(package) else {
            return;
        };
        if range.contains(previous) {
            return;
        }
        let Some(dependencies) = self.dependencies.get(&(package.clone(), previous.clone())) else {
            return;
        };
        let culprits: Vec<PackageName> = dependencies
            .iter()
            .filter(|(dependency, required)| {
                // An extra and its base share a version by construction: not a conflict.
                dependency.name().is_some_and(|n| n != name)
                    && self
                        .chosen
                        .get(dependency)
                        .is_some_and(|version| !required.contains(version))
            })
            .filter_map(|(dependency, _)| dependency.name().cloned())
            .collect();
        if culprits.is_empty() {
            return;
        }
        if bump(&mut self.affected, name) == CONFLICT_THRESHOLD {
            self.promote(name);
        }
        for culprit in &culprits {
            if bump(&mut self.culprit, culprit) == CONFLICT_THRESHOLD && self.demote(culprit) {
                self.restart = true;
            }
        }
    }

    pub(crate) fn chose(&mut self, package: &Package, version: &Version) {
        self.chosen.insert(package.clone(), version.clone());
    }

    /// Whether the attempt should stop now; reading it clears it.
    pub(crate) fn take_restart(&mut self) -> bool {
        std::mem::take(&mut self.restart)
    }

    /// Forgets what belongs to one attempt before the next one starts.
    pub(crate) fn start_attempt(&mut self) {
        self.chosen.clear();
        self.affected.clear();
        self.culprit.clear();
        self.restart = false;
    }

    fn promote(&mut self, name: &PackageName) {
        let tier = self.tiers.entry(name.clone()).or_default();
        if !matches!(tier, Tier::Early(_)) {
            *tier = Tier::Early(Reverse(self.changes));
            self.changes += 1;
        }
    }

    /// Makes `name` `Late` unless it already is, or is `Early` (which would
    /// let two packages swap places forever). Whether it changed.
    fn demote(&mut self, name: &PackageName) -> bool {
        let tier = self.tiers.entry(name.clone()).or_default();
        if *tier == Tier::Plain {
            *tier = Tier::Late(Reverse(self.changes));
            self.changes += 1;
            true
        } else {
            false
        }
    }
}

fn bump(counts: &mut HashMap<PackageName, u32>, name: &PackageName) -> u32 {
    let count = counts.entry(name.clone()).or_default();
    *count += 1;
    *count
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use pyzap_spec::VersionSpecifiers;

    use super::*;

    fn base(name: &str) -> Package {
        Package::Base(PackageName::from_str(name).unwrap())
    }

    fn v(text: &str) -> Version {
        Version::from_str(text).unwrap()
    }

    fn range(text: &str) -> VersionRange {
        VersionRange::from_specifiers(&VersionSpecifiers::from_str(text).unwrap())
    }

    /// `a 2.0` decided, then `b 2.0.9, 2.0.8, …` each need `a==1.0` and are
    /// discarded one after the other.
    fn discard_b_versions(tracker: &mut ConflictTracker, count: u32) {
        let (a, b) = (base("a"), base("b"));
        tracker.chose(&a, &v("2.0"));
        for patch in (0..=9).rev().take(count as usize) {
            let version = v(&format!("2.0.{patch}"));
            tracker.choosing(&b, &range(&format!("<=2.0.{patch}")));
            tracker.chose(&b, &version);
            tracker.record_dependencies(&b, &version, &[(a.clone(), range("==1.0"))]);
        }
        // pubgrub asks again once the last one was discarded too.
        tracker.choosing(&b, &range("<2.0.0"));
    }

    #[test]
    fn the_package_walked_down_goes_early_and_its_culprit_late() {
        let mut tracker = ConflictTracker::default();
        discard_b_versions(&mut tracker, CONFLICT_THRESHOLD - 1);
        assert_eq!(tracker.tier(&"b".parse().unwrap()), Tier::Plain);
        assert!(!tracker.take_restart());

        let mut tracker = ConflictTracker::default();
        discard_b_versions(&mut tracker, CONFLICT_THRESHOLD);
        assert!(matches!(
            tracker.tier(&"b".parse().unwrap()),
            Tier::Early(_)
        ));
        assert!(matches!(tracker.tier(&"a".parse().unwrap()), Tier::Late(_)));
        assert!(tracker.take_restart());
        assert!(!tracker.take_restart(), "reading the flag clears it");
        assert!(tracker.tier(&"a".parse().unwrap()) < tracker.tier(&"b".parse().unwrap()));

        // The next attempt repeats the same discards: nothing changes, no restart.
        tracker.start_attempt();
        discard_b_versions(&mut tracker, CONFLICT_THRESHOLD);
        assert!(!tracker.take_restart());
    }

    #[test]
    fn a_discard_without_a_conflicting_dependency_counts_for_nobody() {
        let mut tracker = ConflictTracker::default();
        let (a, b) = (base("a"), base("b"));
        tracker.chose(&a, &v("2.0"));
        for patch in (0..=9).rev() {
            let version = v(&format!("2.0.{patch}"));
            tracker.choosing(&b, &range(&format!("<=2.0.{patch}")));
            tracker.chose(&b, &version);
            // `a>=2` holds for the chosen `a 2.0`: `b` went for another reason.
            tracker.record_dependencies(&b, &version, &[(a.clone(), range(">=2"))]);
        }
        assert_eq!(tracker.tier(&"b".parse().unwrap()), Tier::Plain);
        assert_eq!(tracker.tier(&"a".parse().unwrap()), Tier::Plain);
        assert!(!tracker.take_restart());
    }
}
