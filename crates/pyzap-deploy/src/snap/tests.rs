//! The rules on facts built in code, `meta/snap.yaml` pinned as snapshots
//! (`snapshots/`), and the image `mksquashfs` makes, read back with
//! `unsquashfs`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::facts::{project_for_tests, ArtifactFacts, Runner, ZipappTarget};
use super::plan::SnapPlan;
use super::*;

fn options() -> SnapOptions {
    SnapOptions {
        artifact: PathBuf::from("black.pyz"),
        name: None,
        dist: None,
        apps: Vec::new(),
        classic: false,
        plugs: vec!["home".to_string()],
    }
}

fn zipapp(python: &str, machine: Option<&str>) -> ArtifactFacts {
    ArtifactFacts {
        file_name: "black.pyz".to_string(),
        runner: Runner::Zipapp {
            targets: vec![ZipappTarget {
                python: python.to_string(),
                machine: machine.map(str::to_string),
                libc: machine.map(|_| "glibc 2.17".to_string()),
            }],
        },
        entry_script: Some("black".to_string()),
        project: project_for_tests(
            "black",
            &[
                ("black", "black:patched_main"),
                ("blackd", "blackd:patched_main"),
            ],
        ),
    }
}

fn standalone() -> ArtifactFacts {
    ArtifactFacts {
        file_name: "black".to_string(),
        runner: Runner::Standalone {
            arch: "aarch64".to_string(),
            glibc: Some("2.17".to_string()),
        },
        ..zipapp("3.11", None)
    }
}

fn plan(facts: &ArtifactFacts, options: &SnapOptions) -> SnapPlan {
    SnapPlan::plan(facts, options).unwrap()
}

#[test]
fn native_pyz_for_python_312() {
    let plan = plan(&zipapp("3.12", Some("x86_64")), &options());
    assert_eq!(plan.file_name(), "black_26.10.1_amd64.snap");
    insta::assert_snapshot!(format!(
        "{}==> bin/pyzap-run <==\n{}",
        plan.render_yaml(),
        plan.render_wrapper().unwrap()
    ));
}

#[test]
fn pure_pyz_for_python_310_with_one_app_and_two_plugs() {
    let options = SnapOptions {
        apps: vec!["blackd".to_string()],
        plugs: vec!["home".to_string(), "network".to_string()],
        ..options()
    };
    insta::assert_snapshot!(plan(&zipapp("3.10", None), &options).render_yaml());
}

#[test]
fn classic_standalone() {
    let options = SnapOptions {
        classic: true,
        name: Some("fmt".to_string()),
        ..options()
    };
    let plan = plan(&standalone(), &options);
    assert_eq!(plan.render_wrapper(), None);
    assert_eq!(plan.file_name(), "fmt_26.10.1_arm64.snap");
    insta::assert_snapshot!(plan.render_yaml());
}

#[test]
fn a_pyz_for_another_python_or_classic_is_refused_with_a_hint() {
    let err = SnapPlan::plan(&zipapp("3.11", None), &options()).unwrap_err();
    assert!(err.to_string().contains("Python 3.11"), "{err}");
    assert!(err.hints()[0].contains("--standalone"), "{:?}", err.hints());
    let classic = SnapOptions {
        classic: true,
        ..options()
    };
    let err = SnapPlan::plan(&zipapp("3.12", None), &classic).unwrap_err();
    assert!(matches!(err, DeployError::ClassicZipapp(_)), "{err}");
}

#[test]
fn names_are_sanitized_and_said_so_or_refused_when_given() {
    let mut facts = zipapp("3.12", None);
    facts.project.name = "My_Tool".to_string();
    let plan = plan(&facts, &options());
    assert_eq!(plan.name, "my-tool");
    assert!(plan.notes[0].contains("`my-tool`"), "{:?}", plan.notes);
    let named = SnapOptions {
        name: Some("My_Tool".to_string()),
        ..options()
    };
    let err = SnapPlan::plan(&facts, &named).unwrap_err();
    assert!(matches!(err, DeployError::SnapName(_)), "{err}");
}

#[test]
fn a_script_whose_extra_is_not_bundled_is_left_out_unless_asked_for() {
    let mut facts = zipapp("3.12", None);
    facts.project.scripts[1].missing = vec![("d".to_string(), vec!["aiohttp".to_string()])];
    let default = plan(&facts, &options());
    assert_eq!(default.apps.len(), 1);
    assert_eq!(
        default.notes,
        ["left out the app `blackd`: it needs the extra `d` of black (aiohttp), which the artifact does not bundle (build with `black[d]` to include it)"]
    );
    let asked = SnapOptions {
        apps: vec!["blackd".to_string()],
        ..options()
    };
    let asked = plan(&facts, &asked);
    assert_eq!(asked.apps[0].name, "blackd");
    assert!(asked.notes[0].ends_with("the app will fail to start"));
    let unknown = SnapOptions {
        apps: vec!["nope".to_string()],
        ..options()
    };
    let err = SnapPlan::plan(&facts, &unknown).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`nope` is not a console script of black (it has: black, blackd)"
    );
}

#[test]
fn a_project_without_console_scripts_gets_one_app_of_the_entry_point() {
    let mut facts = zipapp("3.12", None);
    facts.project.scripts.clear();
    let plan = plan(&facts, &options());
    assert_eq!(plan.apps.len(), 1);
    assert_eq!(plan.apps[0].entry, None);
    assert!(!plan.render_yaml().contains("PYZAP_ENTRY_POINT"));
}

#[test]
fn hostile_metadata_stays_inside_its_scalars() {
    let mut facts = zipapp("3.12", None);
    facts.project.summary = Some("x\"\nconfinement: devmode".to_string());
    facts.project.description = Some("line\nconfinement: devmode\n\u{1b}[31m".to_string());
    let yaml = plan(&facts, &options()).render_yaml();
    assert_eq!(yaml.matches("\nconfinement:").count(), 1, "{yaml}");
    assert!(
        yaml.contains("summary: \"x\\\" confinement: devmode\""),
        "{yaml}"
    );
    assert!(!yaml.contains('\u{1b}'));
    let plugs = SnapOptions {
        plugs: vec!["home\nconfinement: devmode".to_string()],
        ..options()
    };
    assert!(SnapPlan::plan(&facts, &plugs).is_err());
}

/// The image holds the files with the modes the plan gives, owned by root,
/// and the same snap gives the same bytes.
#[test]
fn write_snap_squashes_a_reproducible_image() {
    if !has_squashfs_tools() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let artifact = tmp.path().join("black.pyz");
    fs_err::write(&artifact, "#!/usr/bin/env python3.12\n").unwrap();
    let snap = Snap::of(&plan(&zipapp("3.12", None), &options()), &artifact);
    let first = tmp.path().join("out/a.snap");
    let second = tmp.path().join("out/b.snap");
    write_snap(&snap, &first).unwrap();
    write_snap(&snap, &second).unwrap();
    assert_eq!(
        fs_err::read(&first).unwrap(),
        fs_err::read(&second).unwrap()
    );
    let listing = unsquashfs_ll(&first);
    for (mode, name) in [
        ("-rw-r--r-- root/root", "squashfs-root/meta/snap.yaml"),
        ("-rwxr-xr-x root/root", "squashfs-root/app/black"),
        ("-rwxr-xr-x root/root", "squashfs-root/bin/pyzap-run"),
        ("drwxr-xr-x root/root", "squashfs-root/meta"),
    ] {
        assert!(
            listing
                .lines()
                .any(|l| l.starts_with(mode) && l.ends_with(name)),
            "{mode} {name} in\n{listing}"
        );
    }
    // Nothing but the output is left beside it.
    let left: Vec<_> = fs_err::read_dir(tmp.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

fn has_squashfs_tools() -> bool {
    let found = Command::new("mksquashfs").arg("-version").output().is_ok();
    if !found {
        pyzap_test_support::skip("mksquashfs is not installed (squashfs-tools)");
    }
    found
}

fn unsquashfs_ll(image: &Path) -> String {
    let out = Command::new("unsquashfs")
        .arg("-ll")
        .arg(image)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}
