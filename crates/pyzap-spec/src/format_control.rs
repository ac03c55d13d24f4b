//! pip's `--no-binary` / `--only-binary`: per project (or `:all:`), whether
//! wheels, sdists or both may be used. Values are comma-separated names,
//! `:all:` or `:none:`, applied in order as pip's `FormatControl` does: a
//! name moves from the other list to this one, `:all:` empties both lists
//! and then means every project, `:none:` empties this list.

use std::collections::BTreeSet;

use crate::{PackageName, SpecError};

/// Which option a value was given to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatOption {
    /// `--no-binary`: only the sdist.
    NoBinary,
    /// `--only-binary`: never the sdist.
    OnlyBinary,
}

impl FormatOption {
    pub fn flag(self) -> &'static str {
        match self {
            FormatOption::NoBinary => "--no-binary",
            FormatOption::OnlyBinary => "--only-binary",
        }
    }
}

/// One entry of a value: a project, every project, or none.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selector {
    All,
    None,
    Name(PackageName),
}

/// One `--no-binary X,Y` or `--only-binary :all:`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatChoice {
    option: FormatOption,
    selectors: Vec<Selector>,
}

impl FormatChoice {
    /// Parses the value of `option` (`six,tomli`, `:all:`, `:none:`).
    pub fn parse(option: FormatOption, value: &str) -> Result<Self, SpecError> {
        let mut selectors = Vec::new();
        for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            selectors.push(match part {
                ":all:" => Selector::All,
                ":none:" => Selector::None,
                name => Selector::Name(name.parse().map_err(|_| SpecError::FormatControl {
                    option: option.flag(),
                    value: name.to_string(),
                })?),
            });
        }
        Ok(FormatChoice { option, selectors })
    }
}

/// A list of projects, or every project.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Names {
    all: bool,
    names: BTreeSet<PackageName>,
}

impl Names {
    fn clear(&mut self) {
        *self = Names::default();
    }
}

/// Which formats each project may be installed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormatControl {
    no_binary: Names,
    only_binary: Names,
}

impl FormatControl {
    /// Applies one option value after the ones before it.
    pub fn apply(&mut self, choice: &FormatChoice) {
        let (target, other) = match choice.option {
            FormatOption::NoBinary => (&mut self.no_binary, &mut self.only_binary),
            FormatOption::OnlyBinary => (&mut self.only_binary, &mut self.no_binary),
        };
        let mut selectors = choice.selectors.as_slice();
        // pip: `:all:` clears both lists; what precedes it is dropped, and what
        // follows it counts only when a `:none:` comes later.
        if let Some(pos) = selectors.iter().rposition(|s| *s == Selector::All) {
            target.clear();
            other.clear();
            target.all = true;
            selectors = &selectors[pos + 1..];
            if !selectors.contains(&Selector::None) {
                return;
            }
        }
        for selector in selectors {
            match selector {
                Selector::None => target.clear(),
                Selector::Name(name) => {
                    other.names.remove(name);
                    target.names.insert(name.clone());
                }
                Selector::All => unreachable!("handled above"),
            }
        }
    }

    /// Whether `name` may come from a wheel (pip's `get_allowed_formats`:
    /// a named project beats `:all:`, `--only-binary` beats `--no-binary`).
    pub fn allows_wheels(&self, name: &PackageName) -> bool {
        self.allowed(name).0
    }

    /// Whether `name` may come from an sdist.
    pub fn allows_sdists(&self, name: &PackageName) -> bool {
        self.allowed(name).1
    }

    fn allowed(&self, name: &PackageName) -> (bool, bool) {
        if self.only_binary.names.contains(name) {
            (true, false)
        } else if self.no_binary.names.contains(name) {
            (false, true)
        } else if self.only_binary.all {
            (true, false)
        } else if self.no_binary.all {
            (false, true)
        } else {
            (true, true)
        }
    }

    /// Nothing restricted.
    pub fn is_default(&self) -> bool {
        *self == FormatControl::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control(options: &[(FormatOption, &str)]) -> FormatControl {
        let mut c = FormatControl::default();
        for (option, value) in options {
            c.apply(&FormatChoice::parse(*option, value).unwrap());
        }
        c
    }

    fn allowed(c: &FormatControl, name: &str) -> (bool, bool) {
        let name: PackageName = name.parse().unwrap();
        (c.allows_wheels(&name), c.allows_sdists(&name))
    }

    use FormatOption::{NoBinary, OnlyBinary};

    #[test]
    fn default_allows_both() {
        assert_eq!(allowed(&FormatControl::default(), "six"), (true, true));
        assert!(FormatControl::default().is_default());
    }

    #[test]
    fn names_are_normalised_and_comma_separated() {
        let c = control(&[(NoBinary, "Six,tomli"), (OnlyBinary, "Foo_Bar")]);
        assert_eq!(allowed(&c, "six"), (false, true));
        assert_eq!(allowed(&c, "TOMLI"), (false, true));
        assert_eq!(allowed(&c, "foo-bar"), (true, false));
        assert_eq!(allowed(&c, "other"), (true, true));
    }

    #[test]
    fn a_name_beats_all_in_either_direction() {
        let c = control(&[(OnlyBinary, ":all:"), (NoBinary, "six")]);
        assert_eq!(allowed(&c, "six"), (false, true));
        assert_eq!(allowed(&c, "tomli"), (true, false));
        let c = control(&[(NoBinary, ":all:"), (OnlyBinary, "setuptools")]);
        assert_eq!(allowed(&c, "setuptools"), (true, false));
        assert_eq!(allowed(&c, "six"), (false, true));
    }

    #[test]
    fn a_later_option_moves_the_name() {
        let c = control(&[(NoBinary, "six"), (OnlyBinary, "six")]);
        assert_eq!(allowed(&c, "six"), (true, false));
    }

    #[test]
    fn all_clears_both_lists_and_none_clears_one() {
        let c = control(&[(OnlyBinary, "six"), (NoBinary, ":all:")]);
        assert_eq!(allowed(&c, "six"), (false, true));
        let c = control(&[(NoBinary, ":all:"), (NoBinary, ":none:")]);
        assert!(c.is_default());
        // pip: names after `:all:` count only with a later `:none:`.
        let c = control(&[(NoBinary, ":all:,six")]);
        assert_eq!(allowed(&c, "tomli"), (false, true));
        let c = control(&[(NoBinary, ":all:,:none:,six")]);
        assert_eq!(allowed(&c, "six"), (false, true));
        assert_eq!(allowed(&c, "tomli"), (true, true));
    }

    #[test]
    fn invalid_name_is_reported() {
        let e = FormatChoice::parse(NoBinary, "six,not a name").unwrap_err();
        assert_eq!(
            e.to_string(),
            "--no-binary: `not a name` is not a project name, `:all:` or `:none:`"
        );
    }

    #[test]
    fn unicode_and_punctuated_names_are_reported() {
        for bad in ["é", "six.", "-", "a\u{0}b"] {
            let e = FormatChoice::parse(OnlyBinary, bad).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("--only-binary: `{bad}` is not a project name, `:all:` or `:none:`")
            );
        }
    }
}
