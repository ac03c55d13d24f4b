//! The words of a failed resolution. pubgrub's `DefaultStringReporter`
//! arranges a derivation into "Because …, …" sentences; `Formatter` writes
//! each step in the user's terms (uv's report does the same): requirements
//! as written (`you require alpha==3.0`, `gamma==2.0 depends on beta>2.0`),
//! and what pubgrub derived shortened to the versions that exist, never an
//! empty set, a negated range or a list of gaps. `availability` adds, per
//! project the resolution ran out of versions of, the versions that could
//! be used and why the others could not.

use std::collections::HashMap;

use pubgrub::{Derived, External, Map, ReportFormatter, Term, VersionSet};
use pyzap_spec::{PackageName, Version};

use crate::version_range::VersionRange;
use crate::{Exclusion, Package};

type Step = External<Package, VersionRange, String>;
type Terms = Map<Package, Term<VersionRange>>;

/// How many versions a hint lists before it counts the rest.
const LISTED: usize = 5;

/// Writes the steps of one explanation.
pub(crate) struct Formatter<'a> {
    /// Every version each project's sources list, usable or not, oldest first.
    pub known: &'a HashMap<PackageName, Vec<Version>>,
}

impl Formatter<'_> {
    fn known(&self, package: &Package) -> &[Version] {
        package
            .name()
            .and_then(|n| self.known.get(n))
            .map_or(&[], Vec::as_slice)
    }

    /// A requirement as its author wrote it.
    fn written(package: &Package, range: &VersionRange) -> String {
        range.requirement(&package.to_string())
    }

    /// What pubgrub derived, as far as the versions that exist go.
    fn term(&self, package: &Package, range: &VersionRange) -> String {
        range
            .simplified(self.known(package))
            .requirement(&package.to_string())
    }

    /// `package` in `range` has versions, none of which can be used.
    fn unusable(&self, package: &Package, range: &VersionRange) -> String {
        match self
            .known(package)
            .iter()
            .filter(|v| range.contains(v))
            .count()
        {
            1 => format!("{} cannot be used", self.term(package, range)),
            _ => format!("no version of {} can be used", self.term(package, range)),
        }
    }
}

/// "a, b and c".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

impl ReportFormatter<Package, VersionRange, String> for Formatter<'_> {
    type Output = String;

    fn format_external(&self, step: &Step) -> String {
        match step {
            External::NotRoot(..) => "your requirements are resolved".into(),
            External::NoVersions(package, range) => {
                let known = self.known(package);
                if range.holds_any(known) {
                    self.unusable(package, range)
                } else if *range == VersionRange::full() {
                    if known.is_empty() {
                        format!("{package} was not found")
                    } else {
                        format!("there is no version of {package}")
                    }
                } else {
                    format!("there is no version of {}", Self::written(package, range))
                }
            }
            External::FromDependencyOf(Package::Root, _, dependency, range) => {
                format!("you require {}", Self::written(dependency, range))
            }
            External::FromDependencyOf(package, range, dependency, dependency_range) => format!(
                "{} depends on {}",
                self.term(package, range),
                Self::written(dependency, dependency_range)
            ),
            External::Custom(package, range, reason) => {
                format!("{} cannot be used: {reason}", self.term(package, range))
            }
        }
    }

    /// An incompatibility: a set of terms that cannot all hold. The root
    /// always holds, so it is left out of what the sentence names.
    fn format_terms(&self, terms: &Terms) -> String {
        let mut root = false;
        let (mut used, mut required) = (Vec::new(), Vec::new());
        for (package, term) in terms {
            match (package, term) {
                (Package::Root, _) => root = true,
                (_, Term::Positive(range)) => used.push((package, range)),
                (_, Term::Negative(range)) => required.push(self.term(package, range)),
            }
        }
        let named: Vec<String> = used.iter().map(|(p, r)| self.term(p, r)).collect();
        match (used.as_slice(), required.as_slice()) {
            ([], []) => "your requirements cannot be met".into(),
            ([], _) if root => format!("you require {}", required.join(" or ")),
            ([], _) => format!("{} is required", required.join(" or ")),
            ([(package, range)], []) => self.unusable(package, range),
            (_, []) => format!("{} are incompatible", and_list(&named)),
            ([_], _) => format!("{} depends on {}", named[0], required.join(" or ")),
            (_, _) => format!(
                "{} together depend on {}",
                and_list(&named),
                required.join(" or ")
            ),
        }
    }

    fn explain_both_external(&self, first: &Step, second: &Step, terms: &Terms) -> String {
        format!(
            "Because {} and {}, {}.",
            self.format_external(first),
            self.format_external(second),
            self.format_terms(terms)
        )
    }

    fn explain_both_ref(
        &self,
        ref1: usize,
        derived1: &Derived<Package, VersionRange, String>,
        ref2: usize,
        derived2: &Derived<Package, VersionRange, String>,
        terms: &Terms,
    ) -> String {
        format!(
            "Because {} ({ref1}) and {} ({ref2}), {}.",
            self.format_terms(&derived1.terms),
            self.format_terms(&derived2.terms),
            self.format_terms(terms)
        )
    }

    fn explain_ref_and_external(
        &self,
        reference: usize,
        derived: &Derived<Package, VersionRange, String>,
        step: &Step,
        terms: &Terms,
    ) -> String {
        format!(
            "Because {} ({reference}) and {}, {}.",
            self.format_terms(&derived.terms),
            self.format_external(step),
            self.format_terms(terms)
        )
    }

    fn and_explain_external(&self, step: &Step, terms: &Terms) -> String {
        format!(
            "And because {}, {}.",
            self.format_external(step),
            self.format_terms(terms)
        )
    }

    fn and_explain_ref(
        &self,
        reference: usize,
        derived: &Derived<Package, VersionRange, String>,
        terms: &Terms,
    ) -> String {
        format!(
            "And because {} ({reference}), {}.",
            self.format_terms(&derived.terms),
            self.format_terms(terms)
        )
    }

    fn and_explain_prior_and_external(&self, prior: &Step, step: &Step, terms: &Terms) -> String {
        format!(
            "And because {} and {}, {}.",
            self.format_external(prior),
            self.format_external(step),
            self.format_terms(terms)
        )
    }
}

/// One project's versions, for the hints of a failure.
pub(crate) struct Availability<'a> {
    pub name: &'a PackageName,
    /// Versions that could have been chosen, newest first.
    pub usable: Vec<Version>,
    /// Versions that exist but could not be chosen, newest first, with why.
    pub excluded: Vec<(Version, Exclusion)>,
    /// The target's Python.
    pub python: &'a Version,
}

impl Availability<'_> {
    /// The hints for a project the resolution found no version of in
    /// `ranges`: which versions there are, then why others could not be
    /// used — those in `ranges`, or when a range names versions that do
    /// not exist at all, those newer than every usable one (what the user
    /// may have been after).
    pub(crate) fn hints(&self, ranges: &[VersionRange]) -> Vec<String> {
        let all: Vec<Version> = self
            .usable
            .iter()
            .chain(self.excluded.iter().map(|(v, _)| v))
            .cloned()
            .collect();
        let missing = ranges.iter().any(|r| !r.holds_any(&all));
        let newest_usable = self.usable.first();
        let shown: Vec<&(Version, Exclusion)> = self
            .excluded
            .iter()
            .filter(|(v, _)| {
                if missing {
                    newest_usable.is_none_or(|newest| v > newest)
                } else {
                    ranges.iter().any(|r| r.contains(v))
                }
            })
            .collect();
        let mut hints = Vec::new();
        if !self.usable.is_empty() {
            let versions: Vec<&Version> = self.usable.iter().collect();
            hints.push(format!(
                "versions of {} available for the target: {}",
                self.name,
                list(&versions)
            ));
        }
        hints.extend(self.exclusion_lines(&shown));
        hints
    }

    /// One line per reason, versions newest first.
    pub(crate) fn exclusion_lines(&self, excluded: &[&(Version, Exclusion)]) -> Vec<String> {
        let mut groups: Vec<(&Exclusion, Vec<&Version>)> = Vec::new();
        for (version, why) in excluded {
            match groups.iter_mut().find(|(w, _)| *w == why) {
                Some((_, versions)) => versions.push(version),
                None => groups.push((why, vec![version])),
            }
        }
        groups
            .into_iter()
            .map(|(why, versions)| self.exclusion_line(why, &versions))
            .collect()
    }

    fn exclusion_line(&self, why: &Exclusion, versions: &[&Version]) -> String {
        let name = self.name;
        let which = format!("{name} {}", list(versions));
        match why {
            Exclusion::RequiresPython(specifiers) => format!(
                "{which}: requires Python {specifiers}, but the target is Python {}",
                self.python
            ),
            Exclusion::NoFile(text) => format!("{which}: {text}"),
            Exclusion::Yanked(reason) => {
                let reason = reason
                    .as_deref()
                    .filter(|r| !r.trim().is_empty())
                    .map(|r| format!(" (reason: {})", r.trim()))
                    .unwrap_or_default();
                match versions {
                    [only] => {
                        format!("{which}: yanked{reason}; pin `{name}=={only}` to use it anyway")
                    }
                    _ => format!("{which}: yanked{reason}"),
                }
            }
        }
    }
}

/// `2.0, 1.5, 1.0`, or the first few and how many more.
fn list(versions: &[&Version]) -> String {
    let shown: Vec<String> = versions
        .iter()
        .take(LISTED)
        .map(ToString::to_string)
        .collect();
    match versions.len().saturating_sub(LISTED) {
        0 => shown.join(", "),
        more => format!("{} and {more} older", shown.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use pyzap_spec::VersionSpecifiers;

    use super::*;

    fn v(text: &str) -> Version {
        Version::from_str(text).unwrap()
    }

    fn range(text: &str) -> VersionRange {
        VersionRange::from_specifiers(&VersionSpecifiers::from_str(text).unwrap())
    }

    fn base(name: &str) -> Package {
        Package::Base(PackageName::from_str(name).unwrap())
    }

    fn known() -> HashMap<PackageName, Vec<Version>> {
        HashMap::from([
            ("b".parse().unwrap(), vec![v("1.0"), v("2.0")]),
            ("c".parse().unwrap(), vec![v("1.0"), v("1.5"), v("2.0")]),
        ])
    }

    #[test]
    fn steps_read_as_requirements() {
        let known = known();
        let f = Formatter { known: &known };
        let no = |p: &str, r: &str| f.format_external(&External::NoVersions(base(p), range(r)));
        assert_eq!(no("b", ">2.0"), "there is no version of b>2.0");
        assert_eq!(no("b", "==2.0"), "b==2.0 cannot be used");
        assert_eq!(no("b", ""), "no version of b can be used");
        assert_eq!(no("nosuch", ""), "nosuch was not found");
        let root = External::FromDependencyOf(Package::Root, range(""), base("b"), range("==3"));
        assert_eq!(f.format_external(&root), "you require b==3");
        // pubgrub's derived range for the depender, shortened; the
        // dependency as its metadata wrote it.
        let dep =
            External::FromDependencyOf(base("c"), range("!=1.0,!=2.0"), base("b"), range(">2.0"));
        assert_eq!(f.format_external(&dep), "c>=1.5,<2.0 depends on b>2.0");
    }

    #[test]
    fn incompatibilities_leave_out_the_root_and_never_negate() {
        let known = known();
        let f = Formatter { known: &known };
        let terms =
            |items: Vec<(Package, Term<VersionRange>)>| items.into_iter().collect::<Terms>();
        let root = (Package::Root, Term::Positive(VersionRange::full()));
        assert_eq!(
            f.format_terms(&terms(vec![root.clone()])),
            "your requirements cannot be met"
        );
        assert_eq!(
            f.format_terms(&terms(vec![
                root.clone(),
                (base("b"), Term::Negative(range(">=2")))
            ])),
            "you require b>=2"
        );
        assert_eq!(
            f.format_terms(&terms(vec![(base("c"), Term::Positive(range("==1.0")))])),
            "c==1.0 cannot be used"
        );
        assert_eq!(
            f.format_terms(&terms(vec![
                (base("c"), Term::Positive(range("==1.0"))),
                (base("b"), Term::Positive(range(""))),
            ])),
            "b and c==1.0 are incompatible"
        );
        assert_eq!(
            f.format_terms(&terms(vec![
                (base("c"), Term::Positive(range(">=1.5"))),
                (base("b"), Term::Negative(range("!=1.0"))),
            ])),
            "c>=1.5 depends on b>=2.0"
        );
    }

    #[test]
    fn availability_lists_what_exists_and_why_the_rest_is_out() {
        let name: PackageName = "alpha".parse().unwrap();
        let python = v("3.11.7");
        let spec = VersionSpecifiers::from_str(">=3.13").unwrap();
        let a = Availability {
            name: &name,
            usable: vec![v("2.0"), v("1.5"), v("1.0")],
            excluded: vec![
                (
                    v("2.6"),
                    Exclusion::NoFile("no wheel for the target".into()),
                ),
                (v("2.5"), Exclusion::RequiresPython(spec.clone())),
                (v("2.4"), Exclusion::RequiresPython(spec)),
                (v("2.1"), Exclusion::Yanked(Some("broken build".into()))),
                (v("0.9"), Exclusion::Yanked(None)),
            ],
            python: &python,
        };
        assert_eq!(
            a.hints(&[range("==3.0")]),
            [
                "versions of alpha available for the target: 2.0, 1.5, 1.0",
                "alpha 2.6: no wheel for the target",
                "alpha 2.5, 2.4: requires Python >=3.13, but the target is Python 3.11.7",
                "alpha 2.1: yanked (reason: broken build); pin `alpha==2.1` to use it anyway",
            ]
        );
        // Versions that exist in the range: only those are explained.
        assert_eq!(
            a.hints(&[range("<1.0")]).last().unwrap(),
            "alpha 0.9: yanked; pin `alpha==0.9` to use it anyway"
        );
        let many: Vec<Version> = (1..=8).rev().map(|i| v(&format!("{i}.0"))).collect();
        let refs: Vec<&Version> = many.iter().collect();
        assert_eq!(list(&refs), "8.0, 7.0, 6.0, 5.0, 4.0 and 3 older");
    }
}
