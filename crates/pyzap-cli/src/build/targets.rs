//! Which targets a build is for, and the layout of an artifact built for
//! several of them.
//!
//! Without `--python-version`/`--platform` the target is the interpreter of
//! `--python` (or the `--python-dist`), as always. With them, each version ×
//! platform is a target synthesised by `Target::cross`: resolved on its own,
//! from wheels only (nothing can be built for an interpreter that is not
//! here). `--python` then only helps: it runs PEP 517 builds of local
//! projects, supplies the build machine's platform when no `--platform` is
//! given, and precompiles the bytecode of a target of its own version.
//!
//! Several targets make a format-2 artifact: wheels used by every target and
//! placed in the zip are shared in `site-packages/`; everything else lives
//! under `__pyzap__/targets/<name>/`, and the bootstrap picks the target of
//! the running interpreter (docs/artifact-format.md).

use std::cell::OnceCell;
use std::path::Path;

use anyhow::{bail, Context, Result};
use pyzap_artifact::{
    add_distributions, ArtifactEntry, Bundled, BytecodeCompiler, CompileJob, EntryPointRecord,
    Manifest, TargetSection, SITE_EXTRACT, SITE_ZIP, TARGETS_DIR,
};
use pyzap_python::Interpreter;
use pyzap_spec::{PlatformTag, Target};
use pyzap_wheel::Placement;

use super::{dist_record, extract_hash, manifest, target_record, TargetCompiler};
use crate::cli::BuildArgs;
use crate::standalone::Standalone;
use crate::ui::Ui;

pub struct TargetPlan {
    pub target: Target,
    /// An interpreter of the target's version, to compile bytecode with.
    pub compiler: Option<Interpreter>,
}

pub struct Plan {
    pub targets: Vec<TargetPlan>,
    /// True for `--python-version`/`--platform` builds: wheels only.
    pub cross: bool,
    /// The build machine's interpreter, probed when first needed.
    host: OnceCell<Interpreter>,
}

impl Plan {
    /// The interpreter that runs PEP 517 builds (and, for `--standalone`,
    /// is the target): `--python`, else `python3`.
    pub fn builder(&self) -> Result<&Interpreter> {
        if let Some(h) = self.host.get() {
            return Ok(h);
        }
        let python = Interpreter::find("python3")
            .context("building a local project needs a Python on the build machine")
            .context("hint: give --python")?;
        Ok(self.host.get_or_init(|| python))
    }
}

pub fn plan(args: &BuildArgs, standalone: Option<&Standalone>) -> Result<Plan> {
    if args.python_versions.is_empty() && args.platforms.is_empty() {
        let python = match standalone {
            Some(s) => s.interpreter()?,
            None => Interpreter::find(args.source.python.as_deref().unwrap_or("python3"))?,
        };
        return Ok(Plan {
            targets: vec![TargetPlan {
                target: python.target.clone(),
                compiler: Some(python.clone()),
            }],
            cross: false,
            host: OnceCell::from(python),
        });
    }
    let platforms = args
        .platforms
        .iter()
        .map(|p| p.parse::<PlatformTag>())
        .collect::<Result<Vec<_>, _>>()?;
    // The build machine's interpreter: --python when given; python3 when
    // the version or the platform must come from it.
    let need_host = platforms.is_empty() || args.python_versions.is_empty();
    let host = match args.source.python.as_deref() {
        Some(p) => Some(Interpreter::find(p)?),
        None if need_host => Some(Interpreter::find("python3").context(
            "without --platform (or --python-version) the target takes the build machine's Python\nhint: give both --python-version and --platform",
        )?),
        None => None,
    };
    let versions = if args.python_versions.is_empty() {
        vec![host
            .as_ref()
            .expect("probed")
            .target
            .facts
            .python_full_version
            .clone()]
    } else {
        args.python_versions.clone()
    };
    let platforms: Vec<Option<&PlatformTag>> = if platforms.is_empty() {
        vec![None]
    } else {
        platforms.iter().map(Some).collect()
    };
    let mut targets: Vec<TargetPlan> = Vec::new();
    for version in &versions {
        for platform in &platforms {
            let host_facts = host.as_ref().map(|h| &h.target.facts);
            let mut target = Target::cross(version, *platform, host_facts)?;
            let compiler = host
                .as_ref()
                .filter(|h| {
                    (h.target.major, h.target.minor, &h.target.facts.abiflags)
                        == (target.major, target.minor, &target.facts.abiflags)
                })
                .cloned();
            if let Some(c) = &compiler {
                if platform.is_none() {
                    // The build machine's own Python version: its real facts.
                    target = c.target.clone();
                }
                target.facts.pyc_magic = c.target.facts.pyc_magic.clone();
            }
            if targets.iter().any(|t| t.target.name() == target.name()) {
                continue;
            }
            targets.push(TargetPlan { target, compiler });
        }
    }
    if targets.len() > 1 && args.standalone {
        bail!("a standalone executable bundles one CPython: it cannot have several targets");
    }
    Ok(Plan {
        targets,
        cross: true,
        host: host.map(OnceCell::from).unwrap_or_default(),
    })
}

/// Lays out the entries and manifest of a multi-target artifact.
pub struct MultiLayout<'a> {
    pub args: &'a BuildArgs,
    pub plan: &'a Plan,
    pub compilers: &'a [Option<TargetCompiler<'a>>],
    pub cache: &'a Path,
    pub ui: &'a Ui,
}

impl MultiLayout<'_> {
    pub fn add(
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
            self.args,
            &self.plan.targets[0].target,
            shared_compiler,
            &shared,
            entry_point,
            src,
        )?;
        manifest.format = pyzap_artifact::FORMAT_MULTI;
        manifest.native = true;
        manifest.distributions.clear();
        for ((tp, bundled), compiler) in
            self.plan.targets.iter().zip(per_target).zip(self.compilers)
        {
            let target = &tp.target;
            let name = target.name();
            let own: Vec<Bundled> = bundled
                .iter()
                .filter(|b| !shared_in(b))
                .map(clone_bundled)
                .collect();
            let compiler = compiler.as_ref().map(|c| c as &dyn BytecodeCompiler);
            if compiler.is_none() && !self.args.no_compile {
                self.ui.info(&format!(
                    "{name}: no bytecode (no Python {} to compile with)",
                    target.version_string()
                ));
            }
            let mut own_entries = Vec::new();
            add_distributions(&own, compiler, self.cache, Vec::new(), &mut own_entries)?;
            let base = format!("{TARGETS_DIR}/{name}");
            for mut e in own_entries {
                e.name = relocate(&e.name, &base);
                entries.push(e);
            }
            let own_refs: Vec<&Bundled> = own.iter().collect();
            let has_zip = own.iter().any(|b| b.dist.placement == Placement::Zip);
            let mut pth = Vec::new();
            for b in &own {
                for p in &b.dist.pth_files {
                    pth.push(format!("{}:{p}", b.dist.placement.as_str()));
                }
            }
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
            for b in bundled {
                if !manifest
                    .distributions
                    .iter()
                    .any(|d| d.filename == b.dist.filename)
                {
                    manifest.distributions.push(dist_record(b));
                }
            }
            manifest.targets.push(TargetSection {
                name: name.clone(),
                target: target_record(target),
                machine: target.facts.platform_machine.clone(),
                libc,
                site_zip: has_zip.then(|| format!("{base}/{SITE_ZIP}")),
                extract_hash: extract_hash(&own_refs, compiler),
                bytecode: compiler.map(|c| c.cache_tag().to_string()),
                distributions: bundled.iter().map(|b| b.dist.filename.clone()).collect(),
                pth,
            });
        }
        Ok(manifest)
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
