//! The site tree: everything an artifact holds, laid out by the format's
//! rules from what a build gathered — each target's wheels, the compilers
//! of their bytecode, the `--src` files and the entry point. The pipeline
//! builds one with [`SiteTree::lay_out`]; the writer writes its manifest
//! and entries.
//!
//! The rules that live here: where each wheel is placed (every one is
//! unpacked into the runtime cache, see `extract_everything`), the bootstrap,
//! runtime module and `--src` entries, the manifest with its extract key,
//! and, for several targets, the format-2 layout (`multi.rs`).

mod multi;

use std::path::Path;

use pyzap_spec::Target;
use pyzap_wheel::Placement;

use crate::compat::{abi3_floor, combined_requires_python, is_native, native_libc, shebang};
use crate::extract_key::extract_hash;
use crate::manifest::pth_lines;
use crate::site::{add_distributions, extract_everything, pyc_name, CompileJob};
use crate::{
    ArtifactEntry, ArtifactError, Bundled, BytecodeCompiler, DistRecord, EntryPointRecord,
    EntrySource, Manifest, TargetRecord, BOOTSTRAP_MAIN, FORMAT, RUNTIME_MODULE, SITE_EXTRACT,
    SRC_MAIN,
};

/// One target's share of a bundle, as the pipeline gathered it.
pub struct TargetBundle<'a> {
    pub target: &'a Target,
    /// The wheels chosen for it, laid out by `pyzap_wheel::layout_wheel`;
    /// their placement is decided here.
    pub bundled: Vec<Bundled>,
    /// The interpreter that compiles its bytecode, if there is one.
    pub compiler: Option<&'a dyn BytecodeCompiler>,
}

/// What an artifact's contents are made from.
pub struct SiteTreeInputs<'a> {
    /// The build's targets, in order: one makes a format-1 artifact,
    /// several a format-2 one.
    pub targets: Vec<TargetBundle<'a>>,
    /// `--src` files, relative to the artifact root.
    pub src_files: &'a [(String, Vec<u8>)],
    /// The `__main__.py` of a `--src` directory.
    pub src_main: Option<&'a [u8]>,
    pub entry_point: EntryPointRecord,
    /// `--shebang`, taken literally; `None` for the default.
    pub shebang: Option<&'a str>,
    /// `--no-compile`: no bytecode at build time, nor at the first run.
    pub no_compile: bool,
    /// The build cache, which keeps each wheel's compiled bytecode.
    pub cache: &'a Path,
}

/// The manifest of an artifact and the entries the writer puts in its zip.
#[derive(Debug)]
pub struct SiteTree {
    pub manifest: Manifest,
    /// In the order they were added: of two entries of one name, the
    /// writer keeps the first.
    pub entries: Vec<ArtifactEntry>,
}

type Result<T> = std::result::Result<T, ArtifactError>;

impl SiteTree {
    /// Places every target's wheels, compiles (or takes from the cache)
    /// their bytecode, and describes the result in the manifest.
    pub fn lay_out(mut inputs: SiteTreeInputs<'_>) -> Result<SiteTree> {
        if inputs.no_compile {
            for t in &mut inputs.targets {
                t.compiler = None;
            }
        }
        for t in &mut inputs.targets {
            extract_everything(&mut t.bundled);
        }
        let (mut entries, mut extra_jobs) = base_entries(inputs.src_files, inputs.src_main);
        let manifest = match inputs.targets.as_slice() {
            [] => return Err(ArtifactError::NoTarget),
            [one] => {
                if let Some(c) = one.compiler {
                    extra_jobs.extend(tree_jobs(c.cache_tag(), inputs.src_files));
                }
                add_distributions(
                    &one.bundled,
                    one.compiler,
                    inputs.cache,
                    extra_jobs,
                    &mut entries,
                )?;
                let shebang = shebang(inputs.shebang, [one.target]);
                manifest(&inputs, shebang, &one.bundled, one.target, one.compiler)
            }
            _ => multi::lay_out(&inputs, extra_jobs, &mut entries)?,
        };
        Ok(SiteTree { manifest, entries })
    }
}

/// The runtime module's source, in the unpacked tree every target uses.
const RUNTIME_PY: &str = "pyzap_runtime/__init__.py";

/// The jobs that compile, for `cache_tag`, the sources pyzap adds to the
/// unpacked tree besides the wheels: the runtime module and `--src` files.
fn tree_jobs(cache_tag: &str, src_files: &[(String, Vec<u8>)]) -> Vec<CompileJob> {
    let job = |name: &str, source: &[u8]| CompileJob {
        co_filename: format!("{SITE_EXTRACT}/{name}"),
        source: source.to_vec(),
        dest: pyc_name(Placement::Extract, name, cache_tag),
    };
    std::iter::once(job(RUNTIME_PY, RUNTIME_MODULE.as_bytes()))
        .chain(
            src_files
                .iter()
                .filter(|(name, _)| name.ends_with(".py"))
                .map(|(name, data)| job(name, data)),
        )
        .collect()
}

/// The bootstrap, the runtime module and the `--src` files (these two in
/// the unpacked tree, so a running process reads nothing more from the
/// artifact), with the compile job of the bootstrap (the tree's bytecode
/// is compiled per target: `tree_jobs`).
fn base_entries(
    src_files: &[(String, Vec<u8>)],
    src_main: Option<&[u8]>,
) -> (Vec<ArtifactEntry>, Vec<CompileJob>) {
    let mut entries: Vec<ArtifactEntry> = Vec::new();
    let mut jobs = Vec::new();
    let bytes = |name: &str, data: &[u8]| ArtifactEntry {
        name: name.to_string(),
        source: EntrySource::Bytes(data.to_vec()),
        mode: 0o644,
    };
    let job = |co_filename: &str, source: &[u8], dest: &str| CompileJob {
        co_filename: co_filename.to_string(),
        source: source.to_vec(),
        dest: dest.to_string(),
    };
    // Python runs the `__main__.py` at the root of a zip on `sys.path[0]`.
    entries.push(bytes("__main__.py", BOOTSTRAP_MAIN.as_bytes()));
    entries.push(bytes(
        &format!("{SITE_EXTRACT}/{RUNTIME_PY}"),
        RUNTIME_MODULE.as_bytes(),
    ));
    jobs.push(job(
        "__main__.py",
        BOOTSTRAP_MAIN.as_bytes(),
        "__main__.pyc",
    ));
    for (name, data) in src_files {
        entries.push(bytes(&format!("{SITE_EXTRACT}/{name}"), data));
    }
    if let Some(main) = src_main {
        entries.push(bytes(SRC_MAIN, main));
    }
    (entries, jobs)
}

/// The format-1 manifest of `bundled` for `target`; a multi-target
/// artifact starts from the one of its shared part.
fn manifest(
    inputs: &SiteTreeInputs<'_>,
    shebang: String,
    bundled: &[Bundled],
    target: &Target,
    compiler: Option<&dyn BytecodeCompiler>,
) -> Manifest {
    let native = bundled.iter().any(is_native);
    Manifest {
        format: FORMAT,
        // Every crate of the workspace carries pyzap's version.
        pyzap_version: env!("CARGO_PKG_VERSION").to_string(),
        entry_point: inputs.entry_point.clone(),
        target: TargetRecord::of(target),
        shebang,
        native,
        extract_hash: extract_hash(bundled, compiler.as_slice(), Some(inputs.src_files)),
        bytecode: compiler.map(|c| c.cache_tag().to_string()),
        distributions: bundled.iter().map(DistRecord::of).collect(),
        pth: pth_lines(bundled),
        src: !inputs.src_files.is_empty(),
        no_compile: inputs.no_compile,
        requires_python: combined_requires_python(bundled),
        abi3: abi3_floor(bundled),
        machine: native
            .then(|| target.facts.platform_machine.clone())
            .filter(|m| !m.is_empty()),
        libc: native.then(|| native_libc(bundled, target)).flatten(),
        targets: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use pyzap_test_support::WheelBuilder;

    use super::*;
    use crate::fixtures::{built, bundled, target, Recorder};
    use crate::EntryKind;

    pub(super) fn inputs<'a>(
        targets: Vec<TargetBundle<'a>>,
        src_files: &'a [(String, Vec<u8>)],
        cache: &'a Path,
    ) -> SiteTreeInputs<'a> {
        SiteTreeInputs {
            targets,
            src_files,
            src_main: Some(b"print('main')\n"),
            entry_point: EntryPointRecord {
                kind: EntryKind::Script,
                module: None,
                function: None,
                script: None,
            },
            shebang: None,
            no_compile: false,
            cache,
        }
    }

    fn names(tree: &SiteTree) -> Vec<&str> {
        tree.entries.iter().map(|e| e.name.as_str()).collect()
    }

    fn placements(tree: &SiteTree) -> Vec<&str> {
        tree.manifest
            .distributions
            .iter()
            .map(|d| d.placement.as_str())
            .collect()
    }

    #[test]
    fn one_target_makes_format_1_with_the_bootstrap_and_src_first() {
        let tmp = tempfile::tempdir().unwrap();
        let t = target(3, 11);
        let compiler = Recorder::compiling("cpython 3.11.1");
        let src = [("app/util.py".to_string(), b"X = 1\n".to_vec())];
        let mut six = built(
            tmp.path(),
            WheelBuilder::new("six", "1.17.0").file("six.py", "X = 1\n"),
        );
        six.dist.requires_python = Some(">=2.7".into());
        let mut click = built(
            tmp.path(),
            WheelBuilder::new("click", "8.1.8").file("click/__init__.py", "Y = 2\n"),
        );
        click.dist.requires_python = Some(">=3.7, >=2.7".into());
        let tree = SiteTree::lay_out(inputs(
            vec![TargetBundle {
                target: &t,
                bundled: vec![six, click],
                compiler: Some(&compiler),
            }],
            &src,
            tmp.path(),
        ))
        .unwrap();
        let names = names(&tree);
        assert_eq!(
            names[..4],
            [
                "__main__.py",
                "__pyzap__/extract/pyzap_runtime/__init__.py",
                "__pyzap__/extract/app/util.py",
                "__pyzap__/main.py"
            ]
        );
        assert!(
            names.contains(&"__pyzap__/extract/app/__pycache__/util.cpython-311.pyc"),
            "the --src files are in the unpacked tree, compiled there: {names:?}"
        );
        // Pure Python is unpacked too, the runtime module with it.
        for name in [
            "__pyzap__/extract/six.py",
            "__pyzap__/extract/click/__init__.py",
            "__pyzap__/extract/pyzap_runtime/__pycache__/__init__.cpython-311.pyc",
        ] {
            assert!(names.contains(&name), "{name}: {names:?}");
        }
        assert!(
            !names.iter().any(|n| n.starts_with("site-packages/")),
            "{names:?}"
        );
        // The bootstrap, the runtime module, the --src source, one per wheel.
        assert_eq!(compiler.sources.get(), 5);
        let m = &tree.manifest;
        assert_eq!((m.format, m.native, m.src), (1, false, true));
        assert_eq!(m.shebang, "#!/usr/bin/env python3.11");
        assert_eq!(placements(&tree), ["extract", "extract"]);
        assert_eq!(m.extract_hash.as_ref().map(String::len), Some(32));
        assert!(!m.boot_text().contains("site_zip="), "{}", m.boot_text());
        assert!(
            m.boot_text().contains("\nsrc=0\n"),
            "the zip root is not on sys.path"
        );
        assert_eq!(m.libc, None, "no native code");
        assert_eq!(m.bytecode.as_deref(), Some("cpython-311"));
        assert_eq!(m.requires_python.as_deref(), Some(">=2.7, >=3.7"));
        assert_eq!((m.abi3.as_deref(), m.machine.as_deref()), (None, None));
        assert_eq!(m.target.platform, "manylinux_2_36_x86_64");
    }

    #[test]
    fn one_extracted_wheel_extracts_all_and_native_code_names_its_machine() {
        let tmp = tempfile::tempdir().unwrap();
        let t = target(3, 11);
        let compiler = Recorder::new("cpython 3.11.1");
        let wheels = vec![
            built(
                tmp.path(),
                WheelBuilder::new("six", "1.17.0").file("six.py", "X = 1\n"),
            ),
            built(
                tmp.path(),
                WheelBuilder::new("charset_normalizer", "3.5.2")
                    .tag("cp37-abi3-manylinux_2_28_x86_64")
                    .file("charset_normalizer/__init__.py", "")
                    .file("charset_normalizer/md.abi3.so", "\u{7f}ELF"),
            ),
        ];
        assert_eq!(wheels[1].dist.placement, Placement::Extract);
        let tree = SiteTree::lay_out(inputs(
            vec![TargetBundle {
                target: &t,
                bundled: wheels,
                compiler: Some(&compiler),
            }],
            &[],
            tmp.path(),
        ))
        .unwrap();
        let m = &tree.manifest;
        assert_eq!(placements(&tree), ["extract", "extract"]);
        assert!(m.native && !m.src);
        assert_eq!(m.extract_hash.as_ref().map(String::len), Some(32));
        assert_eq!(m.abi3.as_deref(), Some("3.7"));
        assert_eq!(m.machine.as_deref(), Some("x86_64"));
    }

    #[test]
    fn without_a_compiler_one_target_is_extracted_unless_nothing_compiles() {
        let tmp = tempfile::tempdir().unwrap();
        let t = target(3, 12);
        let lay_out = |no_compile: bool| {
            let mut inputs = inputs(
                vec![TargetBundle {
                    target: &t,
                    bundled: vec![bundled(
                        "six-1.17.0-py2.py3-none-any.whl",
                        Placement::Zip,
                        "aa",
                    )],
                    compiler: None,
                }],
                &[],
                tmp.path(),
            );
            inputs.no_compile = no_compile;
            SiteTree::lay_out(inputs).unwrap()
        };
        let tree = lay_out(false);
        assert_eq!(placements(&tree), ["extract"]);
        assert_eq!(tree.manifest.bytecode, None);
        assert!(tree.manifest.extract_hash.is_some());
        let tree = lay_out(true);
        assert_eq!(placements(&tree), ["extract"]);
        assert!(tree.manifest.no_compile);
    }

    #[test]
    fn no_compile_ignores_a_compiler() {
        let tmp = tempfile::tempdir().unwrap();
        let t = target(3, 11);
        let compiler = Recorder::new("cpython 3.11.1");
        let mut inputs = inputs(
            vec![TargetBundle {
                target: &t,
                bundled: Vec::new(),
                compiler: Some(&compiler),
            }],
            &[],
            tmp.path(),
        );
        inputs.no_compile = true;
        let tree = SiteTree::lay_out(inputs).unwrap();
        assert_eq!(compiler.sources.get(), 0);
        assert_eq!(tree.manifest.bytecode, None);
    }

    #[test]
    fn no_target_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let err = SiteTree::lay_out(inputs(Vec::new(), &[], tmp.path())).unwrap_err();
        assert!(matches!(err, ArtifactError::NoTarget), "{err}");
    }
}
