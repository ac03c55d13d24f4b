//! A `Provider` over an `IndexClient` (indexes, find-links directories and
//! pages) for one target: a version is a candidate when it has a file the
//! target can use — a wheel whose tags it accepts, or an sdist when source
//! builds are allowed — whose `requires-python` admits the target (pip skips
//! the others). `--no-binary` / `--only-binary` (a `FormatControl`) narrow
//! that per project: only the sdist, or never the sdist. Yanked files (PEP
//! 592) count only for `==` pins, which the resolver decides through
//! `Provider::yanked`. Versions with no such file are `excluded`, with why
//! (their files' tags, `requires-python`, the binary options), for the
//! explanation of a failure. It lives here, above both the index and the
//! resolver, so neither knows the other.

use std::collections::BTreeSet;

use pyzap_index::{DistFile, DistKind, IndexClient, IndexError};
use pyzap_resolve::{CandidateMetadata, Exclusion, FileKind, FileRules, Provider};
use pyzap_spec::{FormatControl, PackageName, Target, Version, WheelFilename};

pub struct IndexProvider<'a> {
    pub index: &'a IndexClient,
    pub target: &'a Target,
    /// Accept sdists for versions without a compatible wheel.
    pub allow_sdists: bool,
    /// pip's `--no-binary` / `--only-binary`, per project.
    pub formats: &'a FormatControl,
    /// Fetch the project pages of a candidate's dependencies in parallel
    /// as soon as its metadata is known (0 or 1: one at a time, on demand).
    pub prefetch_jobs: usize,
}

impl IndexProvider<'_> {
    fn python_ok(&self, file: &DistFile) -> bool {
        file.requires_python
            .as_ref()
            .is_none_or(|spec| spec.contains(&self.target.markers.python_full_version().version))
    }

    /// The file to install for `name==version`, by `FileRules::choose`
    /// among the files whose `requires-python` admits the target: a
    /// non-yanked one, else a yanked one when the version has nothing else.
    pub fn best_file(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Option<DistFile>, IndexError> {
        let files = self.index.files(name)?;
        let rules = self.rules();
        let usable: Vec<&DistFile> = files
            .iter()
            .filter(|f| &f.version == version && self.python_ok(f))
            .collect();
        for yanked in [false, true] {
            let pool = usable
                .iter()
                .filter(|f| f.yanked.is_some() == yanked)
                .map(|f| (kind(f), *f));
            if let Some(f) = rules.choose(name, pool) {
                return Ok(Some(f.clone()));
            }
        }
        Ok(None)
    }

    fn rules(&self) -> FileRules<'_> {
        FileRules {
            target: self.target,
            allow_sdists: self.allow_sdists,
            formats: self.formats,
        }
    }

    /// Why none of `files` (one version's) fits the target: the
    /// `requires-python` of files that would fit otherwise, or what the
    /// files are.
    fn exclusion(&self, name: &PackageName, files: &[&DistFile]) -> Exclusion {
        let rules = self.rules();
        let refused_python = files
            .iter()
            .filter(|f| rules.choose(name, [(kind(f), ())]).is_some())
            .find_map(|f| f.requires_python.clone());
        match refused_python {
            Some(specifiers) => Exclusion::RequiresPython(specifiers),
            None => Exclusion::NoFile(self.no_file(name, files)),
        }
    }

    /// What the files of a version are, when none fits the target.
    fn no_file(&self, name: &PackageName, files: &[&DistFile]) -> String {
        let wheels: Vec<&WheelFilename> = files.iter().filter_map(|f| f.wheel()).collect();
        let has_sdist = files.iter().any(|f| f.wheel().is_none());
        let target = self.target.describe();
        if !self.formats.allows_wheels(name) {
            return if has_sdist {
                format!("--no-binary allows only its sdist, which is {SDIST_NOT_BUILT}")
            } else {
                "--no-binary allows only an sdist, and it has none".into()
            };
        }
        let mut text = if wheels.is_empty() {
            "only an sdist".to_string()
        } else {
            let mut tags: Vec<String> = Vec::new();
            for wheel in &wheels {
                let tag = format!(
                    "{}-{}-{}",
                    wheel.python_tags.join("."),
                    wheel.abi_tags.join("."),
                    wheel.platform_tags.join(".")
                );
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
            let more = if tags.len() > 3 { ", …" } else { "" };
            tags.truncate(3);
            format!(
                "no wheel for {target}; its wheels are for {}{more}",
                tags.join(", ")
            )
        };
        if has_sdist {
            text.push_str(if self.formats.allows_sdists(name) {
                if wheels.is_empty() {
                    ", which is not built for this target"
                } else {
                    "; its sdist is not built for this target"
                }
            } else {
                "; --only-binary refuses its sdist"
            });
        }
        text
    }
}

/// How an exclusion says a version has only an sdist, which this build
/// does not build; the resolution's caller then says why (`--no-build`, or
/// a cross-target build).
pub(crate) const SDIST_NOT_BUILT: &str = "not built for this target";

fn kind(file: &DistFile) -> FileKind<'_> {
    match &file.kind {
        DistKind::Wheel(w) => FileKind::Wheel(w),
        DistKind::Sdist => FileKind::Sdist,
    }
}

impl Provider for IndexProvider<'_> {
    type Err = IndexError;

    fn versions(&self, name: &PackageName) -> Result<Vec<Version>, IndexError> {
        let files = self.index.files(name)?;
        let versions: BTreeSet<&Version> = files.iter().map(|f| &f.version).collect();
        let mut out = Vec::new();
        for v in versions {
            if self.best_file(name, v)?.is_some() {
                out.push(v.clone());
            }
        }
        Ok(out)
    }

    fn yanked(&self, name: &PackageName, version: &Version) -> bool {
        self.best_file(name, version)
            .ok()
            .flatten()
            .is_some_and(|f| f.yanked.is_some())
    }

    fn yank_reason(&self, name: &PackageName, version: &Version) -> Option<String> {
        self.best_file(name, version)
            .ok()
            .flatten()
            .and_then(|f| f.yanked)
            .filter(|reason| !reason.trim().is_empty())
    }

    fn excluded(&self, name: &PackageName) -> Vec<(Version, Exclusion)> {
        let Ok(files) = self.index.files(name) else {
            return Vec::new();
        };
        let versions: BTreeSet<&Version> = files.iter().map(|f| &f.version).collect();
        versions
            .into_iter()
            .filter(|v| matches!(self.best_file(name, v), Ok(None)))
            .map(|v| {
                let of_version: Vec<&DistFile> = files.iter().filter(|f| &f.version == v).collect();
                (v.clone(), self.exclusion(name, &of_version))
            })
            .collect()
    }

    fn unavailable_reason(&self, name: &PackageName) -> Option<String> {
        match self.index.files(name) {
            Ok(files) if files.is_empty() => Some(format!(
                "no distribution named `{name}` was found in {}",
                self.index.describe_sources()
            )),
            Ok(_) => None,
            Err(e) => Some(format!("reading the files of {name} failed: {e}")),
        }
    }

    fn metadata(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<CandidateMetadata, IndexError> {
        let Some(file) = self.best_file(name, version)? else {
            return Ok(CandidateMetadata::default());
        };
        let m = self.index.metadata(&file)?;
        if self.prefetch_jobs > 1 {
            let names: Vec<PackageName> = m
                .requires_dist
                .iter()
                .filter(|r| r.evaluate_markers(&self.target.markers, &[]))
                .map(|r| r.name.clone())
                .collect();
            self.index.prefetch(&names, self.prefetch_jobs);
        }
        Ok(CandidateMetadata {
            requires_dist: m.requires_dist,
            requires_python: m.requires_python,
            provides_extra: m.provides_extra,
        })
    }
}
