//! Resolver behaviour on in-memory candidates: backtracking, extras,
//! markers, Requires-Python, local version labels, yanked versions and the
//! explanation of a conflict.

// Tests may unwrap: a failed unwrap is a failed test (clippy.toml's
// `allow-unwrap-in-tests` covers only `#[test]` functions, not helpers).
#![cfg_attr(test, allow(clippy::unwrap_used, reason = "tests may unwrap"))]

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::str::FromStr;

use pyzap_resolve::{resolve, CandidateMetadata, Exclusion, Notice, Provider, ResolveOptions};
use pyzap_spec::{parse_requirement, MarkerEnvironment, PackageName, Version, VersionSpecifiers};

/// (dependencies, Requires-Python) of one candidate.
type Candidate = (Vec<&'static str>, Option<&'static str>);

#[derive(Default)]
struct Mem {
    candidates: BTreeMap<(String, String), Candidate>,
    yanked: BTreeSet<(String, String)>,
    /// Versions listed but without a usable file, and why.
    excluded: Vec<(String, String, Exclusion)>,
}

impl Mem {
    fn add(
        mut self,
        name: &str,
        version: &str,
        deps: &[&'static str],
        python: Option<&'static str>,
    ) -> Self {
        self.candidates
            .insert((name.into(), version.into()), (deps.to_vec(), python));
        self
    }

    /// Every file of `name==version` is yanked (PEP 592).
    fn yank(mut self, name: &str, version: &str) -> Self {
        self.yanked.insert((name.into(), version.into()));
        self
    }

    /// `name==version` is listed, but no file of it fits the target.
    fn exclude(mut self, name: &str, version: &str, why: Exclusion) -> Self {
        self.excluded.push((name.into(), version.into(), why));
        self
    }
}

impl Provider for Mem {
    type Err = Infallible;
    fn versions(&self, name: &PackageName) -> Result<Vec<Version>, Infallible> {
        Ok(self
            .candidates
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
    fn excluded(&self, name: &PackageName) -> Vec<(Version, Exclusion)> {
        self.excluded
            .iter()
            .filter(|(n, _, _)| n == name.as_ref())
            .map(|(_, v, why)| (Version::from_str(v).unwrap(), why.clone()))
            .collect()
    }
    fn yanked(&self, name: &PackageName, version: &Version) -> bool {
        self.yanked
            .iter()
            .any(|(n, v)| n == name.as_ref() && Version::from_str(v).unwrap() == *version)
    }
    fn yank_reason(&self, name: &PackageName, version: &Version) -> Option<String> {
        self.yanked(name, version).then(|| "broken".to_string())
    }
    fn metadata(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<CandidateMetadata, Infallible> {
        let (deps, py) = self
            .candidates
            .iter()
            .find(|((n, v), _)| n == name.as_ref() && Version::from_str(v).unwrap() == *version)
            .map(|(_, d)| d.clone())
            .unwrap();
        Ok(CandidateMetadata {
            requires_dist: deps.iter().map(|d| parse_requirement(d).unwrap()).collect(),
            requires_python: py.map(|p| VersionSpecifiers::from_str(p).unwrap()),
            ..CandidateMetadata::default()
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
            let extras: Vec<String> = d
                .extras
                .iter()
                .map(std::string::ToString::to_string)
                .collect();
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

/// PEP 440: a specifier without a local label ignores the candidate's label.
#[test]
fn local_labels_follow_pep_440() {
    let p = Mem::default()
        .add("torch", "2.1.0+cu121", &[], None)
        .add("torch", "2.0.1+cpu", &[], None)
        .add("torch", "2.0.0", &[], None);
    let pick = |req: &str| run(&p, &[req], "3.11.7").unwrap();
    assert_eq!(pick("torch==2.1.0"), ["torch==2.1.0+cu121"]);
    assert_eq!(pick("torch<=2.0.1"), ["torch==2.0.1+cpu"]);
    assert_eq!(pick("torch==2.0.1+cpu"), ["torch==2.0.1+cpu"]);
    assert_eq!(pick("torch!=2.1.0"), ["torch==2.0.1+cpu"]);
    assert_eq!(pick("torch<2.0.1"), ["torch==2.0.0"]);
    assert_eq!(pick("torch>2.0.0,<2.1"), ["torch==2.0.1+cpu"]);
    assert!(run(&p, &["torch>2.1.0"], "3.11.7").is_err());
    assert!(run(&p, &["torch==2.1.0+cpu"], "3.11.7").is_err());
}

/// A dependency that excludes a version excludes its local variants too
/// (it used to lock the excluded `1.2.3+foo`).
#[test]
fn an_excluded_version_excludes_its_local_variants() {
    let p = Mem::default()
        .add("app", "1.0", &["a!=1.2.3"], None)
        .add("a", "1.2.3+foo", &[], None)
        .add("a", "1.2.2", &[], None);
    assert_eq!(
        run(&p, &["app"], "3.11.7").unwrap(),
        ["a==1.2.2", "app==1.0"]
    );
}

#[test]
fn refusing_the_only_local_version_says_why() {
    let p = Mem::default().add("pkg", "1.2.3+cpu", &[], None);
    assert_eq!(
        run(&p, &["pkg==1.2.3"], "3.11.7").unwrap(),
        ["pkg==1.2.3+cpu"]
    );
    let err = run(&p, &["pkg!=1.2.3"], "3.11.7").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("Because there is no version of pkg!=1.2.3 and you require pkg!=1.2.3"),
        "{text}"
    );
    assert_eq!(
        err.hints(),
        [
            "versions of pkg available for the target: 1.2.3+cpu",
            "pkg 1.2.3+cpu does not satisfy `pkg!=1.2.3`: PEP 440 ignores its local label \
          `+cpu` there and compares it as 1.2.3"
        ]
    );
}

/// PEP 592 as pip applies it: a yanked version only under an `==`/`===`
/// pin that matches it, and only when the pin admits nothing else.
#[test]
fn yanked_versions_only_for_a_pin_that_matches_them() {
    let only_yanked = Mem::default()
        .add("pkg", "1.2.3+cpu", &[], None)
        .yank("pkg", "1.2.3+cpu");
    let pick = |p: &Mem, req: &str| run(p, &[req], "3.11.7");
    assert_eq!(
        pick(&only_yanked, "pkg==1.2.3").unwrap(),
        ["pkg==1.2.3+cpu"]
    );
    assert_eq!(
        pick(&only_yanked, "pkg==1.2.3+cpu").unwrap(),
        ["pkg==1.2.3+cpu"]
    );
    assert_eq!(
        pick(&only_yanked, "pkg===1.2.3+cpu").unwrap(),
        ["pkg==1.2.3+cpu"]
    );
    for not_a_pin in ["pkg", "pkg<=1.2.3", "pkg>=1.2.3,<=1.2.3", "pkg==1.2.*"] {
        assert!(pick(&only_yanked, not_a_pin).is_err(), "{not_a_pin}");
    }

    // Under a pin a version that is not yanked still wins.
    let both = Mem::default()
        .add("pkg", "1.2.3+cpu", &[], None)
        .add("pkg", "1.2.3", &[], None)
        .yank("pkg", "1.2.3+cpu");
    assert_eq!(pick(&both, "pkg==1.2.3").unwrap(), ["pkg==1.2.3"]);

    // A pin in a dependency counts too.
    let deep = Mem::default()
        .add("app", "1.0", &["pkg==1.2.3"], None)
        .add("pkg", "1.2.3", &[], None)
        .add("pkg", "1.0", &[], None)
        .yank("pkg", "1.2.3");
    assert_eq!(pick(&deep, "app").unwrap(), ["app==1.0", "pkg==1.2.3"]);
    assert_eq!(pick(&deep, "pkg").unwrap(), ["pkg==1.0"]);
}

/// Every `b 2.0.x` pins the older `a`; `b 1.0.0` needs the extra package
/// `c`. pubgrub decides `a` first (fewer versions) and used to walk `b`
/// down to `1.0.0` plus `c`; pip and uv pick `a 1.0.0` and `b 2.0.9`.
fn sibling_pins() -> Mem {
    let mut p = Mem::default()
        .add("a", "2.0.0", &[], None)
        .add("a", "1.0.0", &[], None)
        .add("b", "1.0.0", &["c"], None)
        .add("c", "1.0.0", &[], None);
    for patch in [
        "2.0.0", "2.0.1", "2.0.2", "2.0.3", "2.0.4", "2.0.5", "2.0.6", "2.0.7", "2.0.8", "2.0.9",
    ] {
        p = p.add("b", patch, &["a==1.0.0"], None);
    }
    p
}

#[test]
fn a_package_that_keeps_conflicting_is_decided_again() {
    let p = sibling_pins();
    assert_eq!(
        run(&p, &["a", "b"], "3.11.7").unwrap(),
        ["a==1.0.0", "b==2.0.9"]
    );
    // Whatever order the requirements come in.
    assert_eq!(
        run(&p, &["b", "a"], "3.11.7").unwrap(),
        ["a==1.0.0", "b==2.0.9"]
    );
}

/// A new order of decisions cannot make an impossible request possible:
/// the resolution still ends, with the conflict explained.
#[test]
fn conflicts_no_order_can_fix_still_fail() {
    let p = sibling_pins();
    let err = run(&p, &["a>=2", "b>=2"], "3.11.7").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("a==1.0.0"), "{text}");
    assert!(text.contains("you require b>=2"), "{text}");
}

/// `==3.1.3` also stands for any `3.1.3+label`; when none exists, the
/// explanation does not spend a step proving it.
#[test]
fn a_conflict_between_pins_reads_without_local_variants() {
    let p = Mem::default()
        .add("flask", "3.1.3", &["werkzeug>=3.1.0"], None)
        .add("werkzeug", "3.1.3", &[], None)
        .add("werkzeug", "3.0.6", &[], None);
    let err = run(&p, &["flask==3.1.3", "werkzeug==3.0.6"], "3.11.7").unwrap_err();
    assert_eq!(
        err.to_string(),
        "no set of distributions satisfies the requirements:\n\
         Because flask==3.1.3 depends on werkzeug>=3.1.0 and you require flask==3.1.3, \
         you require werkzeug>=3.1.0.\n\
         And because you require werkzeug==3.0.6, your requirements cannot be met."
    );
}

/// What pip and uv warn about, and what `-v` shows: a yanked version taken
/// through its pin, an extra the package does not have, requirements whose
/// markers are false for the target (yours and the dependencies').
#[test]
fn a_resolution_says_what_it_did_that_may_surprise() {
    let p = Mem::default()
        .add(
            "app",
            "1.0",
            &[
                "lib==2.0",
                "winlib; sys_platform == 'win32'",
                "extra-only; extra == 'fast'",
            ],
            None,
        )
        .add("lib", "2.0", &[], None)
        .add("lib", "1.0", &[], None)
        .yank("lib", "2.0");
    let reqs: Vec<_> = ["app[nope]", "old; python_version < '3'"]
        .iter()
        .map(|r| parse_requirement(r).unwrap())
        .collect();
    let resolution = resolve(&p, &reqs, &[], &env("3.11.7"), &ResolveOptions::default()).unwrap();
    let notices: Vec<(bool, String)> = resolution
        .notices
        .iter()
        .map(|n| (n.is_warning(), n.to_string()))
        .collect();
    assert_eq!(
        notices,
        [
            (
                false,
                "left out `old ; python_full_version < '3'`: its marker is false for the target"
                    .to_string()
            ),
            (
                true,
                "app 1.0 does not provide the extra `nope` (it has no extras)".to_string()
            ),
            (
                false,
                "left out `winlib ; sys_platform == 'win32'` (a dependency of app 1.0): its marker \
                 is false for the target"
                    .to_string()
            ),
            (
                true,
                "lib 2.0 is yanked (reason: broken); it is used because `lib==2.0` pins it"
                    .to_string()
            ),
        ]
    );
    assert!(matches!(resolution.notices[1], Notice::UnknownExtra { .. }));
    // An extra that a requirement names is one, without `Provides-Extra`.
    let known = run(&p, &["app[fast]"], "3.11.7");
    assert!(known.is_err(), "extra-only does not exist: {known:?}");
}

/// The explanation names the versions that exist: no step about the local
/// variants `==1.0` also stands for, no range of gaps between versions.
#[test]
fn a_conflict_reads_in_versions_that_exist() {
    let p = Mem::default()
        .add("gamma", "1.0", &["beta==1.0"], None)
        .add("gamma", "2.0", &["beta>2.0"], None)
        .add("delta", "1.0", &["beta==2.0"], None)
        .add("beta", "1.0", &[], None)
        .add("beta", "2.0", &[], None);
    let err = run(&p, &["gamma==1.0", "delta"], "3.11.7").unwrap_err();
    assert_eq!(
        err.to_string(),
        "no set of distributions satisfies the requirements:\n\
         Because delta==1.0 depends on beta==2.0 and gamma==1.0 depends on beta==1.0, \
         gamma==1.0 and delta are incompatible.\n\
         And because you require delta and you require gamma==1.0, your requirements cannot be met."
    );
    let err = run(&p, &["gamma>=2"], "3.11.7").unwrap_err();
    assert_eq!(
        err.to_string(),
        "no set of distributions satisfies the requirements:\n\
         Because there is no version of beta>2.0 and gamma==2.0 depends on beta>2.0, \
         gamma==2.0 cannot be used.\n\
         And because you require gamma>=2, your requirements cannot be met."
    );
    assert_eq!(
        err.hints(),
        ["versions of beta available for the target: 2.0, 1.0"]
    );
}

/// A version that does not exist: the versions that do, newest first, and
/// why the newer ones listed could not be used.
#[test]
fn a_missing_version_lists_the_others_and_why_some_are_out() {
    let p = Mem::default()
        .add("alpha", "1.0", &[], None)
        .add("alpha", "2.0", &[], None)
        .add("alpha", "2.1", &[], None)
        .add("alpha", "2.2", &[], Some(">=3.13"))
        .yank("alpha", "2.1")
        .exclude(
            "alpha",
            "2.6",
            Exclusion::NoFile("no wheel for the target".into()),
        );
    let err = run(&p, &["alpha==3.0"], "3.11.7").unwrap_err();
    assert_eq!(
        err.to_string(),
        "no set of distributions satisfies the requirements:\n\
         Because there is no version of alpha==3.0 and you require alpha==3.0, \
         your requirements cannot be met."
    );
    // 2.2's Requires-Python is in metadata nobody read: it is offered;
    // of the others, those newer than it are explained.
    assert_eq!(
        err.hints(),
        [
            "versions of alpha available for the target: 2.2, 2.0, 1.0",
            "alpha 2.6: no wheel for the target",
        ]
    );
    // Read once it is a candidate: the bound and the target's Python.
    let err = run(&p, &["alpha>2.0"], "3.11.7").unwrap_err();
    assert!(
        err.to_string()
            .contains("Because no version of alpha>2.0 can be used and you require alpha>2.0"),
        "{err}"
    );
    assert_eq!(
        err.hints(),
        [
            "versions of alpha available for the target: 2.0, 1.0",
            "alpha 2.6: no wheel for the target",
            "alpha 2.2: requires Python >=3.13, but the target is Python 3.11.7",
            "alpha 2.1: yanked (reason: broken); pin `alpha==2.1` to use it anyway",
        ]
    );
}

/// A dependency's direct URL reference is refused, naming the dependency
/// and what to do (a project the user pinned to a file reaches the resolver
/// without its URL: `pyzap-bundle`'s provider clears it).
#[test]
fn a_dependencys_direct_url_is_refused_with_what_to_do() {
    const URL: &str = "https://example.invalid/dep-1.0-py3-none-any.whl";
    let p = Mem::default()
        .add(
            "app",
            "1.0",
            &["dep @ https://example.invalid/dep-1.0-py3-none-any.whl"],
            None,
        )
        .add("dep", "1.0", &[], None);
    let err = run(&p, &["app"], "3.11.7").unwrap_err().to_string();
    assert!(
        err.contains(&format!(
            "it depends on `dep @ {URL}`, a direct URL reference"
        )) && err.contains(&format!("require `dep @ {URL}` yourself")),
        "{err}"
    );
}
