//! Outputs of reference tools (what pip installs or resolves) kept across
//! test runs. A reference takes seconds to a minute to compute and depends
//! only on its inputs, so each is stored under a directory the test names
//! (cargo's `CARGO_TARGET_TMPDIR`), in a file named by the SHA-256 of the
//! inputs: the interpreter (path and full `sys.version`), the wheelhouse
//! (every file's name and digest) and the command. Changing any of them
//! computes it afresh.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub struct ReferenceCache {
    dir: PathBuf,
}

impl ReferenceCache {
    /// References kept in `dir/pip-reference`.
    pub fn new(dir: &Path) -> Self {
        ReferenceCache {
            dir: dir.join("pip-reference"),
        }
    }

    /// The output `compute` gives for `python` and `command` (everything
    /// else it depends on, as text), from the cache if it was kept.
    pub fn get(&self, python: &Path, command: &str, compute: impl FnOnce() -> String) -> String {
        let inputs = format!(
            "interpreter {}\nsys.version {}\nwheelhouse\n{}command {command}\n",
            python.display(),
            python_version(python),
            wheelhouse_digests(),
        );
        let path = self
            .dir
            .join(format!("{}.txt", crate::sha256_hex(inputs.as_bytes())));
        if let Ok(text) = fs_err::read_to_string(&path) {
            return text;
        }
        let text = compute();
        // Temp then rename: a concurrent or killed run never leaves half a file.
        fs_err::create_dir_all(&self.dir).unwrap();
        let tmp = tempfile::NamedTempFile::new_in(&self.dir).unwrap();
        fs_err::write(tmp.path(), &text).unwrap();
        tmp.persist(&path).unwrap();
        text
    }
}

/// `sys.version` of an interpreter (release, build and compiler).
fn python_version(python: &Path) -> String {
    let out = Command::new(python)
        .args(["-S", "-c", "import sys; print(sys.version)"])
        .output()
        .expect("run the interpreter");
    assert!(out.status.success(), "{} does not run", python.display());
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `NAME SHA256` of every file of the wheelhouse, one a line, read once.
fn wheelhouse_digests() -> &'static str {
    static DIGESTS: OnceLock<String> = OnceLock::new();
    DIGESTS.get_or_init(|| {
        let mut files: Vec<PathBuf> = fs_err::read_dir(crate::wheelhouse())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                format!("{name} {}\n", crate::sha256_file(p))
            })
            .collect()
    })
}
