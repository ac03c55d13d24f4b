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
    if !options.python_versions.is_empty() || !options.platforms.is_empty() {
        return plan_cross(options);
    }
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

/// Targets synthesised by `Target::cross`, each compiled by the build
/// machine's interpreter when it is of the target's version.
fn plan_cross(options: &BundleOptions) -> Result<Plan> {
    let platforms = options
        .platforms
        .iter()
        .map(|p| p.parse::<PlatformTag>())
        .collect::<Result<Vec<_>, _>>()?;
    // The build machine's interpreter: --python when given; python3 when
    // the version or the platform must come from it.
    let need_host = platforms.is_empty() || options.python_versions.is_empty();
    let host = match options.source.python.as_deref() {
        Some(p) => Some(Interpreter::find(p)?),
        None if need_host => Some(
            Interpreter::find("python3").map_err(|source| BundleError::NoHostPython { source })?,
        ),
        None => None,
    };
    let versions = if options.python_versions.is_empty() {
        vec![host
            .as_ref()
            .expect("probed")
            .target
            .facts
            .python_full_version
            .clone()]
    } else {
        options.python_versions.clone()
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
    if targets.len() > 1 && options.standalone.is_some() {
        return Err(BundleError::StandaloneTargets);
    }
    Ok(Plan {
        targets,
        cross: true,
        host: host.map(OnceCell::from).unwrap_or_default(),
    })
}
