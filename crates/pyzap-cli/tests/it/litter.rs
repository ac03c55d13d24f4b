//! Security issue item 9: a killed build leaves nothing beside the user's
//! output or in the system temporary directory, and what it leaves in the
//! cache's scratch space is removed by the next build.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::common::{fresh_dir, py311, pyzap, run_ok, wheelhouse};

/// Every path below `dir` (files and directories).
fn all_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs_err::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        out.push(p.clone());
        if p.is_dir() && !p.is_symlink() {
            out.extend(all_below(&p));
        }
    }
    out
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs_err::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn killed_builds_leave_no_litter() {
    let cache = fresh_dir("litter-cache-");
    let out_dir = fresh_dir("litter-out-");
    let tmp = fresh_dir("litter-tmp-");
    let out = out_dir.join("six.pyz");
    // six from its sdist: a PEP 517 build in an isolated environment, so
    // every kind of scratch space is in use at some point.
    let command = || {
        let mut cmd = pyzap();
        cmd.env("PYZAP_CACHE_DIR", &cache)
            .env("TMPDIR", &tmp)
            .args(["build", "six", "-e", "six", "--no-binary", "six"])
            .args(["--no-index", "-f"])
            .arg(wheelhouse())
            .arg("--python")
            .arg(&py311().path)
            .arg("-o")
            .arg(&out);
        cmd
    };
    for delay_ms in [50, 200, 500, 1000, 2000] {
        let mut child = command()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        child.wait().unwrap();
        for name in names(&out_dir) {
            assert!(
                name == "six.pyz" || name.starts_with(".pyzap-build-"),
                "killed after {delay_ms} ms, left {name} beside the output"
            );
        }
    }
    // What a killed build left, made old enough to be certain it is dead.
    for path in all_below(&cache.join("work"))
        .into_iter()
        .chain(all_below(&cache.join("index/tmp-v1")))
        .chain(all_below(&out_dir))
    {
        pyzap_fs::age_for_tests(&path, Duration::from_secs(3600));
    }
    run_ok(&mut command());
    assert_eq!(names(&out_dir), ["six.pyz"], "beside the output");
    assert!(
        names(&cache.join("work")).is_empty(),
        "{:?}",
        names(&cache.join("work"))
    );
    assert!(
        names(&cache.join("index/tmp-v1")).is_empty(),
        "{:?}",
        names(&cache.join("index/tmp-v1"))
    );
    // Orphaned build backends may still be finishing: their temporary
    // files go to the cache's scratch space, never to TMPDIR.
    std::thread::sleep(Duration::from_millis(500));
    assert!(names(&tmp).is_empty(), "system temp: {:?}", names(&tmp));
}
