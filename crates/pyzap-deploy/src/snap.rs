//! `pyzap snap`: a `.snap` made from an artifact — a squashfs image of
//! `meta/snap.yaml` and the artifact (with, for a `.pyz`, a wrapper that
//! runs it with the base's Python). The snap's name, version, summary and
//! description come from the bundled project's METADATA; each of its
//! console scripts becomes an app that runs the artifact with that entry
//! point (`PYZAP_ENTRY_POINT`); the runtime cache lives under
//! `$SNAP_USER_COMMON`. The image is built by `mksquashfs` with the
//! options `snap pack` uses, and fixed times, so it is reproducible.

mod facts;
mod plan;
mod render;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::DeployError;
use facts::ArtifactFacts;
use plan::{SnapPlan, WRAPPER};

/// What `pyzap snap` was asked for.
#[derive(Debug, Clone)]
pub struct SnapOptions {
    pub artifact: PathBuf,
    /// The snap's name; default the project's, made to fit snapd's rule.
    pub name: Option<String>,
    /// The bundled distribution the snap is for, when the entry point does
    /// not tell (it has no console script, or none of a bundled project).
    pub dist: Option<String>,
    /// The console scripts to make apps of (default: all of them).
    pub apps: Vec<String>,
    /// `confinement: classic` instead of `strict`.
    pub classic: bool,
    /// The interfaces each app plugs (strict confinement only).
    pub plugs: Vec<String>,
}

/// A snap, decided and rendered, not yet written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snap {
    pub name: String,
    pub version: String,
    /// `black_26.10.1_amd64.snap`.
    pub file_name: String,
    /// The apps' names as users run them (`black`, `black.blackd`).
    pub commands: Vec<String>,
    pub snap_yaml: String,
    /// What was renamed or left out to fit snapd's rules, one line each.
    pub notes: Vec<String>,
    artifact: PathBuf,
    artifact_in_snap: String,
    wrapper: Option<String>,
}

/// Reads the artifact and its project's metadata and decides the snap.
pub fn snap_plan(options: &SnapOptions) -> Result<Snap, DeployError> {
    let path = &options.artifact;
    let info = pyzap_artifact::read_artifact(path)?;
    let trailer = pyzap_artifact::read_trailer(path)?;
    let standalone = trailer
        .as_ref()
        .map(|t| (t.arch.as_str(), t.glibc.as_deref()));
    let facts = ArtifactFacts::read(path, &info.manifest, standalone, options.dist.as_deref())?;
    let plan = SnapPlan::plan(&facts, options)?;
    Ok(Snap::of(&plan, path))
}

impl Snap {
    fn of(plan: &SnapPlan, artifact: &Path) -> Self {
        let commands = plan
            .apps
            .iter()
            .map(|app| {
                if app.name == plan.name {
                    app.name.clone()
                } else {
                    format!("{}.{}", plan.name, app.name)
                }
            })
            .collect();
        Snap {
            name: plan.name.clone(),
            version: plan.version.clone(),
            file_name: plan.file_name(),
            commands,
            snap_yaml: plan.render_yaml(),
            notes: plan.notes.clone(),
            artifact: artifact.to_path_buf(),
            artifact_in_snap: plan.artifact.clone(),
            wrapper: plan.render_wrapper(),
        }
    }
}

/// Writes the snap to `out` (replaced whole): the tree staged in a
/// temporary directory beside it, then squashed by `mksquashfs`.
pub fn write_snap(snap: &Snap, out: &Path) -> Result<(), DeployError> {
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DeployError::Stage { path, source }
    };
    fs_err::create_dir_all(&dir).map_err(io(&dir))?;
    let stage = tempfile::Builder::new()
        .prefix(".pyzap-snap-")
        .tempdir_in(&dir)
        .map_err(io(&dir))?;
    let root = stage.path().join("root");
    let mut files = vec![(
        "meta/snap.yaml".to_string(),
        Content::Text(&snap.snap_yaml),
        0o644,
    )];
    files.push((
        snap.artifact_in_snap.clone(),
        Content::Copy(&snap.artifact),
        0o755,
    ));
    if let Some(wrapper) = &snap.wrapper {
        files.push((WRAPPER.to_string(), Content::Text(wrapper), 0o755));
    }
    for (name, content, mode) in files {
        let path = root.join(&name);
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent).map_err(io(parent))?;
        }
        match content {
            Content::Text(text) => fs_err::write(&path, text).map(drop),
            Content::Copy(from) => fs_err::copy(from, &path).map(drop),
        }
        .map_err(io(&path))?;
        fs_err::set_permissions(&path, std::fs::Permissions::from_mode(mode)).map_err(io(&path))?;
    }
    // Directories 0755 whatever the umask: the snap's files are read by
    // snapd and by the user the app runs as.
    for dir in ["", "meta", "bin", "app"] {
        let path = root.join(dir);
        if path.is_dir() {
            fs_err::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(io(&path))?;
        }
    }
    let image = stage.path().join("image.snap");
    squash(&root, &image)?;
    fs_err::set_permissions(&image, std::fs::Permissions::from_mode(0o644)).map_err(io(&image))?;
    fs_err::rename(&image, out).map_err(io(out))?;
    Ok(())
}

enum Content<'a> {
    Text(&'a str),
    Copy(&'a Path),
}

/// `mksquashfs` as `snap pack` runs it: xz, no fragments (fragments make
/// the image depend on thread timing, and snapd's review tools refuse
/// them), every file owned by root, no extended attributes; plus one time
/// for the image and every file (`SOURCE_DATE_EPOCH`, else 1980-01-01), so
/// the same artifact gives the same bytes.
fn squash(root: &Path, image: &Path) -> Result<(), DeployError> {
    let time = pyzap_fs::source_date_epoch().to_string();
    let output = Command::new("mksquashfs")
        .arg(root)
        .arg(image)
        .args(["-noappend", "-comp", "xz", "-no-fragments", "-all-root"])
        .args(["-no-xattrs", "-no-progress", "-quiet"])
        .args(["-mkfs-time", &time, "-all-time", &time])
        .output()
        .map_err(|source| DeployError::Mksquashfs { source })?;
    if !output.status.success() {
        return Err(DeployError::MksquashfsFailed {
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
