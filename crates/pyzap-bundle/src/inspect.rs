//! `info` and `extract`: reading an artifact back. `info` returns its text
//! (the caller prints it); the manifest is the single source of truth.

use std::fmt::Write as _;
use std::path::Path;

use crate::{Reporter, Result};

/// How `info` describes an artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfoFormat {
    /// For people: the entry point, targets, bytecode and distributions.
    Text,
    /// The manifest as pretty-printed JSON.
    Json,
}

/// The description of the artifact at `path`, ending with a newline.
pub fn info(path: &Path, format: InfoFormat) -> Result<String> {
    let info = pyzap_artifact::read_artifact(path)?;
    let m = &info.manifest;
    if format == InfoFormat::Json {
        return Ok(format!("{}\n", serde_json::to_string_pretty(m)?));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "artifact:     {} ({} bytes, {} entries)",
        path.display(),
        info.size,
        info.entries
    );
    let _ = match pyzap_artifact::read_trailer(path)? {
        Some(t) => writeln!(
            out,
            "standalone:   launcher {} bytes, CPython {} payload {} bytes in {} parts ({}), interpreter {} (cache id {}){}",
            t.payload_offset,
            t.python,
            t.payload_size,
            t.parts.len(),
            t.arch,
            t.interpreter,
            t.id(),
            t.glibc
                .as_deref()
                .map(|v| format!("; runs on glibc {v} or later"))
                .unwrap_or_default()
        ),
        None => writeln!(
            out,
            "shebang:      {}",
            info.shebang.as_deref().unwrap_or("(none)")
        ),
    };
    let _ = writeln!(out, "entry point:  {}", m.entry_point.describe());
    describe_targets(&mut out, m);
    let _ = writeln!(
        out,
        "built by:     pyzap {} (format {})",
        m.pyzap_version, m.format
    );
    let _ = writeln!(out, "distributions ({}):", m.distributions.len());
    for d in &m.distributions {
        let _ = writeln!(
            out,
            "  {:<24} {:<12} {:<8} sha256:{}",
            d.name, d.version, d.placement, d.sha256
        );
    }
    Ok(out)
}

/// The `target:` and `bytecode:` lines: one per target of a multi-target
/// artifact, else the one target's.
fn describe_targets(out: &mut String, m: &pyzap_artifact::Manifest) {
    for t in &m.targets {
        let _ = writeln!(
            out,
            "target:       {} (CPython {}, {} on {}{}), bytecode {}, {} distributions",
            t.name,
            t.target.python_full_version,
            t.target.cache_tag,
            t.machine,
            if t.libc.is_empty() {
                String::new()
            } else {
                format!(" with {} or newer", t.libc)
            },
            t.bytecode.as_deref().unwrap_or("none"),
            t.distributions.len()
        );
    }
    if !m.targets.is_empty() {
        let _ = writeln!(
            out,
            "bytecode:     {} (shared site-packages)",
            m.bytecode.as_deref().unwrap_or("none")
        );
    } else {
        let _ = writeln!(
            out,
            "target:       CPython {} ({}, {}){}",
            m.target.python_full_version,
            m.target.abi,
            m.target.platform,
            if m.native {
                ", native code: needs this Python version"
            } else {
                ""
            }
        );
        let _ = writeln!(
            out,
            "bytecode:     {}",
            m.bytecode.as_deref().unwrap_or("none")
        );
    }
}

/// Unpacks the artifact at `path` into `outdir` (which must not exist, or
/// be empty) and says how to repack it.
pub fn extract(path: &Path, outdir: &Path, reporter: &dyn Reporter) -> Result<()> {
    let (files, manifest) = pyzap_artifact::extract_artifact(path, outdir)?;
    reporter.info(&format!(
        "extracted {files} files into {}\nrepack with: python3 -m zipapp {} -p '{}' -o app.pyz",
        outdir.display(),
        outdir.display(),
        manifest.shebang.trim_start_matches("#!")
    ));
    Ok(())
}
