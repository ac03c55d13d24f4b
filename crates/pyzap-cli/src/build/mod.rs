//! `pyzap build`: inputs → target → resolution → wheels (building local
//! projects and sdists) → site tree → artifact. Each step is a library call;
//! this module only wires them and says what it is doing.

mod entry;
mod hashes;
mod index;
mod inputs;
pub mod lockfile;
mod resolution;
mod sources;
mod targets;
mod vcs;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use pyzap_artifact::{
    ArtifactEntry, DistRecord, EntrySource, Manifest, TargetRecord, WriteOptions,
};
use pyzap_index::{DistKind, IndexClient};
use pyzap_python::Interpreter;
use pyzap_spec::{PackageName, Requirement, Target};
use pyzap_wheel::{layout_wheel, Placement, Wheel};

use crate::cli::BuildArgs;
use crate::ui::Ui;
use pyzap_artifact::{Bundled, CompileJob, SITE_ZIP};

pub fn run(args: &BuildArgs, ui: &Ui) -> Result<()> {
    let cache = cache_dir()?;
    // Clones, unpacked sdists, build environments: under the cache, and
    // swept by the next build when this one is killed.
    let work = pyzap_fs::ScratchDir::new(&cache.join(WORK_DIR), "build-")?;
    let inputs = inputs::collect(args, work.path())?;
    let hash_check = hashes::HashCheck::from_inputs(&inputs, args.source.require_hashes)?;
    let standalone = crate::standalone::prepare(args, &cache, ui)?;
    let plan = targets::plan(args, standalone.as_ref())?;
    for t in &plan.targets {
        ui.step(&format!(
            "target: {}{}",
            t.target.describe(),
            t.compiler
                .as_ref()
                .map(|c| format!(" at {}", c.path.display()))
                .unwrap_or_default()
        ));
    }

    let find_links = index::client(args, &inputs, &cache)?;
    let locked = args.lock.as_deref().map(lockfile::read).transpose()?;
    let mut roots: Vec<Requirement> = inputs.requirements.clone();
    let mut top_level: Vec<PackageName> = Vec::new();
    for project in &inputs.projects {
        ui.step(&format!("building project {}", project.dir.display()));
        let wheel = sources::build_project(
            plan.builder()?,
            &find_links,
            &project.dir,
            &project.pyproject,
            work.path(),
            args.source.pre,
        )?;
        pin_local_wheel(&find_links, &wheel, &mut top_level, &mut roots)?;
    }
    for wheel in &inputs.wheel_files {
        pin_local_wheel(&find_links, wheel, &mut top_level, &mut roots)?;
    }
    top_level.extend(inputs.requirements.iter().map(|r| r.name.clone()));
    if let Some(lock) = &locked {
        top_level.extend(lock.roots().iter().cloned());
    }

    let fetch = FetchContext {
        locked: locked.as_ref(),
        hash_check: &hash_check,
        args,
        inputs: &inputs,
        find_links: &find_links,
        roots: &roots,
        plan: &plan,
        work: work.path(),
        cache: &cache,
        ui,
    };
    let mut per_target: Vec<Vec<Bundled>> = plan
        .targets
        .iter()
        .map(|t| fetch.resolve_and_fetch(&t.target))
        .collect::<Result<_>>()?;
    if let ([target], [bundled]) = (plan.targets.as_slice(), per_target.as_mut_slice()) {
        if target.compiler.is_none() && !args.no_compile {
            // Without bytecode, a zipped site would compile its imports at
            // every start; extracted, the first run compiles them once into
            // the cache (the bootstrap does, for a tree that lacks them).
            for b in bundled.iter_mut() {
                b.dist.placement = Placement::Extract;
            }
        }
    }

    let src = sources::collect_src(&args.src)?;
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
    let (entry_point, note) = entry::choose(&entry::EntryInputs {
        console_script: args.console_script.as_deref(),
        entry_point: args.entry_point.as_deref(),
        dists: &dists,
        top_level: &top_level,
        src_has_main: src.main.is_some(),
        importable: &importable,
    })?;
    if let Some(note) = note {
        ui.info(&note);
    }

    let mut entries: Vec<ArtifactEntry> = Vec::new();
    let mut extra_jobs = Vec::new();
    let bytes = |name: &str, data: &[u8]| ArtifactEntry {
        name: name.to_string(),
        source: EntrySource::Bytes(data.to_vec()),
        mode: 0o644,
    };
    let runtime_py = format!("{SITE_ZIP}/pyzap_runtime/__init__.py");
    entries.push(bytes(
        "__main__.py",
        pyzap_artifact::BOOTSTRAP_MAIN.as_bytes(),
    ));
    entries.push(bytes(
        &runtime_py,
        pyzap_artifact::RUNTIME_MODULE.as_bytes(),
    ));
    extra_jobs.push(job(
        "__main__.py",
        pyzap_artifact::BOOTSTRAP_MAIN.as_bytes(),
        "__main__.pyc",
    ));
    extra_jobs.push(job(
        &runtime_py,
        pyzap_artifact::RUNTIME_MODULE.as_bytes(),
        &format!("{SITE_ZIP}/pyzap_runtime/__init__.pyc"),
    ));
    for (name, data) in &src.files {
        entries.push(bytes(name, data));
        if let Some(stem) = name.strip_suffix(".py") {
            extra_jobs.push(job(name, data, &format!("{stem}.pyc")));
        }
    }
    if let Some(main) = &src.main {
        entries.push(bytes("__pyzap__/main.py", main));
    }
    let compilers: Vec<Option<TargetCompiler>> = plan
        .targets
        .iter()
        .map(|t| {
            t.compiler
                .as_ref()
                .filter(|_| !args.no_compile)
                .map(TargetCompiler)
        })
        .collect();
    let compile_with: Option<&dyn pyzap_artifact::BytecodeCompiler> = compilers
        .first()
        .and_then(|c| c.as_ref())
        .map(|c| c as &dyn pyzap_artifact::BytecodeCompiler);
    ui.step("writing the artifact");
    let manifest = if let [bundled] = per_target.as_slice() {
        let target = &plan.targets[0].target;
        if compile_with.is_none() {
            extra_jobs.clear();
            if !args.no_compile {
                ui.info(&format!(
                    "no bytecode: no Python {} to compile with, so the first run compiles it \
                     into its cache (give --python with one to precompile)",
                    target.version_string()
                ));
            }
        }
        pyzap_artifact::add_distributions(bundled, compile_with, &cache, extra_jobs, &mut entries)?;
        manifest(
            args,
            target,
            compile_with,
            bundled,
            entry_point,
            !src.files.is_empty(),
        )?
    } else {
        let layout = targets::MultiLayout {
            args,
            plan: &plan,
            compilers: &compilers,
            cache: &cache,
            ui,
        };
        layout.add(
            &per_target,
            extra_jobs,
            &mut entries,
            entry_point,
            !src.files.is_empty(),
        )?
    };
    let bundled_count = manifest.distributions.len();
    let timestamp = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(315_532_800);
    let write_opts = WriteOptions {
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
    };
    let count = match &standalone {
        Some(s) => s.write(
            &args.output,
            &manifest,
            entries,
            &write_opts,
            plan.builder()?,
            compile_with,
            &cache,
            ui,
        )?,
        None => pyzap_artifact::write_artifact(&args.output, &manifest, entries, &write_opts)?,
    };
    let size = fs_err::metadata(&args.output)?.len();
    ui.info(&format!(
        "built {}: {} distributions, {} entries, {:.1} MB, entry point {}",
        args.output.display(),
        bundled_count,
        count,
        size as f64 / 1e6,
        manifest.entry_point.describe()
    ));
    Ok(())
}

/// What resolving and fetching for one target needs.
struct FetchContext<'a> {
    locked: Option<&'a lockfile::LoadedLock>,
    hash_check: &'a hashes::HashCheck,
    args: &'a BuildArgs,
    inputs: &'a inputs::Inputs,
    find_links: &'a IndexClient,
    roots: &'a [Requirement],
    plan: &'a targets::Plan,
    work: &'a Path,
    cache: &'a Path,
    ui: &'a Ui,
}

impl FetchContext<'_> {
    /// Resolves the roots for `target` and returns its wheels, laid out.
    fn resolve_and_fetch(&self, target: &Target) -> Result<Vec<Bundled>> {
        let (args, inputs, find_links, roots, ui) =
            (self.args, self.inputs, self.find_links, self.roots, self.ui);
        let cache = self.cache;
        // Nothing can be built for an interpreter that is not here.
        let allow_sdists = !args.source.no_build && !self.plan.cross;
        let (files, lock_check);
        let hash_check = match self.locked {
            Some(lock) => {
                files = lock.files_for(target, allow_sdists, &inputs.formats)?;
                lock_check = hashes::HashCheck::from_lock(&files);
                &lock_check
            }
            None => {
                files = resolution::resolve_files(
                    args,
                    inputs,
                    target,
                    find_links,
                    roots,
                    allow_sdists,
                    ui,
                )?;
                self.hash_check
            }
        };
        let downloaded = download(find_links, &files, ui)?;
        let original_sha256s = hash_check.verify(&files, &downloaded)?;
        let mut bundled = Vec::new();
        for ((file, path), original_sha256) in files.iter().zip(downloaded).zip(original_sha256s) {
            let wheel_path = match &file.kind {
                DistKind::Wheel(_) => path.clone(),
                DistKind::Sdist => {
                    ui.step(&format!("building {} from source", file.filename));
                    sources::build_sdist(
                        self.plan.builder()?,
                        find_links,
                        &path,
                        self.work,
                        args.source.pre,
                    )?
                }
            };
            let sha256 = match &file.kind {
                DistKind::Wheel(_) => original_sha256,
                DistKind::Sdist => pyzap_fs::sha256_file(&wheel_path)?,
            };
            let wheel = Wheel::open(&wheel_path)?;
            verify_once(&wheel, &sha256, cache)?;
            bundled.push(Bundled {
                dist: layout_wheel(&wheel),
                sha256,
            });
        }
        pyzap_artifact::unify_placement(&mut bundled);
        Ok(bundled)
    }
}

/// Every chosen file on disk, downloaded in parallel into the cache.
fn download(index: &IndexClient, files: &[pyzap_index::DistFile], ui: &Ui) -> Result<Vec<PathBuf>> {
    let remote = files.iter().filter(|f| f.local_path().is_none()).count();
    if remote > 0 {
        ui.step(&format!("fetching {remote} files"));
    }
    index
        .download_all(files, 8, &ui.download_reporter())
        .into_iter()
        .map(|r| r.map_err(anyhow::Error::new))
        .collect()
}

/// Offers a local wheel (given, or built from a project) as the only source
/// of its project, and requires exactly that version as a root.
pub(crate) fn pin_local_wheel(
    find_links: &IndexClient,
    wheel: &Path,
    top_level: &mut Vec<PackageName>,
    roots: &mut Vec<Requirement>,
) -> Result<()> {
    let file = find_links
        .add_file(wheel)
        .with_context(|| format!("{} is not named like a wheel", wheel.display()))?;
    roots.push(pyzap_spec::parse_requirement(&format!(
        "{}=={}",
        file.name, file.version
    ))?);
    top_level.push(file.name);
    Ok(())
}

/// Bytecode compiled by the target interpreter, one process per core.
pub struct TargetCompiler<'a>(&'a Interpreter);

impl pyzap_artifact::BytecodeCompiler for TargetCompiler<'_> {
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
    ) -> Result<Vec<Option<Vec<u8>>>, Box<dyn std::error::Error + Send + Sync>> {
        let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(pyzap_python::compile_sources(&self.0.path, sources, jobs)?)
    }
}

/// A resolution failure with its hints, or a provider failure with its cause chain.
pub fn resolve_error(e: pyzap_resolve::ResolveError) -> anyhow::Error {
    if e.hints().is_empty() {
        return anyhow::Error::new(e);
    }
    let hints: Vec<String> = e.hints().iter().map(|h| format!("\nhint: {h}")).collect();
    anyhow::anyhow!("{e}{}", hints.concat())
}

fn job(co_filename: &str, source: &[u8], dest: &str) -> CompileJob {
    CompileJob {
        co_filename: co_filename.to_string(),
        source: source.to_vec(),
        dest: dest.to_string(),
    }
}

/// Content-addressed: the extracted tree is a function of these wheels, the
/// bytecode tag and the layout rules of this format.
fn extract_hash(
    bundled: &[&Bundled],
    compiler: Option<&dyn pyzap_artifact::BytecodeCompiler>,
) -> Option<String> {
    let extracted: Vec<&&Bundled> = bundled
        .iter()
        .filter(|b| b.dist.placement == Placement::Extract)
        .collect();
    (!extracted.is_empty()).then(|| {
        let mut key = format!("pyzap-extract-{}\n", pyzap_artifact::FORMAT);
        if let Some(c) = compiler {
            key.push_str(&format!("{} {}\n", c.cache_tag(), c.identity()));
        }
        for b in &extracted {
            key.push_str(&format!("{} {}\n", b.dist.filename, b.sha256));
        }
        pyzap_fs::sha256_hex(key.as_bytes())[..32].to_string()
    })
}

/// Does a wheel hold code compiled for one interpreter ABI?
fn is_native(b: &Bundled) -> bool {
    b.dist
        .filename
        .parse::<pyzap_spec::WheelFilename>()
        .map(|w| w.abi_tags.iter().any(|a| a != "none"))
        .unwrap_or(false)
}

fn target_record(target: &Target) -> TargetRecord {
    let facts = &target.facts;
    TargetRecord {
        python: target.version_string(),
        python_full_version: facts.python_full_version.clone(),
        cache_tag: facts.cache_tag.clone(),
        abi: format!("cp{}{}{}", target.major, target.minor, facts.abiflags),
        platform: target
            .tags
            .iter()
            .next()
            .map(|t| t.platform.clone())
            .unwrap_or_default(),
    }
}

fn manifest(
    args: &BuildArgs,
    target: &Target,
    compiler: Option<&dyn pyzap_artifact::BytecodeCompiler>,
    bundled: &[Bundled],
    entry_point: pyzap_artifact::EntryPointRecord,
    src: bool,
) -> Result<Manifest> {
    let all: Vec<&Bundled> = bundled.iter().collect();
    let extract_hash = extract_hash(&all, compiler);
    let native = bundled.iter().any(is_native);
    let mut pth = Vec::new();
    for b in bundled {
        for p in &b.dist.pth_files {
            pth.push(format!("{}:{p}", b.dist.placement.as_str()));
        }
    }
    let shebang = if args.shebang.starts_with("#!") {
        args.shebang.clone()
    } else {
        format!("#!{}", args.shebang)
    };
    Ok(Manifest {
        format: pyzap_artifact::FORMAT,
        pyzap_version: env!("CARGO_PKG_VERSION").to_string(),
        entry_point,
        target: target_record(target),
        shebang,
        native,
        extract_hash,
        bytecode: compiler.map(|c| c.cache_tag().to_string()),
        distributions: bundled.iter().map(dist_record).collect(),
        pth,
        src,
        no_compile: args.no_compile,
        targets: Vec::new(),
    })
}

fn dist_record(b: &Bundled) -> DistRecord {
    DistRecord {
        name: b.dist.name.to_string(),
        version: b.dist.version.to_string(),
        filename: b.dist.filename.clone(),
        sha256: b.sha256.clone(),
        placement: b.dist.placement.as_str().to_string(),
        extract_reason: b.dist.extract_reason.clone(),
    }
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

/// The build cache: `$PYZAP_CACHE_DIR`, else `$XDG_CACHE_HOME/pyzap`, else `~/.cache/pyzap`.
/// The builds' scratch space inside the build cache.
pub const WORK_DIR: &str = "work";

pub fn cache_dir() -> Result<PathBuf> {
    let dir = if let Some(d) = std::env::var_os("PYZAP_CACHE_DIR").filter(|d| !d.is_empty()) {
        PathBuf::from(d)
    } else if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        PathBuf::from(d).join("pyzap")
    } else if let Some(home) = std::env::var_os("HOME") {
        PathBuf::from(home).join(".cache/pyzap")
    } else {
        bail!("cannot find a cache directory\nhint: set PYZAP_CACHE_DIR")
    };
    pyzap_fs::ensure_private_dir(&dir)
        .with_context(|| format!("preparing the build cache {}", dir.display()))
        .map_err(|e| e.context("hint: set PYZAP_CACHE_DIR to a private, writable directory"))?;
    Ok(dir)
}
