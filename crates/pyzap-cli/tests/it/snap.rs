//! `pyzap snap` end to end: snaps of the black artifact (a `.pyz` for
//! Python 3.12, whose base is core24, and a standalone executable), listed
//! with `unsquashfs -l`, then unpacked and run as snapd runs an app:
//! `$SNAP` the unpacked tree, `$SNAP_USER_COMMON` a fresh directory, the
//! app's `environment:` applied, its command run.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::common::{build, fresh_dir, pythons, pyzap, run_ok, shared_artifact, stderr, stdout};
use crate::standalone::standalone_black;

/// squashfs-tools, which `pyzap snap` and these tests run; a skip without
/// it (a failure in CI, which installs it).
fn has_squashfs_tools() -> bool {
    let found = Command::new("unsquashfs").arg("-version").output().is_ok();
    if !found {
        pyzap_test_support::skip("squashfs-tools is not installed; the snap tests did not run");
    }
    found
}

/// Runs `pyzap snap ARTIFACT -o DIR ARGS`; the snap's path and pyzap's stderr.
fn snap(artifact: &Path, args: &[&str]) -> (std::path::PathBuf, String) {
    let dir = fresh_dir("snap-out-");
    let out = run_ok(
        pyzap()
            .arg("snap")
            .arg(artifact)
            .arg("-o")
            .arg(&dir)
            .args(args),
    );
    let written: Vec<_> = fs_err::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    (written[0].clone(), stderr(&out))
}

/// `meta/snap.yaml` of `image`, after checking `unsquashfs -l` lists it.
fn snap_yaml(image: &Path) -> String {
    let listing = stdout(&run_ok(Command::new("unsquashfs").arg("-l").arg(image)));
    assert!(
        listing.lines().any(|l| l == "squashfs-root/meta/snap.yaml"),
        "{listing}"
    );
    stdout(&run_ok(
        Command::new("unsquashfs")
            .arg("-cat")
            .arg(image)
            .arg("meta/snap.yaml"),
    ))
}

/// The app `app` of `yaml`: its command and its environment over the
/// snap's, read from the lines `render` writes (two-space indents).
fn app_of(yaml: &str, app: &str) -> (String, BTreeMap<String, String>) {
    let mut env = BTreeMap::new();
    let mut command = None;
    let mut section = "";
    let mut current_app = "";
    for line in yaml.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let indent = line.len() - line.trim_start().len();
        let text = line.trim();
        match indent {
            0 => section = text.trim_end_matches(':'),
            2 if section == "apps" => current_app = text.trim_end_matches(':'),
            _ => {}
        }
        let Some((key, value)) = text.split_once(": ") else {
            continue;
        };
        let value = value.trim_matches('"').to_string();
        let in_snap_env = section == "environment" && indent == 2;
        let in_app = section == "apps" && current_app == app;
        if in_snap_env || (in_app && indent == 6) {
            env.insert(key.to_string(), value);
        } else if in_app && key == "command" {
            command = Some(value);
        }
    }
    (command.expect("the app's command"), env)
}

/// Unpacks `image` and runs the app's command in it as snapd would, with
/// `args`; `interpreter` stands in for the base's (`/usr/bin/python3.12`),
/// which this machine does not have at that path.
fn run_app(image: &Path, app: &str, interpreter: Option<&Path>, args: &[&str]) -> String {
    let snap_dir = fresh_dir("snap-unpacked-").join("snap");
    run_ok(
        Command::new("unsquashfs")
            .arg("-d")
            .arg(&snap_dir)
            .arg(image),
    );
    let user_common = fresh_dir("snap-user-common-");
    let yaml = fs_err::read_to_string(snap_dir.join("meta/snap.yaml")).unwrap();
    let (command, env) = app_of(&yaml, app);
    let expand = |v: &str| {
        v.replace("$SNAP_USER_COMMON", user_common.to_str().unwrap())
            .replace("$SNAP", snap_dir.to_str().unwrap())
    };
    let program = snap_dir.join(&command);
    let mut cmd = match interpreter {
        // The wrapper's one line, with the base's interpreter replaced.
        Some(python) => {
            let wrapper = fs_err::read_to_string(&program).unwrap();
            let exec = wrapper.lines().last().unwrap();
            let (base_python, rest) = exec.strip_prefix("exec ").unwrap().split_once(' ').unwrap();
            assert_eq!(base_python, "/usr/bin/python3.12", "{wrapper}");
            assert_eq!(rest, "\"$SNAP/app/black\" \"$@\"", "{wrapper}");
            let mut cmd = Command::new(python);
            cmd.arg(snap_dir.join("app/black"));
            cmd
        }
        None => Command::new(&program),
    };
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &user_common)
        .env("SNAP", &snap_dir)
        .env("SNAP_USER_COMMON", &user_common);
    for (key, value) in &env {
        cmd.env(key, expand(value));
    }
    let out = run_ok(&mut cmd);
    // The runtime cache went where the snap says, not elsewhere.
    assert!(
        user_common.join("pyzap").is_dir(),
        "no cache in {user_common:?}"
    );
    stdout(&out)
}

#[test]
fn pyz_for_python_312_becomes_a_core24_snap_that_runs_black() {
    if !has_squashfs_tools() {
        return;
    }
    let py312 = pythons().iter().find(|i| i.version == (3, 12)).unwrap();
    let artifact = shared_artifact("black-py312", |out| {
        build(&py312.path, out, &["black", "-c", "black"]);
    });
    let (image, log) = snap(&artifact, &[]);
    assert_eq!(
        image.file_name().unwrap().to_str().unwrap(),
        format!("black_26.10.1_{}.snap", snap_arch())
    );
    assert!(log.contains("left out the app `blackd`"), "{log}");
    let yaml = snap_yaml(&image);
    for line in [
        "name: black\n",
        "version: \"26.10.1\"\n",
        "base: core24\n",
        "confinement: strict\n",
        &format!("architectures:\n  - {}\n", snap_arch()),
        "    command: bin/pyzap-run\n",
        "      PYZAP_ENTRY_POINT: \"black:patched_main\"\n",
        "  PYZAP_ROOT: \"$SNAP_USER_COMMON/pyzap\"\n",
    ] {
        assert!(yaml.contains(line), "{line:?} not in\n{yaml}");
    }
    let version = run_app(&image, "black", Some(&py312.path), &["--version"]);
    assert!(version.starts_with("black, 26.10.1"), "{version}");
}

#[test]
fn pyz_for_python_311_is_refused_with_a_hint() {
    if !has_squashfs_tools() {
        return;
    }
    let artifact = shared_artifact("black-py311-for-snap", |out| {
        build(&crate::common::py311().path, out, &["black", "-c", "black"]);
    });
    let out = pyzap()
        .arg("snap")
        .arg(&artifact)
        .arg("-o")
        .arg(fresh_dir("snap-refused-"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("is for Python 3.11, which no snap base has"),
        "{err}"
    );
    assert!(
        err.contains("hint: build the artifact with --python 3.10"),
        "{err}"
    );
}

#[test]
fn standalone_becomes_a_core22_snap_that_runs_black() {
    if !has_squashfs_tools() {
        return;
    }
    let (image, _) = snap(
        &standalone_black(),
        &["--app", "black", "--name", "black-fmt"],
    );
    let yaml = snap_yaml(&image);
    for line in [
        "name: black-fmt\n",
        "version: \"26.10.1\"\n",
        "base: core22\n",
        &format!("architectures:\n  - {}\n", snap_arch()),
        "    command: app/black\n",
    ] {
        assert!(yaml.contains(line), "{line:?} not in\n{yaml}");
    }
    assert!(!yaml.contains("blackd"), "{yaml}");
    let version = run_app(&image, "black", None, &["--version"]);
    assert!(version.starts_with("black, 26.10.1"), "{version}");
}

/// This machine's snap architecture.
fn snap_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => panic!("no snap architecture for {other} in this test"),
    }
}
