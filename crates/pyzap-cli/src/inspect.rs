//! `pyzap info` and `pyzap extract`: reading an artifact back.

use std::io::Write;
use std::path::Path;

use anyhow::Result;

use crate::ui::Ui;

pub fn info(path: &Path, json: bool) -> Result<()> {
    let info = pyzap_artifact::read_artifact(path)?;
    let m = &info.manifest;
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(m)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "artifact:     {} ({} bytes, {} entries)",
        path.display(),
        info.size,
        info.entries
    )?;
    match pyzap_artifact::read_trailer(path)? {
        Some(t) => writeln!(
            out,
            "standalone:   launcher {} bytes, CPython {} payload {} bytes in {} parts ({}), interpreter {} (cache id {})",
            t.payload_offset,
            t.python,
            t.payload_size,
            t.parts.len(),
            t.arch,
            t.interpreter,
            t.id()
        )?,
        None => writeln!(
            out,
            "shebang:      {}",
            info.shebang.as_deref().unwrap_or("(none)")
        )?,
    }
    writeln!(out, "entry point:  {}", m.entry_point.describe())?;
    for t in &m.targets {
        writeln!(
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
        )?;
    }
    if !m.targets.is_empty() {
        writeln!(
            out,
            "bytecode:     {} (shared site-packages)",
            m.bytecode.as_deref().unwrap_or("none")
        )?;
    } else {
        writeln!(
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
        )?;
        writeln!(
            out,
            "bytecode:     {}",
            m.bytecode.as_deref().unwrap_or("none")
        )?;
    }
    writeln!(
        out,
        "built by:     pyzap {} (format {})",
        m.pyzap_version, m.format
    )?;
    writeln!(out, "distributions ({}):", m.distributions.len())?;
    for d in &m.distributions {
        writeln!(
            out,
            "  {:<24} {:<12} {:<8} sha256:{}",
            d.name, d.version, d.placement, d.sha256
        )?;
    }
    Ok(())
}

pub fn extract(path: &Path, outdir: &Path, ui: &Ui) -> Result<()> {
    let (files, manifest) = pyzap_artifact::extract_artifact(path, outdir)?;
    ui.info(&format!(
        "extracted {files} files into {}\nrepack with: python3 -m zipapp {} -p '{}' -o app.pyz",
        outdir.display(),
        outdir.display(),
        manifest.shebang.trim_start_matches("#!")
    ));
    Ok(())
}
