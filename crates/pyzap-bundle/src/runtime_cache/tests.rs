//! A runtime cache made by hand in a temporary directory (trees, markers,
//! times in the past), listed and pruned; processes started here hold
//! trees the way apps do.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use super::*;

const DAY: u64 = 86_400;

/// Sets the access and modification times of `path` and everything in it
/// `days` into the past (children first: times set on a child do not touch
/// its directory).
fn age(path: &Path, days: u64) {
    let meta = fs_err::symlink_metadata(path).unwrap();
    if meta.is_dir() {
        for entry in fs_err::read_dir(path).unwrap() {
            age(&entry.unwrap().path(), days);
        }
    }
    pyzap_test_support::set_times_nofollow(
        path,
        SystemTime::now() - Duration::from_secs(days * DAY),
    );
}

fn atime(path: &Path) -> SystemTime {
    fs_err::symlink_metadata(path).unwrap().accessed().unwrap()
}

/// `<root>/site/<hash>/` as the bootstrap leaves it, written by `artifact`.
fn site(root: &Path, hash: &str, artifact: &Path) -> PathBuf {
    let dir = root.join("site").join(hash);
    fs_err::create_dir_all(dir.join("pkg/__pycache__")).unwrap();
    fs_err::write(dir.join("pkg/__init__.py"), "X = 1\n").unwrap();
    fs_err::write(dir.join("pkg/data.txt"), "data ".repeat(2000)).unwrap();
    fs_err::write(
        dir.join(".pyzap-complete"),
        format!("{}\n", artifact.display()),
    )
    .unwrap();
    dir
}

/// `<root>/venv/<name>/` naming `site` and the interpreter `exe`.
fn venv(root: &Path, name: &str, site: &Path, exe: &Path) -> PathBuf {
    let dir = root.join("venv").join(name);
    let packages = dir.join("lib/python3.11/site-packages");
    fs_err::create_dir_all(&packages).unwrap();
    fs_err::create_dir_all(dir.join("bin")).unwrap();
    fs_err::os::unix::fs::symlink(exe, dir.join("bin/python")).unwrap();
    fs_err::write(
        dir.join("pyvenv.cfg"),
        format!("home = {}\n", exe.parent().unwrap().display()),
    )
    .unwrap();
    fs_err::write(
        packages.join("_pyzap_bundle.pth"),
        format!("import site; site.addsitedir({site:?})\n"),
    )
    .unwrap();
    fs_err::write(
        dir.join(".pyzap-venv"),
        format!(
            "pyzap-venv 1\nexecutable={}\nsite={}\nartifact-path=/srv/app.pyz/site-packages\n",
            exe.display(),
            site.display()
        ),
    )
    .unwrap();
    dir
}

/// `<root>/python/<id>/` as the launcher leaves it.
fn python(root: &Path, id: &str) -> PathBuf {
    let dir = root.join("python").join(id);
    fs_err::create_dir_all(dir.join("bin")).unwrap();
    fs_err::write(dir.join("bin/python3.11"), "\x7fELF").unwrap();
    fs_err::write(dir.join(pyzap_launcher::MARKER), "").unwrap();
    fs_err::write(root.join("python").join(format!(".{id}.lock")), "").unwrap();
    dir
}

fn prune(root: &Path, days: u64) -> RuntimePruned {
    prune_runtime(root, Duration::from_secs(days * DAY), &crate::Silent).unwrap()
}

/// A child in a process group of its own, killed with its children (a
/// shell's `sleep`) and reaped when the test ends, passed or failed.
struct Running(Child);

impl Running {
    /// Spawns `command` and waits until it has exec'd its program: before
    /// that, /proc shows the forked test binary under its name.
    fn start(command: &mut Command) -> Self {
        let program = std::path::Path::new(command.get_program())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let child = command.process_group(0).spawn().unwrap();
        let comm = format!("/proc/{}/comm", child.id());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while fs_err::read_to_string(&comm)
            .map(|c| c.trim().to_string())
            .ok()
            != Some(program.chars().take(15).collect())
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        Running(child)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // SAFETY: kill has no memory preconditions; the group is the child's.
        unsafe { libc::kill(-(self.0.id() as libc::pid_t), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

#[test]
fn list_groups_trees_by_app_and_names_orphans() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let app = tmp.path().join("app.pyz");
    fs_err::write(&app, b"PK").unwrap();
    let site_a = site(&root, "aaaa", &app);
    let cpython = python(&root, "p1");
    venv(
        &root,
        "00000000000000a1",
        &site_a,
        &cpython.join("bin/python3.11"),
    );
    site(&root, "bbbb", Path::new("/gone/other.pyz"));
    venv(
        &root,
        "00000000000000b2",
        &root.join("site/cccc"),
        Path::new("/usr/bin/python3"),
    );
    python(&root, "p2");
    fs_err::create_dir_all(root.join("site/dddd/pkg")).unwrap();
    fs_err::create_dir_all(root.join("tmp/aaaa.123.abcdef")).unwrap();

    let cache = list_runtime(&root).unwrap();
    let name = |i: usize| format!("{}/{}", cache.trees[i].kind.dir(), cache.trees[i].name);
    let apps: Vec<(PathBuf, bool, Vec<String>)> = cache
        .apps()
        .into_iter()
        .map(|a| {
            (
                a.artifact,
                a.exists,
                a.trees.into_iter().map(name).collect(),
            )
        })
        .collect();
    assert_eq!(
        apps,
        [
            (
                PathBuf::from("/gone/other.pyz"),
                false,
                vec!["site/bbbb".to_string()]
            ),
            (
                app.clone(),
                true,
                vec![
                    "site/aaaa".to_string(),
                    "venv/00000000000000a1".to_string(),
                    "python/p1".to_string()
                ]
            ),
        ]
    );
    let orphans: Vec<(String, Orphan)> = cache
        .orphans()
        .into_iter()
        .map(|(i, why)| (name(i), why))
        .collect();
    assert_eq!(
        orphans,
        [
            (
                "venv/00000000000000b2".to_string(),
                Orphan::SiteGone(root.join("site/cccc"))
            ),
            ("python/p2".to_string(), Orphan::Unnamed),
        ]
    );
    let text = cache.to_string();
    assert!(
        text.starts_with(&format!(
            "runtime cache {}: 2 apps, 7 trees, ",
            root.display()
        )),
        "{text}"
    );
    for line in [
        format!("\n{}\n  site/aaaa ", app.display()),
        "\n/gone/other.pyz (artifact gone)\n".to_string(),
        "\norphans (of no app)\n".to_string(),
        format!("(its site {} is gone)\n", root.join("site/cccc").display()),
        "python/p2 ".to_string(),
        "(no environment names it)\n".to_string(),
        "\nincomplete (no marker)\n  site/dddd ".to_string(),
        "\nleftovers of extractions\n  tmp/aaaa.123.abcdef ".to_string(),
        "used today        not in use".to_string(),
    ] {
        assert!(text.contains(&line), "no {line:?} in:\n{text}");
    }
    assert!(!text.contains(" \n"), "trailing blanks in:\n{text}");
}

/// Listing reads the venv marker, whose access time is the venv's last
/// use: it must not change it, nor may its own walk make a tree look used.
#[test]
fn listing_leaves_last_use_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let site_a = site(&root, "aaaa", &tmp.path().join("app.pyz"));
    let env = venv(
        &root,
        "00000000000000a1",
        &site_a,
        Path::new("/usr/bin/python3"),
    );
    let control = tmp.path().join("control");
    fs_err::write(&control, "x").unwrap();
    age(&root, 10);
    age(&control, 10);
    let before = atime(&env.join(".pyzap-venv"));
    fs_err::read(&control).unwrap();
    if atime(&control) == before {
        pyzap_test_support::skip("this file system does not update access times on reads");
        return;
    }

    let first = list_runtime(&root).unwrap();
    assert_eq!(atime(&env.join(".pyzap-venv")), before);
    let second = list_runtime(&root).unwrap();
    for (a, b) in first.trees.iter().zip(&second.trees) {
        assert_eq!(a.last_used, b.last_used, "{}", a.path.display());
        assert_eq!(a.last_used, before, "{}", a.path.display());
    }
    assert!(second.to_string().contains("used 10 days ago"));
}

#[test]
fn prune_removes_old_trees_and_keeps_recent_ones_and_what_they_name() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let app = tmp.path().join("app.pyz");
    // An old site, kept by the recent venv naming it, which also keeps the
    // CPython it runs.
    let kept_site = site(&root, "aaaa", &app);
    let kept_python = python(&root, "p1");
    let recent_venv = venv(
        &root,
        "00000000000000a1",
        &kept_site,
        &kept_python.join("bin/python3.11"),
    );
    // An old venv naming a recent site: the venv goes, the site stays.
    let recent_site = site(&root, "bbbb", &app);
    let old_venv = venv(
        &root,
        "00000000000000b2",
        &recent_site,
        Path::new("/usr/bin/python3"),
    );
    let old_site = site(&root, "cccc", &app);
    let old_python = python(&root, "p2");
    let old_incomplete = root.join("site/dddd");
    let new_incomplete = root.join("venv/00000000000000e5");
    let old_tmp = root.join("tmp/cccc.42.abcdef");
    let new_tmp = root.join("tmp/venv.43.abcdef");
    for dir in [&old_incomplete, &new_incomplete, &old_tmp, &new_tmp] {
        fs_err::create_dir_all(dir.join("pkg")).unwrap();
    }
    for old in [
        &kept_site,
        &kept_python,
        &old_venv,
        &old_site,
        &old_python,
        &old_incomplete,
        &old_tmp,
    ] {
        age(old, 40);
    }

    let done = prune(&root, 30);
    let mut removed = done.removed.clone();
    removed.sort();
    assert_eq!(
        removed,
        [
            old_python.clone(),
            old_site.clone(),
            old_incomplete.clone(),
            old_venv.clone()
        ]
    );
    assert_eq!(done.leftovers, std::slice::from_ref(&old_tmp));
    assert!(done.in_use.is_empty(), "{:?}", done.in_use);
    for gone in [&old_python, &old_site, &old_incomplete, &old_venv, &old_tmp] {
        assert!(!gone.exists(), "{} is still there", gone.display());
    }
    for kept in [
        &kept_site,
        &kept_python,
        &recent_venv,
        &recent_site,
        &new_incomplete,
        &new_tmp,
    ] {
        assert!(kept.is_dir(), "{} was removed", kept.display());
    }
    // The launcher's lock files stay (a running launcher may hold one), and
    // nothing of the prune is left in tmp/.
    assert!(root.join("python/.p2.lock").is_file());
    let tmp_entries: Vec<_> = fs_err::read_dir(root.join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(tmp_entries, ["venv.43.abcdef"]);

    // --days 0: everything that nothing runs goes, incomplete trees still
    // after a day only.
    let done = prune(&root, 0);
    assert_eq!(done.removed.len(), 4, "{:?}", done.removed);
    assert!(new_incomplete.is_dir());
}

/// A child process whose working directory is in an old site tree keeps
/// it; once it is gone, the tree goes.
#[test]
fn prune_keeps_a_tree_a_process_works_in() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let tree = site(&root, "aaaa", &tmp.path().join("app.pyz"));
    age(&tree, 40);
    let child = Running::start(
        Command::new("sleep")
            .arg("60")
            .current_dir(tree.join("pkg")),
    );

    let listed = list_runtime(&root).unwrap();
    assert_eq!(
        listed.trees[0].users,
        [TreeUser {
            pid: child.0.id(),
            command: "sleep".into(),
            reason: UseReason::WorkingDirectory
        }]
    );
    let done = prune(&root, 0);
    assert_eq!(done.in_use, std::slice::from_ref(&tree));
    assert!(done.removed.is_empty());
    assert!(tree.join(".pyzap-complete").is_file());

    drop(child);
    let done = prune(&root, 0);
    assert_eq!(done.removed, std::slice::from_ref(&tree));
    assert!(!tree.exists());
}

/// The bundle's own process shows nothing of its pure-Python tree in
/// /proc but its command line: running the artifact keeps every tree of
/// the app (site, venv). A child of a bundle keeps what its PYZAP_SITE names.
#[test]
fn prune_keeps_the_trees_of_a_running_artifact_and_of_pyzap_site() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let app = tmp.path().join("app.pyz");
    fs_err::write(&app, b"PK").unwrap();
    let app_site = site(&root, "aaaa", &app);
    let app_venv = venv(
        &root,
        "00000000000000a1",
        &app_site,
        Path::new("/usr/bin/python3"),
    );
    let other = tmp.path().join("other.pyz");
    let child_site = site(&root, "bbbb", &other);
    let child_venv = venv(
        &root,
        "00000000000000b2",
        &child_site,
        Path::new("/usr/bin/python3"),
    );
    let unused = site(&root, "cccc", &other);
    age(&root, 40);
    // `sh -c 'sleep 60; true' app.pyz`: the artifact is $0, relative to
    // the child's working directory.
    let runs_app = Running::start(
        Command::new("sh")
            .args(["-c", "sleep 60; true", "app.pyz"])
            .current_dir(tmp.path()),
    );
    let packages = child_venv.join("lib/python3.11/site-packages");
    let child = Running::start(Command::new("sleep").arg("60").env(
        "PYZAP_SITE",
        format!("{}:{}/site-packages", packages.display(), other.display()),
    ));

    let listed = list_runtime(&root).unwrap();
    let reasons = |path: &Path| -> Vec<(u32, UseReason)> {
        let tree = listed.trees.iter().find(|t| t.path == path).unwrap();
        tree.users.iter().map(|u| (u.pid, u.reason)).collect()
    };
    assert_eq!(
        reasons(&app_site),
        [(runs_app.0.id(), UseReason::RunsArtifact)]
    );
    assert_eq!(
        reasons(&app_venv),
        [(runs_app.0.id(), UseReason::RunsArtifact)]
    );
    assert_eq!(
        reasons(&child_venv),
        [(child.0.id(), UseReason::Environment)]
    );
    assert_eq!(reasons(&child_site), []);

    let done = prune(&root, 0);
    assert_eq!(done.removed, std::slice::from_ref(&unused));
    // The site the child's venv names stays with it.
    for kept in [&app_site, &app_venv, &child_site, &child_venv] {
        assert!(kept.is_dir(), "{} was removed", kept.display());
    }
    drop((runs_app, child));
    let done = prune(&root, 0);
    assert_eq!(done.removed.len(), 4, "{:?}", done.removed);
}

/// An extension module or library loaded from a tree is a mapping of one
/// of its files: a Python that mmaps a file of a CPython tree (and closes
/// the file) keeps the tree.
#[test]
fn prune_keeps_a_tree_a_process_maps_a_file_of() {
    let Some(interpreter) = pyzap_test_support::interpreters().into_iter().next() else {
        pyzap_test_support::skip("no CPython on this machine");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let tree = python(&root, "p1");
    let library = tree.join("lib/libpython3.11.so");
    fs_err::create_dir_all(library.parent().unwrap()).unwrap();
    fs_err::write(&library, vec![7u8; 8192]).unwrap();
    age(&tree, 40);
    let mut child = Running::start(
        Command::new(&interpreter.path)
            .args([
                "-c",
                "import mmap, sys, time\n\
                 with open(sys.argv[1], 'rb') as f:\n    \
                     m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)\n\
                 print('mapped', flush=True)\n\
                 time.sleep(60)\n",
            ])
            .arg(&library)
            .current_dir(tmp.path())
            .stdout(Stdio::piped()),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "mapped\n");

    let listed = list_runtime(&root).unwrap();
    let reasons: Vec<UseReason> = listed.trees[0].users.iter().map(|u| u.reason).collect();
    // Its command line names the file too; the mapping is the stronger reason.
    assert_eq!(reasons, [UseReason::Mapped]);
    assert!(prune(&root, 0).removed.is_empty());
    assert!(library.is_file());
    drop(child);
    assert_eq!(prune(&root, 0).removed, [tree]);
}

#[test]
fn prune_refuses_a_root_that_is_not_a_directory_and_accepts_a_missing_one() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    fs_err::write(&file, "").unwrap();
    let err = prune_runtime(&file, Duration::ZERO, &crate::Silent).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("runtime cache {} is not a directory", file.display())
    );
    let missing = tmp.path().join("missing");
    let done = prune(&missing, 0);
    assert!(done.removed.is_empty() && !missing.exists());
    assert!(list_runtime(&missing).unwrap().trees.is_empty());
}
