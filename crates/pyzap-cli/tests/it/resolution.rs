//! `pyzap lock` against an index on 127.0.0.1 serving wheels built in the
//! test: local version labels as PEP 440 reads them, yanked files under a
//! pin, and a sibling pin (boto3/botocore) that must not walk a package
//! down to an ancient release. (Each rule in detail: in process, in
//! `pyzap-resolve`.)

use std::path::{Path, PathBuf};
use std::process::Output;

use pyzap_test_support::{IndexConfig, IndexServer, WheelBuilder};

use crate::common::*;

/// A directory of wheels: (name, version, requirements).
fn wheels(prefix: &str, specs: &[(&str, &str, &[&str])]) -> PathBuf {
    let dir = fresh_dir(prefix);
    for (name, version, requires) in specs {
        let mut wheel = WheelBuilder::new(name, version).file(&format!("{name}/__init__.py"), "");
        for requirement in *requires {
            wheel = wheel.requires(requirement);
        }
        wheel.build(&dir);
    }
    dir
}

/// `pyzap lock REQUIREMENTS -i SERVER` for the 3.11 interpreter, into `out`.
fn lock(server: &IndexServer, requirements: &[&str], out: &Path) -> Output {
    pyzap()
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .env_remove("PIP_FIND_LINKS")
        .env_remove("UV_INDEX_URL")
        .arg("lock")
        .args(requirements)
        .args(["-i", &server.url()])
        .arg("--python")
        .arg(&py311().path)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap()
}

/// `name==version` of every package in a lock file, in its order (by name).
fn locked(lockfile: &Path) -> Vec<String> {
    let text = fs_err::read_to_string(lockfile).unwrap();
    let value = |line: Option<&str>, key: &str| {
        line.and_then(|l| l.strip_prefix(key))
            .map(|v| v.trim_matches('"').to_string())
            .unwrap_or_else(|| panic!("no {key} after [[packages]] in {text}"))
    };
    let mut packages = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line == "[[packages]]" {
            let name = value(lines.next(), "name = ");
            let version = value(lines.next(), "version = ");
            packages.push(format!("{name}=={version}"));
        }
    }
    packages
}

#[test]
fn a_local_version_satisfies_its_public_version_and_not_its_exclusion() {
    let dir = wheels("local-labels-", &[("pkg", "1.2.3+cpu", &[])]);
    let server = IndexServer::start(IndexConfig::serving(dir.clone()));
    let lockfile = dir.join("pylock.toml");

    let out = lock(&server, &["pkg==1.2.3"], &lockfile);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(locked(&lockfile), ["pkg==1.2.3+cpu"]);

    let out = lock(&server, &["pkg!=1.2.3"], &dir.join("never.toml"));
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("there is no version of pkg!=1.2.3"),
        "the report names the specifier as written: {err}"
    );
    assert!(
        err.contains(
            "hint: pkg 1.2.3+cpu does not satisfy `pkg!=1.2.3`: PEP 440 ignores its local \
             label `+cpu` there and compares it as 1.2.3"
        ),
        "{err}"
    );
}

/// PEP 592: a yanked `1.2.3+cpu` is chosen by `==1.2.3`, which matches it,
/// and by nothing that is not a pin.
#[test]
fn a_yanked_local_version_is_chosen_only_by_a_pin() {
    let dir = wheels("yanked-local-", &[("pkg", "1.2.3+cpu", &[])]);
    let filename = WheelBuilder::new("pkg", "1.2.3+cpu").filename();
    let server = IndexServer::start(IndexConfig {
        yanked: vec![(filename, "broken build".into())],
        ..IndexConfig::serving(dir.clone())
    });
    let lockfile = dir.join("pylock.toml");
    let out = lock(&server, &["pkg==1.2.3"], &lockfile);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(locked(&lockfile), ["pkg==1.2.3+cpu"]);

    let out = lock(&server, &["pkg>=1"], &dir.join("never.toml"));
    assert!(!out.status.success(), "a range never takes a yanked file");
}

/// Every `b 2.0.x` needs `a==1.0.0` while the newest `a` is 2.0.0, and
/// `b 1.0.0` needs an extra package `c`: like pip and uv, `a 1.0.0` with
/// `b 2.0.9`, and `c` is never even looked up.
#[test]
fn a_sibling_pin_does_not_walk_the_other_package_down() {
    let mut specs: Vec<(&str, &str, &[&str])> = vec![
        ("a", "2.0.0", &[]),
        ("a", "1.0.0", &[]),
        ("b", "1.0.0", &["c"]),
        ("c", "1.0.0", &[]),
    ];
    let patches: Vec<String> = (0..10).map(|p| format!("2.0.{p}")).collect();
    for patch in &patches {
        specs.push(("b", patch, &["a==1.0.0"]));
    }
    let dir = wheels("sibling-pin-", &specs);
    let server = IndexServer::start(IndexConfig::serving(dir.clone()));
    let lockfile = dir.join("pylock.toml");
    let out = lock(&server, &["a", "b"], &lockfile);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(locked(&lockfile), ["a==1.0.0", "b==2.0.9"]);
    let requests = server.requests();
    assert!(
        !requests.iter().any(|r| r.path.starts_with("/simple/c/")),
        "{requests:#?}"
    );
}
