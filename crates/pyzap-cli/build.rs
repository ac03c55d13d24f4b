//! Gives `pyzap --version` the commit it was built from: `PYZAP_VERSION`
//! is the package version, followed by ` (<short hash>)` when the build
//! runs in a git checkout with git on PATH, and nothing more otherwise (a
//! source archive, a registry copy).
//!
//! The hash is read again when `HEAD` moves: a checkout changes `.git/HEAD`,
//! a commit changes the branch's ref file (or `packed-refs` after a
//! `git pack-refs`).

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    let full = match git(&["rev-parse", "--short", "HEAD"]) {
        Some(hash) => {
            watch_head();
            format!("{version} ({hash})")
        }
        None => version.to_string(),
    };
    directive(&format!("rustc-env=PYZAP_VERSION={full}"));
    directive("rerun-if-changed=build.rs");
}

/// Reruns this script when `HEAD` or the ref it points at changes.
fn watch_head() {
    let mut watched = vec![git_path("HEAD"), git_path("packed-refs")];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(git_path(&branch));
    }
    for path in watched.into_iter().flatten() {
        directive(&format!("rerun-if-changed={}", path.display()));
    }
}

/// Where git keeps `name` (`.git/HEAD`, a worktree's own directory), made
/// absolute: git answers relative to the current directory.
fn git_path(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(git(&["rev-parse", "--git-path", name])?);
    let absolute = if path.is_absolute() {
        path
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    // A missing file cannot be watched: cargo would rerun every build.
    absolute.exists().then_some(absolute)
}

/// git's trimmed output, or `None` when git is missing or fails (not a
/// checkout).
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (out.status.success() && !text.is_empty()).then(|| text.to_string())
}

#[allow(
    clippy::print_stdout,
    reason = "a build script talks to cargo on stdout"
)]
fn directive(text: &str) {
    println!("cargo::{text}");
}
