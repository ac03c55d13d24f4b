//! Resolver behaviour on in-memory candidates: backtracking, extras,
//! markers, Requires-Python and the explanation of a conflict.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::str::FromStr;

use pyzap_resolve::{resolve, CandidateMetadata, Provider, ResolveOptions};
use pyzap_spec::{parse_requirement, MarkerEnvironment, PackageName, Version, VersionSpecifiers};

/// (dependencies, Requires-Python) of one candidate.
type Candidate = (Vec<&'static str>, Option<&'static str>);

#[derive(Default)]
struct Mem(BTreeMap<(String, String), Candidate>);

impl Mem {
    fn add(
        mut self,
        name: &str,
        version: &str,
        deps: &[&'static str],
        python: Option<&'static str>,
    ) -> Self {
        self.0
            .insert((name.into(), version.into()), (deps.to_vec(), python));
        self
    }
}

impl Provider for Mem {
    type Err = Infallible;
    fn versions(&self, name: &PackageName) -> Result<Vec<Version>, Infallible> {
        Ok(self
            .0
            .keys()
            .filter(|(n, _)| n == name.as_ref())
            .map(|(_, v)| Version::from_str(v).unwrap())
            .collect())
    }
    fn unavailable_reason(&self, name: &PackageName) -> Option<String> {
        self.versions(name)
            .unwrap()
            .is_empty()
            .then(|| format!("nothing named {name}"))
    }
    fn metadata(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<CandidateMetadata, Infallible> {
        let (deps, py) = self
            .0
            .iter()
            .find(|((n, v), _)| n == name.as_ref() && Version::from_str(v).unwrap() == *version)
            .map(|(_, d)| d.clone())
            .unwrap();
        Ok(CandidateMetadata {
            requires_dist: deps.iter().map(|d| parse_requirement(d).unwrap()).collect(),
            requires_python: py.map(|p| VersionSpecifiers::from_str(p).unwrap()),
        })
    }
}

fn env(python: &str) -> MarkerEnvironment {
    let short = python.rsplit_once('.').unwrap().0.to_string();
    MarkerEnvironment::try_from(pep508_rs_builder(python, &short)).unwrap()
}

fn pep508_rs_builder<'a>(
    full: &'a str,
    short: &'a str,
) -> pyzap_spec::MarkerEnvironmentBuilder<'a> {
    pyzap_spec::MarkerEnvironmentBuilder {
        implementation_name: "cpython",
        implementation_version: full,
        os_name: "posix",
        platform_machine: "x86_64",
        platform_python_implementation: "CPython",
        platform_release: "",
        platform_system: "Linux",
        platform_version: "",
        python_full_version: full,
        python_version: short,
        sys_platform: "linux",
    }
}

fn run(p: &Mem, reqs: &[&str], python: &str) -> Result<Vec<String>, pyzap_resolve::ResolveError> {
    let reqs: Vec<_> = reqs.iter().map(|r| parse_requirement(r).unwrap()).collect();
    let res = resolve(p, &reqs, &[], &env(python), &ResolveOptions::default())?;
    Ok(res
        .dists
        .iter()
        .map(|d| {
            let extras: Vec<String> = d.extras.iter().map(|e| e.to_string()).collect();
            if extras.is_empty() {
                format!("{}=={}", d.name, d.version)
            } else {
                format!("{}[{}]=={}", d.name, extras.join(","), d.version)
            }
        })
        .collect())
}

#[test]
fn backtracks_to_a_compatible_version() {
    let p = Mem::default()
        .add("app", "2.0", &["lib>=2"], None)
        .add("app", "1.0", &["lib<2"], None)
        .add("lib", "2.0", &["other==9"], None)
        .add("lib", "1.5", &[], None);
    assert_eq!(
        run(&p, &["app"], "3.11.7").unwrap(),
        ["app==1.0", "lib==1.5"]
    );
}

#[test]
fn extras_and_markers_follow_the_target() {
    let p = Mem::default()
        .add(
            "requests",
            "2.0",
            &[
                "idna",
                "pysocks; extra == 'socks'",
                "tomli; python_version < '3.11'",
            ],
            None,
        )
        .add("idna", "3.0", &[], None)
        .add("pysocks", "1.7", &[], None)
        .add("tomli", "2.0", &[], None);
    assert_eq!(
        run(&p, &["requests"], "3.11.7").unwrap(),
        ["idna==3.0", "requests==2.0"]
    );
    assert_eq!(
        run(&p, &["requests[socks]"], "3.9.1").unwrap(),
        [
            "idna==3.0",
            "pysocks==1.7",
            "requests[socks]==2.0",
            "tomli==2.0"
        ]
    );
}

#[test]
fn requires_python_skips_versions() {
    let p = Mem::default()
        .add("black", "26.0", &[], Some(">=3.10"))
        .add("black", "24.8", &[], Some(">=3.8"));
    assert_eq!(run(&p, &["black"], "3.8.18").unwrap(), ["black==24.8"]);
    assert_eq!(run(&p, &["black"], "3.12.1").unwrap(), ["black==26.0"]);
}

#[test]
fn prereleases_only_as_fallback() {
    let p = Mem::default()
        .add("x", "2.0b1", &[], None)
        .add("x", "1.0", &[], None);
    assert_eq!(run(&p, &["x"], "3.11.7").unwrap(), ["x==1.0"]);
    let q = Mem::default().add("y", "2.0b1", &[], None);
    assert_eq!(run(&q, &["y"], "3.11.7").unwrap(), ["y==2.0b1"]);
}

#[test]
fn conflict_explains_the_chain() {
    let p = Mem::default()
        .add("flask", "3.0", &["click>=8.1"], None)
        .add("click", "8.1.8", &[], None)
        .add("click", "7.0", &[], None);
    let err = run(&p, &["flask", "click<8"], "3.11.7").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("flask"), "{text}");
    assert!(text.contains("click"), "{text}");
    assert!(!text.contains("requirements you gave 0"), "{text}");
}

#[test]
fn unknown_project_has_a_hint() {
    let p = Mem::default();
    let err = run(&p, &["nosuchthing"], "3.11.7").unwrap_err();
    assert_eq!(err.hints(), ["nothing named nosuchthing"]);
}
