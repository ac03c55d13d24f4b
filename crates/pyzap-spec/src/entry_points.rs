//! Entry points: `entry_points.txt` of a wheel (an INI file) and the
//! `module:object` references users give with `-e`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::SpecError;

/// `module` or `module:qualified.attr`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EntryPoint {
    pub module: String,
    pub function: Option<String>,
}

impl FromStr for EntryPoint {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<Self, SpecError> {
        // Extras in brackets (`mod:fn [extra]`) are legacy and ignored, as pip does.
        let core = text.split('[').next().unwrap_or("").trim();
        let (module, function) = match core.split_once(':') {
            Some((m, f)) => (m.trim(), Some(f.trim())),
            None => (core, None),
        };
        let dotted_ident = |s: &str| {
            !s.is_empty()
                && s.split('.').all(|part| {
                    part.chars()
                        .next()
                        .is_some_and(|c| c.is_alphabetic() || c == '_')
                        && part.chars().all(|c| c.is_alphanumeric() || c == '_')
                })
        };
        if !dotted_ident(module) || function.is_some_and(|f| !dotted_ident(f)) {
            return Err(SpecError::EntryPoint {
                text: text.to_string(),
            });
        }
        Ok(EntryPoint {
            module: module.to_string(),
            function: function.map(str::to_string),
        })
    }
}

impl fmt::Display for EntryPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.function {
            Some(func) => write!(f, "{}:{func}", self.module),
            None => f.write_str(&self.module),
        }
    }
}

/// The scripts a distribution declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryPoints {
    pub console_scripts: BTreeMap<String, EntryPoint>,
    pub gui_scripts: BTreeMap<String, EntryPoint>,
}

impl EntryPoints {
    /// Parses `entry_points.txt`; entries that are not valid references are
    /// skipped, like importlib.metadata does at run time.
    pub fn parse(text: &str) -> Self {
        let mut out = EntryPoints::default();
        let mut section = String::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with(['#', ';']) {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.trim().to_string();
                continue;
            }
            let Some((name, value)) = line.split_once('=') else {
                continue;
            };
            let target = match section.as_str() {
                "console_scripts" => &mut out.console_scripts,
                "gui_scripts" => &mut out.gui_scripts,
                _ => continue,
            };
            if let Ok(ep) = value.parse() {
                target.insert(name.trim().to_string(), ep);
            }
        }
        out
    }

    /// Console and GUI scripts together, by name.
    pub fn scripts(&self) -> impl Iterator<Item = (&String, &EntryPoint)> {
        self.console_scripts.iter().chain(self.gui_scripts.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections() {
        let eps = EntryPoints::parse(
            "[console_scripts]\nblack = black:patched_main\nblackd = blackd:patched_main [d]\n\n[other]\nx = y:z\n[gui_scripts]\ng = a.b:c.d\n",
        );
        assert_eq!(eps.console_scripts.len(), 2);
        assert_eq!(
            eps.console_scripts["blackd"].to_string(),
            "blackd:patched_main"
        );
        assert_eq!(eps.gui_scripts["g"].function.as_deref(), Some("c.d"));
    }

    #[test]
    fn rejects_bad_references() {
        for bad in ["", "a b", "mod:", ":fn", "1mod:fn", "mod:fn-x"] {
            assert!(bad.parse::<EntryPoint>().is_err(), "{bad}");
        }
        assert_eq!("pkg.mod".parse::<EntryPoint>().unwrap().function, None);
    }
}
