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
//! Several targets make a format-2 artifact (laid out by `pyzap-artifact`'s
//! `SiteTree`).
//!
//! A standalone executable has one target: its CPython's. Without
//! `--platform` that is the distribution's interpreter, probed here. With
//! `--platform` it is synthesised for the distribution's version on that
//! platform, and compiled by the distribution's interpreter when it runs
//! here, else by one of the build machine's of the same minor version
//! (`--python`, `python3.X`, `python3`), else not at all (the first run
//! compiles into its cache, as for a cross `.pyz`).

use std::cell::OnceCell;

use pyzap_python::Interpreter;
use pyzap_spec::{PlatformTag, Target};

use super::standalone::Standalone;
use crate::{BundleError, BundleOptions, Result};

pub(crate) struct TargetPlan {
    pub target: Target,
    /// An interpreter of the target's version, to compile bytecode with.
    pub compiler: Option<Interpreter>,
}

pub(crate) struct Plan {
    pub targets: Vec<TargetPlan>,
    /// True for `--python-version`/`--platform` builds: wheels only.
    pub cross: bool,
    /// The build machine's interpreter, probed when first needed.
    host: OnceCell<Interpreter>,
}

impl Plan {
    /// The interpreter that runs PEP 517 builds (and, for `--standalone`,
    /// is the target): `--python`, else `python3`.
    pub(crate) fn builder(&self) -> Result<&Interpreter> {
        if let Some(h) = self.host.get() {
            return Ok(h);
        }
        let python =
            Interpreter::find("python3").map_err(|source| BundleError::NoBuildPython { source })?;
        Ok(self.host.get_or_init(|| python))
    }
}

/// The targets of a build: the interpreter of `--python` (or of the
/// standalone distribution), or each `--python-version` × `--platform`.
pub(crate) fn plan(options: &BundleOptions, standalone: Option<&Standalone>) -> Result<Plan> {
    if let Some(s) = standalone {
        if options.python_versions.len() > 1 || options.platforms.len() > 1 {
            return Err(BundleError::StandaloneTargets);
        }
        if let Some(platform) = options.platforms.first() {
            return plan_standalone_cross(options, s, &platform.parse()?);
        }
    } else if !options.python_versions.is_empty() || !options.platforms.is_empty() {
        return plan_cross(
            options.source.python.as_deref(),
            &options.python_versions,
            &options.platforms,
        );
    }
    // A standalone build without --platform: its CPython (chosen for
    // --python-version, if given) runs here and is the target.
    let python = match standalone {
        Some(s) => s.interpreter()?,
        None => Interpreter::find(options.source.python.as_deref().unwrap_or("python3"))?,
    };
    Ok(Plan {
        targets: vec![TargetPlan {
            target: python.target.clone(),
            compiler: Some(python.clone()),
        }],
        cross: false,
        host: OnceCell::from(python),
    })
}

/// The target of a standalone executable for `--platform`: the
/// distribution's version there, compiled by the distribution's own
/// interpreter when it runs here, else by the build machine's of its
/// minor version.
fn plan_standalone_cross(
    options: &BundleOptions,
    standalone: &Standalone,
    platform: &PlatformTag,
) -> Result<Plan> {
    // The distribution's interpreter does not run here when it is built
    // for another architecture: a chosen one is planned from its version.
    let (version, own) = match standalone.version() {
        Some(v) => (v.to_string(), standalone.interpreter().ok()),
        None => {
            let python = standalone.interpreter()?;
            (
                python.target.facts.python_full_version.clone(),
                Some(python),
            )
        }
    };
    let mut target = Target::cross(&version, Some(platform), None)?;
    let same_version = |python: &Interpreter| {
        (
            python.target.major,
            python.target.minor,
            &python.target.facts.abiflags,
        ) == (target.major, target.minor, &target.facts.abiflags)
    };
    let compiler = own.filter(same_version).or_else(|| {
        let names = match options.source.python.as_deref() {
            Some(python) => vec![python.to_string()],
            None => vec![format!("python3.{}", target.minor), "python3".to_string()],
        };
        names
            .iter()
            .filter_map(|name| Interpreter::find(name).ok())
            .find(same_version)
    });
    if let Some(c) = &compiler {
        target.facts.pyc_magic = c.target.facts.pyc_magic.clone();
    }
    Ok(Plan {
        host: compiler.clone().map(OnceCell::from).unwrap_or_default(),
        targets: vec![TargetPlan { target, compiler }],
        cross: true,
    })
}

/// Targets synthesised by `Target::cross`, each compiled by the build
/// machine's interpreter (`python`, else `python3` when it must supply the
/// version or the platform) when it is of the target's version. `pyzap
/// lock` plans its targets here too.
pub(crate) fn plan_cross(
    python: Option<&str>,
    python_versions: &[String],
    platforms: &[String],
) -> Result<Plan> {
    let platforms = platforms
        .iter()
        .map(|p| p.parse::<PlatformTag>())
        .collect::<Result<Vec<_>, _>>()?;
    // The build machine's interpreter: --python when given; python3 when
    // the version or the platform must come from it.
    let need_host = platforms.is_empty() || python_versions.is_empty();
    let host = match python {
        Some(p) => Some(Interpreter::find(p)?),
        None if need_host => Some(
            Interpreter::find("python3").map_err(|source| BundleError::NoHostPython { source })?,
        ),
        None => None,
    };
    let versions = if python_versions.is_empty() {
        vec![host
            .as_ref()
            .expect("probed")
            .target
            .facts
            .python_full_version
            .clone()]
    } else {
        python_versions.to_vec()
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
    Ok(Plan {
        targets,
        cross: true,
        host: host.map(OnceCell::from).unwrap_or_default(),
    })
}
