//! What an artifact asks of the interpreter that runs it, decided from its
//! wheels and targets at build time and written into the manifest and
//! `boot`, where the bootstrap checks them before anything is imported
//! (docs/artifact-format.md): native code and its machine, the stable-ABI
//! floor, the combined `Requires-Python`, the libc a target's wheels need,
//! and the shebang line that picks the interpreter in the first place.

use pyzap_spec::{PlatformTag, Target, WheelFilename};

use crate::Bundled;

/// Does the wheel hold code compiled for one interpreter ABI?
pub(crate) fn is_native(b: &Bundled) -> bool {
    b.dist
        .filename
        .parse::<WheelFilename>()
        .map(|w| w.abi_tags.iter().any(|a| a != "none"))
        .unwrap_or(false)
}

/// When every native wheel is a CPython stable-ABI wheel (`cp3X-abi3`), the
/// lowest version that loads them all (the highest `cp3X` among them).
pub(crate) fn abi3_floor(bundled: &[Bundled]) -> Option<String> {
    let mut floor: Option<(u32, u32)> = None;
    for b in bundled.iter().filter(|b| is_native(b)) {
        let wheel = b.dist.filename.parse::<WheelFilename>().ok()?;
        if !wheel.abi_tags.iter().all(|a| a == "abi3" || a == "none") {
            return None;
        }
        let lowest = wheel
            .python_tags
            .iter()
            .filter_map(|t| t.strip_prefix("cp"))
            .filter_map(|v| {
                let (major, minor) = v.split_at(1);
                Some((major.parse().ok()?, minor.parse().ok()?))
            })
            .min()?;
        floor = floor.max(Some(lowest));
    }
    floor.map(|(major, minor)| format!("{major}.{minor}"))
}

/// The bundle's `Requires-Python`: every distribution's clauses, each once,
/// in the order met, joined (an AND).
pub(crate) fn combined_requires_python(bundled: &[Bundled]) -> Option<String> {
    let mut specs: Vec<&str> = Vec::new();
    for b in bundled {
        if let Some(spec) = b.dist.requires_python.as_deref().map(str::trim) {
            for clause in spec.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                if !specs.contains(&clause) {
                    specs.push(clause);
                }
            }
        }
    }
    (!specs.is_empty()).then(|| specs.join(", "))
}

/// The shebang line: `given` literally (`#!` added when missing), else
/// `#!/usr/bin/env python3.X` when every target is CPython 3.X, so the
/// artifact does not run under whatever `python3` is first on `PATH` (an
/// artifact for 3.11 under 3.9 would fail deep inside a dependency), and
/// `python3` for targets of several versions (each picks its own part).
pub(crate) fn shebang<'t>(
    given: Option<&str>,
    targets: impl IntoIterator<Item = &'t Target>,
) -> String {
    match given {
        Some(given) if given.starts_with("#!") => given.to_string(),
        Some(given) => format!("#!{given}"),
        None => {
            let mut versions: Vec<(u32, u32)> =
                targets.into_iter().map(|t| (t.major, t.minor)).collect();
            versions.sort_unstable();
            versions.dedup();
            match versions.as_slice() {
                [(major, minor)] => format!("#!/usr/bin/env python{major}.{minor}"),
                _ => "#!/usr/bin/env python3".to_string(),
            }
        }
    }
}

/// The libc a target's wheels need, as the manifest and `boot` state it
/// (`glibc 2.17`): for each wheel, the oldest manylinux/musllinux version
/// among its tags the target accepts; the newest of those over all wheels;
/// the target's own version when no wheel is platform-specific. Empty for a
/// target without a libc of its own.
pub(crate) fn target_libc(bundled: &[Bundled], target: &Target) -> String {
    match &target.facts.libc {
        (kind, version) if !kind.is_empty() => {
            format!(
                "{kind} {}",
                min_libc(bundled, target).unwrap_or(version.clone())
            )
        }
        _ => String::new(),
    }
}

/// The libc the native wheels of a single-target artifact need (`glibc
/// 2.17`): the newest of their oldest manylinux/musllinux versions; `None`
/// when no wheel names one (or the target has no libc of its own).
pub(crate) fn native_libc(bundled: &[Bundled], target: &Target) -> Option<String> {
    let (kind, _) = &target.facts.libc;
    if kind.is_empty() {
        return None;
    }
    min_libc(bundled, target).map(|v| format!("{kind} {v}"))
}

fn min_libc(bundled: &[Bundled], target: &Target) -> Option<String> {
    let mut need: Option<(u32, u32)> = None;
    for b in bundled {
        let Ok(w) = b.dist.filename.parse::<WheelFilename>() else {
            continue;
        };
        let wheel_min = w
            .tags()
            .filter(|t| target.tags.rank(t).is_some())
            .filter_map(|t| libc_version_of(&t.platform))
            .min();
        if let Some(v) = wheel_min {
            need = Some(need.map_or(v, |n| n.max(v)));
        }
    }
    need.map(|(a, b)| format!("{a}.{b}"))
}

fn libc_version_of(platform: &str) -> Option<(u32, u32)> {
    let tag: PlatformTag = platform.parse().ok()?;
    tag.libc.map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use pyzap_wheel::Placement;

    use super::*;
    use crate::fixtures::{bundled, requiring, target};

    const PURE: &str = "six-1.17.0-py2.py3-none-any.whl";
    const CP311: &str = "pyyaml-6.0.3-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl";
    const ABI3_37: &str = "charset_normalizer-3.5.2-cp37-abi3-manylinux1_x86_64.manylinux_2_28_x86_64.manylinux_2_5_x86_64.whl";
    const ABI3_39: &str = "cryptography-44.0.0-cp39-abi3-manylinux_2_28_x86_64.whl";

    fn wheels(names: &[&str]) -> Vec<Bundled> {
        names
            .iter()
            .map(|n| bundled(n, Placement::Extract, "00"))
            .collect()
    }

    #[test]
    fn native_wheels_are_those_with_an_abi() {
        let [pure, cp311, abi3] = [PURE, CP311, ABI3_37].map(|n| bundled(n, Placement::Zip, "00"));
        assert!(!is_native(&pure));
        assert!(is_native(&cp311));
        assert!(is_native(&abi3));
    }

    #[test]
    fn the_abi3_floor_is_the_highest_stable_abi_version() {
        assert_eq!(
            abi3_floor(&wheels(&[PURE, ABI3_37])).as_deref(),
            Some("3.7")
        );
        assert_eq!(
            abi3_floor(&wheels(&[ABI3_39, PURE, ABI3_37])).as_deref(),
            Some("3.9")
        );
        // One version-specific wheel ties the artifact to its version.
        assert_eq!(abi3_floor(&wheels(&[ABI3_37, CP311])), None);
        assert_eq!(abi3_floor(&wheels(&[PURE])), None, "nothing native");
    }

    #[test]
    fn requires_python_clauses_are_joined_once_each() {
        let bundled = [
            requiring("black-24.8.0-py3-none-any.whl", ">=3.10"),
            requiring("click-8.1.8-py3-none-any.whl", " >=3.9 , >=3.10,"),
            bundled(PURE, Placement::Zip, "00"),
            requiring("attrs-25.3.0-py3-none-any.whl", ">=3.8,!=3.9.0"),
        ];
        assert_eq!(
            combined_requires_python(&bundled).as_deref(),
            Some(">=3.10, >=3.9, >=3.8, !=3.9.0")
        );
        assert_eq!(combined_requires_python(&bundled[2..3]), None);
        assert_eq!(
            combined_requires_python(&[requiring("a-1-py3-none-any.whl", " , ")]),
            None
        );
    }

    #[test]
    fn the_shebang_names_the_version_the_targets_share() {
        let (t39, t311) = (target(3, 9), target(3, 11));
        assert_eq!(shebang(None, [&t311]), "#!/usr/bin/env python3.11");
        assert_eq!(
            shebang(None, [&t311, &t311]),
            "#!/usr/bin/env python3.11",
            "one version on several platforms"
        );
        assert_eq!(shebang(None, [&t311, &t39]), "#!/usr/bin/env python3");
        assert_eq!(
            shebang(Some("/usr/bin/python3"), [&t311]),
            "#!/usr/bin/python3"
        );
        assert_eq!(
            shebang(Some("#!/opt/py/bin/python -E"), [&t311]),
            "#!/opt/py/bin/python -E"
        );
    }

    #[test]
    fn the_libc_is_the_newest_that_some_wheel_needs() {
        let t = target(3, 11);
        // manylinux2014 is manylinux_2_17: the oldest tag this wheel allows.
        assert_eq!(target_libc(&wheels(&[CP311, PURE]), &t), "glibc 2.17");
        assert_eq!(
            target_libc(
                &wheels(&[CP311, "lxml-5.3.0-cp311-cp311-manylinux_2_28_x86_64.whl"]),
                &t
            ),
            "glibc 2.28"
        );
        // A wheel the target does not accept says nothing.
        assert_eq!(
            target_libc(
                &wheels(&[CP311, "lxml-5.3.0-cp39-cp39-manylinux_2_31_x86_64.whl"]),
                &t
            ),
            "glibc 2.17"
        );
        assert_eq!(
            target_libc(&wheels(&[PURE]), &t),
            "glibc 2.36",
            "no platform wheel: the target's own"
        );
        let mut no_libc = target(3, 11);
        no_libc.facts.libc = (String::new(), String::new());
        assert_eq!(target_libc(&wheels(&[CP311]), &no_libc), "");
        // A single-target artifact states only what its native wheels need.
        assert_eq!(
            native_libc(&wheels(&[CP311, PURE]), &t).as_deref(),
            Some("glibc 2.17")
        );
        assert_eq!(native_libc(&wheels(&[PURE]), &t), None);
        assert_eq!(native_libc(&wheels(&[CP311]), &no_libc), None);
    }
}
