//! The text of `meta/snap.yaml` and of the wrapper that runs a `.pyz`
//! with the base's Python. Every string from the project is written as a
//! double-quoted scalar (JSON's escapes are YAML's), the description as a
//! literal block, so no value can change the document's structure.

use std::fmt::Write as _;

use super::plan::SnapPlan;

/// Where the apps' runtime cache goes: `$SNAP_USER_COMMON` is the user's
/// directory of the snap that every revision shares, so a refresh neither
/// copies the unpacked tree (as it copies `$SNAP_USER_DATA`) nor starts
/// from an empty cache.
const PYZAP_ROOT: &str = "$SNAP_USER_COMMON/pyzap";

fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

impl SnapPlan {
    pub(crate) fn render_yaml(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# meta/snap.yaml, written by `pyzap snap` from {}.",
            self.source
        );
        let _ = writeln!(out, "name: {}", self.name);
        let _ = writeln!(out, "version: {}", quoted(&self.version));
        let _ = writeln!(out, "summary: {}", quoted(&self.summary));
        out.push_str("description: |\n");
        for line in self.description.lines() {
            if line.is_empty() {
                out.push('\n');
            } else {
                let _ = writeln!(out, "  {line}");
            }
        }
        match &self.interpreter {
            Some(python) => {
                let _ = writeln!(
                    out,
                    "# The artifact runs with the base's Python {} ({python}).",
                    self.base.python
                );
            }
            None => out.push_str(
                "# A standalone executable brings its own CPython; the base gives it glibc.\n",
            ),
        }
        let _ = writeln!(out, "base: {}", self.base.name);
        out.push_str("grade: stable\n");
        let _ = writeln!(
            out,
            "confinement: {}",
            if self.classic { "classic" } else { "strict" }
        );
        out.push_str("architectures:\n");
        for arch in &self.architectures {
            let _ = writeln!(out, "  - {arch}");
        }
        out.push_str("environment:\n");
        out.push_str(
            "  # The runtime cache, shared by every revision: a refresh does not copy it.\n",
        );
        let _ = writeln!(out, "  PYZAP_ROOT: {}", quoted(PYZAP_ROOT));
        out.push_str("apps:\n");
        for app in &self.apps {
            let _ = writeln!(out, "  {}:", app.name);
            let _ = writeln!(out, "    command: {}", self.command());
            if let Some(entry) = &app.entry {
                out.push_str("    environment:\n");
                let _ = writeln!(out, "      PYZAP_ENTRY_POINT: {}", quoted(entry));
            }
            if !self.plugs.is_empty() {
                out.push_str("    plugs:\n");
                for plug in &self.plugs {
                    let _ = writeln!(out, "      - {plug}");
                }
            }
        }
        out
    }

    /// The wrapper a `.pyz` runs through: the base's interpreter named in
    /// full (the artifact's shebang may name one the base lacks), `$SNAP`
    /// set by snapd.
    pub(crate) fn render_wrapper(&self) -> Option<String> {
        let python = self.interpreter.as_ref()?;
        Some(format!(
            "#!/bin/sh\n# Written by `pyzap snap`: runs the app with the Python of {}.\nexec {python} \"$SNAP/{}\" \"$@\"\n",
            self.base.name, self.artifact
        ))
    }
}
