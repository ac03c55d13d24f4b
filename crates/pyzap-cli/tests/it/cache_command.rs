//! `pyzap cache list` and `pyzap cache prune --runtime` on the runtime cache
//! a real artifact leaves: listed per app, kept while the app runs, removed
//! once it does not, and made again by the next run.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};

use crate::common::*;

/// Kills and reaps the app when the test ends, passed or failed.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs_err::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn cache_list_shows_a_run_artifact_and_prune_runtime_removes_it_once_it_stops() {
    let python = &py311().path;
    let dir = fresh_dir("cache-command-");
    let artifact = dir.join("certifi.pyz");
    // certifi's cacert.pem is package data: the site is extracted.
    build(python, &artifact, &["certifi", "-e", "certifi"]);
    let root = dir.join("root");
    let cacert = stdout(&run_ok(&mut run_artifact(python, &artifact, &root)));
    let site = Path::new(cacert.trim())
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf();
    assert_eq!(site.parent().unwrap(), root.join("site"), "{cacert}");
    let site_name = format!("site/{}", site.file_name().unwrap().to_string_lossy());
    let venvs = names(&root.join("venv"));
    assert_eq!(venvs.len(), 1, "{venvs:?}");
    let venv_name = format!("venv/{}", venvs[0]);
    // The first run's trees are flushed to disk by a detached process of
    // its own (`docs/artifact-format.md`, protocol step 6), which is among
    // their users until it is done: wait for the markers' final names and
    // for no process to use the trees.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let listed = stdout(&run_ok(
            pyzap().args(["cache", "list"]).env("PYZAP_ROOT", &root),
        ));
        let flushed = site.join(".pyzap-complete").is_file()
            && root.join(&venv_name).join(".pyzap-venv").is_file();
        if flushed && !listed.contains("in use by") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never flushed:\n{listed}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    let mut app = Running(
        run_artifact(python, &artifact, &root)
            .env("PYZAP_INTERPRETER", "1")
            .args([
                "-c",
                "import certifi, time; print('up', flush=True); time.sleep(60)",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(app.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "up\n");

    // The root the apps use comes from PYZAP_ROOT, as theirs does.
    let listed = stdout(&run_ok(
        pyzap().args(["cache", "list"]).env("PYZAP_ROOT", &root),
    ));
    let in_use = format!("in use by {} ", app.0.id());
    assert!(
        listed.starts_with(&format!(
            "runtime cache {}: 1 app, 2 trees, ",
            root.display()
        )),
        "{listed}"
    );
    assert!(
        listed.contains(&format!("\n{}\n", artifact.display())),
        "{listed}"
    );
    for tree in [&site_name, &venv_name] {
        let line = listed
            .lines()
            .find(|l| l.trim_start().starts_with(tree.as_str()))
            .unwrap_or_else(|| panic!("no {tree} in:\n{listed}"));
        assert!(line.contains("used today"), "{line}");
        assert!(line.contains(&in_use), "{line}");
        assert!(line.ends_with("(runs the artifact)"), "{line}");
    }

    let prune = |days: &str| {
        run_ok(
            pyzap()
                .args(["cache", "prune", "--runtime", "--days", days, "--root"])
                .arg(&root),
        )
    };
    let kept = stderr(&prune("0"));
    assert!(
        kept.contains(&format!("kept {site_name}: {in_use}")),
        "{kept}"
    );
    assert!(site.join(".pyzap-complete").is_file());
    assert_eq!(names(&root.join("venv")), venvs);

    drop(app);
    let listed = stdout(&run_ok(
        pyzap().args(["cache", "list", "--root"]).arg(&root),
    ));
    assert!(
        listed.contains("not in use") && !listed.contains("in use by"),
        "{listed}"
    );
    let pruned = stderr(&prune("0"));
    for tree in [&site_name, &venv_name] {
        assert!(pruned.contains(&format!("removed {tree} (")), "{pruned}");
    }
    assert!(
        pruned.contains(
            ": removed 2 trees (unused for 0 days, or incomplete) and 0 leftovers of tmp/, "
        ),
        "{pruned}"
    );
    assert_eq!(names(&root.join("site")), Vec::<String>::new());
    assert_eq!(names(&root.join("venv")), Vec::<String>::new());
    assert_eq!(names(&root.join("tmp")), Vec::<String>::new());
    let listed = stdout(&run_ok(
        pyzap().args(["cache", "list", "--root"]).arg(&root),
    ));
    assert!(listed.contains(": 0 apps, 0 trees, "), "{listed}");

    // The next run unpacks it again, to the same place.
    let again = stdout(&run_ok(&mut run_artifact(python, &artifact, &root)));
    assert_eq!(again, cacert);
}
