//! A `Provider` over an `IndexClient` (indexes, find-links directories and
//! pages) for one target: a version is a candidate when it has a file the
//! target can use — a wheel whose tags it accepts, or an sdist when source
//! builds are allowed — whose `requires-python` admits the target (pip skips
//! the others). `--no-binary` / `--only-binary` (a `FormatControl`) narrow
//! that per project: only the sdist, or never the sdist. Yanked files (PEP
//! 592) count only for `==` pins, which the resolver decides through
//! `Provider::yanked`. It lives here, above both the index and the
//! resolver, so neither knows the other.

use std::collections::BTreeSet;

use pyzap_index::{DistFile, DistKind, IndexClient, IndexError};
use pyzap_resolve::{CandidateMetadata, FileKind, FileRules, Provider};
use pyzap_spec::{FormatControl, PackageName, Target, Version};

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
        let rules = FileRules {
            target: self.target,
            allow_sdists: self.allow_sdists,
            formats: self.formats,
        };
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
}

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

    fn unavailable_reason(&self, name: &PackageName) -> Option<String> {
        let files = match self.index.files(name) {
            Ok(files) => files,
            Err(e) => return Some(format!("reading the files of {name} failed: {e}")),
        };
        if files.is_empty() {
            return Some(format!(
                "no distribution named `{name}` was found in {}",
                self.index.describe_sources()
            ));
        }
        // Versions that exist but offer no file this target can use, newest first.
        let mut unusable: Vec<&Version> = files
            .iter()
            .map(|f| &f.version)
            .filter(|v| matches!(self.best_file(name, v), Ok(None)))
            .collect();
        unusable.sort_unstable_by(|a, b| b.cmp(a));
        unusable.dedup();
        if unusable.is_empty() {
            return None;
        }
        let shown: Vec<String> = unusable
            .iter()
            .take(3)
            .map(std::string::ToString::to_string)
            .collect();
        let listed: Vec<&DistFile> = files
            .iter()
            .filter(|f| unusable.iter().take(3).any(|v| *v == &f.version))
            .collect();
        let names: Vec<&str> = listed.iter().map(|f| f.filename.as_str()).collect();
        let tried: Vec<String> = self
            .target
            .tags
            .iter()
            .take(4)
            .map(ToString::to_string)
            .collect();
        let sdists = !self.allow_sdists && names.iter().any(|f| !f.ends_with(".whl"));
        let formats = match (
            self.formats.allows_wheels(name),
            self.formats.allows_sdists(name),
        ) {
            (false, _) => " (--no-binary: only its sdist may be used)",
            (true, false) if self.allow_sdists => " (--only-binary: its sdists may not be used)",
            _ => "",
        };
        let python = listed.iter().any(|f| !self.python_ok(f));
        Some(format!(
            "{name} {} has no file that fits {}: tags tried (best first) {}, … ({} in all); files found: {}{}{}{}",
            shown.join(", "),
            self.target.describe(),
            tried.join(", "),
            self.target.tags.len(),
            names.join(", "),
            if sdists { " (building sdists is disabled)" } else { "" },
            formats,
            if python { " (some require another Python)" } else { "" }
        ))
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
        })
    }
}
