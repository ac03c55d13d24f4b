//! One lock for several environments (`pyzap lock` with several
//! `--python-version` × `--platform`), as `pex3 lock --style universal` and
//! `uv lock` make: each environment is resolved on its own, then the
//! resolutions are merged. A package version chosen by every environment
//! has no marker; one chosen by some gets a PEP 751 `marker` true in exactly
//! those (of the lock's environments: outside them any value will do, since
//! the `environments` key refuses them), with the union of the wheels they
//! use. The same project may then appear twice, at two versions, with
//! disjoint markers (PEP 751: "Locking for multiple environments").
//!
//! Markers name `python_version` and, when the platforms differ,
//! `platform_machine` (and `sys_platform` when that differs too). They are
//! written from the shape of the chosen set, simplest first: by version
//! alone, by platform alone, else per platform; a run of consecutive
//! versions is a range (`python_version < '3.10'`) rather than a list.
//! Environments that no marker tells apart (`manylinux_2_28_x86_64` and
//! `musllinux_1_2_x86_64` share every marker) must resolve alike, or the
//! merge is refused.

use std::collections::BTreeMap;

use pyzap_spec::{PackageName, Target, Version};

use crate::{Lock, LockedPackage, ResolveError};

/// What an environment is, as far as markers can tell.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Environment {
    /// `(major, minor)`, ordered as versions.
    python: (u32, u32),
    sys_platform: String,
    platform_machine: String,
}

impl Environment {
    fn of(target: &Target) -> Self {
        Environment {
            python: (target.major, target.minor),
            sys_platform: target.facts.sys_platform.clone(),
            platform_machine: target.facts.platform_machine.clone(),
        }
    }

    fn platform(&self) -> (&str, &str) {
        (&self.sys_platform, &self.platform_machine)
    }
}

/// One environment's resolution, ready for the lock (no markers yet).
#[derive(Debug, Clone)]
pub struct EnvironmentLock<'a> {
    pub target: &'a Target,
    pub packages: Vec<LockedPackage>,
}

impl Lock {
    /// The lock of one or several environments' resolutions. One
    /// environment gives the single-environment lock pyzap has always
    /// written (`requires-python = "==X.Y.*"`, no package markers).
    pub fn for_environments(
        created_by: String,
        locks: Vec<EnvironmentLock<'_>>,
        roots: Vec<PackageName>,
    ) -> Result<Lock, ResolveError> {
        // Sorted, so the order of --python-version and --platform does not
        // change the file.
        let mut keyed: Vec<(Environment, String)> = locks
            .iter()
            .map(|l| {
                (
                    Environment::of(l.target),
                    Lock::environment_marker(l.target),
                )
            })
            .collect();
        keyed.sort();
        keyed.dedup();
        let keys: Vec<Environment> = keyed.iter().map(|(k, _)| k.clone()).collect();
        let environments = keyed.into_iter().map(|(_, m)| m).collect();
        let requires_python = requires_python(&keys);
        let packages = if locks.len() == 1 {
            locks.into_iter().flat_map(|l| l.packages).collect()
        } else {
            merge(&locks)?
        };
        Ok(Lock {
            created_by,
            environments,
            requires_python,
            packages,
            roots,
        })
    }
}

/// `==3.11.*` for one Python version, `>=3.9, <3.14` for several.
fn requires_python(keys: &[Environment]) -> Option<String> {
    let lowest = keys.iter().map(|k| k.python).min()?;
    let highest = keys.iter().map(|k| k.python).max()?;
    Some(if lowest == highest {
        format!("=={}.{}.*", lowest.0, lowest.1)
    } else {
        format!(
            ">={}.{}, <{}.{}",
            lowest.0,
            lowest.1,
            highest.0,
            highest.1 + 1
        )
    })
}

/// The packages of every environment, one entry per project version, each
/// with the marker of the environments that chose it.
fn merge(locks: &[EnvironmentLock<'_>]) -> Result<Vec<LockedPackage>, ResolveError> {
    // Which environments chose each (name, version), and its files.
    let mut chosen: BTreeMap<(PackageName, Version), (Vec<Environment>, LockedPackage)> =
        BTreeMap::new();
    let mut universe: Vec<Environment> = Vec::new();
    for l in locks {
        let env = Environment::of(l.target);
        if !universe.contains(&env) {
            universe.push(env.clone());
        }
        for p in &l.packages {
            let key = (p.name.clone(), p.version.clone());
            let (envs, merged) = chosen.entry(key).or_insert_with(|| {
                (
                    Vec::new(),
                    LockedPackage {
                        wheels: Vec::new(),
                        ..p.clone()
                    },
                )
            });
            if !envs.contains(&env) {
                envs.push(env.clone());
            }
            add_files(merged, p);
        }
    }
    check_distinguishable(locks)?;
    let mut out = Vec::new();
    for (_, (envs, mut package)) in chosen {
        package.marker = marker(&envs, &universe);
        out.push(package);
    }
    Ok(out)
}

/// Adds `from`'s wheels (and sdist) to `into`, each once. A file's size is
/// known where an environment downloaded it: kept whichever saw it first,
/// so the order of the environments does not change the lock.
fn add_files(into: &mut LockedPackage, from: &LockedPackage) {
    for w in &from.wheels {
        match into.wheels.iter_mut().find(|x| x.filename == w.filename) {
            Some(known) => known.size = known.size.or(w.size),
            None => into.wheels.push(w.clone()),
        }
    }
    match (&mut into.sdist, &from.sdist) {
        (Some(known), Some(s)) => known.size = known.size.or(s.size),
        (known @ None, s) => known.clone_from(s),
        (Some(_), None) => {}
    }
}

/// Targets that share every marker must have chosen the same versions: a
/// lock could not tell them apart.
fn check_distinguishable(locks: &[EnvironmentLock<'_>]) -> Result<(), ResolveError> {
    let versions = |l: &EnvironmentLock<'_>| -> Vec<(PackageName, Version)> {
        let mut v: Vec<_> = l
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect();
        v.sort();
        v
    };
    for (i, a) in locks.iter().enumerate() {
        for b in &locks[i + 1..] {
            if Environment::of(a.target) == Environment::of(b.target) && versions(a) != versions(b)
            {
                return Err(ResolveError::LockIndistinct {
                    first: a.target.describe(),
                    second: b.target.describe(),
                });
            }
        }
    }
    Ok(())
}

/// The marker true in `chosen` and false in the rest of `universe`, or
/// none when `chosen` is all of it.
fn marker(chosen: &[Environment], universe: &[Environment]) -> Option<String> {
    if universe.iter().all(|e| chosen.contains(e)) {
        return None;
    }
    let platforms = Platforms::of(universe);
    let in_chosen = |e: &Environment| chosen.contains(e);
    // Chosen by version alone: every platform of a version agrees.
    let by_version = universe.iter().all(|e| {
        universe
            .iter()
            .filter(|o| o.python == e.python)
            .all(|o| in_chosen(o) == in_chosen(e))
    });
    if by_version {
        let all: Vec<(u32, u32)> = universe.iter().map(|e| e.python).collect();
        let some: Vec<(u32, u32)> = chosen.iter().map(|e| e.python).collect();
        return Some(versions_marker(&some, &all));
    }
    let by_platform = universe.iter().all(|e| {
        universe
            .iter()
            .filter(|o| o.platform() == e.platform())
            .all(|o| in_chosen(o) == in_chosen(e))
    });
    let mut chosen_platforms: Vec<(&str, &str)> =
        chosen.iter().map(Environment::platform).collect();
    chosen_platforms.sort_unstable();
    chosen_platforms.dedup();
    if by_platform {
        let clauses: Vec<String> = chosen_platforms
            .iter()
            .map(|p| platforms.marker(*p))
            .collect();
        return Some(clauses.join(" or "));
    }
    // Per platform: its marker, and its versions when not all of them.
    let clauses: Vec<String> = chosen_platforms
        .iter()
        .map(|p| {
            let of = |envs: &[Environment]| -> Vec<(u32, u32)> {
                envs.iter()
                    .filter(|e| e.platform() == *p)
                    .map(|e| e.python)
                    .collect()
            };
            let (some, all) = (of(chosen), of(universe));
            let platform = platforms.marker(*p);
            if some.len() == all.len() {
                platform
            } else {
                let versions = versions_marker(&some, &all);
                let versions = if versions.contains(" or ") {
                    format!("({versions})")
                } else {
                    versions
                };
                format!("{platform} and {versions}")
            }
        })
        .collect();
    // `and` binds tighter than `or` (PEP 508): no parentheses needed.
    Some(clauses.join(" or "))
}

/// Which platform markers the universe needs to tell its platforms apart.
struct Platforms {
    sys_platform: bool,
    platform_machine: bool,
}

impl Platforms {
    fn of(universe: &[Environment]) -> Self {
        let differ = |f: fn(&Environment) -> &str| {
            universe
                .iter()
                .any(|e| f(e) != universe.first().map_or("", f))
        };
        Platforms {
            sys_platform: differ(|e| &e.sys_platform),
            platform_machine: differ(|e| &e.platform_machine),
        }
    }

    fn marker(&self, (sys_platform, machine): (&str, &str)) -> String {
        match (self.sys_platform, self.platform_machine) {
            (true, true) => {
                format!("(sys_platform == '{sys_platform}' and platform_machine == '{machine}')")
            }
            (true, false) => format!("sys_platform == '{sys_platform}'"),
            _ => format!("platform_machine == '{machine}'"),
        }
    }
}

/// A `python_version` marker true for `some` and false for the rest of
/// `all`: each run of consecutive versions (in `all`'s order) as a range,
/// open at either end of `all`.
fn versions_marker(some: &[(u32, u32)], all: &[(u32, u32)]) -> String {
    let mut all = all.to_vec();
    all.sort_unstable();
    all.dedup();
    let show = |v: (u32, u32)| format!("'{}.{}'", v.0, v.1);
    let mut runs: Vec<String> = Vec::new();
    let mut i = 0;
    while i < all.len() {
        if !some.contains(&all[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i + 1 < all.len() && some.contains(&all[i + 1]) {
            i += 1;
        }
        let (first, last, after) = (all[start], all[i], all.get(i + 1).copied());
        runs.push(match (start == 0, after) {
            (_, _) if first == last && start != 0 && after.is_some() => {
                format!("python_version == {}", show(first))
            }
            (true, Some(next)) => format!("python_version < {}", show(next)),
            (false, None) => format!("python_version >= {}", show(first)),
            (false, Some(next)) => format!(
                "python_version >= {} and python_version < {}",
                show(first),
                show(next)
            ),
            // All of them: the caller never asks (no marker then).
            (true, None) => format!("python_version >= {}", show(first)),
        });
        i += 1;
    }
    runs.join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LockedFile;
    use pyzap_spec::{MarkerTree, PlatformTag};

    const VERSIONS: [&str; 5] = ["3.9", "3.10", "3.11", "3.12", "3.13"];
    const PLATFORMS: [&str; 2] = ["manylinux_2_28_x86_64", "manylinux_2_28_aarch64"];

    /// 3.9–3.13 × x86_64, aarch64, as `--python-version` × `--platform` make them.
    fn targets() -> Vec<Target> {
        let mut out = Vec::new();
        for v in VERSIONS {
            for p in PLATFORMS {
                let platform: PlatformTag = p.parse().unwrap();
                out.push(Target::cross(v, Some(&platform), None).unwrap());
            }
        }
        out
    }

    fn universe() -> (Vec<Target>, Vec<Environment>) {
        let targets = targets();
        let envs = targets.iter().map(Environment::of).collect();
        (targets, envs)
    }

    /// Every subset of the 10 environments: the marker is true exactly in it.
    #[test]
    fn markers_are_true_exactly_where_chosen() {
        let (targets, envs) = universe();
        for bits in 1u32..(1 << envs.len()) {
            let chosen: Vec<Environment> = envs
                .iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, e)| e.clone())
                .collect();
            let Some(text) = marker(&chosen, &envs) else {
                assert_eq!(chosen.len(), envs.len());
                continue;
            };
            let tree: MarkerTree = text.parse().unwrap();
            for (target, env) in targets.iter().zip(&envs) {
                assert_eq!(
                    tree.evaluate(&target.markers, &[]),
                    chosen.contains(env),
                    "`{text}` for {}",
                    target.name()
                );
            }
        }
    }

    #[test]
    fn markers_take_the_simplest_shape() {
        let (_, envs) = universe();
        let pick = |f: &dyn Fn(&Environment) -> bool| -> Option<String> {
            let chosen: Vec<Environment> = envs.iter().filter(|e| f(e)).cloned().collect();
            marker(&chosen, &envs)
        };
        assert_eq!(pick(&|_| true), None);
        assert_eq!(
            pick(&|e| e.python == (3, 9)).as_deref(),
            Some("python_version < '3.10'")
        );
        assert_eq!(
            pick(&|e| e.python >= (3, 12)).as_deref(),
            Some("python_version >= '3.12'")
        );
        assert_eq!(
            pick(&|e| e.python == (3, 10) || e.python == (3, 11)).as_deref(),
            Some("python_version >= '3.10' and python_version < '3.12'")
        );
        assert_eq!(
            pick(&|e| e.python == (3, 9) || e.python == (3, 11)).as_deref(),
            Some("python_version < '3.10' or python_version == '3.11'")
        );
        assert_eq!(
            pick(&|e| e.platform_machine == "aarch64").as_deref(),
            Some("platform_machine == 'aarch64'")
        );
        assert_eq!(
            pick(&|e| e.platform_machine == "aarch64" && e.python < (3, 11)).as_deref(),
            Some("platform_machine == 'aarch64' and python_version < '3.11'")
        );
    }

    fn package(name: &str, version: &str, wheel: &str) -> LockedPackage {
        LockedPackage {
            name: name.parse().unwrap(),
            version: version.parse().unwrap(),
            marker: None,
            requires_python: None,
            wheels: vec![LockedFile {
                filename: wheel.into(),
                source: crate::FileSource::Url(format!("https://example.org/{wheel}")),
                size: None,
                sha256: "a".repeat(64),
            }],
            sdist: None,
        }
    }

    #[test]
    fn merge_gives_each_version_its_environments() {
        let targets = targets();
        let locks = targets.iter().map(|t| {
            let old = t.minor < 12;
            let (version, tag) = if old {
                ("1.0", "py3")
            } else {
                ("2.0", "py312")
            };
            let arch = &t.facts.platform_machine;
            let mut packages = vec![
                package("app", version, &format!("app-{version}-{tag}-none-any.whl")),
                package("six", "1.17.0", "six-1.17.0-py2.py3-none-any.whl"),
            ];
            // Only the environments that downloaded a file know its size.
            if t.minor == 13 {
                packages[1].wheels[0].size = Some(10);
            }
            if arch == "aarch64" {
                packages.push(package(
                    "fastpath",
                    "1.0",
                    &format!(
                        "fastpath-1.0-cp3{}-cp3{}-manylinux_2_28_{arch}.whl",
                        t.minor, t.minor
                    ),
                ));
            }
            EnvironmentLock {
                target: t,
                packages,
            }
        });
        let lock = Lock::for_environments("pyzap test".into(), locks.clone().collect(), Vec::new())
            .unwrap();
        // The order of the environments does not change the file.
        let reversed =
            Lock::for_environments("pyzap test".into(), locks.rev().collect(), Vec::new());
        assert_eq!(reversed.unwrap().to_toml(), lock.to_toml());
        assert_eq!(lock.packages[3].wheels[0].size, Some(10));
        assert_eq!(lock.environments.len(), 10);
        assert_eq!(lock.requires_python.as_deref(), Some(">=3.9, <3.14"));
        let entries: Vec<(String, String, Option<&str>, usize)> = lock
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.to_string(),
                    p.version.to_string(),
                    p.marker.as_deref(),
                    p.wheels.len(),
                )
            })
            .collect();
        assert_eq!(
            entries,
            [
                (
                    "app".into(),
                    "1.0".into(),
                    Some("python_version < '3.12'"),
                    1
                ),
                (
                    "app".into(),
                    "2.0".into(),
                    Some("python_version >= '3.12'"),
                    1
                ),
                (
                    "fastpath".into(),
                    "1.0".into(),
                    Some("platform_machine == 'aarch64'"),
                    5
                ),
                ("six".into(), "1.17.0".into(), None, 1),
            ]
        );
        // Read back and chosen per environment: one `app` each.
        let back = Lock::from_toml(&lock.to_toml()).unwrap();
        for t in &targets {
            let chosen = back
                .select(
                    t,
                    crate::SdistBuilds::Allowed,
                    &pyzap_spec::FormatControl::default(),
                )
                .unwrap();
            let app: Vec<String> = chosen
                .iter()
                .filter(|c| c.package.name.as_ref() == "app")
                .map(|c| c.package.version.to_string())
                .collect();
            assert_eq!(
                app,
                [if t.minor < 12 { "1.0" } else { "2.0" }],
                "{}",
                t.name()
            );
            assert_eq!(
                chosen.len(),
                if t.facts.platform_machine == "aarch64" {
                    3
                } else {
                    2
                }
            );
        }
    }

    #[test]
    fn targets_no_marker_tells_apart_must_agree() {
        let glibc: PlatformTag = "manylinux_2_28_x86_64".parse().unwrap();
        let musl: PlatformTag = "musllinux_1_2_x86_64".parse().unwrap();
        let a = Target::cross("3.12", Some(&glibc), None).unwrap();
        let b = Target::cross("3.12", Some(&musl), None).unwrap();
        let locks = |other: &str| {
            vec![
                EnvironmentLock {
                    target: &a,
                    packages: vec![package("six", "1.17.0", "six-1.17.0-py3-none-any.whl")],
                },
                EnvironmentLock {
                    target: &b,
                    packages: vec![package(
                        "six",
                        other,
                        &format!("six-{other}-py3-none-any.whl"),
                    )],
                },
            ]
        };
        let same = Lock::for_environments(String::new(), locks("1.17.0"), Vec::new()).unwrap();
        assert_eq!(same.environments.len(), 1);
        assert_eq!(same.packages.len(), 1);
        let err = Lock::for_environments(String::new(), locks("1.16.0"), Vec::new()).unwrap_err();
        assert!(err.to_string().contains("musllinux_1_2_x86_64"), "{err}");
    }
}
