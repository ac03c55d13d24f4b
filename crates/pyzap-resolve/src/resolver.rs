//! The pubgrub `DependencyProvider` over a `Provider`: versions are tried
//! newest first (pre-releases only when nothing else exists or they are
//! asked for), `Requires-Python` is checked against the target, and markers
//! are evaluated in the target's marker environment.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use pubgrub::{
    DefaultStringReporter, Dependencies, DependencyProvider, PackageResolutionStatistics,
    PubGrubError, Ranges, Reporter,
};
use pyzap_spec::{ExtraName, MarkerEnvironment, PackageName, Requirement, Version, VersionOrUrl};

use crate::{CandidateMetadata, Package, Provider, ResolveError};

#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// Consider pre-releases even when final releases exist (`--pre`).
    pub allow_prereleases: bool,
}

/// One pinned distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedDist {
    pub name: PackageName,
    pub version: Version,
    pub extras: BTreeSet<ExtraName>,
}

/// The outcome: one version per project, sorted by name.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    pub dists: Vec<ResolvedDist>,
}

/// Resolves `requirements` (with `constraints` narrowing any project they
/// name) for the marker environment `markers`.
pub fn resolve<P: Provider>(
    provider: &P,
    requirements: &[Requirement],
    constraints: &[Requirement],
    markers: &MarkerEnvironment,
    options: &ResolveOptions,
) -> Result<Resolution, ResolveError> {
    let mut constraint_map: HashMap<PackageName, Ranges<Version>> = HashMap::new();
    for c in constraints
        .iter()
        .filter(|c| c.evaluate_markers(markers, &[]))
    {
        let range = requirement_range(c);
        let slot = constraint_map
            .entry(c.name.clone())
            .or_insert_with(Ranges::full);
        *slot = slot.intersection(&range);
    }
    let state = State {
        provider,
        root: requirements.to_vec(),
        constraints: constraint_map,
        markers,
        python: markers.python_full_version().version.clone(),
        options: options.clone(),
        versions: RefCell::default(),
        metadata: RefCell::default(),
        skipped_python: RefCell::default(),
    };
    match pubgrub::resolve(&state, Package::Root, Version::new([0])) {
        Ok(solution) => {
            let mut by_name: BTreeMap<PackageName, ResolvedDist> = BTreeMap::new();
            for (pkg, version) in solution.iter() {
                let Some(name) = pkg.name() else { continue };
                let dist = by_name.entry(name.clone()).or_insert_with(|| ResolvedDist {
                    name: name.clone(),
                    version: version.clone(),
                    extras: BTreeSet::new(),
                });
                if let Package::Extra(_, extra) = pkg {
                    dist.extras.insert(extra.clone());
                }
            }
            Ok(Resolution {
                dists: by_name.into_values().collect(),
            })
        }
        Err(PubGrubError::NoSolution(tree)) => {
            let explanation = humanize(&DefaultStringReporter::report(&tree));
            let mut hints: Vec<String> = Vec::new();
            let mut names: BTreeSet<PackageName> = BTreeSet::new();
            for pkg in tree.packages() {
                if let Some(n) = pkg.name() {
                    names.insert(n.clone());
                }
            }
            for name in &names {
                if let Some(reason) = provider.unavailable_reason(name) {
                    hints.push(reason);
                }
                if let Some(skipped) = state.skipped_python.borrow().get(name) {
                    hints.push(format!(
                        "{name} {} skipped: they require a Python other than {}",
                        skipped
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", "),
                        state.python
                    ));
                }
            }
            Err(ResolveError::NoSolution { explanation, hints })
        }
        Err(PubGrubError::ErrorRetrievingDependencies {
            package, source, ..
        })
        | Err(PubGrubError::ErrorChoosingVersion { package, source }) => {
            Err(ResolveError::Provider {
                package: package.to_string(),
                source: source.0,
            })
        }
        Err(PubGrubError::ErrorInShouldCancel(source)) => Err(ResolveError::Provider {
            package: "?".into(),
            source: source.0,
        }),
    }
}

/// pubgrub speaks of the root package as a package at version 0; say "you" instead.
fn humanize(report: &str) -> String {
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

/// Wraps provider errors so pubgrub can carry them.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BoxedError(Box<dyn std::error::Error + Send + Sync>);

struct State<'a, P: Provider> {
    provider: &'a P,
    root: Vec<Requirement>,
    constraints: HashMap<PackageName, Ranges<Version>>,
    markers: &'a MarkerEnvironment,
    python: Version,
    options: ResolveOptions,
    versions: RefCell<HashMap<PackageName, Rc<Vec<Version>>>>,
    metadata: RefCell<HashMap<(PackageName, Version), Rc<CandidateMetadata>>>,
    skipped_python: RefCell<BTreeMap<PackageName, BTreeSet<Version>>>,
}

impl<P: Provider> State<'_, P> {
    fn versions(&self, name: &PackageName) -> Result<Rc<Vec<Version>>, BoxedError> {
        if let Some(v) = self.versions.borrow().get(name) {
            return Ok(v.clone());
        }
        let mut list = self
            .provider
            .versions(name)
            .map_err(|e| BoxedError(Box::new(e)))?;
        list.sort_unstable_by(|a, b| b.cmp(a));
        list.dedup();
        let list = Rc::new(list);
        self.versions
            .borrow_mut()
            .insert(name.clone(), list.clone());
        Ok(list)
    }

    fn metadata(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Rc<CandidateMetadata>, BoxedError> {
        let key = (name.clone(), version.clone());
        if let Some(m) = self.metadata.borrow().get(&key) {
            return Ok(m.clone());
        }
        let m = Rc::new(
            self.provider
                .metadata(name, version)
                .map_err(|e| BoxedError(Box::new(e)))?,
        );
        self.metadata.borrow_mut().insert(key, m.clone());
        Ok(m)
    }

    fn python_ok(&self, name: &PackageName, version: &Version) -> Result<bool, BoxedError> {
        let meta = self.metadata(name, version)?;
        let ok = meta
            .requires_python
            .as_ref()
            .is_none_or(|spec| spec.contains(&self.python));
        if !ok {
            self.skipped_python
                .borrow_mut()
                .entry(name.clone())
                .or_default()
                .insert(version.clone());
        }
        Ok(ok)
    }

    /// Adds the dependencies `reqs` implies, under the active `extras`.
    fn add_requirements(
        &self,
        reqs: &[Requirement],
        extras: &[ExtraName],
        deps: &mut BTreeMap<Package, Ranges<Version>>,
    ) -> Result<(), String> {
        for req in reqs
            .iter()
            .filter(|r| r.evaluate_markers(self.markers, extras))
        {
            if matches!(req.version_or_url, Some(VersionOrUrl::Url(_))) {
                return Err(format!(
                    "direct URL requirement `{req}` is not supported yet"
                ));
            }
            let mut range = requirement_range(req);
            if let Some(c) = self.constraints.get(&req.name) {
                range = range.intersection(c);
            }
            let mut add = |pkg: Package| {
                let slot = deps.entry(pkg).or_insert_with(Ranges::full);
                *slot = slot.intersection(&range);
            };
            add(Package::Base(req.name.clone()));
            for extra in &req.extras {
                add(Package::Extra(req.name.clone(), extra.clone()));
            }
        }
        Ok(())
    }
}

fn requirement_range(req: &Requirement) -> Ranges<Version> {
    match &req.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(specs)) => Ranges::from(specs.clone()),
        _ => Ranges::full(),
    }
}

impl<P: Provider> DependencyProvider for State<'_, P> {
    type P = Package;
    type V = Version;
    type VS = Ranges<Version>;
    type M = String;
    type Priority = (u32, Reverse<usize>);
    type Err = BoxedError;

    fn prioritize(
        &self,
        package: &Package,
        range: &Ranges<Version>,
        stats: &PackageResolutionStatistics,
    ) -> Self::Priority {
        // Decide contested and scarce packages first: fewer choices fail faster.
        let count = match package.name() {
            None => 0,
            Some(name) => self
                .versions(name)
                .map(|v| v.iter().filter(|v| range.contains(v)).count())
                .unwrap_or(0),
        };
        (stats.conflict_count(), Reverse(count))
    }

    fn choose_version(
        &self,
        package: &Package,
        range: &Ranges<Version>,
    ) -> Result<Option<Version>, BoxedError> {
        let Some(name) = package.name() else {
            return Ok(Some(Version::new([0])));
        };
        let versions = self.versions(name)?;
        let only_pre = versions.iter().all(|v| v.any_prerelease());
        for allow_pre in [self.options.allow_prereleases || only_pre, true] {
            // PEP 592 / pip: a yanked version only for an exact pin.
            let pinned = range.as_singleton().is_some();
            for v in versions.iter().filter(|v| range.contains(v)) {
                if v.any_prerelease() && !allow_pre {
                    continue;
                }
                if !pinned && self.provider.yanked(name, v) {
                    continue;
                }
                if self.python_ok(name, v)? {
                    return Ok(Some(v.clone()));
                }
            }
            // Pre-releases are a fallback only when the range admits nothing else (pip's rule).
            if allow_pre {
                break;
            }
        }
        Ok(None)
    }

    fn get_dependencies(
        &self,
        package: &Package,
        version: &Version,
    ) -> Result<Dependencies<Package, Ranges<Version>, String>, BoxedError> {
        let mut deps = BTreeMap::new();
        let result = match package {
            Package::Root => self.add_requirements(&self.root, &[], &mut deps),
            Package::Base(name) => {
                let meta = self.metadata(name, version)?;
                self.add_requirements(&meta.requires_dist, &[], &mut deps)
            }
            Package::Extra(name, extra) => {
                deps.insert(
                    Package::Base(name.clone()),
                    Ranges::singleton(version.clone()),
                );
                let meta = self.metadata(name, version)?;
                self.add_requirements(&meta.requires_dist, std::slice::from_ref(extra), &mut deps)
            }
        };
        Ok(match result {
            Ok(()) => Dependencies::Available(deps.into_iter().collect()),
            Err(reason) => Dependencies::Unavailable(reason),
        })
    }
}
