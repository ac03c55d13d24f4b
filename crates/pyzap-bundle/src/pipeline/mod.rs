//! `bundle`: inputs → targets → resolution → wheels (building local
//! projects and sdists) → site tree → artifact. Each step is a library call;
//! this module wires them and reports what it is doing. The site tree and
//! every rule of the format belong to `pyzap-artifact`: this module only
//! hands it each target's wheels and compiler.

mod entry;
mod hashes;
mod index;
mod inputs;
mod locals;
pub(crate) mod lockfile;
mod project_config;
mod resolution;
mod script;
mod sources;
mod standalone;
mod targets;
mod vcs;

use std::path::{Path, PathBuf};

use pyzap_artifact::{
    Bundled, BytecodeCompiler, EntryPointRecord, SiteTree, SiteTreeInputs, TargetBundle,
    WriteOptions,
};
use pyzap_index::{DistKind, IndexClient};
use pyzap_python::Interpreter;
use pyzap_resolve::SdistBuilds;
use pyzap_spec::{PackageName, Target};
use pyzap_wheel::{layout_wheel, Wheel};

use self::locals::{Gather, Roots};
use self::resolution::ResolveFor;
use self::standalone::{Artifact, Standalone};
use self::targets::Plan;
use crate::cache::WORK_DIR;
use crate::{BundleError, BundleOptions, Reporter, Result};

/// Builds the artifact `options` describe.
pub fn bundle(options: &BundleOptions, reporter: &dyn Reporter) -> Result<()> {
    let options = &*project_config::apply(options)?;
    // Before -o: `pyzap build` alone should hear what it takes.
    if names_nothing(options) {
        return Err(BundleError::NoInputs);
    }
    check_output(&options.output)?;
    let cache = &options.cache_dir;
    let _hold = crate::cache::hold(cache)?;
    // Clones, unpacked sdists, build environments: under the cache, and
    // swept by the next build when this one is killed.
    let work = pyzap_fs::ScratchDir::new(&cache.join(WORK_DIR), "build-")?;
    sources::sweep_sdist_builds(cache);
    let inputs = inputs::collect(&options.source)?;
    if inputs.is_empty() && options.src.is_empty() && options.lock.is_none() {
        return Err(BundleError::NoInputs);
    }
    for warning in &inputs.warnings {
        reporter.warn(warning);
    }
    let hash_check = hashes::HashCheck::from_inputs(&inputs, options.source.require_hashes)?;
    // Before the standalone distribution: a `--python-dist` URL is fetched
    // by the same client, with its retries, credentials and cache.
    let index = index::client(&options.source, &inputs, cache)?;
    let standalone = match &options.standalone {
        Some(s) => Some(standalone::prepare(options, s, &index, cache, reporter)?),
        None => None,
    };
    let plan = targets::plan(options, standalone.as_ref())?;
    for t in &plan.targets {
        reporter.step(&format!(
            "target: {}{}",
            t.target.describe(),
            t.compiler
                .as_ref()
                .map(|c| format!(" at {}", c.path.display()))
                .unwrap_or_default()
        ));
    }
    // The entry script and --src files are checked before anything is built.
    let mut src = sources::collect_src(&options.src)?;
    if let Some(script) = &inputs.script {
        for t in &plan.targets {
            script.check_python(&t.target)?;
        }
        src.set_script(script)?;
    }
    let locked = options.lock.as_deref().map(lockfile::read).transpose()?;
    let mut roots = Roots::new(&inputs);
    let gather = Gather {
        index: &index,
        plan: Some(&plan),
        environments: plan.targets.iter().map(|t| &t.target.markers).collect(),
        work: work.path(),
        cache,
        pre: options.source.pre,
        reporter,
    };
    // Clones of repositories, kept until the build is done.
    let _checkouts = gather.pin_all(&inputs.locals, &mut roots)?;
    roots.add_requirements(&inputs);
    if let Some(lock) = &locked {
        roots.top_level.extend(lock.roots().iter().cloned());
    }
    let fetch = Fetch {
        locked: locked.as_ref(),
        hash_check: &hash_check,
        options,
        inputs: &inputs,
        index: &index,
        roots: &roots,
        plan: &plan,
        work: work.path(),
        reporter,
    };
    let per_target: Vec<Vec<Bundled>> = plan
        .targets
        .iter()
        .map(|t| fetch.resolve_and_fetch(&t.target))
        .collect::<Result<_>>()?;
    write(
        options,
        &plan,
        standalone.as_ref(),
        per_target,
        &roots,
        &src,
        reporter,
    )
}

/// Chooses the entry point, lays the contents out and writes the artifact.
fn write(
    options: &BundleOptions,
    plan: &Plan,
    standalone: Option<&Standalone>,
    per_target: Vec<Vec<Bundled>>,
    roots: &Roots,
    src: &sources::Src,
    reporter: &dyn Reporter,
) -> Result<()> {
    let entry_point = choose_entry_point(options, &per_target, src, &roots.top_level, reporter)?;
    let compilers: Vec<Option<TargetCompiler<'_>>> = plan
        .targets
        .iter()
        .map(|t| {
            t.compiler
                .as_ref()
                .filter(|_| !options.no_compile)
                .map(TargetCompiler)
        })
        .collect();
    reporter.step("writing the artifact");
    report_missing_bytecode(options, plan, &compilers, reporter);
    let targets = plan
        .targets
        .iter()
        .zip(per_target)
        .zip(&compilers)
        .map(|((t, bundled), compiler)| TargetBundle {
            target: &t.target,
            bundled,
            compiler: as_compiler(compiler),
        })
        .collect();
    let SiteTree { manifest, entries } = SiteTree::lay_out(SiteTreeInputs {
        targets,
        src_files: &src.files,
        src_main: src.main.as_deref(),
        entry_point,
        shebang: options.shebang.as_deref(),
        no_compile: options.no_compile,
        cache: &options.cache_dir,
    })?;
    let artifact = Artifact {
        output: &options.output,
        manifest: &manifest,
        entries,
        write_options: &write_options(plan),
        // A standalone build has one target, whose interpreter also
        // compiles the distribution's stdlib.
        compiler: compilers.first().and_then(as_compiler),
        cache: &options.cache_dir,
        reporter,
    };
    let count = match standalone {
        Some(s) => s.write(artifact, &plan.targets[0].target)?,
        None => pyzap_artifact::write_artifact(
            artifact.output,
            artifact.manifest,
            artifact.entries,
            artifact.write_options,
        )?,
    };
    let size = fs_err::metadata(&options.output)?.len();
    reporter.info(&format!(
        "built {}: {} distributions, {} entries, {:.1} MB, entry point {}",
        options.output.display(),
        manifest.distributions.len(),
        count,
        size as f64 / 1e6,
        manifest.entry_point.describe()
    ));
    reporter.wrote(&options.output);
    Ok(())
}

fn as_compiler<'c>(c: &'c Option<TargetCompiler<'_>>) -> Option<&'c dyn BytecodeCompiler> {
    c.as_ref().map(|c| c as &dyn BytecodeCompiler)
}

/// Says which targets get no bytecode: there is no interpreter of their
/// version here to compile it with.
fn report_missing_bytecode(
    options: &BundleOptions,
    plan: &Plan,
    compilers: &[Option<TargetCompiler<'_>>],
    reporter: &dyn Reporter,
) {
    if options.no_compile {
        return;
    }
    let missing = plan
        .targets
        .iter()
        .zip(compilers)
        .filter(|(_, c)| c.is_none())
        .map(|(t, _)| &t.target);
    for target in missing {
        reporter.info(&if plan.targets.len() == 1 {
            format!(
                "no bytecode: no Python {} to compile with, so the first run compiles it \
                 into its cache (give --python with one to precompile)",
                target.version_string()
            )
        } else {
            format!(
                "{}: no bytecode (no Python {} to compile with)",
                target.name(),
                target.version_string()
            )
        });
    }
}

/// The entry point of `-c`/`-e`, or the one detected (and said so).
fn choose_entry_point(
    options: &BundleOptions,
    per_target: &[Vec<Bundled>],
    src: &sources::Src,
    top_level: &[PackageName],
    reporter: &dyn Reporter,
) -> Result<EntryPointRecord> {
    let mut dists: Vec<pyzap_wheel::InstalledDist> = Vec::new();
    for b in per_target.iter().flatten() {
        if !dists.iter().any(|d| d.filename == b.dist.filename) {
            dists.push(b.dist.clone());
        }
    }
    let importable = |path: &str| {
        let candidates = [
            format!("{path}.py"),
            format!("{path}/__init__.py"),
            format!("{path}/"),
        ];
        let so_prefix = format!("{path}.");
        dists
            .iter()
            .flat_map(|d| d.site_files.iter())
            .map(|f| f.dest.as_str())
            .chain(src.files.iter().map(|(n, _)| n.as_str()))
            .any(|f| {
                candidates
                    .iter()
                    .any(|c| f == c || (c.ends_with('/') && f.starts_with(c.as_str())))
                    || (f.starts_with(&so_prefix) && f.ends_with(".so"))
            })
    };
    let chosen = entry::choose(&entry::EntryInputs {
        console_script: options.console_script.as_deref(),
        entry_point: options.entry_point.as_deref(),
        dists: &dists,
        top_level,
        main_script: src.main_origin.as_deref(),
        importable: &importable,
        module_source: &|path| entry::module_source(&dists, &src.files, path),
    })?;
    if let Some(note) = &chosen.note {
        reporter.info(note);
    }
    if let Some(warning) = &chosen.warning {
        reporter.warn(warning);
    }
    Ok(chosen.record)
}

/// Reproducible zip metadata for the targets: `SOURCE_DATE_EPOCH` (or
/// 1980-01-01) for every generated entry; ZIP64 only when every target's
/// zipimport reads it (3.13+).
fn write_options(plan: &Plan) -> WriteOptions {
    let timestamp = pyzap_fs::source_date_epoch();
    WriteOptions {
        timestamp,
        zip64_ok: plan
            .targets
            .iter()
            .all(|t| (t.target.major, t.target.minor) >= (3, 13)),
        python: plan
            .targets
            .iter()
            .map(|t| t.target.version_string())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// What resolving and fetching for one target needs.
struct Fetch<'a> {
    locked: Option<&'a lockfile::LoadedLock>,
    hash_check: &'a hashes::HashCheck,
    options: &'a BundleOptions,
    inputs: &'a inputs::Inputs,
    index: &'a IndexClient,
    roots: &'a Roots,
    plan: &'a Plan,
    work: &'a Path,
    reporter: &'a dyn Reporter,
}

impl Fetch<'_> {
    /// Resolves the roots for `target` (or reads them from the lock) and
    /// returns its wheels, checked and laid out.
    fn resolve_and_fetch(&self, target: &Target) -> Result<Vec<Bundled>> {
        // Nothing can be built for an interpreter that is not here.
        let builds = if self.options.source.no_build {
            SdistBuilds::Refused
        } else if self.plan.cross {
            SdistBuilds::CrossTarget
        } else {
            SdistBuilds::Allowed
        };
        let (files, lock_check);
        let hash_check = match self.locked {
            Some(lock) => {
                files = lock.files_for(target, builds, &self.inputs.formats)?;
                lock_check = hashes::HashCheck::from_lock(&files);
                &lock_check
            }
            None => {
                let resolve_for = ResolveFor {
                    builds,
                    static_sdists: false,
                    pre: self.options.source.pre,
                };
                files = resolution::resolve_files(
                    self.inputs,
                    target,
                    self.index,
                    self.roots,
                    &resolve_for,
                    self.reporter,
                )?;
                self.hash_check
            }
        };
        let downloaded = download(self.index, &files, self.reporter)?;
        // A wheel built from an sdist the user named is checked against
        // the sdist's hashes, as pip checks it.
        let hashed: Vec<PathBuf> = downloaded
            .iter()
            .map(|p| self.roots.built_from.get(p).unwrap_or(p).clone())
            .collect();
        let original_sha256s = hash_check.verify(&files, &hashed)?;
        let mut bundled = Vec::new();
        for ((file, path), original_sha256) in files.iter().zip(downloaded).zip(original_sha256s) {
            let (wheel_path, sha256) = match &file.kind {
                DistKind::Wheel(_) if self.roots.built_from.contains_key(&path) => {
                    let sha256 = pyzap_fs::sha256_file(&path)?;
                    (path, sha256)
                }
                DistKind::Wheel(_) => (path, original_sha256),
                DistKind::Sdist => {
                    let builder = sources::Builder {
                        python: self.plan.builder()?,
                        index: self.index,
                        work: self.work,
                        cache: &self.options.cache_dir,
                        pre: self.options.source.pre,
                        reporter: self.reporter,
                    };
                    let built = builder.sdist(&path)?;
                    let sha256 = pyzap_fs::sha256_file(&built)?;
                    (built, sha256)
                }
            };
            let wheel = Wheel::open(&wheel_path)?;
            verify_once(&wheel, &sha256, &self.options.cache_dir)?;
            bundled.push(Bundled {
                dist: layout_wheel(&wheel),
                sha256,
            });
        }
        Ok(bundled)
    }
}

/// Every chosen file on disk, downloaded in parallel into the cache.
fn download(
    index: &IndexClient,
    files: &[pyzap_index::DistFile],
    reporter: &dyn Reporter,
) -> Result<Vec<PathBuf>> {
    let remote = files.iter().filter(|f| f.local_path().is_none()).count();
    if remote > 0 {
        reporter.step(&format!("fetching {remote} files"));
    }
    index
        .download_all(files, 8, reporter)
        .into_iter()
        .map(|r| r.map_err(BundleError::from))
        .collect()
}

/// RECORD is checked once per wheel content; the marker is keyed by its sha256.
fn verify_once(wheel: &Wheel, sha256: &str, cache: &Path) -> Result<()> {
    let marker = cache.join("verified").join(sha256);
    if marker.exists() {
        return Ok(());
    }
    wheel.verify()?;
    pyzap_fs::write_atomic(&marker, b"", 0o644)?;
    Ok(())
}

/// Bytecode compiled by the target interpreter, one process per core.
pub(crate) struct TargetCompiler<'a>(&'a Interpreter);

impl BytecodeCompiler for TargetCompiler<'_> {
    fn cache_tag(&self) -> &str {
        &self.0.target.facts.cache_tag
    }

    fn identity(&self) -> String {
        let facts = &self.0.target.facts;
        format!(
            "{} {} (python {}) magic {}",
            facts.implementation_name,
            facts.implementation_version,
            facts.python_full_version,
            facts.pyc_magic
        )
    }

    fn compile(
        &self,
        sources: &[(String, Vec<u8>)],
    ) -> std::result::Result<Vec<Option<Vec<u8>>>, Box<dyn std::error::Error + Send + Sync>> {
        let jobs = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Ok(pyzap_python::compile_sources(&self.0.path, sources, jobs)?)
    }
}

/// No input of any kind on the command line (or in `[tool.pyzap]`); an
/// empty requirements file is caught once the inputs are read.
fn names_nothing(options: &BundleOptions) -> bool {
    let s = &options.source;
    s.inputs.is_empty()
        && s.requirements.is_empty()
        && s.groups.is_empty()
        && options.src.is_empty()
        && options.lock.is_none()
}

/// `-o` is checked before any work: a directory is refused, and missing
/// parent directories are made, so a bad path never fails after a whole
/// resolution and download, naming a temporary file.
fn check_output(output: &std::path::Path) -> Result<()> {
    if output.as_os_str().is_empty() {
        return Err(BundleError::NoOutput);
    }
    if output.is_dir() {
        return Err(BundleError::OutputIsDirectory {
            path: output.to_path_buf(),
        });
    }
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs_err::create_dir_all(parent)?;
    }
    Ok(())
}
