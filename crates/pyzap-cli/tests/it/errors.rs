//! Bad input gets one clear error and a non-zero exit, never a panic.

use pyzap_test_support::WheelBuilder;

use crate::common::*;

fn in_dir(args: &[&str]) -> String {
    let mut all = vec![
        "-f",
        wheelhouse().to_str().unwrap().to_string().leak() as &str,
        "--no-index",
    ];
    all.extend_from_slice(args);
    build_err(&py311().path, &all)
}

#[test]
fn unknown_requirement() {
    let err = in_dir(&["nosuchpackage-xyz"]);
    assert!(
        err.contains("no distribution named `nosuchpackage-xyz`"),
        "{err}"
    );
}

#[test]
fn no_compatible_wheel_lists_tags_and_files() {
    let Some(py38) = pythons().iter().find(|p| p.version == (3, 8)) else {
        pyzap_test_support::skip("no python3.8: cannot test a wheel that does not fit the target");
        return;
    };
    let err = build_err(
        &py38.path,
        &[
            "-f",
            wheelhouse().to_str().unwrap(),
            "--no-index",
            "markupsafe==3.0.4",
            "-e",
            "markupsafe",
        ],
    );
    assert!(err.contains("tags tried"), "{err}");
    assert!(err.contains("cp38-cp38-manylinux"), "{err}");
    assert!(err.contains("markupsafe-3.0.4-cp310-cp310"), "{err}");
}

#[test]
fn version_conflict_explains_the_chain() {
    let err = in_dir(&["flask==3.1.3", "werkzeug==3.0.6", "-c", "flask"]);
    assert!(
        err.contains("flask 3.1.3 depends on werkzeug >=3.1.0"),
        "{err}"
    );
    assert!(err.contains("you require werkzeug 3.0.6"), "{err}");
}

#[test]
fn unknown_console_script_lists_choices() {
    let err = in_dir(&["click", "black", "-c", "blak"]);
    assert!(err.contains("no console script named `blak`"), "{err}");
    assert!(err.contains("black (black)"), "{err}");
}

#[test]
fn ambiguous_console_script_lists_choices() {
    let err = in_dir(&["black"]);
    assert!(
        err.contains("several console scripts") && err.contains("blackd"),
        "{err}"
    );
}

#[test]
fn unknown_entry_point_module() {
    let err = in_dir(&["click", "-e", "no_such_mod:main"]);
    assert!(
        err.contains("entry point module `no_such_mod` is not in the bundle"),
        "{err}"
    );
}

fn hostile(builder: WheelBuilder) -> String {
    let dir = fresh_dir("hostile-");
    let name = builder.filename();
    let req = name.split('-').next().unwrap().to_string();
    builder.build(&dir);
    build_err(
        &py311().path,
        &["-f", dir.to_str().unwrap(), "--no-index", &req, "-e", "os"],
    )
}

#[test]
fn traversal_wheel() {
    let err = hostile(WheelBuilder::new("evil", "1.0").file("../../escape.py", "x = 1\n"));
    assert!(
        err.contains("entry outside the tree: ../../escape.py"),
        "{err}"
    );
}

#[test]
fn symlink_wheel() {
    let err = hostile(
        WheelBuilder::new("linky", "1.0")
            .file("linky/__init__.py", "")
            .symlink("linky/pw", "/etc/passwd"),
    );
    assert!(
        err.contains("symbolic link") && err.contains("linky/pw"),
        "{err}"
    );
}

#[test]
fn tampered_wheel_names_the_file() {
    let err = hostile(
        WheelBuilder::new("tampered", "1.0")
            .file("tampered/__init__.py", "x = 1\n")
            .tamper("tampered/__init__.py"),
    );
    assert!(
        err.contains("hash of tampered/__init__.py does not match"),
        "{err}"
    );
}

#[test]
fn truncated_wheel() {
    let dir = fresh_dir("trunc-");
    let src = wheelhouse().join("six-1.17.0-py2.py3-none-any.whl");
    let data = fs_err::read(&src).unwrap();
    fs_err::write(
        dir.join("six-1.17.0-py2.py3-none-any.whl"),
        &data[..data.len() / 2],
    )
    .unwrap();
    let err = build_err(
        &py311().path,
        &[
            "-f",
            dir.to_str().unwrap(),
            "--no-index",
            "six",
            "-e",
            "six",
        ],
    );
    assert!(
        err.contains("six-1.17.0-py2.py3-none-any.whl") && err.contains("not a valid wheel"),
        "{err}"
    );
}

#[test]
fn malformed_requirements_line_names_file_and_line() {
    let dir = fresh_dir("req-");
    let req = dir.join("requirements.txt");
    fs_err::write(&req, "# deps\nflask\nblack >= = 1\n").unwrap();
    let err = in_dir(&["-r", req.to_str().unwrap(), "-c", "flask"]);
    assert!(
        err.contains(&format!("{}:3: invalid requirement", req.display())),
        "{err}"
    );
}

#[test]
fn requirements_hash_mismatch() {
    let dir = fresh_dir("req-");
    let req = dir.join("requirements.txt");
    fs_err::write(
        &req,
        format!("six==1.17.0 --hash=sha256:{}\n", "0".repeat(64)),
    )
    .unwrap();
    let err = in_dir(&["-r", req.to_str().unwrap(), "-e", "six"]);
    assert!(
        err.contains("do not match the hashes from the requirements file")
            && err.contains("six==1.17.0 from"),
        "{err}"
    );
}

#[test]
fn overlong_shebang_is_refused() {
    let long = format!("/opt/{}/bin/python3", "x".repeat(130));
    let err = in_dir(&["six", "-e", "six", "-p", &long]);
    assert!(err.contains("over 127 bytes"), "{err}");
}

#[test]
fn zip64_artifact_refused_before_313() {
    let src = fresh_dir("many-");
    for i in 0..66_000 {
        let sub = src.join(format!("d{}", i / 1000));
        if i % 1000 == 0 {
            fs_err::create_dir_all(&sub).unwrap();
        }
        fs_err::write(sub.join(format!("f{i}.txt")), b"").unwrap();
    }
    fs_err::write(src.join("__main__.py"), "print('hi')\n").unwrap();
    let err = build_err(
        &py311().path,
        &["--src", src.to_str().unwrap(), "--no-compile"],
    );
    assert!(err.contains("needs ZIP64") && err.contains("3.11"), "{err}");
}

#[test]
fn directory_without_project_files() {
    let dir = fresh_dir("plain-");
    let err = in_dir(&[dir.to_str().unwrap()]);
    assert!(
        err.contains("has no pyproject.toml or setup.py") && err.contains("--src"),
        "{err}"
    );
}

#[test]
fn info_on_a_file_that_is_not_an_artifact() {
    let dir = fresh_dir("notart-");
    let junk = dir.join("junk.pyz");
    fs_err::write(&junk, b"#!/usr/bin/env python3\nthis is not a zip").unwrap();
    let out = pyzap().arg("info").arg(&junk).output().unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is not a pyzap artifact"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn info_on_a_truncated_artifact() {
    let artifact = shared_artifact("black311", |out| {
        build(&py311().path, out, &["black", "-c", "black"])
    });
    let data = fs_err::read(&artifact).unwrap();
    let cut = fresh_dir("cut-").join("cut.pyz");
    fs_err::write(&cut, &data[..data.len() / 3]).unwrap();
    let out = pyzap().arg("info").arg(&cut).output().unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is corrupt or truncated"),
        "{}",
        stderr(&out)
    );
}
