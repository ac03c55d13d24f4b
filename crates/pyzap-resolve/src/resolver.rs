//! The pubgrub `DependencyProvider` over a `Provider`: versions are tried
//! newest first (pre-releases only when nothing else exists or they are
//! asked for), `Requires-Python` is checked against the target, and markers
//! are evaluated in the target's marker environment. Specifiers become
//! ranges in `version_range.rs` (local version labels), and packages that
//! keep conflicting are decided in another order (`conflicts.rs`), which
//! may restart the resolution. A failure is explained in `failure.rs`; a
//! success carries the notices of `notices.rs` (a yanked pin, an unknown
//! extra, requirements whose markers left them out).

mod failure;
mod notices;

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use pubgrub::{
    Dependencies, DependencyProvider, PackageResolutionStatistics, PubGrubError, VersionSet,
};
use pyzap_spec::{
    ExtraName, MarkerEnvironment, PackageName, Requirement, Version, VersionOrUrl, VersionSpecifier,
};

use crate::conflicts::{ConflictTracker, Tier};
use crate::explain;
use crate::version_range::VersionRange;
use crate::{CandidateMetadata, Package, Provider, ResolveError};

pub use notices::Notice;

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

/// The outcome: one version per project, sorted by name, and what the
/// caller should tell the user about it.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    pub dists: Vec<ResolvedDist>,
    pub notices: Vec<Notice>,
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
    let mut state = State {
        provider,
        root: requirements.to_vec(),
        constraints: HashMap::new(),
        markers,
        python: markers.python_full_version().version.clone(),
        options: options.clone(),
        versions: RefCell::default(),
        metadata: RefCell::default(),
        skipped: RefCell::default(),
        pins: RefCell::default(),
        refusing: RefCell::default(),
        tracker: RefCell::default(),
    };
    state.constraints = state.constraint_ranges(constraints);
    loop {
        state.tracker.borrow_mut().start_attempt();
        match pubgrub::resolve(&state, Package::Root, Version::new([0])) {
            Ok(solution) => {
                let mut resolution = resolution(solution.iter());
                resolution.notices = state.notices(&resolution);
                return Ok(resolution);
            }
            // The order of decisions changed (`conflicts.rs`): start over.
            Err(PubGrubError::ErrorInShouldCancel(SolveError::Restart)) => {}
            Err(error) => return Err(state.failure(error)),
        }
    }
}

/// One version per project, its extras gathered from the virtual packages.
fn resolution<'s>(solution: impl Iterator<Item = (&'s Package, &'s Version)>) -> Resolution {
    let mut by_name: BTreeMap<PackageName, ResolvedDist> = BTreeMap::new();
    for (pkg, version) in solution {
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
    Resolution {
        dists: by_name.into_values().collect(),
        notices: Vec::new(),
    }
}

/// What stops pubgrub: a provider error, or a new order of decisions.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SolveError {
    #[error("{0}")]
    Provider(Box<dyn std::error::Error + Send + Sync>),
    #[error("packages that keep conflicting are decided in a new order: restarting")]
    Restart,
}

impl SolveError {
    fn provider(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        SolveError::Provider(Box::new(error))
    }

    fn into_source(self) -> Box<dyn std::error::Error + Send + Sync> {
        match self {
            SolveError::Provider(source) => source,
            restart @ SolveError::Restart => Box::new(restart),
        }
    }
}

struct State<'a, P: Provider> {
    provider: &'a P,
    root: Vec<Requirement>,
    constraints: HashMap<PackageName, VersionRange>,
    markers: &'a MarkerEnvironment,
    python: Version,
    options: ResolveOptions,
    versions: RefCell<HashMap<PackageName, Rc<Vec<Version>>>>,
    metadata: RefCell<HashMap<(PackageName, Version), Rc<CandidateMetadata>>>,
    /// Versions `pick` passed over: yanked, or refused by the
    /// `Requires-Python` of their metadata (for the hints of a failure).
    skipped: RefCell<BTreeMap<PackageName, BTreeSet<Version>>>,
    /// The ranges of `==`/`===` pins seen per project (yanked files, PEP 592).
    pins: RefCell<HashMap<PackageName, Vec<VersionRange>>>,
    /// Specifiers seen that refuse local variants of the version they name
    /// (for the hints of a failed resolution).
    refusing: RefCell<HashMap<PackageName, Vec<VersionSpecifier>>>,
    tracker: RefCell<ConflictTracker>,
}

impl<P: Provider> State<'_, P> {
    fn versions(&self, name: &PackageName) -> Result<Rc<Vec<Version>>, SolveError> {
        if let Some(v) = self.versions.borrow().get(name) {
            return Ok(v.clone());
        }
        let mut list = self.provider.versions(name).map_err(SolveError::provider)?;
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
    ) -> Result<Rc<CandidateMetadata>, SolveError> {
        let key = (name.clone(), version.clone());
        if let Some(m) = self.metadata.borrow().get(&key) {
            return Ok(m.clone());
        }
        let m = Rc::new(
            self.provider
                .metadata(name, version)
                .map_err(SolveError::provider)?,
        );
        self.metadata.borrow_mut().insert(key, m.clone());
        Ok(m)
    }

    fn python_ok(&self, name: &PackageName, version: &Version) -> Result<bool, SolveError> {
        let meta = self.metadata(name, version)?;
        let ok = meta
            .requires_python
            .as_ref()
            .is_none_or(|spec| spec.contains(&self.python));
        if !ok {
            self.skip(name, version);
        }
        Ok(ok)
    }

    fn skip(&self, name: &PackageName, version: &Version) {
        self.skipped
            .borrow_mut()
            .entry(name.clone())
            .or_default()
            .insert(version.clone());
    }

    /// The range each constrained project is narrowed to (constraints whose
    /// markers hold for the target).
    fn constraint_ranges(&self, constraints: &[Requirement]) -> HashMap<PackageName, VersionRange> {
        let mut ranges: HashMap<PackageName, VersionRange> = HashMap::new();
        for c in constraints
            .iter()
            .filter(|c| c.evaluate_markers(self.markers, &[]))
        {
            let range = self.requirement_range(c);
            let slot = ranges
                .entry(c.name.clone())
                .or_insert_with(VersionRange::full);
            *slot = slot.intersection(&range);
        }
        ranges
    }

    /// Adds the dependencies `reqs` implies, under the active `extras`.
    fn add_requirements(
        &self,
        reqs: &[Requirement],
        extras: &[ExtraName],
        deps: &mut BTreeMap<Package, VersionRange>,
    ) -> Result<(), String> {
        for req in reqs
            .iter()
            .filter(|r| r.evaluate_markers(self.markers, extras))
        {
            // A direct reference to a project the user pinned to a file
            // reaches here without its URL (the caller's provider clears
            // it); any other is refused, as pip and uv refuse it: a
            // distribution from an index must not bring in code from a URL
            // of its own choosing.
            if let Some(VersionOrUrl::Url(url)) = &req.version_or_url {
                return Err(format!(
                    "it depends on `{req}`, a direct URL reference, which a \
                     distribution from an index or find-links location may not \
                     bring in by itself (pip and uv refuse it too); to use that \
                     URL, require `{name} @ {url}` yourself",
                    name = req.name
                ));
            }
            let mut range = self.requirement_range(req);
            if let Some(c) = self.constraints.get(&req.name) {
                range = range.intersection(c);
            }
            let mut add = |pkg: Package| {
                let slot = deps.entry(pkg).or_insert_with(VersionRange::full);
                *slot = slot.intersection(&range);
            };
            add(Package::Base(req.name.clone()));
            for extra in &req.extras {
                add(Package::Extra(req.name.clone(), extra.clone()));
            }
        }
        Ok(())
    }

    /// The versions `req` admits; notes its pin and the specifiers a hint
    /// may need later.
    fn requirement_range(&self, req: &Requirement) -> VersionRange {
        let Some(VersionOrUrl::VersionSpecifier(specs)) = &req.version_or_url else {
            return VersionRange::full();
        };
        if let Some(pin) = VersionRange::pin(specs) {
            let mut pins = self.pins.borrow_mut();
            let known = pins.entry(req.name.clone()).or_default();
            if !known.contains(&pin) {
                known.push(pin);
            }
        }
        for specifier in specs.iter() {
            if explain::may_refuse_local_variants(specifier) {
                let mut refusing = self.refusing.borrow_mut();
                let known = refusing.entry(req.name.clone()).or_default();
                if !known.contains(specifier) {
                    known.push(specifier.clone());
                }
            }
        }
        VersionRange::from_specifiers(specs)
    }

    /// Whether `range` lies within an `==`/`===` pin of `name`: only then
    /// may a yanked version be chosen (PEP 592).
    fn pinned(&self, name: &PackageName, range: &VersionRange) -> bool {
        self.pins
            .borrow()
            .get(name)
            .is_some_and(|pins| pins.iter().any(|pin| range.subset_of(pin)))
    }

    /// The newest acceptable version of `name` in `range`. Pre-releases are
    /// a fallback only when the range admits nothing else (pip's rule);
    /// yanked versions are one only under a pin (pip: when every candidate
    /// the pin admits is yanked).
    fn pick(
        &self,
        name: &PackageName,
        range: &VersionRange,
    ) -> Result<Option<Version>, SolveError> {
        let versions = self.versions(name)?;
        let only_pre = versions.iter().all(Version::any_prerelease);
        let yanked_passes: &[bool] = if self.pinned(name, range) {
            &[false, true]
        } else {
            &[false]
        };
        for &allow_yanked in yanked_passes {
            for allow_pre in [self.options.allow_prereleases || only_pre, true] {
                for v in versions.iter().filter(|v| range.contains(v)) {
                    if v.any_prerelease() && !allow_pre {
                        continue;
                    }
                    if !allow_yanked && self.provider.yanked(name, v) {
                        self.skip(name, v);
                        continue;
                    }
                    if self.python_ok(name, v)? {
                        return Ok(Some(v.clone()));
                    }
                }
                if allow_pre {
                    break;
                }
            }
        }
        Ok(None)
    }

    /// The error pubgrub stopped with, in `ResolveError`'s terms.
    fn failure(&self, error: PubGrubError<Self>) -> ResolveError {
        match error {
            PubGrubError::NoSolution(tree) => self.no_solution(&tree),
            PubGrubError::ErrorRetrievingDependencies {
                package, source, ..
            }
            | PubGrubError::ErrorChoosingVersion { package, source } => ResolveError::Provider {
                package: package.to_string(),
                source: source.into_source(),
            },
            PubGrubError::ErrorInShouldCancel(source) => ResolveError::Provider {
                package: "?".into(),
                source: source.into_source(),
            },
        }
    }
}

impl<P: Provider> DependencyProvider for State<'_, P> {
    type P = Package;
    type V = Version;
    type VS = VersionRange;
    type M = String;
    type Priority = (Tier, u32, Reverse<usize>);
    type Err = SolveError;

    fn prioritize(
        &self,
        package: &Package,
        range: &VersionRange,
        stats: &PackageResolutionStatistics,
    ) -> Self::Priority {
        // Packages that kept conflicting first (or last, `conflicts.rs`);
        // then contested and scarce packages: fewer choices fail faster.
        let Some(name) = package.name() else {
            return (Tier::Plain, stats.conflict_count(), Reverse(0));
        };
        let count = self
            .versions(name)
            .map(|v| v.iter().filter(|v| range.contains(v)).count())
            .unwrap_or(0);
        let tier = self.tracker.borrow().tier(name);
        (tier, stats.conflict_count(), Reverse(count))
    }

    fn choose_version(
        &self,
        package: &Package,
        range: &VersionRange,
    ) -> Result<Option<Version>, SolveError> {
        let Some(name) = package.name() else {
            return Ok(Some(Version::new([0])));
        };
        self.tracker.borrow_mut().choosing(package, range);
        let chosen = self.pick(name, range)?;
        if let Some(version) = &chosen {
            self.tracker.borrow_mut().chose(package, version);
        }
        Ok(chosen)
    }

    fn get_dependencies(
        &self,
        package: &Package,
        version: &Version,
    ) -> Result<Dependencies<Package, VersionRange, String>, SolveError> {
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
                    VersionRange::singleton(version.clone()),
                );
                let meta = self.metadata(name, version)?;
                self.add_requirements(&meta.requires_dist, std::slice::from_ref(extra), &mut deps)
            }
        };
        Ok(match result {
            Ok(()) => {
                let deps: Vec<(Package, VersionRange)> = deps.into_iter().collect();
                self.tracker
                    .borrow_mut()
                    .record_dependencies(package, version, &deps);
                Dependencies::Available(deps.into_iter().collect())
            }
            Err(reason) => Dependencies::Unavailable(reason),
        })
    }

    fn should_cancel(&self) -> Result<(), SolveError> {
        if self.tracker.borrow_mut().take_restart() {
            Err(SolveError::Restart)
        } else {
            Ok(())
        }
    }
}
