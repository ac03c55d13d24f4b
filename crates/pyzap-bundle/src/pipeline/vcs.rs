//! `git+URL[@REF][#subdirectory=PATH]` inputs (pip's VCS syntax): cloned with
//! the machine's `git` into a temporary directory that lives as long as the
//! build, then built like any local project.

use std::path::PathBuf;
use std::process::Command;

use crate::{BundleError, Result};

#[derive(Debug)]
pub(crate) struct Checkout {
    _dir: tempfile::TempDir,
    /// The project directory inside the checkout.
    pub path: PathBuf,
}

/// The parts of a `git+` spec: URL, optional ref, optional subdirectory.
fn parse(spec: &str) -> Result<(String, Option<String>, Option<String>)> {
    let not_git = || BundleError::NotAGitUrl {
        spec: spec.to_string(),
    };
    let rest = spec.strip_prefix("git+").ok_or_else(not_git)?;
    let (rest, fragment) = match rest.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (rest, None),
    };
    let subdirectory = fragment
        .into_iter()
        .flat_map(|f| f.split('&'))
        .find_map(|kv| kv.strip_prefix("subdirectory="))
        .map(str::to_string);
    // A ref follows the last `@` of the path, not the `user@` of the host.
    let path_start = rest.find("://").map_or(0, |i| i + 3);
    let last_slash = rest[path_start..]
        .rfind('/')
        .map_or(path_start, |i| path_start + i);
    let (url, reference) = match rest[last_slash..].rfind('@') {
        Some(at) => (
            &rest[..last_slash + at],
            Some(rest[last_slash + at + 1..].to_string()),
        ),
        None => (rest, None),
    };
    if url.is_empty() || !url.contains(':') {
        return Err(not_git());
    }
    Ok((
        url.to_string(),
        reference.filter(|r| !r.is_empty()),
        subdirectory,
    ))
}

/// Runs git; `action` says what for (`cloning URL`), for the error.
fn git(action: String, args: &[&str]) -> Result<()> {
    let out = Command::new("git")
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|source| BundleError::GitSpawn { source })?;
    if !out.status.success() {
        return Err(BundleError::Git {
            action,
            command: format!("git {}", args.join(" ")),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}

/// Clones `spec` and returns the project directory to build.
pub(crate) fn checkout(spec: &str, work: &std::path::Path) -> Result<Checkout> {
    let (url, reference, subdirectory) = parse(spec)?;
    let dir = tempfile::Builder::new()
        .prefix("git-")
        .tempdir_in(work)
        .map_err(|source| BundleError::Write {
            path: work.to_path_buf(),
            source,
        })?;
    let dest = dir.path().join("src");
    let dest_str = dest.to_string_lossy().into_owned();
    git(
        format!("cloning {url}"),
        &["clone", "--quiet", &url, &dest_str],
    )?;
    if let Some(r) = &reference {
        git(
            format!("checking out {r} of {url}"),
            &["-C", &dest_str, "checkout", "--quiet", r],
        )?;
    }
    let path = match &subdirectory {
        Some(sub) => pyzap_fs::safe_join(&dest, sub)?,
        None => dest,
    };
    Ok(Checkout { _dir: dir, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_refs_and_subdirectories() {
        let p = |s| parse(s).unwrap();
        assert_eq!(
            p("git+https://h/o/r.git"),
            ("https://h/o/r.git".into(), None, None)
        );
        assert_eq!(
            p("git+https://u@h/o/r.git@v1.2#subdirectory=pkg"),
            (
                "https://u@h/o/r.git".into(),
                Some("v1.2".into()),
                Some("pkg".into())
            )
        );
        assert_eq!(
            p("git+ssh://git@h/o/r@main"),
            ("ssh://git@h/o/r".into(), Some("main".into()), None)
        );
        assert!(parse("git+nothing").is_err());
    }
}
