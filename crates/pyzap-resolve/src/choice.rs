//! Which file of one project version a target installs: the one rule used
//! both while resolving (over an index's files) and when installing from a
//! lock file (over the files the lock lists).
//!
//! A wheel is a candidate when `--no-binary` does not exclude its project and
//! the target accepts one of its tags; an sdist when source builds are
//! allowed and `--only-binary` does not exclude its project. The wheel whose
//! best tag ranks highest for the target wins; among equals, the highest
//! build tag (PEP 427: a wheel with a build tag sorts after one without), then
//! the first offered. Only when no wheel fits is the first sdist chosen.

use std::cmp::Reverse;

use pyzap_spec::{FormatControl, PackageName, Target, WheelFilename};

/// How a wheel ranks: its best tag's rank, then its build tag, highest first.
type WheelKey<'w> = (usize, Reverse<Option<&'w String>>);

/// What a file is, as far as choosing goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind<'a> {
    Wheel(&'a WheelFilename),
    Sdist,
}

/// The rules a choice follows for one target.
#[derive(Debug, Clone, Copy)]
pub struct FileRules<'a> {
    pub target: &'a Target,
    /// Accept an sdist when no wheel fits (a build can run for this target).
    pub allow_sdists: bool,
    /// pip's `--no-binary` / `--only-binary`, per project.
    pub formats: &'a FormatControl,
}

impl FileRules<'_> {
    /// The file to install for `name` among `files` (one version's files,
    /// each with its kind), or `None` when none fits.
    pub fn choose<'f, T>(
        &self,
        name: &PackageName,
        files: impl IntoIterator<Item = (FileKind<'f>, T)>,
    ) -> Option<T> {
        let wheels_ok = self.formats.allows_wheels(name);
        let sdists_ok = self.allow_sdists && self.formats.allows_sdists(name);
        let mut best_wheel: Option<(WheelKey<'f>, T)> = None;
        let mut first_sdist: Option<T> = None;
        for (kind, file) in files {
            match kind {
                FileKind::Wheel(wheel) if wheels_ok => {
                    let Some(rank) = self.target.tags.best(wheel.tags()) else {
                        continue;
                    };
                    let key = (rank, Reverse(wheel.build.as_ref()));
                    if best_wheel.as_ref().is_none_or(|(best, _)| key < *best) {
                        best_wheel = Some((key, file));
                    }
                }
                FileKind::Sdist if sdists_ok && first_sdist.is_none() => first_sdist = Some(file),
                _ => {}
            }
        }
        best_wheel.map(|(_, file)| file).or(first_sdist)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyzap_spec::{FormatChoice, FormatOption, PlatformTag};

    fn target() -> Target {
        let platform: PlatformTag = "manylinux_2_36_x86_64".parse().unwrap();
        Target::cross("3.11.7", Some(&platform), None).unwrap()
    }

    fn choose<'a>(
        files: &[&'a str],
        allow_sdists: bool,
        formats: &FormatControl,
    ) -> Option<&'a str> {
        let target = target();
        let rules = FileRules {
            target: &target,
            allow_sdists,
            formats,
        };
        let parsed: Vec<(Option<WheelFilename>, &str)> =
            files.iter().map(|f| (f.parse().ok(), *f)).collect();
        let name: PackageName = "demo".parse().unwrap();
        rules.choose(
            &name,
            parsed.iter().map(|(w, f)| {
                let kind = w.as_ref().map_or(FileKind::Sdist, FileKind::Wheel);
                (kind, *f)
            }),
        )
    }

    #[test]
    fn best_tag_then_highest_build_tag_then_first() {
        let none = FormatControl::default();
        // The target's own ABI beats the pure wheel, whatever the order or build tag.
        assert_eq!(
            choose(
                &[
                    "demo-1.0-9-py3-none-any.whl",
                    "demo-1.0-cp311-cp311-manylinux2014_x86_64.whl",
                ],
                true,
                &none
            ),
            Some("demo-1.0-cp311-cp311-manylinux2014_x86_64.whl")
        );
        // Equal tags: the highest build tag, and any build tag beats none.
        assert_eq!(
            choose(
                &[
                    "demo-1.0-py3-none-any.whl",
                    "demo-1.0-2-py3-none-any.whl",
                    "demo-1.0-1-py3-none-any.whl",
                ],
                true,
                &none
            ),
            Some("demo-1.0-2-py3-none-any.whl")
        );
        // Equal tags and build tags: the first offered.
        assert_eq!(
            choose(
                &["demo-1.0-py3-none-any.whl", "demo-1.0-py2.py3-none-any.whl"],
                true,
                &none
            ),
            Some("demo-1.0-py3-none-any.whl")
        );
    }

    #[test]
    fn sdist_only_when_no_wheel_fits_and_builds_are_allowed() {
        let none = FormatControl::default();
        let files = [
            "demo-1.0.tar.gz",
            "demo-1.0-cp312-cp312-manylinux2014_x86_64.whl",
        ];
        assert_eq!(choose(&files, true, &none), Some("demo-1.0.tar.gz"));
        assert_eq!(choose(&files, false, &none), None);
        assert_eq!(
            choose(
                &["demo-1.0.tar.gz", "demo-1.0-py3-none-any.whl"],
                true,
                &none
            ),
            Some("demo-1.0-py3-none-any.whl")
        );
    }

    #[test]
    fn binary_options_narrow_the_choice() {
        let control = |option, value| {
            let mut c = FormatControl::default();
            c.apply(&FormatChoice::parse(option, value).unwrap());
            c
        };
        let files = ["demo-1.0.tar.gz", "demo-1.0-py3-none-any.whl"];
        assert_eq!(
            choose(&files, true, &control(FormatOption::NoBinary, "demo")),
            Some("demo-1.0.tar.gz")
        );
        assert_eq!(
            choose(
                &files[..1],
                true,
                &control(FormatOption::OnlyBinary, ":all:")
            ),
            None
        );
    }
}
