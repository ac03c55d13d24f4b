//! Values the unit tests build by hand: distributions with no wheel file
//! behind them (for the rules that read only names, placements, hashes and
//! metadata) or with one, targets, and a compiler that compiles nothing.

use std::cell::Cell;
use std::path::{Path, PathBuf};

use pyzap_spec::{InterpreterFacts, Target};
use pyzap_test_support::WheelBuilder;
use pyzap_wheel::{InstalledDist, Placement};

use crate::{Bundled, BytecodeCompiler};

/// A distribution named by its wheel `filename`, with no files.
pub(crate) fn bundled(filename: &str, placement: Placement, sha256: &str) -> Bundled {
    let wheel: pyzap_spec::WheelFilename = filename.parse().expect("a wheel filename");
    Bundled {
        dist: InstalledDist {
            name: wheel.name.clone(),
            version: wheel.version.clone(),
            wheel_path: PathBuf::from(filename),
            filename: filename.to_string(),
            placement,
            extract_reason: None,
            site_files: Vec::new(),
            scheme_files: Vec::new(),
            entry_points: Default::default(),
            pth_files: Vec::new(),
            requires_python: None,
        },
        sha256: sha256.to_string(),
    }
}

/// The distribution of a wheel written into `dir`: with files, so it can be
/// compiled and copied.
pub(crate) fn built(dir: &Path, wheel: WheelBuilder) -> Bundled {
    let path = wheel.build(dir);
    Bundled {
        dist: pyzap_wheel::layout_wheel(&pyzap_wheel::Wheel::open(&path).expect("a valid wheel")),
        sha256: pyzap_test_support::sha256_file(&path),
    }
}

/// The same, with a `Requires-Python`.
pub(crate) fn requiring(filename: &str, requires_python: &str) -> Bundled {
    let mut b = bundled(filename, Placement::Zip, "00");
    b.dist.requires_python = Some(requires_python.to_string());
    b
}

/// CPython `major.minor` on x86_64 glibc 2.36, as a probe would report it.
pub(crate) fn target(major: u32, minor: u32) -> Target {
    Target::from_facts(InterpreterFacts {
        implementation_name: "cpython".into(),
        implementation_version: format!("{major}.{minor}.1"),
        python_full_version: format!("{major}.{minor}.1"),
        python_version: format!("{major}.{minor}"),
        os_name: "posix".into(),
        platform_machine: "x86_64".into(),
        platform_python_implementation: "CPython".into(),
        platform_release: "6.1.0".into(),
        platform_system: "Linux".into(),
        platform_version: "#1 SMP".into(),
        sys_platform: "linux".into(),
        cache_tag: format!("cpython-{major}{minor}"),
        abiflags: String::new(),
        libc: ("glibc".into(), "2.36".into()),
        pyc_magic: "00000d0a".into(),
    })
    .expect("a CPython target")
}

/// Answers for a CPython 3.11 of `identity` and compiles nothing: no source
/// gets bytecode (unless made with `compiling`, where each gets a few
/// stand-in bytes). Counts the sources it was given.
pub(crate) struct Recorder {
    identity: String,
    pub sources: Cell<usize>,
    compiles: bool,
}

impl Recorder {
    pub(crate) fn new(identity: &str) -> Self {
        Recorder {
            identity: identity.to_string(),
            sources: Cell::new(0),
            compiles: false,
        }
    }

    pub(crate) fn compiling(identity: &str) -> Self {
        Recorder {
            compiles: true,
            ..Recorder::new(identity)
        }
    }
}

impl BytecodeCompiler for Recorder {
    fn cache_tag(&self) -> &str {
        "cpython-311"
    }

    fn identity(&self) -> String {
        self.identity.clone()
    }

    fn compile(
        &self,
        sources: &[(String, Vec<u8>)],
    ) -> Result<Vec<Option<Vec<u8>>>, Box<dyn std::error::Error + Send + Sync>> {
        self.sources.set(self.sources.get() + sources.len());
        let pyc = self.compiles.then(|| b"pyc".to_vec());
        Ok(vec![pyc; sources.len()])
    }
}
