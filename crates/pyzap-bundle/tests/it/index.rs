//! The resolver over a real index client and a local index serving
//! ../shared/wheelhouse: yanked files, `requires-python`, and a differential
//! test against `pip install --dry-run --report` under every CPython 3.8–3.13.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::{Arc, Mutex};

use pyzap_bundle::IndexProvider;
use pyzap_index::http::{HttpOptions, UreqClient};
use pyzap_index::{IndexClient, IndexOptions, Url};
use pyzap_resolve::{resolve, Exclusion, Provider, ResolveOptions};
use pyzap_spec::{parse_requirement, FormatChoice, FormatControl, FormatOption, Target};
use pyzap_test_support::{IndexConfig, IndexServer, PageFormat, ReferenceCache};

fn client(server: &IndexServer, cache: &std::path::Path) -> IndexClient {
    IndexClient::new(
        Arc::new(UreqClient::new(&HttpOptions::default())),
        IndexOptions {
            index_urls: vec![Url::parse(&server.url()).unwrap()],
            find_links: Vec::new(),
            cache_dir: cache.to_path_buf(),
            offline: false,
            retries: 0,
        },
    )
    .unwrap()
}

/// `name==version` of every pinned distribution.
fn ours(index: &IndexClient, target: &Target, reqs: &[&str]) -> BTreeSet<String> {
    try_ours(index, target, reqs)
        .unwrap_or_else(|e| panic!("{reqs:?} for {}: {e}", target.describe()))
}

fn try_ours(
    index: &IndexClient,
    target: &Target,
    reqs: &[&str],
) -> Result<BTreeSet<String>, String> {
    let provider = IndexProvider {
        index,
        target,
        allow_sdists: false,
        formats: &FormatControl::default(),
        prefetch_jobs: 4,
    };
    let reqs: Vec<_> = reqs.iter().map(|r| parse_requirement(r).unwrap()).collect();
    let resolution = resolve(
        &provider,
        &reqs,
        &[],
        &target.markers,
        &ResolveOptions::default(),
    )
    .map_err(|e| e.to_string())?;
    Ok(resolution
        .dists
        .iter()
        .map(|d| format!("{}=={}", d.name, d.version))
        .collect())
}

fn target(minor: u32) -> Option<(std::path::PathBuf, Target)> {
    let py = pyzap_test_support::require((3, minor))?;
    let interp = pyzap_python::Interpreter::find(py.path.to_str().unwrap()).unwrap();
    Some((py.path, interp.target))
}

#[test]
fn yanked_versions_only_for_exact_pins() {
    let server = IndexServer::start(IndexConfig {
        yanked: vec![("flask-3.1.3-py3-none-any.whl".into(), "broken".into())],
        ..IndexConfig::wheelhouse()
    });
    let cache = tempfile::tempdir().unwrap();
    let index = client(&server, cache.path());
    let Some((_, t)) = target(11) else { return };
    assert!(ours(&index, &t, &["flask"]).contains("flask==3.0.3"));
    // As pip: a range that admits only yanked versions has no solution.
    assert!(try_ours(&index, &t, &["flask>=3.1"]).is_err());
    assert!(ours(&index, &t, &["flask==3.1.3"]).contains("flask==3.1.3"));
}

#[test]
fn requires_python_of_index_files_is_honoured() {
    let server = IndexServer::start(IndexConfig::wheelhouse());
    let cache = tempfile::tempdir().unwrap();
    let index = client(&server, cache.path());
    // flask 3.1 needs Python 3.9: 3.8 gets 3.0.x without reading 3.1's metadata.
    let Some((_, t)) = target(8) else { return };
    assert!(ours(&index, &t, &["flask"]).contains("flask==3.0.3"));
}

#[test]
fn binary_options_choose_between_sdist_and_wheel() {
    let server = IndexServer::start(IndexConfig::wheelhouse());
    let cache = tempfile::tempdir().unwrap();
    let index = client(&server, cache.path());
    let Some((_, t)) = target(11) else { return };
    let six = "six".parse().unwrap();
    let version = "1.17.0".parse().unwrap();
    let chosen = |allow_sdists, options: &[(FormatOption, &str)]| {
        let mut formats = FormatControl::default();
        for (option, value) in options {
            formats.apply(&FormatChoice::parse(*option, value).unwrap());
        }
        let provider = IndexProvider {
            index: &index,
            target: &t,
            allow_sdists,
            formats: &formats,
            prefetch_jobs: 0,
        };
        let file = provider.best_file(&six, &version).unwrap();
        let reason = provider
            .excluded(&six)
            .into_iter()
            .find(|(v, _)| *v == version)
            .map(|(_, why)| why);
        (file.map(|f| f.filename), reason)
    };
    let wheel = Some("six-1.17.0-py2.py3-none-any.whl".to_string());
    let sdist = Some("six-1.17.0.tar.gz".to_string());
    assert_eq!(chosen(true, &[]).0, wheel);
    assert_eq!(chosen(true, &[(FormatOption::NoBinary, "six")]).0, sdist);
    assert_eq!(chosen(true, &[(FormatOption::NoBinary, ":all:")]).0, sdist);
    assert_eq!(
        chosen(
            true,
            &[
                (FormatOption::NoBinary, ":all:"),
                (FormatOption::OnlyBinary, "six")
            ]
        )
        .0,
        wheel
    );
    assert_eq!(chosen(true, &[(FormatOption::NoBinary, "tomli")]).0, wheel);
    // --no-binary with builds refused leaves nothing, and says why.
    let (file, reason) = chosen(false, &[(FormatOption::NoBinary, "six")]);
    assert_eq!(file, None);
    let Some(Exclusion::NoFile(reason)) = reason else {
        panic!("{reason:?}");
    };
    assert!(
        reason.contains("--no-binary allows only its sdist"),
        "{reason}"
    );
}

/// The requirement sets of the differential table.
const SETS: &[&[&str]] = &[
    &["flask", "gunicorn", "black", "requests"],
    &["jaraco.functools", "jaraco.context", "hatchling"],
    &["click<8.2", "pyyaml", "urllib3<2.5", "requests"],
    &[
        "setuptools",
        "wheel",
        "pygments",
        "colorama",
        "attrs",
        "waitress",
        "charset-normalizer",
        "importlib-metadata",
    ],
    // No solution on 3.8 (tomlkit needs 3.9): both must fail there.
    &["tomlkit", "flask>=3.1"],
];

/// What `pip install --dry-run --report` would install, as `name==version`,
/// or `Err` when pip finds no solution. Kept across runs (about half a
/// minute of pip per run), named by the interpreter, the wheelhouse, the
/// requirements and `variant`, the kind of index (not its port).
fn pip(
    python: &std::path::Path,
    index_url: &str,
    variant: &str,
    reqs: &[&str],
) -> Result<BTreeSet<String>, String> {
    let cache = ReferenceCache::new(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")));
    let command = format!("pip install --dry-run --report, {variant} index: {reqs:?}");
    let text = cache.get(python, &command, || {
        match run_pip(python, index_url, reqs) {
            Ok(set) => format!("ok\n{}", set.into_iter().collect::<Vec<_>>().join("\n")),
            Err(stderr) => format!("err\n{stderr}"),
        }
    });
    match text.split_once('\n') {
        Some(("ok", set)) => Ok(set.lines().map(str::to_string).collect()),
        Some((_, stderr)) => Err(stderr.to_string()),
        None => Ok(BTreeSet::new()),
    }
}

fn run_pip(
    python: &std::path::Path,
    index_url: &str,
    reqs: &[&str],
) -> Result<BTreeSet<String>, String> {
    let out = Command::new(python)
        .args(["-m", "pip", "install", "--dry-run", "--ignore-installed"])
        .args(["--report", "-", "--quiet", "--only-binary", ":all:"])
        .args([
            "--disable-pip-version-check",
            "--no-cache-dir",
            "-i",
            index_url,
        ])
        .args(reqs)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .env_remove("PIP_FIND_LINKS")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        assert!(
            stderr.contains("No matching distribution") || stderr.contains("ResolutionImpossible"),
            "pip failed for {reqs:?}: {stderr}"
        );
        return Err(stderr.into_owned());
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Ok(report["install"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let name: pyzap_spec::PackageName =
                i["metadata"]["name"].as_str().unwrap().parse().unwrap();
            format!("{name}=={}", i["metadata"]["version"].as_str().unwrap())
        })
        .collect())
}

#[test]
fn resolutions_equal_pips_on_every_python() {
    let json = IndexServer::start(IndexConfig::wheelhouse());
    let html = IndexServer::start(IndexConfig {
        format: PageFormat::Html,
        metadata_files: false,
        ..IndexConfig::wheelhouse()
    });
    let targets: Vec<_> = (8..=13).filter_map(target).collect();
    assert!(!targets.is_empty(), "no CPython 3.8-3.13 on this machine");
    let mut jobs = Vec::new();
    for (python, t) in &targets {
        for (i, set) in SETS.iter().enumerate() {
            jobs.push((python, t, *set, if i % 2 == 0 { &json } else { &html }));
        }
    }
    let next = Mutex::new(jobs.into_iter());
    let failures = Mutex::new(Vec::new());
    let cache = tempfile::tempdir().unwrap();
    let index_json = client(&json, cache.path());
    let index_html = client(&html, cache.path());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let Some((python, t, set, server)) = next.lock().unwrap().next() else {
                    break;
                };
                let index = if std::ptr::eq(server, &json) {
                    &index_json
                } else {
                    &index_html
                };
                let variant = if std::ptr::eq(server, &json) {
                    "json pages with metadata files"
                } else {
                    "html pages without metadata files"
                };
                let theirs = pip(python, &server.url(), variant, set);
                let mine = try_ours(index, t, set);
                if mine.is_ok() != theirs.is_ok() || (mine.is_ok() && mine != theirs) {
                    failures.lock().unwrap().push(format!(
                        "{} {set:?}:\n  pyzap: {mine:?}\n  pip:   {theirs:?}",
                        t.describe()
                    ));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!(
        "ok: {} requirement sets x {} Pythons agree with pip",
        SETS.len(),
        targets.len()
    );
}
