//! The artifact's contents: the bootstrap and `--src` entries, each target's
//! distributions (with their bytecode), the manifest and the extract key.
//!
//! One target makes a format-1 artifact. Several make a format-2 artifact:
//! wheels used by every target and placed in the zip are shared in
//! `site-packages/`; everything else lives under `__pyzap__/targets/<name>/`,
//! and the bootstrap picks the target of the running interpreter
//! (docs/artifact-format.md). These are rules of the artifact format, set to
//! move into `pyzap-artifact` with its site-tree value (issue 10, item 2).

use std::path::Path;

use pyzap_artifact::{
    add_distributions, ArtifactEntry, Bundled, BytecodeCompiler, CompileJob, DistRecord,
    EntryPointRecord, EntrySource, Manifest, TargetRecord, TargetSection, SITE_EXTRACT, SITE_ZIP,
    TARGETS_DIR,
};
use pyzap_spec::{PlatformTag, Target};
use pyzap_wheel::Placement;

use super::sources::Src;
use super::targets::TargetPlan;
use super::TargetCompiler;
use crate::{BundleOptions, Reporter, Result};

/// Lays out an artifact's entries and manifest for its targets.
pub struct Layout<'a> {
    pub options: &'a BundleOptions,
    pub targets: &'a [TargetPlan],
    /// Per target: the interpreter that compiles its bytecode, if any.
    pub compilers: &'a [Option<TargetCompiler<'a>>],
    pub cache: &'a Path,
    pub reporter: &'a dyn Reporter,
}

impl Layout<'_> {
    /// The manifest and entries of an artifact holding each target's
    /// wheels (`per_target`, in the order of `targets`), `src` and `entry_point`.
    pub fn lay_out(
        &self,
        per_target: &[Vec<Bundled>],
        src: &Src,
        entry_point: EntryPointRecord,
    ) -> Result<(Manifest, Vec<ArtifactEntry>)> {
        let (mut entries, extra_jobs) = base_entries(src);
        let has_src = !src.files.is_empty();
        let manifest = match per_target {
            [bundled] => self.single(bundled, extra_jobs, &mut entries, entry_point, has_src)?,
            _ => self.multi(per_target, extra_jobs, &mut entries, entry_point, has_src)?,
        };
        Ok((manifest, entries))
    }

    /// The compiler of the first target: a single target's, or the one
    /// used for everything a multi-target artifact shares.
    pub fn compile_with(&self) -> Option<&dyn BytecodeCompiler> {
        self.compilers
            .first()
            .and_then(|c| c.as_ref())
            .map(|c| c as &dyn BytecodeCompiler)
    }

    fn single(
        &self,
        bundled: &[Bundled],
        mut extra_jobs: Vec<CompileJob>,
        entries: &mut Vec<ArtifactEntry>,
        entry_point: EntryPointRecord,
        src: bool,
    ) -> Result<Manifest> {
        let target = &self.targets[0].target;
        let compiler = self.compile_with();
        if compiler.is_none() {
            extra_jobs.clear();
            if !self.options.no_compile {
                self.reporter.info(&format!(
                    "no bytecode: no Python {} to compile with, so the first run compiles it \
                     into its cache (give --python with one to precompile)",
                    target.version_string()
                ));
            }
        }
        add_distributions(bundled, compiler, self.cache, extra_jobs, entries)?;
        Ok(manifest(
            self.options,
            default_shebang([target]),
            target,
            compiler,
            bundled,
            entry_point,
            src,
        ))
    }

    fn multi(
        &self,
        per_target: &[Vec<Bundled>],
        extra_jobs: Vec<CompileJob>,
        entries: &mut Vec<ArtifactEntry>,
        entry_point: EntryPointRecord,
        src: bool,
    ) -> Result<Manifest> {
        // Shared: zipped wheels every target uses (same file, same sha256).
        let shared_in = |b: &Bundled| {
            b.dist.placement == Placement::Zip
                && per_target
                    .iter()
                    .all(|t| t.iter().any(|o| o.sha256 == b.sha256))
        };
        let shared: Vec<Bundled> = per_target[0]
            .iter()
            .filter(|b| shared_in(b))
            .map(clone_bundled)
            .collect();
        // Shared bytecode is compiled by the first target that has a compiler;
        // other versions ignore it (another magic number) and use the sources.
        let shared_compiler = self
            .compilers
            .iter()
            .flatten()
            .next()
            .map(|c| c as &dyn BytecodeCompiler);
        let extra_jobs = if shared_compiler.is_some() {
            extra_jobs
        } else {
            Vec::new()
        };
        add_distributions(&shared, shared_compiler, self.cache, extra_jobs, entries)?;
        let mut manifest = manifest(
            self.options,
            default_shebang(self.targets.iter().map(|t| &t.target)),
            &self.targets[0].target,
            shared_compiler,
            &shared,
            entry_point,
            src,
        );
        manifest.format = pyzap_artifact::FORMAT_MULTI;
        manifest.native = true;
        manifest.distributions.clear();
        // Each target's part is chosen by its own cache tag; one combined
        // bound over several Python versions would refuse some of them.
        manifest.requires_python = None;
        manifest.abi3 = None;
        manifest.machine = None;
        for ((tp, bundled), compiler) in self.targets.iter().zip(per_target).zip(self.compilers) {
            let own: Vec<Bundled> = bundled
                .iter()
                .filter(|b| !shared_in(b))
                .map(clone_bundled)
                .collect();
            let compiler = compiler.as_ref().map(|c| c as &dyn BytecodeCompiler);
            let section = self.add_target(&tp.target, bundled, &own, compiler, entries)?;
            for b in bundled {
                if !manifest
                    .distributions
                    .iter()
                    .any(|d| d.filename == b.dist.filename)
                {
                    manifest.distributions.push(dist_record(b));
                }
            }
            manifest.targets.push(section);
        }
        Ok(manifest)
    }

    /// Adds one target's own wheels under `__pyzap__/targets/<name>/`; its
    /// manifest section.
    fn add_target(
        &self,
        target: &Target,
        bundled: &[Bundled],
        own: &[Bundled],
        compiler: Option<&dyn BytecodeCompiler>,
        entries: &mut Vec<ArtifactEntry>,
    ) -> Result<TargetSection> {
        let name = target.name();
        if compiler.is_none() && !self.options.no_compile {
            self.reporter.info(&format!(
                "{name}: no bytecode (no Python {} to compile with)",
                target.version_string()
            ));
        }
        let mut own_entries = Vec::new();
        add_distributions(own, compiler, self.cache, Vec::new(), &mut own_entries)?;
        let base = format!("{TARGETS_DIR}/{name}");
        for mut e in own_entries {
            e.name = relocate(&e.name, &base);
            entries.push(e);
        }
        let own_refs: Vec<&Bundled> = own.iter().collect();
        let has_zip = own.iter().any(|b| b.dist.placement == Placement::Zip);
        let libc = match &target.facts.libc {
            (kind, version) if !kind.is_empty() => {
                // The newest glibc any chosen wheel needs, not the tag's.
                format!(
                    "{kind} {}",
                    min_libc(bundled, target).unwrap_or(version.clone())
                )
            }
            _ => String::new(),
        };
        Ok(TargetSection {
            name: name.clone(),
            target: target_record(target),
            machine: target.facts.platform_machine.clone(),
            libc,
            site_zip: has_zip.then(|| format!("{base}/{SITE_ZIP}")),
            extract_hash: extract_hash(&own_refs, compiler),
            bytecode: compiler.map(|c| c.cache_tag().to_string()),
            distributions: bundled.iter().map(|b| b.dist.filename.clone()).collect(),
            pth: pth_lines(own),
        })
    }
}

/// The bootstrap, the runtime module and the `--src` files, with the
/// compile jobs of their sources.
fn base_entries(src: &Src) -> (Vec<ArtifactEntry>, Vec<CompileJob>) {
    let mut entries: Vec<ArtifactEntry> = Vec::new();
    let mut jobs = Vec::new();
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
    jobs.push(job(
        "__main__.py",
        pyzap_artifact::BOOTSTRAP_MAIN.as_bytes(),
        "__main__.pyc",
    ));
    jobs.push(job(
        &runtime_py,
        pyzap_artifact::RUNTIME_MODULE.as_bytes(),
        &format!("{SITE_ZIP}/pyzap_runtime/__init__.pyc"),
    ));
    for (name, data) in &src.files {
        entries.push(bytes(name, data));
        if let Some(stem) = name.strip_suffix(".py") {
            jobs.push(job(name, data, &format!("{stem}.pyc")));
        }
    }
    if let Some(main) = &src.main {
        entries.push(bytes("__pyzap__/main.py", main));
    }
    (entries, jobs)
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
fn extract_hash(bundled: &[&Bundled], compiler: Option<&dyn BytecodeCompiler>) -> Option<String> {
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

/// When every native wheel is a CPython stable-ABI wheel (`cp3X-abi3`), the
/// lowest version that loads them all (the highest `cp3X` among them).
fn abi3_floor(bundled: &[Bundled]) -> Option<String> {
    let mut floor: Option<(u32, u32)> = None;
    for b in bundled.iter().filter(|b| is_native(b)) {
        let wheel = b.dist.filename.parse::<pyzap_spec::WheelFilename>().ok()?;
        if !wheel.abi_tags.iter().all(|a| a == "abi3" || a == "none") {
            return None;
        }
        let lowest = wheel
            .python_tags
            .iter()
            .filter_map(|t| t.strip_prefix("cp"))
            .filter_map(|v| {
                let (major, minor) = v.split_at(1);
                Some((major.parse().ok()?, minor.parse().ok()?))
            })
            .min()?;
        floor = floor.max(Some(lowest));
    }
    floor.map(|(major, minor)| format!("{major}.{minor}"))
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

/// `placement:file.pth` for every `.pth` file of `bundled`.
fn pth_lines(bundled: &[Bundled]) -> Vec<String> {
    let mut pth = Vec::new();
    for b in bundled {
        for p in &b.dist.pth_files {
            pth.push(format!("{}:{p}", b.dist.placement.as_str()));
        }
    }
    pth
}

/// `#!/usr/bin/env python3.X` when every target is CPython 3.X, so the
/// artifact does not run under whatever `python3` is first on `PATH` (an
/// artifact for 3.11 under 3.9 would fail deep inside a dependency);
/// `python3` for targets of several versions (each picks its own part).
fn default_shebang<'t>(targets: impl IntoIterator<Item = &'t Target>) -> String {
    let mut versions: Vec<(u32, u32)> = targets.into_iter().map(|t| (t.major, t.minor)).collect();
    versions.sort_unstable();
    versions.dedup();
    match versions.as_slice() {
        [(major, minor)] => format!("#!/usr/bin/env python{major}.{minor}"),
        _ => "#!/usr/bin/env python3".to_string(),
    }
}

/// The bundle's `Requires-Python`: every distribution's, joined (an AND).
fn combined_requires_python(bundled: &[Bundled]) -> Option<String> {
    let mut specs: Vec<&str> = Vec::new();
    for b in bundled {
        if let Some(spec) = b.dist.requires_python.as_deref().map(str::trim) {
            for clause in spec.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                if !specs.contains(&clause) {
                    specs.push(clause);
                }
            }
        }
    }
    (!specs.is_empty()).then(|| specs.join(", "))
}

fn manifest(
    options: &BundleOptions,
    default_shebang: String,
    target: &Target,
    compiler: Option<&dyn BytecodeCompiler>,
    bundled: &[Bundled],
    entry_point: EntryPointRecord,
    src: bool,
) -> Manifest {
    let all: Vec<&Bundled> = bundled.iter().collect();
    let native = bundled.iter().any(is_native);
    let shebang = match &options.shebang {
        Some(given) if given.starts_with("#!") => given.clone(),
        Some(given) => format!("#!{given}"),
        None => default_shebang,
    };
    Manifest {
        format: pyzap_artifact::FORMAT,
        pyzap_version: env!("CARGO_PKG_VERSION").to_string(),
        entry_point,
        target: target_record(target),
        shebang,
        native,
        extract_hash: extract_hash(&all, compiler),
        bytecode: compiler.map(|c| c.cache_tag().to_string()),
        distributions: bundled.iter().map(dist_record).collect(),
        pth: pth_lines(bundled),
        src,
        no_compile: options.no_compile,
        requires_python: combined_requires_python(bundled),
        abi3: abi3_floor(bundled),
        machine: native
            .then(|| target.facts.platform_machine.clone())
            .filter(|m| !m.is_empty()),
        targets: Vec::new(),
    }
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

fn clone_bundled(b: &Bundled) -> Bundled {
    Bundled {
        dist: b.dist.clone(),
        sha256: b.sha256.clone(),
    }
}

/// `site-packages/x` → `<base>/site-packages/x`, `__pyzap__/extract/x` → `<base>/extract/x`.
fn relocate(name: &str, base: &str) -> String {
    if let Some(rest) = name.strip_prefix(&format!("{SITE_EXTRACT}/")) {
        format!("{base}/extract/{rest}")
    } else if name.starts_with("__pyzap__/data/") {
        name.to_string()
    } else {
        format!("{base}/{name}")
    }
}

/// The libc version a target's wheels need: for each wheel, the oldest
/// manylinux/musllinux version among its tags the target accepts; the
/// newest of those over all wheels. `None` when no wheel is platform-specific.
fn min_libc(bundled: &[Bundled], target: &Target) -> Option<String> {
    let mut need: Option<(u32, u32)> = None;
    for b in bundled {
        let Ok(w) = b.dist.filename.parse::<pyzap_spec::WheelFilename>() else {
            continue;
        };
        let wheel_min = w
            .tags()
            .filter(|t| target.tags.rank(t).is_some())
            .filter_map(|t| libc_version_of(&t.platform))
            .min();
        if let Some(v) = wheel_min {
            need = Some(need.map_or(v, |n| n.max(v)));
        }
    }
    need.map(|(a, b)| format!("{a}.{b}"))
}

fn libc_version_of(platform: &str) -> Option<(u32, u32)> {
    let tag: PlatformTag = platform.parse().ok()?;
    tag.libc.map(|(_, v)| v)
}
