//! `info`, `extract` and repacking, reproducibility, literal shebangs, the
//! stdlib zipapp workflow (`--src`), and builds from source: sdists with
//! their backends, `--no-binary`, a local setuptools project, all offline.

use std::process::Command;

use crate::common::*;

fn echo() -> std::path::PathBuf {
    shared_artifact("echo", |out| {
        let project =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/echo-wsgi");
        build(&py311().path, out, &[project.to_str().unwrap()]);
    })
}

#[test]
fn info_lists_every_distribution_with_its_hash() {
    let out = run_ok(pyzap().arg("info").arg(echo()));
    let text = stdout(&out);
    assert!(
        text.contains("entry point:  echo_wsgi:main (console script `echo-wsgi`)"),
        "{text}"
    );
    let waitress = wheelhouse().join("waitress-3.0.2-py3-none-any.whl");
    let digest = pyzap_test_support::sha256_file(&waitress);
    assert!(text.contains(&format!("sha256:{digest}")), "{text}");
    assert!(
        text.contains("echo-wsgi") && text.contains("1.0.0"),
        "{text}"
    );
    let json = run_ok(pyzap().arg("info").arg("--json").arg(echo()));
    let manifest: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(manifest["target"]["python"], "3.11");
}

/// `pyzap extract ARTIFACT DIR/tree`, then `python -m zipapp DIR/tree -o
/// DIR/re.pyz`; returns (tree, repacked artifact).
fn extract_and_repack(
    artifact: &std::path::Path,
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let tree = dir.join("tree");
    run_ok(pyzap().arg("extract").arg(artifact).arg(&tree));
    let repacked = dir.join("re.pyz");
    run_ok(
        Command::new(&py311().path)
            .args(["-m", "zipapp"])
            .arg(&tree)
            .arg("-o")
            .arg(&repacked),
    );
    (tree, repacked)
}

#[test]
fn extract_then_repack_with_zipapp() {
    let dir = fresh_dir("extract-");
    let (tree, repacked) = extract_and_repack(&echo(), &dir);
    assert!(tree.join("__main__.py").is_file());
    assert!(tree.join("__pyzap__/manifest.json").is_file());
    let out = run_ok(run_artifact(&py311().path, &repacked, &dir.join("root")).arg("--version"));
    assert_eq!(stdout(&out).trim(), "echo-wsgi 1.0.0");
}

#[test]
fn same_inputs_give_byte_identical_artifacts() {
    let dir = fresh_dir("repro-");
    let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/echo-wsgi");
    let mut outputs = Vec::new();
    for (i, cache) in ["cold", "warm", "warm"].iter().enumerate() {
        let out = dir.join(format!("echo{i}.pyz"));
        run_ok(
            pyzap()
                .env("PYZAP_CACHE_DIR", dir.join(cache))
                .args([
                    "build",
                    project.to_str().unwrap(),
                    "black",
                    "-c",
                    "echo-wsgi",
                    "--no-index",
                    "-f",
                ])
                .arg(wheelhouse())
                .arg("--python")
                .arg(&py311().path)
                .arg("-o")
                .arg(&out),
        );
        outputs.push(fs_err::read(&out).unwrap());
    }
    assert!(
        outputs[0] == outputs[1] && outputs[1] == outputs[2],
        "builds differ"
    );
}

#[test]
fn shebang_is_taken_literally() {
    let dir = fresh_dir("shebang-");
    let out = dir.join("six.pyz");
    build(
        &py311().path,
        &out,
        &["six", "-e", "six", "-p", "/usr/bin/python3"],
    );
    let data = fs_err::read(&out).unwrap();
    assert!(data.starts_with(b"#!/usr/bin/python3\n"));
}

/// Without `-p`, the shebang names the target's version, so an artifact
/// for 3.11 is not started by whatever `python3` comes first on PATH;
/// targets of several versions get `python3` (each picks its own part).
#[test]
fn default_shebang_names_the_target_version() {
    let dir = fresh_dir("shebang-default-");
    let cases: [(&[&str], &str); 3] = [
        (&[], "#!/usr/bin/env python3.11\n"),
        (
            &[
                "--python-version",
                "3.9",
                "--platform",
                "manylinux_2_28_x86_64",
            ],
            "#!/usr/bin/env python3.9\n",
        ),
        (
            &[
                "--python-version",
                "3.9",
                "--python-version",
                "3.12",
                "--platform",
                "manylinux_2_28_x86_64",
            ],
            "#!/usr/bin/env python3\n",
        ),
    ];
    for (i, (target, shebang)) in cases.iter().enumerate() {
        let out = dir.join(format!("six{i}.pyz"));
        let mut args = vec!["six", "-e", "six"];
        args.extend_from_slice(target);
        build(&py311().path, &out, &args);
        let data = fs_err::read(&out).unwrap();
        assert!(
            data.starts_with(shebang.as_bytes()),
            "{target:?}: {:?}",
            String::from_utf8_lossy(&data[..40])
        );
    }
    // The artifact runs through its shebang where that Python exists.
    let run = run_ok(
        Command::new(dir.join("six0.pyz"))
            .env("PYZAP_INTERPRETER", "1")
            .args([
                "-c",
                "import sys, six; print(sys.version_info[:2], six.__version__)",
            ]),
    );
    assert_eq!(stdout(&run).trim(), "(3, 11) 1.17.0");
}

#[test]
fn src_directory_like_stdlib_zipapp() {
    let dir = fresh_dir("src-");
    let src = dir.join("app");
    fs_err::create_dir_all(src.join("helpers")).unwrap();
    fs_err::write(
        src.join("helpers/__init__.py"),
        "GREETING = 'hello from src'\n",
    )
    .unwrap();
    fs_err::write(
        src.join("__main__.py"),
        "import sys, helpers\nprint(helpers.GREETING, sys.argv[1:])\n",
    )
    .unwrap();
    let out = dir.join("app.pyz");
    run_ok(
        pyzap()
            .args(["build", "--src"])
            .arg(&src)
            .arg("--python")
            .arg(&py311().path)
            .arg("-o")
            .arg(&out),
    );
    let run = run_ok(run_artifact(&py311().path, &out, &dir.join("root")).args(["a", "b"]));
    assert_eq!(stdout(&run).trim(), "hello from src ['a', 'b']");
}

#[test]
fn sdists_are_built_with_their_backends() {
    let dir = fresh_dir("sdists-");
    let links = dir.join("links");
    fs_err::create_dir_all(&links).unwrap();
    for f in [
        "six-1.17.0.tar.gz",
        "tomli-2.5.0.tar.gz",
        "setuptools-84.2.1-py3-none-any.whl",
        "flit_core-4.2.0-py3-none-any.whl",
        "wheel-0.48.0-py3-none-any.whl",
    ] {
        fs_err::copy(wheelhouse().join(f), links.join(f)).unwrap();
    }
    let out = dir.join("sd.pyz");
    run_ok(
        pyzap()
            .args(["build", "six", "tomli", "-e", "tomli", "--no-index", "-f"])
            .arg(&links)
            .arg("--python")
            .arg(&py311().path)
            .arg("-o")
            .arg(&out),
    );
    let mut cmd = run_artifact(&py311().path, &out, &dir.join("root"));
    cmd.env("PYZAP_INTERPRETER", "1").args([
        "-c",
        "import six, tomli; print(six.__version__, tomli.loads('a = 1'))",
    ]);
    assert_eq!(stdout(&run_ok(&mut cmd)).trim(), "1.17.0 {'a': 1}");
}

#[test]
fn no_binary_builds_a_project_from_its_sdist() {
    let dir = fresh_dir("no-binary-");
    let out = dir.join("six.pyz");
    // A cache of its own: with the shared one, another test may have
    // built six's sdist already, and its wheel would be reused.
    let built = run_ok(
        pyzap()
            .env("PYZAP_CACHE_DIR", dir.join("cache"))
            .args(["build", "six", "-e", "six", "-v", "--only-binary", ":all:"])
            .args(["--no-binary", "six", "--no-index", "-f"])
            .arg(wheelhouse())
            .arg("--python")
            .arg(&py311().path)
            .arg("-o")
            .arg(&out),
    );
    // The wheelhouse holds six's wheel too: --no-binary six (given after
    // `:all:`, as pip needs) builds the sdist instead.
    let log = stderr(&built);
    assert!(
        log.contains("building six-1.17.0.tar.gz from source"),
        "{log}"
    );
    let info = run_ok(pyzap().args(["info", "--json"]).arg(&out));
    let manifest: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    let ready =
        pyzap_test_support::sha256_file(&wheelhouse().join("six-1.17.0-py2.py3-none-any.whl"));
    assert_eq!(manifest["distributions"][0]["name"], "six");
    assert_ne!(manifest["distributions"][0]["sha256"], ready.as_str());
    let mut cmd = run_artifact(&py311().path, &out, &dir.join("root"));
    cmd.env("PYZAP_INTERPRETER", "1")
        .args(["-c", "import six; print(six.__version__)"]);
    assert_eq!(stdout(&run_ok(&mut cmd)).trim(), "1.17.0");
}

#[test]
fn local_setuptools_project_is_built_offline() {
    let dir = fresh_dir("setuptools-project-");
    let project = dir.join("greet-app");
    fs_err::create_dir_all(project.join("greet")).unwrap();
    fs_err::write(
        project.join("pyproject.toml"),
        "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n\
         [project]\nname = \"greet-app\"\nversion = \"0.3.0\"\ndependencies = [\"six\"]\n\n\
         [project.scripts]\ngreet = \"greet.cli:main\"\n",
    )
    .unwrap();
    fs_err::write(project.join("greet/__init__.py"), "GREETING = 'hello'\n").unwrap();
    fs_err::write(
        project.join("greet/cli.py"),
        "import sys\nimport six\nfrom greet import GREETING\n\n\
         def main():\n    print(GREETING, *sys.argv[1:], 'six', six.__version__)\n    return 3\n",
    )
    .unwrap();
    let out = dir.join("greet.pyz");
    // `build` passes -f ../shared/wheelhouse --no-index: no request leaves the machine.
    build(
        &py311().path,
        &out,
        &[project.to_str().unwrap(), "-c", "greet"],
    );
    let run = run_artifact(&py311().path, &out, &dir.join("root"))
        .arg("world")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    assert_eq!(stdout(&run).trim(), "hello world six 1.17.0");
    let info = stdout(&run_ok(pyzap().arg("info").arg(&out)));
    assert!(
        info.contains("greet-app") && info.contains("0.3.0"),
        "{info}"
    );
}

/// `git+URL@REF#subdirectory=…` is cloned with git and built like a project
/// (a local repository: no network).
#[test]
fn git_inputs_are_cloned_and_built() {
    let dir = fresh_dir("git-");
    let repo = dir.join("repo");
    let project = repo.join("apps/echo");
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/echo-wsgi");
    fs_err::create_dir_all(project.join("src/echo_wsgi")).unwrap();
    fs_err::copy(
        example.join("pyproject.toml"),
        project.join("pyproject.toml"),
    )
    .unwrap();
    fs_err::copy(
        example.join("src/echo_wsgi/__init__.py"),
        project.join("src/echo_wsgi/__init__.py"),
    )
    .unwrap();
    let git = |args: &[&str]| git_in(&repo, args);
    run_ok(Command::new("git").args(["init", "-q"]).arg(&repo));
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "echo"]);
    git(&["tag", "v1"]);
    let spec = format!("git+file://{}@v1#subdirectory=apps/echo", repo.display());
    let out = dir.join("echo.pyz");
    build(&py311().path, &out, &[&spec]);
    let run = run_ok(run_artifact(&py311().path, &out, &dir.join("root")).arg("--version"));
    assert_eq!(stdout(&run).trim(), "echo-wsgi 1.0.0");
}

#[test]
fn extracted_site_is_one_nested_archive() {
    // black needs extraction: its site is one stored entry of the outer zip
    // (zipimport reads the outer directory at every start), `info` counts
    // the nested entries, `extract` unpacks them as a tree, and the tree
    // repacked with zipapp runs.
    let artifact = shared_artifact("black311", |out| {
        build(&py311().path, out, &["black", "-c", "black"]);
    });
    let file = fs_err::File::open(&artifact).unwrap();
    let zip = zip::ZipArchive::new(file).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    assert!(
        names.iter().any(|n| n == "__pyzap__/extract.zip"),
        "{names:?}"
    );
    assert!(
        names.len() < 20 && !names.iter().any(|n| n.starts_with("__pyzap__/extract/")),
        "{names:?}"
    );
    let info = stdout(&run_ok(pyzap().arg("info").arg(&artifact)));
    let entries: usize = info
        .split(" entries)")
        .next()
        .and_then(|s| s.rsplit(", ").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no entry count in {info}"));
    assert!(entries > 300, "{info}");

    let dir = fresh_dir("extract-native-");
    let (tree, repacked) = extract_and_repack(&artifact, &dir);
    assert!(tree.join("__pyzap__/extract/black/__init__.py").is_file());
    assert!(!tree.join("__pyzap__/extract.zip").exists());
    let out = run_ok(run_artifact(&py311().path, &repacked, &dir.join("root")).arg("--version"));
    assert!(stdout(&out).contains("(compiled: yes)"), "{}", stdout(&out));
}

/// The debugging flow (runtime issue, item 7): `pyzap extract`, edit a
/// dependency's source, repack with `python3 -m zipapp`, run. The edit is
/// seen on the first run with nothing to clear, and the original artifact
/// keeps running its own code, before and after, on the same cache —
/// for a pure bundle (echo's waitress) and a native one (black's click).
#[test]
fn debugging_flow_sees_the_edit_and_leaves_the_original_alone() {
    let black = shared_artifact("black311", |out| {
        build(&py311().path, out, &["black", "-c", "black"]);
    });
    for (artifact, edited, module) in [
        (echo(), "__pyzap__/extract/waitress/__init__.py", "waitress"),
        (black, "__pyzap__/extract/click/__init__.py", "click"),
    ] {
        let dir = fresh_dir("debug-flow-");
        let root = dir.join("root");
        let probe = |art: &std::path::Path| {
            let out = run_ok(
                run_artifact(&py311().path, art, &root)
                    .env("PYZAP_INTERPRETER", "1")
                    .args([
                        "-c",
                        &format!(
                            "import {module}; print(getattr({module}, 'PATCHED', 'original'))"
                        ),
                    ]),
            );
            stdout(&out).trim().to_string()
        };
        assert_eq!(probe(&artifact), "original");
        let tree = dir.join("tree");
        run_ok(pyzap().arg("extract").arg(&artifact).arg(&tree));
        let source = tree.join(edited);
        let mut text = fs_err::read_to_string(&source).unwrap();
        text.push_str("\nPATCHED = 'patched'\n");
        fs_err::write(&source, text).unwrap();
        let repacked = dir.join("dbg.pyz");
        run_ok(
            Command::new(&py311().path)
                .args(["-m", "zipapp"])
                .arg(&tree)
                .args(["-p", "/usr/bin/env python3", "-o"])
                .arg(&repacked),
        );
        assert_eq!(
            probe(&repacked),
            "patched",
            "{module}: the edit is not seen"
        );
        assert_eq!(
            probe(&artifact),
            "original",
            "{module}: the original changed"
        );
        let _ = fs_err::remove_dir_all(&root);
        assert_eq!(probe(&repacked), "patched");
        assert_eq!(
            probe(&artifact),
            "original",
            "{module}: the original runs the patch"
        );
    }
}

/// Two builds from two empty caches are byte-identical under every CPython:
/// frozenset constants used to be marshalled in the order of a random
/// string hash seed, so flask's bytecode differed at every cold build.
#[test]
fn cold_builds_are_byte_identical_under_every_python() {
    let dir = fresh_dir("cold-repro-");
    for python in pythons() {
        let (major, minor) = python.version;
        let build_into = |cache: &str| {
            let out = dir.join(format!("flask-{major}{minor}-{cache}.pyz"));
            run_ok(
                pyzap()
                    .env(
                        "PYZAP_CACHE_DIR",
                        dir.join(format!("{major}{minor}-{cache}")),
                    )
                    .args(["build", "flask", "-c", "flask", "--no-index", "-f"])
                    .arg(wheelhouse())
                    .arg("--python")
                    .arg(&python.path)
                    .arg("-o")
                    .arg(&out),
            );
            fs_err::read(out).unwrap()
        };
        assert!(
            build_into("a") == build_into("b"),
            "python{major}.{minor}: two cold builds differ"
        );
    }
}
