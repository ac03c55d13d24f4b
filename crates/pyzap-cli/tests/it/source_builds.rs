//! Builds from source (issue 12, item A): a local project is built from a
//! copy, so its directory is left as it was and nothing stale in it ships;
//! an sdist's wheel is kept in the cache and reused, byte for byte, and a
//! build from an empty cache gives the same bytes again.

use std::path::{Path, PathBuf};
use std::process::Command;

use pyzap_test_support::{files_below, sha256_file};

use crate::common::*;

/// `pyzap build ARGS -f WHEELHOUSE --no-index --python 3.11 -v -o OUT`
/// with the build cache `cache`; its stderr.
fn build_with_cache(cache: &Path, out: &Path, args: &[&str]) -> String {
    let built = run_ok(
        pyzap()
            .env("PYZAP_CACHE_DIR", cache)
            .arg("build")
            .args(args)
            .arg("-f")
            .arg(wheelhouse())
            .args(["--no-index", "-v", "--python"])
            .arg(&py311().path)
            .arg("-o")
            .arg(out),
    );
    stderr(&built)
}

/// Runs the artifact; its stdout.
fn run(artifact: &Path) -> String {
    let root = artifact.with_extension("root");
    stdout(&run_ok(&mut run_artifact(&py311().path, artifact, &root)))
}

/// A setuptools project `demo` in `dir/demo` whose `main` says whether
/// the module `demo.extra` is there. Its `setup.py` appends a line to the
/// file named by `PYZAP_TEST_BUILD_LOG` each time a backend runs it.
fn setuptools_project(dir: &Path) -> PathBuf {
    let project = dir.join("demo");
    fs_err::create_dir_all(project.join("demo")).unwrap();
    fs_err::write(
        project.join("pyproject.toml"),
        "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n\n\
         [project]\nname = \"demo\"\nversion = \"1.0\"\n\n\
         [tool.setuptools]\npackages = [\"demo\"]\n",
    )
    .unwrap();
    fs_err::write(
        project.join("setup.py"),
        "import os\nfrom setuptools import setup\n\n\
         log = os.environ.get('PYZAP_TEST_BUILD_LOG')\n\
         if log:\n    with open(log, 'a') as f:\n        f.write('built\\n')\n\
         setup()\n",
    )
    .unwrap();
    fs_err::write(
        project.join("demo/__init__.py"),
        "import importlib.util\n\n\ndef main():\n    \
         print('extra' if importlib.util.find_spec('demo.extra') else 'no extra')\n",
    )
    .unwrap();
    fs_err::write(project.join("demo/extra.py"), "X = 1\n").unwrap();
    project
}

/// The files an in-tree build would have left.
fn build_litter(project: &Path) -> Vec<PathBuf> {
    files_below(project)
        .into_iter()
        .filter(|p| {
            let rel = p.strip_prefix(project).unwrap().to_string_lossy();
            rel.starts_with("build/") || rel.contains(".egg-info")
        })
        .collect()
}

#[test]
fn a_project_is_built_from_a_copy_and_a_deleted_module_is_gone() {
    let dir = fresh_dir("source-project-");
    let cache = dir.join("cache");
    let project = setuptools_project(&dir);
    let out = dir.join("app.pyz");
    let args = [project.to_str().unwrap(), "-e", "demo:main"];
    build_with_cache(&cache, &out, &args);
    assert_eq!(run(&out).trim(), "extra");
    assert_eq!(build_litter(&project), Vec::<PathBuf>::new());

    // The module goes, and an earlier in-tree build (pip's) left its copy
    // in build/lib: neither may come back.
    fs_err::remove_file(project.join("demo/extra.py")).unwrap();
    let stale = project.join("build/lib/demo");
    fs_err::create_dir_all(&stale).unwrap();
    fs_err::write(stale.join("extra.py"), "X = 1\n").unwrap();
    let again = dir.join("again.pyz");
    build_with_cache(&cache, &again, &args);
    assert_eq!(run(&again).trim(), "no extra");
    assert_eq!(build_litter(&project), vec![stale.join("extra.py")]);
}

/// Packs `project` into `dir/demo-1.0.tar.gz` with Python's tarfile.
fn sdist_of(project: &Path, dir: &Path) -> PathBuf {
    let sdist = dir.join("demo-1.0.tar.gz");
    run_ok(
        Command::new(&py311().path)
            .args([
                "-c",
                "import sys, tarfile\n\
                 with tarfile.open(sys.argv[1], 'w:gz') as t:\n    \
                 t.add(sys.argv[2], arcname='demo-1.0')",
            ])
            .arg(&sdist)
            .arg(project),
    );
    sdist
}

#[test]
fn an_sdist_is_built_once_and_its_wheel_reused_byte_for_byte() {
    let dir = fresh_dir("source-sdist-");
    let project = setuptools_project(&dir);
    let sdist = sdist_of(&project, &dir);
    let log = dir.join("backend-runs.txt");
    let runs = || {
        fs_err::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let build = |cache: &str, out: &str| {
        let out = dir.join(out);
        let stderr = run_ok(
            pyzap()
                .env("PYZAP_CACHE_DIR", dir.join(cache))
                .env("PYZAP_TEST_BUILD_LOG", &log)
                .arg("build")
                .arg(&sdist)
                .arg("-f")
                .arg(wheelhouse())
                .args(["--no-index", "-v", "-e", "demo:main", "--python"])
                .arg(&py311().path)
                .arg("-o")
                .arg(&out),
        );
        (out, String::from_utf8_lossy(&stderr.stderr).into_owned())
    };

    let (first, said) = build("cache", "first.pyz");
    assert!(
        said.contains("building demo-1.0.tar.gz from source"),
        "{said}"
    );
    assert_eq!(runs(), 1);
    assert_eq!(run(&first).trim(), "extra");

    let (second, said) = build("cache", "second.pyz");
    assert!(
        said.contains("reusing wheel built from demo-1.0.tar.gz"),
        "{said}"
    );
    assert_eq!(runs(), 1, "the backend ran again");
    assert_eq!(sha256_file(&first), sha256_file(&second));

    // From an empty cache elsewhere: built again, to the same bytes.
    let (third, _) = build("other-cache", "third.pyz");
    assert_eq!(runs(), 2);
    assert_eq!(sha256_file(&first), sha256_file(&third));
}
