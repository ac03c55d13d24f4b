//! `build --json` and `lock --json`: what a script or CI job needs of the
//! file just written, read back from it (the manifest, the lock), so the
//! summary says what the file holds rather than what was asked for.

use std::path::Path;

use serde_json::{json, Value};

use crate::pipeline::lockfile;
use crate::Result;

/// The JSON summary of the artifact at `path`, ending with a newline: its
/// absolute path, sha256 and size, the distributions it bundles (name, version), its
/// entry point and targets.
pub fn artifact_summary(path: &Path) -> Result<String> {
    let info = pyzap_artifact::read_artifact(path)?;
    let m = &info.manifest;
    let targets: Vec<Value> = if m.targets.is_empty() {
        vec![target(None, &m.target)]
    } else {
        m.targets
            .iter()
            .map(|t| target(Some(&t.name), &t.target))
            .collect()
    };
    let distributions: Vec<Value> = m
        .distributions
        .iter()
        .map(|d| json!({"name": d.name, "version": d.version}))
        .collect();
    let standalone = pyzap_artifact::read_trailer(path)?.is_some();
    render(&json!({
        "path": std::path::absolute(path)?,
        "kind": if standalone { "standalone" } else { "pyz" },
        "sha256": pyzap_fs::sha256_file(path)?,
        "size": info.size,
        "distributions": distributions,
        "entry_point": {
            "kind": m.entry_point.kind.as_str(),
            "module": m.entry_point.module,
            "function": m.entry_point.function,
            "script": m.entry_point.script,
            "description": m.entry_point.describe(),
        },
        "targets": targets,
    }))
}

/// The JSON summary of the lock file at `path`, in the shape of
/// `artifact_summary`'s: a lock has no entry point (`null`), its targets
/// are the environments it applies to, and a distribution locked for only
/// some of them has its `marker`.
pub fn lock_summary(path: &Path) -> Result<String> {
    let loaded = lockfile::read(path)?;
    let lock = loaded.lock();
    let distributions: Vec<Value> = lock
        .packages
        .iter()
        .map(|p| {
            let mut d = json!({"name": p.name.to_string(), "version": p.version.to_string()});
            // A universal lock's entry for some of its environments.
            if let Some(marker) = &p.marker {
                d["marker"] = marker.as_str().into();
            }
            d
        })
        .collect();
    let targets: Vec<Value> = lock
        .environments
        .iter()
        .map(|marker| json!({"environment": marker, "requires_python": lock.requires_python}))
        .collect();
    render(&json!({
        "path": std::path::absolute(path)?,
        "kind": "pylock",
        "sha256": pyzap_fs::sha256_file(path)?,
        "size": fs_err::metadata(path)?.len(),
        "distributions": distributions,
        "entry_point": null,
        "targets": targets,
    }))
}

fn target(name: Option<&str>, t: &pyzap_artifact::TargetRecord) -> Value {
    json!({
        "name": name,
        "python": t.python_full_version,
        "abi": t.abi,
        "platform": t.platform,
    })
}

fn render(value: &Value) -> Result<String> {
    Ok(format!("{}\n", serde_json::to_string_pretty(value)?))
}
