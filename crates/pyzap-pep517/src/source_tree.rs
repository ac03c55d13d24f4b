//! The copy of a local project that a build runs in, so the backend never
//! writes into the user's directory (setuptools leaves `build/` and
//! `*.egg-info` behind, and a later build would ship a module deleted from
//! the source from that stale `build/lib`).
//!
//! Left out of the copy: what earlier builds and tools wrote (`build/` and
//! `dist/` at the top, `*.egg-info`, `__pycache__`, the caches of tox, nox,
//! mypy, pytest and ruff), virtual environments (any directory holding a
//! `pyvenv.cfg`, whatever its name), and other VCS metadata (`.hg`,
//! `.svn`). These are the directories a backend must not read stale state
//! from, or that only make the copy slow. A `.git` is not copied but
//! pointed at: the copy gets a `gitdir:` file naming the original
//! repository, as a submodule has, so versions and file lists that
//! setuptools-scm or hatch-vcs read from git stay what they are in place.
//! (`GIT_OPTIONAL_LOCKS=0`, set for the backend, keeps `git status` there
//! from rewriting the user's index.) Everything else is copied as it is,
//! symlinks as symlinks: unlike an sdist, the copy holds what the project
//! directory holds, so a file a `MANIFEST.in` forgets still builds.

use std::path::Path;

use walkdir::WalkDir;

use crate::Pep517Error;

/// Names left out wherever they are.
const SKIPPED_ANYWHERE: &[&str] = &[
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".hg",
    ".svn",
];

/// Names left out at the top only: setuptools' build base and the usual
/// output directory. Deeper, a `build` directory may be a package.
const SKIPPED_AT_TOP: &[&str] = &["build", "dist"];

/// Copies the project in `src` to `dest` (which must not exist yet).
pub fn copy_source_tree(src: &Path, dest: &Path) -> Result<(), Pep517Error> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Pep517Error::Io { path, source }
    };
    let mut walk = WalkDir::new(src)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !skipped(e));
    while let Some(entry) = walk.next() {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(src).to_path_buf();
            Pep517Error::Io {
                path,
                source: e.into(),
            }
        })?;
        let rel = entry
            .path()
            .strip_prefix(src)
            .map_err(|e| io(entry.path())(std::io::Error::other(e)))?;
        let to = dest.join(rel);
        let kind = entry.file_type();
        if entry.file_name() == ".git" {
            point_at_repository(entry.path(), &to)?;
            if kind.is_dir() {
                walk.skip_current_dir();
            }
        } else if kind.is_dir() {
            fs_err::create_dir(&to).map_err(io(&to))?;
        } else if kind.is_symlink() {
            let target = fs_err::read_link(entry.path()).map_err(io(entry.path()))?;
            fs_err::os::unix::fs::symlink(&target, &to).map_err(io(&to))?;
        } else if kind.is_file() {
            fs_err::copy(entry.path(), &to).map_err(io(&to))?;
        }
        // Sockets, fifos and devices have no place in a build tree.
    }
    Ok(())
}

fn skipped(entry: &walkdir::DirEntry) -> bool {
    let name = entry.file_name().to_string_lossy();
    if !entry.file_type().is_dir() {
        return false;
    }
    SKIPPED_ANYWHERE.contains(&name.as_ref())
        || name.ends_with(".egg-info")
        || (entry.depth() == 1 && SKIPPED_AT_TOP.contains(&name.as_ref()))
        || (entry.depth() > 0 && entry.path().join("pyvenv.cfg").is_file())
}

/// Writes a `gitdir:` file at `to` naming the repository that the `.git`
/// at `original` is or names (a worktree's or submodule's `.git` is itself
/// such a file, relative to where it is).
fn point_at_repository(original: &Path, to: &Path) -> Result<(), Pep517Error> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Pep517Error::Io { path, source }
    };
    let gitdir = if original.is_dir() {
        original.to_path_buf()
    } else {
        let text = fs_err::read_to_string(original).map_err(io(original))?;
        let named = text.trim().strip_prefix("gitdir:").unwrap_or("").trim();
        let base = original.parent().unwrap_or(Path::new("/"));
        base.join(named)
    };
    let gitdir = fs_err::canonicalize(&gitdir).map_err(io(&gitdir))?;
    fs_err::write(to, format!("gitdir: {}\n", gitdir.display())).map_err(io(to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path) -> Vec<String> {
        let mut out: Vec<String> = WalkDir::new(dir)
            .min_depth(1)
            .into_iter()
            .map(|e| {
                let e = e.unwrap();
                e.path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn the_copy_leaves_out_build_state_and_points_at_the_repository() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("proj");
        for dir in [
            "src/app/build",
            "src/app/__pycache__",
            "src/app.egg-info",
            "build/lib/app",
            "dist",
            ".venv/lib",
            "env/lib",
            ".git/refs",
            ".tox/py311",
        ] {
            fs_err::create_dir_all(src.join(dir)).unwrap();
        }
        for file in [
            "pyproject.toml",
            "src/app/__init__.py",
            "src/app/build/__init__.py",
            "src/app/__pycache__/x.pyc",
            "src/app.egg-info/SOURCES.txt",
            "build/lib/app/stale.py",
            "dist/app-1.0.tar.gz",
            ".venv/pyvenv.cfg",
            "env/pyvenv.cfg",
            ".git/HEAD",
        ] {
            fs_err::write(src.join(file), "x").unwrap();
        }
        fs_err::os::unix::fs::symlink("app/__init__.py", src.join("src/link.py")).unwrap();
        let dest = tmp.path().join("copy");
        copy_source_tree(&src, &dest).unwrap();
        assert_eq!(
            files(&dest),
            [
                ".git",
                "pyproject.toml",
                "src",
                "src/app",
                "src/app/__init__.py",
                "src/app/build",
                "src/app/build/__init__.py",
                "src/link.py",
            ]
        );
        assert_eq!(
            fs_err::read_link(dest.join("src/link.py")).unwrap(),
            Path::new("app/__init__.py")
        );
        let gitdir = fs_err::canonicalize(src.join(".git")).unwrap();
        assert_eq!(
            fs_err::read_to_string(dest.join(".git")).unwrap(),
            format!("gitdir: {}\n", gitdir.display())
        );
    }

    #[test]
    fn a_gitdir_file_is_followed_to_its_repository() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo/.git/modules/sub");
        fs_err::create_dir_all(&repo).unwrap();
        let src = tmp.path().join("repo/sub");
        fs_err::create_dir_all(&src).unwrap();
        fs_err::write(src.join(".git"), "gitdir: ../.git/modules/sub\n").unwrap();
        let dest = tmp.path().join("copy");
        copy_source_tree(&src, &dest).unwrap();
        assert_eq!(
            fs_err::read_to_string(dest.join(".git")).unwrap(),
            format!(
                "gitdir: {}\n",
                fs_err::canonicalize(&repo).unwrap().display()
            )
        );
    }
}
