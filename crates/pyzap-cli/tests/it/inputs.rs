//! The inputs users write (issue 12), each built into an artifact that is
//! then run: PEP 508 direct references (a wheel and an sdist served on
//! 127.0.0.1, `file:` URLs, a git repository made here) on the command
//! line, in requirements files and in a project's `Requires-Dist`; extras
//! of a local project; PEP 723 scripts; bare names beside a directory of
//! that name; PEP 735 dependency groups. Nothing leaves the machine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pyzap_test_support::{sha256_file, Route, RouteServer, WheelBuilder};

use crate::common::*;

/// `pyzap build ARGS -f WHEELHOUSE --no-index --python 3.11 -o OUT`, run
/// in `cwd`; the output, whether it succeeded or not.
fn build_in(cwd: &Path, out: &Path, args: &[&str]) -> Output {
    pyzap()
        .current_dir(cwd)
        .arg("build")
        .args(args)
        .arg("-f")
        .arg(wheelhouse())
        .args(["--no-index", "--python"])
        .arg(&py311().path)
        .arg("-o")
        .arg(out)
        .output()
        .expect("spawn pyzap")
}

#[track_caller]
fn build_ok(cwd: &Path, out: &Path, args: &[&str]) -> Output {
    let built = build_in(cwd, out, args);
    assert!(
        built.status.success(),
        "pyzap build {args:?} failed:\n{}",
        stderr(&built)
    );
    built
}

#[track_caller]
fn build_fails(cwd: &Path, out: &Path, args: &[&str]) -> String {
    let built = build_in(cwd, out, args);
    assert!(!built.status.success(), "pyzap build {args:?} succeeded");
    assert!(!out.exists(), "a failed build left {}", out.display());
    stderr(&built)
}

/// Runs the artifact with `args`; its stdout.
#[track_caller]
fn run(artifact: &Path, args: &[&str]) -> String {
    let root = artifact.with_extension("root");
    stdout(&run_ok(
        run_artifact(&py311().path, artifact, &root).args(args),
    ))
}

/// A flit project `name` 1.0 in `dir/name`, whose module `name` holds `code`.
fn flit_project(dir: &Path, name: &str, table: &str, code: &str) -> PathBuf {
    let project = dir.join(name);
    fs_err::create_dir_all(&project).unwrap();
    fs_err::write(
        project.join("pyproject.toml"),
        format!(
            "[build-system]\nrequires = [\"flit_core>=3.4,<5\"]\nbuild-backend = \"flit_core.buildapi\"\n\n\
             [project]\nname = \"{name}\"\nversion = \"1.0\"\ndescription = \"test\"\n{table}"
        ),
    )
    .unwrap();
    fs_err::write(project.join(format!("{name}.py")), code).unwrap();
    project
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The wheelhouse's six wheel: a dependency the tests name by `file:` URL.
fn six_wheel() -> PathBuf {
    wheelhouse().join("six-1.17.0-py2.py3-none-any.whl")
}

#[test]
fn a_wheel_at_a_url_is_fetched_checked_by_its_sha256_and_locked() {
    let dir = fresh_dir("inputs-url-wheel-");
    let wheel = WheelBuilder::new("greeting", "1.0")
        .file(
            "greeting.py",
            "import six\n\ndef main():\n    print('hello from greeting, six', six.__version__)\n",
        )
        .requires("six")
        .build(&dir);
    let path = "/files/greeting-1.0-py3-none-any.whl";
    let server = RouteServer::start(BTreeMap::from([(
        path.to_string(),
        Route::file(fs_err::read(&wheel).unwrap()),
    )]));
    let url = server.url(path);
    let reference = format!("greeting @ {url}#sha256={}", sha256_file(&wheel));

    let out = dir.join("greeting.pyz");
    build_ok(&dir, &out, &[&reference, "-e", "greeting:main"]);
    assert_eq!(run(&out, &[]).trim(), "hello from greeting, six 1.17.0");
    assert!(server.requests().iter().any(|r| r.path == path));

    // The fragment is a promise the download must keep.
    let wrong = format!("greeting @ {url}#sha256={}", "0".repeat(64));
    let err = build_fails(
        &dir,
        &dir.join("wrong.pyz"),
        &[&wrong, "-e", "greeting:main"],
    );
    assert!(
        err.contains("hash mismatch") && err.contains("#sha256= fragment"),
        "{err}"
    );
    // The name given must be the distribution's.
    let misnamed = format!("salutation @ {url}");
    let err = build_fails(&dir, &dir.join("misnamed.pyz"), &[&misnamed]);
    assert!(
        err.contains(&format!(
            "`salutation @ {url}` names salutation, but the distribution there is greeting"
        )),
        "{err}"
    );

    // A lock names the URL and the file's sha256; a build from it runs alike.
    let lock = dir.join("pylock.toml");
    run_ok(
        pyzap()
            .args(["lock", &reference, "-f"])
            .arg(wheelhouse())
            .args(["--no-index", "--python"])
            .arg(&py311().path)
            .arg("-o")
            .arg(&lock),
    );
    let text = fs_err::read_to_string(&lock).unwrap();
    assert!(
        text.contains(&format!("url = \"{url}\"")) && text.contains(&sha256_file(&wheel)),
        "{text}"
    );
    let locked = dir.join("locked.pyz");
    build_ok(
        &dir,
        &locked,
        &["--lock", lock.to_str().unwrap(), "-e", "greeting:main"],
    );
    assert_eq!(run(&locked, &[]).trim(), "hello from greeting, six 1.17.0");
}

#[test]
fn direct_references_in_a_requirements_file_build_an_sdist_at_a_url() {
    let dir = fresh_dir("inputs-url-sdist-");
    let sdist = wheelhouse().join("six-1.17.0.tar.gz");
    let server = RouteServer::start(BTreeMap::from([(
        "/six-1.17.0.tar.gz".to_string(),
        Route::file(fs_err::read(&sdist).unwrap()),
    )]));
    let tomli = wheelhouse().join("tomli-2.5.0-py3-none-any.whl");
    let requirements = dir.join("requirements.txt");
    fs_err::write(
        &requirements,
        format!(
            "six @ {}  # built from the sdist\ntomli @ {}\n",
            server.url("/six-1.17.0.tar.gz"),
            file_url(&tomli)
        ),
    )
    .unwrap();
    let src = dir.join("src");
    fs_err::create_dir(&src).unwrap();
    fs_err::write(
        src.join("__main__.py"),
        "import six, tomli\nprint(six.__version__, tomli.loads('a = 1')['a'])\n",
    )
    .unwrap();
    let out = dir.join("app.pyz");
    build_ok(
        &dir,
        &out,
        &["-r", "requirements.txt", "--src", src.to_str().unwrap()],
    );
    assert_eq!(run(&out, &[]).trim(), "1.17.0 1");
    // six is the wheel built from the sdist, though the wheelhouse has one.
    let info = run_ok(pyzap().args(["info", "--json"]).arg(&out));
    let manifest: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    let six = manifest["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "six")
        .unwrap();
    assert_ne!(six["sha256"], sha256_file(&six_wheel()).as_str());
}

/// pip's hash-checking mode: a direct reference's `--hash` is the digest
/// of the file named (the sdist), not of the wheel built from it.
#[test]
fn hash_checking_mode_checks_a_direct_sdist_not_its_wheel() {
    let dir = fresh_dir("inputs-hashes-");
    let sdist = wheelhouse().join("six-1.17.0.tar.gz");
    let requirements = |digest: &str| {
        let path = dir.join(format!("req-{}.txt", &digest[..8]));
        fs_err::write(
            &path,
            format!("six @ {} --hash=sha256:{digest}\n", file_url(&sdist)),
        )
        .unwrap();
        path.display().to_string()
    };
    let good = requirements(&sha256_file(&sdist));
    let out = dir.join("hashed.pyz");
    build_ok(&dir, &out, &["--require-hashes", "-r", &good, "-e", "six"]);
    let mut cmd = run_artifact(&py311().path, &out, &dir.join("root"));
    cmd.env("PYZAP_INTERPRETER", "1")
        .args(["-c", "import six; print(six.__version__)"]);
    assert_eq!(stdout(&run_ok(&mut cmd)).trim(), "1.17.0");

    let bad = requirements(&"0".repeat(64));
    let err = build_fails(&dir, &dir.join("bad.pyz"), &["-r", &bad, "-e", "six"]);
    assert!(
        err.contains("do not match the hashes")
            && err.contains(&format!("Got        {}", sha256_file(&sdist))),
        "{err}"
    );
}

#[test]
fn direct_references_in_the_requires_dist_of_a_local_project_are_followed() {
    let dir = fresh_dir("inputs-requires-dist-");
    // helper names tomli by URL in its own metadata: followed too.
    let tomli = wheelhouse().join("tomli-2.5.0-py3-none-any.whl");
    let helper = WheelBuilder::new("helper", "2.0")
        .file("helper.py", "VALUE = 'helped'\n")
        .requires(&format!("tomli @ {}", file_url(&tomli)))
        .build(&dir);
    flit_project(
        &dir,
        "app",
        &format!(
            "dependencies = [\n  \"helper @ {}\",\n  \"six @ {}\",\n  \
             \"absent @ file:///nowhere/absent-1.0-py3-none-any.whl ; python_version < '3'\",\n]\n",
            file_url(&helper),
            file_url(&six_wheel()),
        ),
        "\"\"\"app\"\"\"\nimport helper, six, tomli\n\ndef main():\n    \
         print(helper.VALUE, six.__version__, tomli.loads('x = 2')['x'])\n",
    );
    let out = dir.join("app.pyz");
    build_ok(&dir, &out, &["./app", "-e", "app:main"]);
    assert_eq!(run(&out, &[]).trim(), "helped 1.17.0 2");
}

#[test]
fn a_git_direct_reference_builds_the_ref_it_names() {
    let dir = fresh_dir("inputs-git-");
    let repo = flit_project(
        &dir,
        "gitapp",
        "",
        "\"\"\"gitapp\"\"\"\n\ndef main():\n    print('gitapp v1')\n",
    );
    let git = |args: &[&str]| git_in(&repo, args);
    run_ok(Command::new("git").args(["init", "-q"]).arg(&repo));
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "v1"]);
    git(&["tag", "v1"]);
    fs_err::write(
        repo.join("gitapp.py"),
        "\"\"\"gitapp\"\"\"\n\ndef main():\n    print('gitapp v2')\n",
    )
    .unwrap();
    git(&["commit", "-q", "-a", "-m", "v2"]);

    let reference = format!("gitapp @ git+{}@v1", file_url(&repo));
    let out = dir.join("gitapp.pyz");
    build_ok(&dir, &out, &[&reference, "-e", "gitapp:main"]);
    assert_eq!(run(&out, &[]).trim(), "gitapp v1");

    let misnamed = format!("otherapp @ git+{}@v1", file_url(&repo));
    let err = build_fails(&dir, &dir.join("other.pyz"), &[&misnamed]);
    assert!(
        err.contains("names otherapp, but the distribution there is gitapp"),
        "{err}"
    );
}

#[test]
fn extras_of_a_local_project() {
    let dir = fresh_dir("inputs-extras-");
    flit_project(
        &dir,
        "srv",
        "[project.optional-dependencies]\nserver = [\"waitress>=3\"]\n",
        "\"\"\"srv\"\"\"\nimport importlib.util\n\ndef main():\n    \
         print('waitress', importlib.util.find_spec('waitress') is not None)\n",
    );
    let out = dir.join("extra.pyz");
    build_ok(&dir, &out, &["./srv[server]", "-e", "srv:main"]);
    assert_eq!(run(&out, &[]).trim(), "waitress True");

    let out = dir.join("dot.pyz");
    build_ok(&dir.join("srv"), &out, &[".[server]", "-e", "srv:main"]);
    assert_eq!(run(&out, &[]).trim(), "waitress True");

    // An extra the project does not declare: said, and nothing added (as pip).
    let out = dir.join("unknown.pyz");
    let built = build_ok(&dir, &out, &["./srv[nope]", "-e", "srv:main"]);
    assert!(
        stderr(&built).contains("warning: srv 1.0 does not provide the extra `nope`"),
        "{}",
        stderr(&built)
    );
    assert_eq!(run(&out, &[]).trim(), "waitress False");
}

#[test]
fn a_pep723_script_is_resolved_and_run_as_main() {
    let dir = fresh_dir("inputs-script-");
    let script = |requires_python: &str| {
        format!(
            "#!/usr/bin/env python3\n# /// script\n# requires-python = \"{requires_python}\"\n\
             # dependencies = [\n#   \"six==1.17.0\",\n#   \"waitress; python_version < '3'\",\n# ]\n# ///\n\
             import importlib.util, sys\nimport six\n\
             print(__name__, sys.argv[1:], six.__version__, importlib.util.find_spec('waitress') is None)\n\
             sys.exit(4)\n"
        )
    };
    fs_err::write(dir.join("tool.py"), script(">=3.8")).unwrap();
    let out = dir.join("tool.pyz");
    let built = build_ok(&dir, &out, &["tool.py"]);
    assert!(
        stderr(&built).contains("using the script tool.py as the entry point"),
        "{}",
        stderr(&built)
    );
    let ran = run_artifact(&py311().path, &out, &dir.join("root"))
        .args(["a", "b"])
        .output()
        .unwrap();
    assert_eq!(ran.status.code(), Some(4), "{}", stderr(&ran));
    assert_eq!(stdout(&ran).trim(), "__main__ ['a', 'b'] 1.17.0 True");

    fs_err::write(dir.join("new.py"), script(">=3.99")).unwrap();
    let err = build_fails(&dir, &dir.join("new.pyz"), &["new.py"]);
    assert!(
        err.contains(
            "new.py needs Python >=3.99 (its `# /// script` block), but the target is Python 3.11."
        ),
        "{err}"
    );
}

#[test]
fn a_bare_name_is_a_package_even_beside_a_directory_of_that_name() {
    let dir = fresh_dir("inputs-bare-name-");
    // A project directory called six, which is not the six on the index.
    flit_project(
        &dir,
        "six",
        "",
        "\"\"\"not the real six\"\"\"\n__version__ = 'local'\n",
    );
    let out = dir.join("named.pyz");
    let built = build_ok(&dir, &out, &["six", "-e", "six"]);
    assert!(
        stderr(&built)
            .contains("warning: `six` is read as a package name; write `./six` for the directory"),
        "{}",
        stderr(&built)
    );
    let version = |artifact: &Path| {
        let mut cmd = run_artifact(&py311().path, artifact, &dir.join("root"));
        cmd.env("PYZAP_INTERPRETER", "1")
            .args(["-c", "import six; print(six.__version__)"]);
        stdout(&run_ok(&mut cmd)).trim().to_string()
    };
    assert_eq!(version(&out), "1.17.0");

    let out = dir.join("path.pyz");
    let built = build_ok(&dir, &out, &["./six", "-e", "six"]);
    assert!(!stderr(&built).contains("warning"), "{}", stderr(&built));
    assert_eq!(version(&out), "local");
}

#[test]
fn dependency_groups_of_the_local_project() {
    let dir = fresh_dir("inputs-groups-");
    flit_project(
        &dir,
        "grouped",
        "[dependency-groups]\nServer = [\"waitress>=3\", {include-group = \"tools\"}]\n\
         tools = [\"six\"]\nbroken = [42]\n",
        "\"\"\"grouped\"\"\"\nimport importlib.util\n\ndef main():\n    \
         print(*(importlib.util.find_spec(m) is not None for m in ('waitress', 'six')))\n",
    );
    let out = dir.join("server.pyz");
    build_ok(
        &dir,
        &out,
        &["./grouped", "--group", "server", "-e", "grouped:main"],
    );
    assert_eq!(run(&out, &[]).trim(), "True True");

    // pip's `PATH:NAME` form.
    let out = dir.join("tools.pyz");
    build_ok(
        &dir,
        &out,
        &[
            "./grouped",
            "--group",
            "grouped/pyproject.toml:tools",
            "-e",
            "grouped:main",
        ],
    );
    assert_eq!(run(&out, &[]).trim(), "False True");

    let err = build_fails(
        &dir,
        &dir.join("missing.pyz"),
        &["./grouped", "--group", "client"],
    );
    assert!(
        err.contains("no dependency group `client` (the groups are: broken, Server, tools)"),
        "{err}"
    );
}
