//! The packages pubgrub reasons about: the root, real projects, and one
//! virtual package per (project, extra) pinned to its base project's version.

use std::fmt;

use pyzap_spec::{ExtraName, PackageName};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Package {
    Root,
    Base(PackageName),
    Extra(PackageName, ExtraName),
}

impl Package {
    pub fn name(&self) -> Option<&PackageName> {
        match self {
            Package::Root => None,
            Package::Base(n) | Package::Extra(n, _) => Some(n),
        }
    }
}

impl fmt::Display for Package {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Package::Root => f.write_str("the requirements you gave"),
            Package::Base(n) => write!(f, "{n}"),
            Package::Extra(n, e) => write!(f, "{n}[{e}]"),
        }
    }
}
