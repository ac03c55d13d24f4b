//! The bundle as a virtual environment: what the artifact's process and the
//! Python children it starts see, and what other interpreters do not.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::*;

fn interp(artifact: &Path, root: &Path, code: &str) -> Command {
    let mut cmd = run_artifact(&py311().path, artifact, root);
    cmd.env("PYZAP_INTERPRETER", "1").args(["-c", code]);
    cmd
}

/// A venv of py311 with click 8.1.8 unpacked into it (no pip needed: a
/// pure wheel is a zip of its site-packages).
fn venv_with_old_click() -> PathBuf {
    let dir = fresh_dir("other-venv-");
    let venv = dir.join("venv");
    run_ok(
        Command::new(&py311().path)
            .args(["-m", "venv", "--without-pip"])
            .arg(&venv),
    );
    let site = venv.join("lib/python3.11/site-packages");
    let wheel = wheelhouse().join("click-8.1.8-py3-none-any.whl");
    run_ok(
        Command::new(&py311().path)
            .args([
                "-c",
                "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])",
            ])
            .arg(&wheel)
            .arg(&site),
    );
    venv
}

#[test]
fn another_venvs_interpreter_gets_its_own_packages_and_children_get_the_bundles() {
    let other = venv_with_old_click().join("bin/python");
    let code = format!(
        "import subprocess, sys, click\n\
         ver = 'import click; print(click.__version__)'\n\
         print(click.__version__)\n\
         print(subprocess.check_output([sys.executable, '-c', ver]).decode().strip())\n\
         print(subprocess.check_output([{other:?}, '-c', ver]).decode().strip())\n\
         print(subprocess.call([{base:?}, '-c', 'import pyzap_runtime'], stderr=subprocess.DEVNULL))\n",
        other = other.to_str().unwrap(),
        base = py311().path.to_str().unwrap(),
    );
    let out = run_ok(&mut interp(&web_bundle(), &fresh_dir("root-"), &code));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_ne!(lines[0], "8.1.8", "the bundle has a newer click");
    assert_eq!(
        lines[1], lines[0],
        "a child started with sys.executable sees the bundle"
    );
    assert_eq!(
        lines[2], "8.1.8",
        "another venv's interpreter sees its own click"
    );
    assert_eq!(
        lines[3], "1",
        "the bare interpreter does not see the bundle"
    );
}

#[test]
fn multiprocessing_forkserver_and_spawn_workers_import_bundled_packages() {
    let dir = fresh_dir("mp-");
    let script = dir.join("workers.py");
    fs_err::write(
        &script,
        "import multiprocessing as mp\n\ndef work(_):\n    import flask\n    return flask.__name__\n\n\
         if __name__ == '__main__':\n    for method in ('forkserver', 'spawn'):\n        \
         with mp.get_context(method).Pool(1) as pool:\n            print(method, pool.map(work, [0]))\n",
    )
    .unwrap();
    let mut cmd = run_artifact(&py311().path, &web_bundle(), &dir.join("root"));
    cmd.env("PYZAP_INTERPRETER", "1").arg(&script);
    assert_eq!(
        stdout(&run_ok(&mut cmd)).trim(),
        "forkserver ['flask']\nspawn ['flask']"
    );
}

#[test]
fn bundled_console_scripts_are_on_the_childrens_path() {
    let out = run_ok(&mut interp(
        &web_bundle(),
        &fresh_dir("root-"),
        "import subprocess; print(subprocess.check_output(['flask', '--version']).decode())",
    ));
    assert!(stdout(&out).contains("Flask 3."), "{}", stdout(&out));
}

#[test]
fn python_2_7_gets_one_line() {
    let Some(python27) = fs_err::read_dir(dirs_home().join(".pyenv/versions"))
        .ok()
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin/python2.7"))
        .find(|p| p.exists())
    else {
        pyzap_test_support::skip("no Python 2.7 under ~/.pyenv/versions");
        return;
    };
    // A --src bundle: no Requires-Python to refuse 2.7 with first.
    let artifact = shared_artifact("src-only", |out| {
        let src = scratch().join("src-only");
        fs_err::create_dir_all(&src).unwrap();
        fs_err::write(src.join("__main__.py"), "print('hello')\n").unwrap();
        build(&py311().path, out, &["--src", src.to_str().unwrap()]);
    });
    let out = run_artifact(&python27, &artifact, &fresh_dir("root-"))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("needs Python 3.8 or later") && err.contains("2.7.18"),
        "{err}"
    );
}

fn dirs_home() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
}

/// A minimal Django project (settings and one view), made once.
fn django_src() -> PathBuf {
    static SRC: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    SRC.get_or_init(make_django_src).clone()
}

fn make_django_src() -> PathBuf {
    let src = scratch().join("django-src");
    let site = src.join("mysite");
    {
        fs_err::create_dir_all(&site).unwrap();
        fs_err::write(site.join("__init__.py"), "").unwrap();
        fs_err::write(
            site.join("settings.py"),
            "SECRET_KEY = 'test'\nDEBUG = True\nALLOWED_HOSTS = ['*']\nROOT_URLCONF = 'mysite.urls'\n\
             INSTALLED_APPS = []\nDATABASES = {}\nUSE_TZ = True\n",
        )
        .unwrap();
        fs_err::write(
            site.join("urls.py"),
            "from django.http import HttpResponse\nfrom django.urls import path\n\n\
             urlpatterns = [path('', lambda request: HttpResponse('hello from django'))]\n",
        )
        .unwrap();
    }
    src
}

/// `runserver` with its autoreloader, which restarts the program in a
/// child (`sys.executable` and `sys.argv`, or `-m` of `__main__.__spec__`):
/// the child must run the artifact again and serve.
fn assert_runserver_serves(mut cmd: Command) {
    let port = free_port();
    cmd.env("DJANGO_SETTINGS_MODULE", "mysite.settings")
        .arg("runserver")
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let _server = Server(cmd.spawn().unwrap());
    let body = http_get(port, "/");
    assert!(body.contains("hello from django"), "{body}");
}

#[test]
fn django_runserver_with_the_autoreloader() {
    let artifact = shared_artifact("django", |out| {
        let src = django_src();
        build(
            &py311().path,
            out,
            &[
                "django",
                "-c",
                "django-admin",
                "--src",
                src.to_str().unwrap(),
            ],
        );
    });
    assert_runserver_serves(run_artifact(&py311().path, &artifact, &fresh_dir("root-")));
}

#[test]
fn django_runserver_with_the_autoreloader_standalone() {
    let dir = fresh_dir("django-sa-");
    let exe = dir.join("django-admin");
    let src = django_src();
    crate::standalone::build_standalone(
        &exe,
        &[
            "django",
            "-c",
            "django-admin",
            "--src",
            src.to_str().unwrap(),
        ],
    );
    assert_runserver_serves(crate::standalone::run_bare(&exe, &dir.join("root")));
}

/// A wheel shipping `.data/scripts/`: a Python script (`#!python`, as
/// awscli ships `aws`) and a program (as a wheel ships a binary; a shell
/// script stands in for it).
fn data_scripts_wheel(dir: &Path) -> PathBuf {
    pyzap_test_support::WheelBuilder::new("awsish", "1.0")
        .file("awsish/__init__.py", "WHERE = 'awsish'\n")
        .file(
            "awsish-1.0.data/scripts/awsish",
            "#!python\nimport sys, awsish\nprint('awsish', awsish.WHERE, sys.argv[1:])\n",
        )
        .file(
            "awsish-1.0.data/scripts/awsish-tool",
            "#!/bin/sh\necho \"tool $*\"\n",
        )
        .build(dir)
}

#[test]
fn a_data_script_is_an_entry_point_and_scripts_are_on_the_childrens_path() {
    let dir = fresh_dir("data-scripts-");
    let wheel = data_scripts_wheel(&dir);
    let artifact = dir.join("aws.pyz");
    build(
        &py311().path,
        &artifact,
        &[wheel.to_str().unwrap(), "-c", "awsish"],
    );
    let out = run_ok(run_artifact(&py311().path, &artifact, &dir.join("root")).args(["s3", "ls"]));
    assert_eq!(stdout(&out), "awsish awsish ['s3', 'ls']\n");
    // The program, found on PATH by a child, as hatch finds uv's binary.
    let out = run_ok(
        run_artifact(&py311().path, &artifact, &dir.join("root"))
            .env("PYZAP_INTERPRETER", "1")
            .args([
                "-c",
                "import subprocess; print(subprocess.check_output(['awsish-tool', 'x']).decode(), end='')",
            ]),
    );
    assert_eq!(stdout(&out), "tool x\n");
    // An unknown name lists the scripts there are.
    let out = pyzap()
        .arg("build")
        .arg(&wheel)
        .args(["-c", "nope", "--no-index", "--python"])
        .arg(&py311().path)
        .arg("-o")
        .arg(dir.join("nope.pyz"))
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("awsish-tool (awsish, a script file)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn tracebacks_show_real_paths_and_source_lines() {
    let dir = fresh_dir("traceback-");
    let src = dir.join("src");
    fs_err::create_dir_all(&src).unwrap();
    fs_err::write(
        src.join("appmod.py"),
        "def boom():\n    # the line below fails\n    raise ValueError('boom from appmod')\n",
    )
    .unwrap();
    fs_err::write(src.join("__main__.py"), "import appmod\nappmod.boom()\n").unwrap();
    let artifact = dir.join("app.pyz");
    build(&py311().path, &artifact, &["--src", src.to_str().unwrap()]);
    let root = dir.join("root");
    let out = run_artifact(&py311().path, &artifact, &root)
        .output()
        .unwrap();
    let err = stderr(&out);
    let site = root.join("site");
    assert!(
        err.contains(&format!("File \"{}", site.display()))
            && err.contains("/appmod.py\", line 3, in boom"),
        "the file in the cache, where the source is: {err}"
    );
    assert!(
        err.contains("raise ValueError('boom from appmod')"),
        "the source line: {err}"
    );
}

#[test]
fn native_code_in_a_noexec_cache_is_one_line() {
    let artifact = web_bundle();
    let dir = fresh_dir("noexec-");
    let mnt = dir.join("mnt");
    fs_err::create_dir_all(&mnt).unwrap();
    // A private mount namespace: the tmpfs goes away with the command.
    let script = format!(
        "mount -t tmpfs -o noexec,mode=0700 none {mnt} && PYZAP_ROOT={mnt}/root exec {py} {art} --version",
        mnt = mnt.display(),
        py = py311().path.display(),
        art = artifact.display()
    );
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .output()
        .unwrap();
    let err = stderr(&out);
    if err.contains("unshare failed") || err.contains("Operation not permitted") {
        pyzap_test_support::skip("no mount namespaces here (unshare -m)");
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("noexec") && err.contains("PYZAP_ROOT"),
        "{err}"
    );
}

/// A WSGI app under waitress that imports a module only when a request
/// comes, and answers with its version.
fn versioned_server(dir: &Path, version: &str) -> PathBuf {
    let src = dir.join(format!("src-{version}"));
    fs_err::create_dir_all(&src).unwrap();
    fs_err::write(
        src.join("app.py"),
        "def application(environ, start_response):\n    \
         start_response('200 OK', [('Content-Type', 'text/plain')])\n    \
         if environ['PATH_INFO'] == '/ready':\n        return [b'ready']\n    \
         import lazy\n    return [lazy.VERSION.encode()]\n",
    )
    .unwrap();
    fs_err::write(
        src.join("lazy.py"),
        format!("VERSION = 'running {version}'\n"),
    )
    .unwrap();
    let artifact = dir.join(format!("{version}.pyz"));
    build(
        &py311().path,
        &artifact,
        &[
            "waitress",
            "-c",
            "waitress-serve",
            "--src",
            src.to_str().unwrap(),
        ],
    );
    artifact
}

fn serve(artifact: &Path, root: &Path) -> (Server, u16) {
    let port = free_port();
    let child = run_artifact(&py311().path, artifact, root)
        .arg(format!("--listen=127.0.0.1:{port}"))
        .arg("app:application")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (Server(child), port)
}

#[test]
fn replacing_a_running_artifact_or_flipping_its_symlink() {
    let dir = fresh_dir("replace-");
    let (v1, v2) = (versioned_server(&dir, "v1"), versioned_server(&dir, "v2"));
    let root = dir.join("root");

    // `mv` over the file a server runs: it keeps serving its own code
    // (its first request imports `lazy` after the swap); a new one runs
    // the new file.
    let app = dir.join("app.pyz");
    fs_err::copy(&v1, &app).unwrap();
    let (_old, old_port) = serve(&app, &root);
    let first = http_get(old_port, "/"); // the server is up, `lazy` imported
    assert!(first.contains("running v1"), "{first}");
    let staged = dir.join("app.pyz.new");
    fs_err::copy(&v2, &staged).unwrap();
    fs_err::rename(&staged, &app).unwrap();
    assert!(http_get(old_port, "/").contains("running v1"));
    let (_new, new_port) = serve(&app, &root);
    assert!(http_get(new_port, "/").contains("running v2"));

    // A `current` symlink flipped atomically to the new release, whose
    // module the old server imports for the first time after the flip.
    let current = dir.join("current.pyz");
    fs_err::os::unix::fs::symlink(&v1, &current).unwrap();
    let (_old, old_port) = serve(&current, &dir.join("root2"));
    assert!(http_get(old_port, "/ready").contains("ready"));
    let flip = dir.join("current.tmp");
    fs_err::os::unix::fs::symlink(&v2, &flip).unwrap();
    fs_err::rename(&flip, &current).unwrap();
    assert!(http_get(old_port, "/").contains("running v1"));
    let (_new, new_port) = serve(&current, &dir.join("root2"));
    assert!(http_get(new_port, "/").contains("running v2"));
}
