//! Property tests: no text makes a pyzap-spec parser panic, and what has a
//! writer reads back as the same value.
//!
//! Arbitrary strings alone almost never reach the shapes that used to panic
//! inside `pep508_rs` (`foo.>=1`, `a[b-]`, `"x" ~= os_name`, 20-digit marker
//! versions), so most generators glue together near-valid pieces: names that
//! may end in punctuation, extras, operators, markers in both orders, huge
//! numbers, quotes, brackets and non-ASCII text. `parse_requirement` turns a
//! panic it catches into an error saying the parser crashed; the properties
//! fail on that message too, so a shape that slips past the pre-checks is
//! found even though it no longer takes the process down.

use std::io;
use std::path::Path;
use std::str::FromStr;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::select;
use pyzap_spec::{
    parse_requirement, DirectReference, EntryPoint, EntryPoints, FormatChoice, FormatControl,
    FormatOption, LocalPath, Metadata, PackageName, PlatformTag, PyProject, RequirementsFile,
    ScriptMetadata, SpecError, Target, Version, VersionOrUrl, VersionSpecifiers, WheelFilename,
};

/// Each group runs `cases` cases, a few seconds in all in a debug build;
/// `PROPTEST_CASES=100000` explores further.
fn config(cases: u32) -> ProptestConfig {
    let from_env = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok());
    ProptestConfig {
        cases: from_env.unwrap_or(cases),
        // Found cases become unit tests named after the bug, not files in the tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The message of an error that was a caught panic (see `requirement.rs`).
fn crashed(err: &SpecError) -> bool {
    err.to_string().contains("the parser crashed")
}

/// Fragments of requirements, valid and not, glued together by `soup()`.
#[rustfmt::skip]
const PIECES: &[&str] = &[
    "foo", "a", "Z9", "x.y", "a-b", "a_b", ".", "-", "_", "..", "[", "]", "[]", "[x]", ",", "(",
    ")", ";", "; ", "@", " @ ", " ", "\t", ">=", "<=", "==", "!=", "~=", "===", ">", "<", "=",
    "~", "!", "*", ".*", "'", "\"", "python_version", "python_full_version", "os_name",
    "sys.platform", "platform_release", "implementation_version", "extra", " and ", " or ",
    " in ", " not in ", "3.8", "1.0", "1!2", "1.0a1", ".post1", ".dev0", "+local", "0",
    "18446744073709551615", "18446744073709551614", "99999999999999999999999", "é", "ß",
    "\u{3000}", "\u{1F600}", "\u{0}", "\u{7f}", "https://example.org/a-1.0-py3-none-any.whl",
    "file:///tmp/a", "./a", "../b", "a.whl", "a.tar.gz", "${PROJECT_ROOT}", "${X}", "#", "\\",
    "\n",
];

/// One near-valid fragment of a requirement, or a little arbitrary text.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(PIECES).prop_map(str::to_string),
        2 => "[a-zA-Z0-9][a-zA-Z0-9._-]{0,4}",
        1 => "\\PC{0,3}",
        1 => "[0-9]{15,22}",
    ]
}

/// Requirement-ish text: a soup of pieces.
fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..16).prop_map(|p| p.concat())
}

/// A name that is valid or ends in punctuation (the `foo.` shape).
fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9]([a-zA-Z0-9._-]{0,5}[a-zA-Z0-9])?[._-]?"
}

fn version() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}",
        concat!(
            "([0-9]!)?[0-9]{1,2}\\.[0-9]{1,2}((a|b|rc)[0-9])?",
            "(\\.post[0-9])?(\\.dev[0-9])?(\\+[a-z0-9.]{1,4})?"
        ),
        "[0-9]{1,2}\\.[0-9]{1,2}\\.\\*",
        "[0-9]{1,2}\\.(18446744073709551615|18446744073709551614|[0-9]{19,21})(\\.0)?",
        "[0-9]\\.(post|dev|a)18446744073709551615",
        "[0-9]\\.18446744073709551615(\\.[0-9])?(\\.\\*)?",
        "\\PC{0,4}",
    ]
}

fn operator() -> impl Strategy<Value = &'static str> {
    select(&["==", "!=", ">=", "<=", ">", "<", "~=", "===", "=", ""][..])
}

/// One marker expression, in either order, with version or string keys.
fn marker_expression() -> impl Strategy<Value = String> {
    let key = select(
        &[
            "python_version",
            "python_full_version",
            "implementation_version",
            "os_name",
            "sys_platform",
            "platform.machine",
            "platform_release",
            "extra",
            "nonsense",
        ][..],
    );
    let op = select(
        &[
            "==", "!=", ">=", "<=", ">", "<", "~=", "===", "in", "not in",
        ][..],
    );
    (key, op, version(), any::<bool>(), select(&["'", "\""][..])).prop_map(
        |(key, op, value, reversed, q)| {
            if reversed {
                format!("{q}{value}{q} {op} {key}")
            } else {
                format!("{key} {op} {q}{value}{q}")
            }
        },
    )
}

fn marker() -> impl Strategy<Value = String> {
    let leaf = marker_expression().boxed();
    leaf.prop_recursive(4, 12, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                select(&[" and ", " or ", " xor "][..]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a}{op}{b}")),
            inner.prop_map(|m| format!("({m})")),
        ]
    })
}

/// A requirement assembled from parts, each of which may be malformed.
fn structured_requirement() -> impl Strategy<Value = String> {
    let extras = prop::option::of(prop::collection::vec(name(), 0..3).prop_map(|e| e.join(",")));
    let spec = prop::option::of(
        prop::collection::vec((operator(), version()), 1..3).prop_map(|specs| {
            specs
                .into_iter()
                .map(|(op, v)| format!("{op}{v}"))
                .collect::<Vec<_>>()
                .join(",")
        }),
    );
    let url = select(&["https://example.org/a-1.0.tar.gz", "file:///x", "", "a b"][..]);
    (
        name(),
        extras,
        spec,
        prop::option::of(url),
        prop::option::of(marker()),
        select(&["", " ", "\u{3000}", ";", " é", "é", " aé", "Σਪ", " and é"][..]),
    )
        .prop_map(|(name, extras, spec, url, marker, tail)| {
            let mut out = name;
            if let Some(extras) = extras {
                out.push_str(&format!("[{extras}]"));
            }
            match (spec, url) {
                (_, Some(url)) => out.push_str(&format!(" @ {url}")),
                (Some(spec), None) => out.push_str(&spec),
                (None, None) => {}
            }
            if let Some(marker) = marker {
                out.push_str(&format!(" ; {marker}"));
            }
            out.push_str(tail);
            out
        })
}

fn requirement_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => structured_requirement(),
        3 => soup(),
        1 => ".*",
        1 => "\\PC*",
    ]
}

/// A target to evaluate markers against.
fn target() -> &'static Target {
    static TARGET: OnceLock<Target> = OnceLock::new();
    TARGET.get_or_init(|| {
        let platform = PlatformTag::from_str("manylinux_2_28_x86_64").unwrap();
        Target::cross("3.11.4", Some(&platform), None).unwrap()
    })
}

/// Parses, checks that no panic was caught, and that what parsed also
/// survives the writer, a re-read, range conversion and marker evaluation.
fn check_requirement(text: &str) -> Result<(), TestCaseError> {
    let requirement = match parse_requirement(text) {
        Ok(requirement) => requirement,
        Err(err) => {
            prop_assert!(!crashed(&err), "{text:?}: {err}");
            return Ok(());
        }
    };
    // What the resolver does with a requirement must not panic either.
    if let Some(VersionOrUrl::VersionSpecifier(specs)) = &requirement.version_or_url {
        let _ = pep440_rs::release_specifiers_to_ranges(specs.clone());
    }
    let markers = &target().markers;
    let _ = requirement.evaluate_markers(markers, &[]);
    let _ = requirement.evaluate_markers(markers, &["x".parse().unwrap()]);
    let written = requirement.to_string();
    // pep508_rs writes every marker value in single quotes without escaping,
    // so a value holding `'` (read from `"…'…"`) is written as text it cannot
    // read back: a writer limitation, not a panic.
    if text.split('"').skip(1).step_by(2).any(|v| v.contains('\'')) {
        return Ok(());
    }
    // What is written reads back with the same name, extras and version or
    // URL, and writing settles after one round. (Not at once: `platform.machine`
    // reads as a deprecated-alias key written `platform_machine`, and an
    // always-false marker is written `python_version < '0'`, which reads back
    // as a `python_full_version` comparison.)
    let reread = |written: &str| {
        parse_requirement(written)
            .map_err(|e| TestCaseError::fail(format!("{text:?} wrote {written:?}: {e}")))
    };
    let again = reread(&written)?;
    prop_assert_eq!(&again.name, &requirement.name);
    prop_assert_eq!(&again.extras, &requirement.extras);
    prop_assert_eq!(&again.version_or_url, &requirement.version_or_url);
    let settled = again.to_string();
    prop_assert_eq!(
        reread(&settled)?.to_string(),
        settled,
        "read from {:?}",
        text
    );
    Ok(())
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn requirements_never_panic(text in requirement_text()) {
        check_requirement(&text)?;
    }

    #[test]
    fn near_valid_requirements_never_panic(text in structured_requirement()) {
        check_requirement(&text)?;
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn versions_never_panic_and_round_trip(text in prop_oneof![version(), soup(), "\\PC*"]) {
        if let Ok(v) = Version::from_str(&text) {
            let written = v.to_string();
            let again = Version::from_str(&written).expect("a written version reads back");
            prop_assert_eq!(&again, &v);
            prop_assert_eq!(again.to_string(), written);
        }
    }

    #[test]
    fn specifiers_never_panic_and_round_trip(text in specifiers_text()) {
        if let Ok(specs) = VersionSpecifiers::from_str(&text) {
            let written = specs.to_string();
            let again = VersionSpecifiers::from_str(&written).expect("specifiers read back");
            prop_assert_eq!(&again, &specs);
        }
    }

    #[test]
    fn wheel_filenames_never_panic_and_round_trip(text in wheel_filename_text()) {
        if let Ok(wheel) = WheelFilename::from_str(&text) {
            let written = wheel.to_string();
            let again = WheelFilename::from_str(&written).expect("a wheel name reads back");
            prop_assert_eq!(&again, &wheel);
            prop_assert_eq!(again.tags().count(), wheel.tags().count());
        }
    }

    #[test]
    fn requirements_files_never_panic(lines in prop::collection::vec(requirements_line(), 0..6)) {
        let text = lines.join("\n");
        // Every path reads the same text, so an include (`-r ../x`) includes
        // itself through ever longer paths: the depth bound must stop it.
        let mut read = |_: &Path| -> io::Result<String> { Ok(text.clone()) };
        if let Err(err) = RequirementsFile::parse(Path::new("d/requirements.txt"), &mut read) {
            prop_assert!(!crashed(&err), "{text:?}: {err}");
        }
    }

    #[test]
    fn metadata_never_panics(fields in prop::collection::vec(metadata_line(), 0..8)) {
        let text = fields.join("\n");
        if let Err(err) = Metadata::parse(&text) {
            prop_assert!(!crashed(&err), "{text:?}: {err}");
        }
    }

    #[test]
    fn entry_points_never_panic_and_round_trip(
        lines in prop::collection::vec(entry_points_line(), 0..8)
    ) {
        let eps = EntryPoints::parse(&lines.join("\n"));
        for (_, ep) in eps.scripts() {
            let again = EntryPoint::from_str(&ep.to_string()).expect("an entry point reads back");
            prop_assert_eq!(&again, ep);
        }
    }

    #[test]
    fn pyproject_never_panics(
        deps in prop::collection::vec(requirement_text(), 0..4),
        scripts in prop::collection::vec(("[a-z]{1,3}", soup()), 0..3),
        junk in prop::option::of("\\PC{0,30}"),
    ) {
        let list = deps.iter().map(|d| toml_string(d)).collect::<Vec<_>>().join(", ");
        let mut text = format!("[project]\nname = 'x'\ndependencies = [{list}]\n");
        text.push_str("[project.scripts]\n");
        for (name, target) in &scripts {
            text.push_str(&format!("{name} = {}\n", toml_string(target)));
        }
        text.push_str(&junk.unwrap_or_default());
        if let Err(err) = PyProject::parse(&text) {
            prop_assert!(!crashed(&err), "{text:?}: {err}");
        }
    }

    #[test]
    fn format_choices_never_panic(value in format_value(), only_binary in any::<bool>()) {
        let option = if only_binary { FormatOption::OnlyBinary } else { FormatOption::NoBinary };
        if let Ok(choice) = FormatChoice::parse(option, &value) {
            let mut control = FormatControl::default();
            control.apply(&choice);
            let six = PackageName::from_str("six").unwrap();
            let _ = (control.allows_wheels(&six), control.allows_sdists(&six));
        }
    }
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn cross_targets_never_panic(
        version in prop_oneof![
            "3\\.[0-9]{1,3}(\\.[0-9]{1,2})?",
            "[0-9]{1,12}\\.[0-9]{1,12}",
            "\\PC{0,6}",
        ],
        platform in prop_oneof![
            "(manylinux|musllinux)_[0-9]{1,3}_[0-9]{1,3}_(x86_64|aarch64|é|)",
            "(manylinux2014|manylinux1|linux)_[a-z0-9_]{0,8}",
            "\\PC{0,12}",
        ],
    ) {
        if let Ok(platform) = PlatformTag::from_str(&platform) {
            let _ = Target::cross(&version, Some(&platform), None);
        }
    }
}

fn specifiers_text() -> impl Strategy<Value = String> {
    let list = prop::collection::vec((operator(), version()), 0..4).prop_map(|specs| {
        let specs: Vec<String> = specs.iter().map(|(op, v)| format!("{op}{v}")).collect();
        specs.join(", ")
    });
    prop_oneof![list, soup()]
}

fn wheel_filename_text() -> impl Strategy<Value = String> {
    let build = prop::option::of("[0-9a-z_]{0,3}");
    let tags = ("[a-z0-9.]{0,8}", "[a-z0-9.]{0,6}", "[a-z0-9_.]{0,12}");
    let parts = (name(), version(), build, tags).prop_map(|(n, v, b, (py, abi, plat))| match b {
        Some(b) => format!("{n}-{v}-{b}-{py}-{abi}-{plat}.whl"),
        None => format!("{n}-{v}-{py}-{abi}-{plat}.whl"),
    });
    prop_oneof![parts, soup().prop_map(|s| format!("{s}.whl")), "\\PC*"]
}

/// A requirements-file line: a requirement, an option, or a requirement
/// with per-line options or a continuation.
fn requirements_line() -> impl Strategy<Value = String> {
    #[rustfmt::skip]
    let options = select(&[
        "-r", "-c", "-e", "-é", "-\u{1F600}", "-", "--", "-fx", "-f", "--hash", "--hash=",
        "--hash=sha256:", "--hash=sha256:AB", "--no-binary", "--only-binary", ":all:", ":none:",
        "--index-url", "--frobnicate", "--requirement=", "\\", "#",
    ][..]);
    let per_line = select(
        &[
            " --hash=sha256:AB",
            " --hash",
            " --hash=x",
            " \\",
            " #c",
            " --pre",
        ][..],
    );
    prop_oneof![
        3 => requirement_text(),
        1 => (options, soup()).prop_map(|(opt, rest)| format!("{opt} {rest}")),
        1 => (requirement_text(), per_line).prop_map(|(r, h)| format!("{r}{h}")),
    ]
}

fn metadata_line() -> impl Strategy<Value = String> {
    prop_oneof![
        requirement_text().prop_map(|r| format!("Requires-Dist: {r}")),
        prop_oneof![version(), soup()].prop_map(|v| format!("Version: {v}")),
        name().prop_map(|n| format!("Name: {n}")),
        soup().prop_map(|s| format!("Requires-Python: {s}")),
        soup().prop_map(|s| format!("Provides-Extra: {s}")),
        soup().prop_map(|s| format!("  {s}")),
        "\\PC{0,20}",
    ]
}

fn entry_points_line() -> impl Strategy<Value = String> {
    const SECTIONS: &[&str] = &["[console_scripts]", "[gui_scripts]", "[x", "[]", "# c", ""];
    let entry = (
        "[a-z_é]{1,4}",
        "([a-z_.é0-9]{0,6})(:[a-z_.0-9]{0,6})?( \\[[a-z]{0,3}\\]?)?",
    )
        .prop_map(|(n, v)| format!("{n} = {v}"));
    prop_oneof![
        select(SECTIONS).prop_map(str::to_string),
        entry,
        "\\PC{0,16}",
    ]
}

/// A `--no-binary` / `--only-binary` value.
fn format_value() -> impl Strategy<Value = String> {
    let special = select(&[":all:", ":none:", "", " "][..]).prop_map(str::to_string);
    let list = prop::collection::vec(prop_oneof![name(), special], 0..4).prop_map(|v| v.join(","));
    prop_oneof![list, soup()]
}

/// A TOML basic string holding `text` exactly.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A line of a script around a `# /// script` block, valid and not.
fn script_line() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "# /// script",
            "# ///",
            "#",
            "# dependencies = [",
            "#   'six',",
            "# ]",
            "# requires-python = '>=3.8'",
            "# [tool.x]",
            "# /// other",
            "#/// script",
            "# /// script ",
            "import sys",
            "",
            "\r",
        ])
        .prop_map(str::to_string),
        requirement_text().prop_map(|r| format!("#   {},", toml_string(&r))),
        soup().prop_map(|s| format!("# {s}")),
    ]
}

/// One `[dependency-groups]` entry: a requirement or an include of one of
/// a few group names (so cycles and missing groups come up often).
fn group_item() -> impl Strategy<Value = String> {
    prop_oneof![
        requirement_text().prop_map(|r| toml_string(&r)),
        select(vec!["a", "B", "c_c", "C-c", "d"])
            .prop_map(|g| format!("{{include-group = '{g}'}}")),
        select(vec!["1", "{}", "{x = 1}", "[]", "{include-group = 2}"]).prop_map(str::to_string),
    ]
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn local_paths_and_direct_references_never_panic(text in requirement_text()) {
        let _ = LocalPath::looks_like(&text);
        if let Err(err) = LocalPath::parse(&text) {
            prop_assert!(!crashed(&err), "{text:?}: {err}");
        }
        if let Ok(requirement) = parse_requirement(&text) {
            if let Err(err) = DirectReference::from_requirement(&requirement) {
                prop_assert!(!crashed(&err), "{text:?}: {err}");
            }
        }
    }

    #[test]
    fn script_metadata_never_panics(lines in prop::collection::vec(script_line(), 0..10)) {
        let text = lines.join("\n");
        if let Err(err) = ScriptMetadata::parse(&text) {
            prop_assert!(!crashed(&err), "{text:?}: {err}");
        }
    }

    #[test]
    fn dependency_groups_never_panic_or_loop(
        groups in prop::collection::vec(
            (select(vec!["a", "B", "c_c", "C-c"]), prop::collection::vec(group_item(), 0..4)),
            0..4,
        ),
        asked in select(vec!["a", "b", "c-c", "d"]),
    ) {
        let mut text = String::from("[dependency-groups]\n");
        let mut seen = std::collections::BTreeSet::new();
        for (name, items) in &groups {
            if seen.insert(*name) {
                text.push_str(&format!("{name} = [{}]\n", items.join(", ")));
            }
        }
        if let Ok(pyproject) = PyProject::parse(&text) {
            if let Err(err) = pyproject.dependency_group(asked) {
                prop_assert!(!crashed(&err), "{text:?}: {err}");
            }
        }
    }
}
