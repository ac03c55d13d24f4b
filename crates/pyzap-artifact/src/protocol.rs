//! The names the writer and the runtime must agree on: the format numbers
//! the bootstrap accepts, where it finds its boot record, the site dirs and
//! each target's files inside the zip, and the marker that makes an
//! unpacked tree in a cache complete (docs/artifact-format.md). Each is
//! spelt once here, in Rust; the bootstrap (`python/bootstrap/__main__.py`)
//! and `pyzap_runtime` spell them again in Python, and the tests below read
//! both and fail when the two sides disagree.

/// The format of an artifact built for one target (`format=` in `boot`).
pub const FORMAT: u32 = 1;
/// The format of artifacts built for several targets (`targets` in the
/// manifest, `target=` lines in `boot`); single-target artifacts stay format 1.
pub const FORMAT_MULTI: u32 = 2;

/// The directory below which pyzap keeps everything it adds to an artifact
/// besides `__main__.py` and the zipped site dir; `--src` files cannot use it.
pub const PYZAP_DIR: &str = "__pyzap__";
/// The `key=value` lines the bootstrap reads at every start.
pub const BOOT: &str = "__pyzap__/boot";
/// The full description of the bundle, read by `pyzap info`, `pyzap
/// extract` and `pyzap_runtime.manifest()`.
pub const MANIFEST: &str = "__pyzap__/manifest.json";
/// The `__main__.py` of a `--src` directory, run for `entry_kind=script`.
pub const SRC_MAIN: &str = "__pyzap__/main.py";
/// Wheels' `.data/` files outside purelib and platlib, kept for inspection
/// as `<DATA_DIR>/<distribution>/<scheme>/…`.
pub const DATA_DIR: &str = "__pyzap__/data";

/// The scripts a wheel ships in `.data/scripts/` (and the programs among
/// them), inside the extracted site dir: its own name is not a module
/// name. The bootstrap links them into the bundle venv's `bin/`, and
/// `entry_kind=data_script` runs one.
pub const SCRIPTS_DIR: &str = ".pyzap-bin";

/// The zipped site dir, imported from the artifact (`site_zip=` in `boot`).
/// Artifacts pyzap writes today have none (every distribution is unpacked);
/// the bootstrap still runs one repacked with such a dir.
pub const SITE_ZIP: &str = "site-packages";
/// The site dir unpacked into the runtime cache; stored as the nested
/// archive `<SITE_EXTRACT>.zip`.
pub const SITE_EXTRACT: &str = "__pyzap__/extract";
/// Where a multi-target artifact keeps each target's own files:
/// `__pyzap__/targets/<name>/site-packages/…` and `…/extract/…`.
pub const TARGETS_DIR: &str = "__pyzap__/targets";

/// Written last into a tree unpacked into a cache, so a tree without it is
/// never used: the bootstrap's extracted site dirs (`<root>/site/<key>/`),
/// the launcher's CPython (`<root>/python/<id>/`, `pyzap_launcher::MARKER`)
/// and the distributions pyzap unpacks into its build cache.
pub const COMPLETE_MARKER: &str = ".pyzap-complete";

#[cfg(test)]
mod tests {
    use super::*;

    /// The bootstrap's module-level constants that are names of the format,
    /// with the value each must have. (Its other constants — messages, the
    /// layout of its own cache entries — are the runtime's alone.)
    fn protocol_constants() -> Vec<(&'static str, String)> {
        vec![
            ("_EXTRACT_PREFIX", format!("{SITE_EXTRACT}/")),
            ("_MARKER", COMPLETE_MARKER.to_string()),
        ]
    }

    /// Names the Python side spells inline, each as the quoted literal it
    /// must contain.
    fn inline_literals() -> Vec<(&'static str, &'static str, String)> {
        let boot = crate::BOOTSTRAP_MAIN;
        let runtime = crate::RUNTIME_MODULE;
        vec![
            (
                "bootstrap",
                boot,
                format!("(\"{FORMAT}\", \"{FORMAT_MULTI}\")"),
            ),
            // Read through the zipimporter, as `loader.archive + "/…"`.
            ("bootstrap", boot, format!("\"/{BOOT}\"")),
            ("bootstrap", boot, format!("\"/{SRC_MAIN}\"")),
            ("bootstrap", boot, format!("\"{SITE_ZIP}\"")),
            ("bootstrap", boot, format!("\"{TARGETS_DIR}/%s/extract/\"")),
            ("pyzap_runtime", runtime, format!("\"{BOOT}\"")),
            ("pyzap_runtime", runtime, format!("\"{MANIFEST}\"")),
            ("pyzap_runtime", runtime, format!("\"{SRC_MAIN}\"")),
        ]
    }

    /// Every way the module-level constants of `source` (`_NAME = …` at
    /// the start of a line) differ from `expected`: a value other than the
    /// string literal of the Rust one, or a constant that is gone.
    fn disagreements(source: &str, expected: &[(&str, String)]) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, want) in expected {
            let literals = [format!("\"{want}\""), format!("'{want}'")];
            let values: Vec<&str> = source
                .lines()
                .filter_map(|line| line.strip_prefix(name)?.strip_prefix(" = "))
                .map(str::trim)
                .collect();
            if values.is_empty() {
                problems.push(format!("{name} is gone from the bootstrap"));
            }
            for value in values {
                if !literals.iter().any(|l| l == value) {
                    problems.push(format!("{name} is {value}, the Rust side says \"{want}\""));
                }
            }
        }
        problems
    }

    #[test]
    fn bootstrap_constants_are_the_rust_ones() {
        let problems = disagreements(crate::BOOTSTRAP_MAIN, &protocol_constants());
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn python_spells_the_inline_names_as_the_rust_side() {
        let missing: Vec<String> = inline_literals()
            .into_iter()
            .filter(|(_, source, literal)| !source.contains(literal.as_str()))
            .map(|(file, _, literal)| format!("{file} has no {literal}"))
            .collect();
        assert!(missing.is_empty(), "{missing:#?}");
    }

    /// The comparison itself: a changed value and a vanished constant are
    /// each reported; either quote agrees; an indented assignment (a local)
    /// or a longer name is not the constant.
    #[test]
    fn disagreements_are_found() {
        let expected = vec![
            ("_MARKER", ".pyzap-complete".to_string()),
            ("_EXTRACT_PREFIX", "__pyzap__/extract/".to_string()),
        ];
        let agreeing = "_MARKER = \".pyzap-complete\"\n_EXTRACT_PREFIX = '__pyzap__/extract/'\n\
                        _MARKER_OLD = \"x\"\n    _MARKER = \"local\"\n";
        assert_eq!(disagreements(agreeing, &expected), Vec::<String>::new());
        let drifted = "_MARKER = \".pyzap-done\"\n_MARKERS = \"y\"\n";
        assert_eq!(
            disagreements(drifted, &expected),
            [
                "_MARKER is \".pyzap-done\", the Rust side says \".pyzap-complete\"",
                "_EXTRACT_PREFIX is gone from the bootstrap"
            ]
        );
    }

    /// The launcher cannot depend on this crate (its dependency tree stays
    /// tiny), so it keeps a copy of the marker; both mark trees under the
    /// same cache root.
    #[test]
    fn the_launcher_marks_its_trees_alike() {
        assert_eq!(COMPLETE_MARKER, pyzap_launcher::MARKER);
    }
}
