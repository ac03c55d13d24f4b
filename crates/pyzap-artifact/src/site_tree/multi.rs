//! The format-2 layout, for several targets (docs/artifact-format.md,
//! "Several targets"): wheels that every target chose (same file, same
//! sha256) are shared in one unpacked tree (`__pyzap__/extract.zip`, with
//! the runtime module and bytecode for every target's interpreter side by
//! side in `__pycache__/`); everything else lives under
//! `__pyzap__/targets/<name>/`, and the bootstrap picks the target of the
//! running interpreter from the manifest's sections and adds its own tree
//! before the shared one.

use pyzap_spec::Target;
use pyzap_wheel::Placement;

use super::{manifest, tree_jobs, Result, SiteTreeInputs};
use crate::compat::{shebang, target_libc};
use crate::extract_key::extract_hash;
use crate::manifest::pth_lines;
use crate::site::{add_distributions, CompileJob};
use crate::{
    ArtifactEntry, Bundled, BytecodeCompiler, DistRecord, Manifest, TargetRecord, TargetSection,
    DATA_DIR, FORMAT_MULTI, SITE_EXTRACT, SITE_ZIP, TARGETS_DIR,
};

/// Adds the shared part and each target's own to `entries` (after the base
/// entries, which `extra_jobs` compile); the format-2 manifest.
pub(super) fn lay_out(
    inputs: &SiteTreeInputs<'_>,
    extra_jobs: Vec<CompileJob>,
    entries: &mut Vec<ArtifactEntry>,
) -> Result<Manifest> {
    let targets = &inputs.targets;
    let shared_in = |b: &Bundled| {
        targets
            .iter()
            .all(|t| t.bundled.iter().any(|o| o.sha256 == b.sha256))
    };
    let shared: Vec<Bundled> = targets[0]
        .bundled
        .iter()
        .filter(|b| shared_in(b))
        .cloned()
        .collect();
    // The shared tree holds bytecode for each interpreter that compiles a
    // target (names differ by cache tag): the file entries repeat for
    // every compiler, and the writer keeps the first of each name.
    let mut compilers: Vec<&dyn BytecodeCompiler> = Vec::new();
    for c in targets.iter().filter_map(|t| t.compiler) {
        if !compilers
            .iter()
            .any(|k| k.cache_tag() == c.cache_tag() && k.identity() == c.identity())
        {
            compilers.push(c);
        }
    }
    let mut base_jobs = Some(extra_jobs);
    if compilers.is_empty() {
        add_distributions(&shared, None, inputs.cache, Vec::new(), entries)?;
    }
    for c in &compilers {
        let mut jobs = base_jobs.take().unwrap_or_default();
        jobs.extend(tree_jobs(c.cache_tag(), inputs.src_files));
        add_distributions(&shared, Some(*c), inputs.cache, jobs, entries)?;
    }
    let shebang = shebang(inputs.shebang, targets.iter().map(|t| t.target));
    let mut manifest = manifest(inputs, shebang, &shared, targets[0].target, None);
    manifest.extract_hash = extract_hash(&shared, &compilers, Some(inputs.src_files));
    manifest.bytecode = None;
    manifest.format = FORMAT_MULTI;
    manifest.native = true;
    manifest.distributions.clear();
    // Each target's part is chosen by its own cache tag; one combined
    // bound over several Python versions would refuse some of them.
    manifest.requires_python = None;
    manifest.abi3 = None;
    manifest.machine = None;
    manifest.libc = None;
    for t in targets {
        let own: Vec<Bundled> = t
            .bundled
            .iter()
            .filter(|b| !shared_in(b))
            .cloned()
            .collect();
        let section = add_target(inputs, t.target, &t.bundled, &own, t.compiler, entries)?;
        for b in &t.bundled {
            if !manifest
                .distributions
                .iter()
                .any(|d| d.filename == b.dist.filename)
            {
                manifest.distributions.push(DistRecord::of(b));
            }
        }
        manifest.targets.push(section);
    }
    Ok(manifest)
}

/// Adds one target's own wheels under `__pyzap__/targets/<name>/`; its
/// manifest section. `bundled` are all the target's wheels, shared or not.
fn add_target(
    inputs: &SiteTreeInputs<'_>,
    target: &Target,
    bundled: &[Bundled],
    own: &[Bundled],
    compiler: Option<&dyn BytecodeCompiler>,
    entries: &mut Vec<ArtifactEntry>,
) -> Result<TargetSection> {
    let name = target.name();
    let mut own_entries = Vec::new();
    add_distributions(own, compiler, inputs.cache, Vec::new(), &mut own_entries)?;
    let base = format!("{TARGETS_DIR}/{name}");
    for mut e in own_entries {
        e.name = relocate(&e.name, &base);
        entries.push(e);
    }
    let has_zip = own.iter().any(|b| b.dist.placement == Placement::Zip);
    let compilers: Vec<&dyn BytecodeCompiler> = compiler.into_iter().collect();
    Ok(TargetSection {
        name: name.clone(),
        target: TargetRecord::of(target),
        machine: target.facts.platform_machine.clone(),
        libc: target_libc(bundled, target),
        site_zip: has_zip.then(|| format!("{base}/{SITE_ZIP}")),
        extract_hash: extract_hash(own, &compilers, None),
        bytecode: compiler.map(|c| c.cache_tag().to_string()),
        distributions: bundled.iter().map(|b| b.dist.filename.clone()).collect(),
        pth: pth_lines(own),
    })
}

/// `site-packages/x` → `<base>/site-packages/x`, `__pyzap__/extract/x` →
/// `<base>/extract/x`; `__pyzap__/data/…` stays shared (it is only kept
/// for inspection, and named by distribution).
fn relocate(name: &str, base: &str) -> String {
    if let Some(rest) = name.strip_prefix(&format!("{SITE_EXTRACT}/")) {
        format!("{base}/extract/{rest}")
    } else if name.starts_with(&format!("{DATA_DIR}/")) {
        name.to_string()
    } else {
        format!("{base}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use pyzap_test_support::WheelBuilder;

    use super::super::tests::inputs;
    use super::super::{SiteTree, TargetBundle};
    use super::*;
    use crate::fixtures::{built, target, Recorder};

    #[test]
    fn relocation_keeps_data_shared() {
        let base = "__pyzap__/targets/cp39-manylinux_2_28_x86_64";
        assert_eq!(
            relocate("site-packages/six.py", base),
            format!("{base}/site-packages/six.py")
        );
        assert_eq!(
            relocate("__pyzap__/extract/yaml/__init__.py", base),
            format!("{base}/extract/yaml/__init__.py")
        );
        assert_eq!(
            relocate("__pyzap__/data/black/scripts/black", base),
            "__pyzap__/data/black/scripts/black"
        );
    }

    /// A zipped wheel every target chose is shared; the rest is each
    /// target's own: zipped or (one native wheel extracts them all)
    /// extracted under its name. Shared bytecode comes from the first
    /// target with a compiler.
    #[test]
    fn wheels_every_target_chose_are_shared_in_one_unpacked_tree() {
        let tmp = tempfile::tempdir().unwrap();
        let (t39, t311) = (target(3, 9), target(3, 11));
        let six = built(
            tmp.path(),
            WheelBuilder::new("six", "1.17.0").file("six.py", "X = 1\n"),
        );
        let tomli = built(
            tmp.path(),
            WheelBuilder::new("tomli", "2.5.0").file("tomli/__init__.py", ""),
        );
        let pyyaml = built(
            tmp.path(),
            WheelBuilder::new("pyyaml", "6.0.3")
                .tag("cp311-cp311-manylinux_2_17_x86_64")
                .file("yaml/__init__.py", "")
                .file("yaml/_yaml.so", "\u{7f}ELF"),
        );
        let compiler = Recorder::compiling("cpython 3.11.1");
        let tree = SiteTree::lay_out(inputs(
            vec![
                TargetBundle {
                    target: &t39,
                    bundled: vec![six.clone(), tomli],
                    compiler: None,
                },
                TargetBundle {
                    target: &t311,
                    bundled: vec![six, pyyaml],
                    compiler: Some(&compiler),
                },
            ],
            &[],
            tmp.path(),
        ))
        .unwrap();
        let m = &tree.manifest;
        assert_eq!((m.format, m.native), (2, true));
        assert_eq!(m.shebang, "#!/usr/bin/env python3");
        assert_eq!(m.target.python, "3.9", "the first target");
        assert_eq!(m.bytecode, None, "one per target");
        assert_eq!(m.extract_hash.as_ref().map(String::len), Some(32));
        assert_eq!(
            (&m.requires_python, &m.abi3, &m.machine, &m.libc),
            (&None, &None, &None, &None)
        );
        let dists: Vec<&str> = m
            .distributions
            .iter()
            .map(|d| d.filename.as_str())
            .collect();
        assert_eq!(
            dists,
            [
                "six-1.17.0-py3-none-any.whl",
                "tomli-2.5.0-py3-none-any.whl",
                "pyyaml-6.0.3-cp311-cp311-manylinux_2_17_x86_64.whl"
            ]
        );
        let [s39, s311] = &m.targets[..] else {
            panic!("two sections: {:?}", m.targets)
        };
        let names: Vec<&str> = tree.entries.iter().map(|e| e.name.as_str()).collect();
        let has = |name: String| names.contains(&name.as_str());
        assert!(has("__pyzap__/extract/six.py".into()), "{names:?}");
        assert!(
            has("__pyzap__/extract/__pycache__/six.cpython-311.pyc".into()),
            "bytecode of the target that has a compiler: {names:?}"
        );
        assert!(
            !names.iter().any(|n| n.starts_with("site-packages/")),
            "{names:?}"
        );
        let (b39, b311) = (
            format!("__pyzap__/targets/{}", s39.name),
            format!("__pyzap__/targets/{}", s311.name),
        );
        assert_eq!(b39, "__pyzap__/targets/cp39-manylinux_2_36_x86_64");
        assert!(has(format!("{b39}/extract/tomli/__init__.py")), "{names:?}");
        assert!(!has(format!("{b39}/extract/six.py")), "{names:?}");
        assert!(!has(format!("{b311}/extract/six.py")), "shared: {names:?}");
        assert!(has(format!("{b311}/extract/yaml/_yaml.so")), "{names:?}");
        assert_eq!((&s39.site_zip, &s311.site_zip), (&None, &None));
        assert_eq!(s39.extract_hash.as_ref().map(String::len), Some(32));
        assert_eq!(s311.extract_hash.as_ref().map(String::len), Some(32));
        assert_eq!(
            (s39.libc.as_str(), s311.libc.as_str()),
            ("glibc 2.36", "glibc 2.17")
        );
        assert_eq!(
            (&s39.bytecode, s311.bytecode.as_deref()),
            (&None, Some("cpython-311"))
        );
        assert_eq!(s311.distributions.len(), 2);
    }
}
