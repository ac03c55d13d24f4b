//! Distributions named by where they are rather than by a version on an
//! index: local projects, wheels and sdists, `git+` repositories, and PEP
//! 508 direct references (`name @ https://…`, `name @ file:///…`,
//! `name @ git+…`). Each becomes one file that the index client offers as
//! the only source of its project (`add_file`, `pin_file`), so resolution
//! picks exactly it: projects, sdists and repositories are built into a
//! wheel first; a remote file is downloaded through the index client, which
//! checks a `#sha256=` fragment.
//!
//! A direct reference in the `Requires-Dist` of such a distribution is
//! followed the same way before resolution (pip follows them too); the
//! resolver then reads it as a plain requirement on the pinned file
//! (`Roots::pinned`, used in `resolution.rs`). What the user gave wins over
//! what a dependency names; two dependencies naming one project at two URLs
//! are an error.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use pyzap_index::{DistFile, FileLocation, IndexClient};
use pyzap_spec::{
    DirectReference, DirectSource, ExtraName, LocalKind, LocalPath, MarkerEnvironment, MarkerTree,
    Metadata, PackageName, Requirement, VerbatimUrl, VersionOrUrl, VersionSpecifier,
    VersionSpecifiers, WheelFilename,
};

use super::inputs::{read_project, Inputs, Project};
use super::sources;
use super::targets::Plan;
use super::vcs::{self, Checkout};
use crate::{BundleError, Reporter, Result};

/// One distribution named by where it is.
#[derive(Debug, Clone)]
pub(crate) struct Local {
    pub(crate) source: LocalSource,
    /// `./proj[server]`, `name[extra] @ …`.
    pub(crate) extras: Vec<ExtraName>,
    /// `name @ URL ; marker`: left out for targets it does not apply to.
    pub(crate) marker: MarkerTree,
    /// A direct reference's name and text: the distribution must have that name.
    pub(crate) named: Option<Named>,
}

#[derive(Debug, Clone)]
pub(crate) struct Named {
    name: PackageName,
    url: String,
    /// `name @ URL` as a user would write it.
    reference: String,
}

#[derive(Debug, Clone)]
pub(crate) enum LocalSource {
    /// Boxed: a `PyProject` is several times the size of the other variants.
    Project(Box<Project>),
    Wheel(PathBuf),
    Sdist(PathBuf),
    /// `git+URL[@REF][#subdirectory=…]`, cloned when it is pinned.
    Git(String),
    /// A wheel or sdist to download.
    Remote(VerbatimUrl),
}

impl Local {
    /// A path input (`./proj[server]`, `dist/app-1.0-py3-none-any.whl`).
    /// Scripts are the caller's to read; one here is refused as a
    /// directory that is not there would be.
    pub(crate) fn from_path(local: LocalPath) -> Result<Self> {
        let source = match local.kind() {
            LocalKind::Wheel => LocalSource::Wheel(local.path),
            LocalKind::Sdist => LocalSource::Sdist(local.path),
            LocalKind::Directory | LocalKind::Script => {
                LocalSource::Project(Box::new(read_project(&local.path)?))
            }
        };
        Ok(Local {
            source,
            extras: local.extras,
            marker: local.marker,
            named: None,
        })
    }

    /// A bare `git+URL` input: a project in a repository.
    pub(crate) fn git(spec: &str) -> Self {
        Local {
            source: LocalSource::Git(spec.to_string()),
            extras: Vec::new(),
            marker: MarkerTree::TRUE,
            named: None,
        }
    }

    /// `name @ URL`; a `file:` URL is looked at now (a directory is read as
    /// a project), other URLs when the distribution is pinned.
    pub(crate) fn from_reference(reference: DirectReference) -> Result<Self> {
        let named = Named {
            name: reference.name.clone(),
            url: reference.url.clone(),
            reference: reference.describe(),
        };
        let source = match reference.source {
            DirectSource::Git(spec) => LocalSource::Git(spec),
            DirectSource::Remote(url) => LocalSource::Remote(url),
            DirectSource::Path(path) if path.is_dir() => {
                LocalSource::Project(Box::new(read_project(&path)?))
            }
            DirectSource::Path(path) => match LocalKind::of(&path) {
                LocalKind::Wheel => LocalSource::Wheel(path),
                LocalKind::Sdist if path.is_file() => LocalSource::Sdist(path),
                _ => {
                    return Err(BundleError::DirectReferencePath {
                        reference: named.reference,
                        path,
                    })
                }
            },
        };
        Ok(Local {
            source,
            extras: reference.extras,
            marker: reference.marker,
            named: Some(named),
        })
    }

    /// The input as the user wrote it, near enough, for messages.
    pub(crate) fn describe(&self) -> String {
        match (&self.named, &self.source) {
            (Some(named), _) => named.reference.clone(),
            (None, LocalSource::Project(p)) => p.dir.display().to_string(),
            (None, LocalSource::Wheel(p) | LocalSource::Sdist(p)) => p.display().to_string(),
            (None, LocalSource::Git(spec)) => spec.clone(),
            (None, LocalSource::Remote(url)) => url.to_string(),
        }
    }

    /// The project directory to build, when it is one on this machine.
    pub(crate) fn project_dir(&self) -> Option<&Path> {
        match &self.source {
            LocalSource::Project(p) => Some(&p.dir),
            _ => None,
        }
    }
}

/// The requirements a resolution starts from, the projects the user asked
/// for by name (entry-point detection reads them in order), and the
/// projects pinned to one local file.
pub(crate) struct Roots {
    /// The inputs' requirements, then `name==version` of each local distribution.
    pub(crate) requirements: Vec<Requirement>,
    /// Local distributions first, then the named requirements.
    pub(crate) top_level: Vec<PackageName>,
    /// Every project pinned to a local or direct file: a direct reference
    /// to one of them in a dependency's metadata means that file.
    pub(crate) pinned: BTreeSet<PackageName>,
    /// Wheels built here from a local or direct sdist, and that sdist:
    /// `--hash` options name the sdist's digest.
    pub(crate) built_from: BTreeMap<PathBuf, PathBuf>,
}

impl Roots {
    pub(crate) fn new(inputs: &Inputs) -> Self {
        Roots {
            requirements: inputs.requirements.clone(),
            top_level: Vec::new(),
            pinned: BTreeSet::new(),
            built_from: BTreeMap::new(),
        }
    }

    /// Requires exactly `file`'s version, with the extras and marker it was
    /// asked for with.
    fn require(&mut self, file: &DistFile, local: &Local) {
        let pin = VersionSpecifier::equals_version(file.version.clone());
        self.requirements.push(Requirement {
            name: file.name.clone(),
            extras: local.extras.clone(),
            version_or_url: Some(VersionOrUrl::VersionSpecifier(VersionSpecifiers::from(pin))),
            marker: local.marker.clone(),
            origin: None,
        });
        self.top_level.push(file.name.clone());
    }

    /// The requirements' names, after the local distributions.
    pub(crate) fn add_requirements(&mut self, inputs: &Inputs) {
        self.top_level
            .extend(inputs.requirements.iter().map(|r| r.name.clone()));
    }
}

/// What pinning local distributions needs.
pub(crate) struct Gather<'a> {
    pub(crate) index: &'a IndexClient,
    /// Runs PEP 517 builds; `None` for `lock`, which locks files only.
    pub(crate) plan: Option<&'a Plan>,
    /// The targets' marker environments.
    pub(crate) environments: Vec<&'a MarkerEnvironment>,
    pub(crate) work: &'a Path,
    /// The build cache (wheels built from sdists).
    pub(crate) cache: &'a Path,
    pub(crate) pre: bool,
    pub(crate) reporter: &'a dyn Reporter,
}

/// Who asked for a project first: the user, or a dependency's direct
/// reference (with its URL).
struct Claim {
    given: bool,
    url: Option<String>,
    reference: String,
}

impl Gather<'_> {
    /// Pins `locals` and every direct reference their metadata names, and
    /// requires the user's own in `roots`. Returns the clones of
    /// repositories, which must live until the build is done.
    pub(crate) fn pin_all(&self, locals: &[Local], roots: &mut Roots) -> Result<Vec<Checkout>> {
        let mut queue: VecDeque<(Local, bool)> = locals.iter().map(|l| (l.clone(), true)).collect();
        let mut claims: BTreeMap<PackageName, Claim> = BTreeMap::new();
        let mut checkouts = Vec::new();
        while let Some((local, given)) = queue.pop_front() {
            if !self.applies(&local.marker, &[]) {
                tracing::debug!("{} does not apply to any target", local.describe());
                continue;
            }
            let overruled = |named: &Named| claims.get(&named.name).is_some_and(|c| c.given);
            if !given && local.named.as_ref().is_some_and(overruled) {
                continue; // the user's own choice of this project wins
            }
            let file = self.pin(&local, roots, &mut checkouts)?;
            roots.pinned.insert(file.name.clone());
            // Unreadable metadata is left to resolution, which reads it again
            // and reports the failure with its context.
            let metadata = self
                .index
                .metadata(&file)
                .inspect_err(|e| tracing::debug!("metadata of {}: {e}", file.filename))
                .ok();
            if given {
                self.warn_missing_extras(&file, &local, metadata.as_ref());
                roots.require(&file, &local);
                let claim = Claim {
                    given,
                    url: local.named.as_ref().map(|n| n.url.clone()),
                    reference: local.describe(),
                };
                claims.insert(file.name.clone(), claim);
            }
            for reference in self.references_in(metadata.as_ref())? {
                if claim(&mut claims, &reference)? {
                    queue.push_back((Local::from_reference(reference)?, false));
                }
            }
        }
        Ok(checkouts)
    }

    /// pip's warning for `./proj[extra]` when the project has no such extra.
    fn warn_missing_extras(&self, file: &DistFile, local: &Local, metadata: Option<&Metadata>) {
        let Some(metadata) = metadata else { return };
        for extra in &local.extras {
            if !metadata.provides_extra.contains(extra) {
                self.reporter.warn(&format!(
                    "{} {} does not provide the extra `{extra}`",
                    file.name, file.version
                ));
            }
        }
    }

    /// Whether a marker holds for any target (with `extras` active).
    fn applies(&self, marker: &MarkerTree, extras: &[ExtraName]) -> bool {
        self.environments.is_empty()
            || self
                .environments
                .iter()
                .any(|env| marker.evaluate(env, extras))
    }

    /// The direct references in a distribution's `Requires-Dist` that may
    /// apply: to some target, under any of its extras (which ones
    /// resolution will ask for is not known yet).
    fn references_in(&self, metadata: Option<&Metadata>) -> Result<Vec<DirectReference>> {
        let mut out = Vec::new();
        let Some(metadata) = metadata else {
            return Ok(out);
        };
        for requirement in &metadata.requires_dist {
            if let Some(reference) = DirectReference::from_requirement(requirement)? {
                if self.applies(&reference.marker, &metadata.provides_extra) {
                    out.push(reference);
                }
            }
        }
        Ok(out)
    }

    /// The one file of `local` in the index, built or fetched as needed.
    fn pin(
        &self,
        local: &Local,
        roots: &mut Roots,
        checkouts: &mut Vec<Checkout>,
    ) -> Result<DistFile> {
        match &local.source {
            LocalSource::Wheel(path) => self.pin_wheel(local, path),
            LocalSource::Sdist(path) => {
                if let Some(name) = path.file_name() {
                    self.check_filename(local, &name.to_string_lossy())?;
                }
                self.pin_sdist(local, path, roots)
            }
            LocalSource::Project(project) => self.build_project(local, project),
            LocalSource::Git(spec) => {
                self.reporter.step(&format!("cloning {spec}"));
                let checkout = vcs::checkout(spec, self.work)?;
                let project = read_project(&checkout.path);
                checkouts.push(checkout);
                self.build_project(local, &project?)
            }
            LocalSource::Remote(url) => self.pin_remote(local, url, roots),
        }
    }

    /// Builds an sdist (or reuses its wheel) and pins its wheel.
    fn pin_sdist(&self, local: &Local, sdist: &Path, roots: &mut Roots) -> Result<DistFile> {
        let wheel = self.builder(local)?.sdist(sdist)?;
        let file = self.pin_wheel(local, &wheel)?;
        roots.built_from.insert(wheel, sdist.to_path_buf());
        Ok(file)
    }

    /// A wheel on disk, offered as the only file of its project.
    fn pin_wheel(&self, local: &Local, path: &Path) -> Result<DistFile> {
        if !path.is_file() {
            return Err(BundleError::NoWheelFile {
                path: path.to_path_buf(),
            });
        }
        let not_a_wheel = || BundleError::NotAWheelName {
            path: path.to_path_buf(),
        };
        let file = DistFile::from_path(path).ok_or_else(not_a_wheel)?;
        self.check_name(local, &file.name)?;
        self.index.add_file(path).ok_or_else(not_a_wheel)
    }

    /// Downloads a remote wheel or sdist (into the cache, through the
    /// index client: retries, credentials, `--offline`, `#sha256=`). A
    /// wheel stays known by its URL, so a lock file names the URL.
    fn pin_remote(&self, local: &Local, url: &VerbatimUrl, roots: &mut Roots) -> Result<DistFile> {
        let url = url.raw();
        let filename = url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .unwrap_or_default();
        self.check_filename(local, filename)?;
        self.reporter.step(&format!("downloading {filename}"));
        let path = self
            .index
            .download_url(url, None, self.reporter)
            .map_err(|source| BundleError::DirectDownload {
                reference: local.describe(),
                source: Box::new(source),
            })?;
        if !filename.ends_with(".whl") {
            return self.pin_sdist(local, &path, roots);
        }
        let mut file = DistFile::from_path(&path)
            .ok_or_else(|| BundleError::NotAWheelName { path: path.clone() })?;
        self.check_name(local, &file.name)?;
        let mut bare = url.clone();
        bare.set_fragment(None);
        file.location = FileLocation::Url(bare);
        file.sha256 = Some(pyzap_fs::sha256_file(&path)?);
        self.index.pin_file(file.clone());
        Ok(file)
    }

    /// Builds a project's wheel and pins it; a static `[project] name` is
    /// checked first, so a wrong reference fails before the build.
    fn build_project(&self, local: &Local, project: &Project) -> Result<DistFile> {
        if let Some(name) = project.pyproject.name.as_deref() {
            if let Ok(name) = name.parse::<PackageName>() {
                self.check_name(local, &name)?;
            }
        }
        let builder = self.builder(local)?;
        self.reporter
            .step(&format!("building project {}", project.dir.display()));
        let wheel = builder.project(&project.dir, &project.pyproject)?;
        self.pin_wheel(local, &wheel)
    }

    /// What builds, with the interpreter that does; `lock` has none and refuses.
    fn builder(&self, local: &Local) -> Result<sources::Builder<'_>> {
        match self.plan {
            Some(plan) => Ok(sources::Builder {
                python: plan.builder()?,
                index: self.index,
                work: self.work,
                cache: self.cache,
                pre: self.pre,
                reporter: self.reporter,
            }),
            None => Err(match (&local.named, local.project_dir()) {
                (None, Some(dir)) => BundleError::LockProject {
                    dir: dir.to_path_buf(),
                },
                _ => BundleError::LockBuild {
                    reference: local.describe(),
                },
            }),
        }
    }

    /// A direct reference's name against the one its file name gives
    /// (checked before anything is downloaded or built).
    fn check_filename(&self, local: &Local, filename: &str) -> Result<()> {
        let name = if filename.ends_with(".whl") {
            filename.parse::<WheelFilename>().ok().map(|w| w.name)
        } else {
            pyzap_index::parse_sdist_filename(filename).map(|(name, _)| name)
        };
        match name {
            Some(name) => self.check_name(local, &name),
            None => Ok(()),
        }
    }

    fn check_name(&self, local: &Local, found: &PackageName) -> Result<()> {
        match &local.named {
            Some(named) if &named.name != found => Err(BundleError::DirectReferenceName {
                reference: named.reference.clone(),
                expected: named.name.clone(),
                found: found.clone(),
            }),
            _ => Ok(()),
        }
    }
}

/// Records that a dependency names `reference`; whether it is new and
/// must be pinned. The user's own choice of the project wins, and a second
/// reference to the same URL is the first one.
fn claim(claims: &mut BTreeMap<PackageName, Claim>, reference: &DirectReference) -> Result<bool> {
    match claims.get(&reference.name) {
        Some(c) if c.given || c.url.as_deref() == Some(reference.url.as_str()) => Ok(false),
        Some(c) => Err(BundleError::DirectReferenceConflict {
            name: reference.name.clone(),
            first: c.reference.clone(),
            second: reference.describe(),
        }),
        None => {
            let claim = Claim {
                given: false,
                url: Some(reference.url.clone()),
                reference: reference.describe(),
            };
            claims.insert(reference.name.clone(), claim);
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(text: &str) -> DirectReference {
        let requirement = pyzap_spec::parse_requirement(text).unwrap();
        DirectReference::from_requirement(&requirement)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn a_project_named_at_two_urls_by_dependencies_is_a_conflict() {
        let mut claims = BTreeMap::new();
        let a = reference("lib @ https://h/a/lib-1.0-py3-none-any.whl");
        let b = reference("lib @ https://h/b/lib-1.0-py3-none-any.whl");
        assert!(claim(&mut claims, &a).unwrap());
        assert!(
            !claim(&mut claims, &a).unwrap(),
            "the same URL again is the same file"
        );
        let err = claim(&mut claims, &b).unwrap_err();
        assert_eq!(
            err.to_string(),
            "lib is named by two direct references: `lib @ https://h/a/lib-1.0-py3-none-any.whl` \
             and `lib @ https://h/b/lib-1.0-py3-none-any.whl`"
        );
        // What the user gave wins over any URL a dependency names.
        claims.insert(
            b.name.clone(),
            Claim {
                given: true,
                url: None,
                reference: "./lib".into(),
            },
        );
        assert!(!claim(&mut claims, &b).unwrap());
    }

    #[test]
    fn file_references_are_sorted_by_what_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let wheel = dir.path().join("six-1.17.0-py2.py3-none-any.whl");
        let url = |p: &Path| format!("file://{}", p.display());
        let local = Local::from_reference(reference(&format!("six @ {}", url(&wheel)))).unwrap();
        assert!(matches!(local.source, LocalSource::Wheel(ref p) if p == &wheel));
        assert_eq!(local.describe(), format!("six @ {}", url(&wheel)));

        let sdist = dir.path().join("six-1.17.0.tar.gz");
        fs_err::write(&sdist, "").unwrap();
        let local = Local::from_reference(reference(&format!("six @ {}", url(&sdist)))).unwrap();
        assert!(matches!(local.source, LocalSource::Sdist(_)));

        let project = dir.path().join("proj");
        fs_err::create_dir(&project).unwrap();
        fs_err::write(project.join("setup.py"), "").unwrap();
        let local = Local::from_reference(reference(&format!("p[x] @ {}", url(&project)))).unwrap();
        assert_eq!(local.project_dir(), Some(project.as_path()));
        assert_eq!(local.extras.len(), 1);

        let other = dir.path().join("notes.txt");
        let err = Local::from_reference(reference(&format!("p @ {}", url(&other)))).unwrap_err();
        assert!(
            matches!(err, BundleError::DirectReferencePath { .. }),
            "{err}"
        );
    }
}
