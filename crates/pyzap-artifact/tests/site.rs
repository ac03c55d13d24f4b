//! Site entries and the writer on wheels built in code: placement prefixes,
//! pyc locations, the bytecode cache, deterministic output and read-back.

// Tests may unwrap: a failed unwrap is a failed test (clippy.toml's
// `allow-unwrap-in-tests` covers only `#[test]` functions, not helpers).
#![cfg_attr(test, allow(clippy::unwrap_used, reason = "tests may unwrap"))]

use std::cell::Cell;

use pyzap_artifact::{
    add_distributions, extract_everything, read_artifact, write_artifact, ArtifactEntry, Bundled,
    BytecodeCompiler, EntryKind, EntryPointRecord, Manifest, TargetRecord, WriteOptions,
};
use pyzap_test_support::WheelBuilder;
use pyzap_wheel::{layout_wheel, Wheel};

struct FakeCompiler {
    calls: Cell<usize>,
    /// The patch release: same magic number, possibly other bytes.
    release: &'static str,
}

impl BytecodeCompiler for FakeCompiler {
    fn cache_tag(&self) -> &str {
        "cpython-311"
    }
    fn identity(&self) -> String {
        format!("cpython 3.11.{} magic a70d0d0a", self.release)
    }
    fn compile(
        &self,
        sources: &[(String, Vec<u8>)],
    ) -> Result<Vec<Option<Vec<u8>>>, Box<dyn std::error::Error + Send + Sync>> {
        self.calls.set(self.calls.get() + sources.len());
        Ok(sources
            .iter()
            .map(|(name, _)| Some(format!("pyc of {name} by {}", self.release).into_bytes()))
            .collect())
    }
}

fn bundled(dir: &std::path::Path) -> Vec<Bundled> {
    let pure = WheelBuilder::new("purepkg", "1.0")
        .file("purepkg/__init__.py", "X = 1\n")
        .build(dir);
    let data = WheelBuilder::new("datapkg", "2.0")
        .file("datapkg/__init__.py", "Y = 2\n")
        .file("datapkg/table.csv", "a,b\n")
        .build(dir);
    [pure, data]
        .iter()
        .map(|p| Bundled {
            dist: layout_wheel(&Wheel::open(p).unwrap()),
            sha256: pyzap_test_support::sha256_file(p),
        })
        .collect()
}

fn manifest() -> Manifest {
    Manifest {
        format: pyzap_artifact::FORMAT,
        pyzap_version: "test".into(),
        entry_point: EntryPointRecord {
            kind: EntryKind::Module,
            module: Some("purepkg".into()),
            function: None,
            script: None,
        },
        target: TargetRecord {
            python: "3.11".into(),
            python_full_version: "3.11.7".into(),
            cache_tag: "cpython-311".into(),
            abi: "cp311".into(),
            platform: "linux_x86_64".into(),
        },
        shebang: "#!/usr/bin/env python3".into(),
        native: false,
        extract_hash: Some("abc".into()),
        bytecode: Some("cpython-311".into()),
        distributions: Vec::new(),
        no_compile: false,
        requires_python: None,
        abi3: None,
        machine: None,
        libc: None,
        pth: Vec::new(),
        src: false,
        targets: Vec::new(),
    }
}

#[test]
fn entries_bytecode_cache_and_deterministic_output() {
    let tmp = tempfile::tempdir().unwrap();
    let bundled = bundled(tmp.path());
    let cache = tmp.path().join("cache");
    let compiler = FakeCompiler {
        calls: Cell::new(0),
        release: "7",
    };

    let mut first: Vec<ArtifactEntry> = Vec::new();
    add_distributions(&bundled, Some(&compiler), &cache, Vec::new(), &mut first).unwrap();
    assert_eq!(compiler.calls.get(), 2, "one source per wheel compiled");
    let names: Vec<&str> = first.iter().map(|e| e.name.as_str()).collect();
    assert!(
        names.contains(&"site-packages/purepkg/__init__.py"),
        "{names:?}"
    );
    assert!(
        names.contains(&"site-packages/purepkg/__init__.pyc"),
        "{names:?}"
    );
    assert!(
        names.contains(&"__pyzap__/extract/datapkg/table.csv"),
        "{names:?}"
    );
    assert!(
        names.contains(&"__pyzap__/extract/datapkg/__pycache__/__init__.cpython-311.pyc"),
        "{names:?}"
    );

    let mut second: Vec<ArtifactEntry> = Vec::new();
    add_distributions(&bundled, Some(&compiler), &cache, Vec::new(), &mut second).unwrap();
    assert_eq!(compiler.calls.get(), 2, "the second build compiles nothing");

    let opts = WriteOptions {
        timestamp: 1_700_000_000,
        zip64_ok: false,
        python: "3.11".into(),
    };
    let (a, b) = (tmp.path().join("a.pyz"), tmp.path().join("b.pyz"));
    write_artifact(&a, &manifest(), first, &opts).unwrap();
    write_artifact(&b, &manifest(), second, &opts).unwrap();
    assert_eq!(fs_err::read(&a).unwrap(), fs_err::read(&b).unwrap());
    let info = read_artifact(&a).unwrap();
    assert_eq!(info.manifest, manifest());
    assert_eq!(info.shebang.as_deref(), Some("#!/usr/bin/env python3"));
}

#[test]
fn every_distribution_is_extracted_pure_python_too() {
    let tmp = tempfile::tempdir().unwrap();
    let mut all = bundled(tmp.path());
    let placements = |b: &[Bundled]| {
        b.iter()
            .map(|b| b.dist.placement.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        placements(&all),
        ["zip", "extract"],
        "as pyzap-wheel sees them"
    );
    extract_everything(&mut all);
    assert_eq!(placements(&all), ["extract", "extract"]);
    let mut pure: Vec<Bundled> = all.drain(..1).collect();
    pure[0].dist.placement = pyzap_wheel::Placement::Zip;
    extract_everything(&mut pure);
    assert_eq!(
        placements(&pure),
        ["extract"],
        "a pure bundle is a real site dir too"
    );
}

/// Security issue item 11: the bytecode cache was keyed by the magic number
/// only, so the first 3.11.x to compile a wheel decided the bytes of every
/// later 3.11.y build. Another patch release compiles its own.
#[test]
fn bytecode_cache_is_keyed_by_the_compiling_release() {
    let tmp = tempfile::tempdir().unwrap();
    let bundled = bundled(tmp.path());
    let cache = tmp.path().join("cache");
    let pyc = |release: &'static str| {
        let compiler = FakeCompiler {
            calls: Cell::new(0),
            release,
        };
        let mut entries: Vec<ArtifactEntry> = Vec::new();
        add_distributions(&bundled, Some(&compiler), &cache, Vec::new(), &mut entries).unwrap();
        let out = tmp.path().join(format!("{release}.pyz"));
        let opts = WriteOptions {
            timestamp: 1_700_000_000,
            zip64_ok: false,
            python: "3.11".into(),
        };
        write_artifact(&out, &manifest(), entries, &opts).unwrap();
        (compiler.calls.get(), fs_err::read(out).unwrap())
    };
    let (calls_a, a) = pyc("2");
    let (calls_b, b) = pyc("7");
    let (calls_c, c) = pyc("2");
    assert_eq!((calls_a, calls_b, calls_c), (2, 2, 0));
    assert_ne!(a, b, "3.11.7 reused the pycs of 3.11.2");
    assert_eq!(a, c);
}
