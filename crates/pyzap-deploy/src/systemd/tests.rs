//! The rules on manifests built in code, the rendered units pinned as
//! snapshots (`snapshots/`), and `systemd-analyze verify` on each kind.

use std::path::{Path, PathBuf};

use pyzap_artifact::Manifest;
use serde_json::json;

use super::plan::{ArtifactFacts, Service};
use super::*;

fn manifest(script: Option<&str>, shebang: &str, versions: &[&str]) -> Manifest {
    let target = |v: &str| {
        json!({
            "python": v, "python_full_version": format!("{v}.2"),
            "cache_tag": format!("cpython-{}", v.replace('.', "")),
            "abi": format!("cp{}", v.replace('.', "")), "platform": "manylinux_2_36_x86_64"
        })
    };
    let sections: Vec<_> = if versions.len() > 1 {
        versions
            .iter()
            .map(|v| {
                json!({
                    "name": format!("cp{}-manylinux_2_28_x86_64", v.replace('.', "")),
                    "target": target(v), "machine": "x86_64", "libc": "glibc 2.28",
                    "site_zip": null, "extract_hash": null, "bytecode": null,
                    "distributions": [], "pth": []
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    serde_json::from_value(json!({
        "format": if sections.is_empty() { 1 } else { 2 },
        "pyzap_version": "0.1.0",
        "entry_point": {"kind": "function", "module": "echo_wsgi", "function": "main", "script": script},
        "target": target(versions[0]),
        "shebang": shebang,
        "native": false, "extract_hash": null, "bytecode": null,
        "distributions": [], "pth": [], "src": false,
        "targets": sections,
    }))
    .unwrap()
}

fn echo_facts() -> ArtifactFacts {
    let m = manifest(Some("echo-wsgi"), "#!/usr/bin/env python3.11", &["3.11"]);
    ArtifactFacts::of(Path::new("/srv/echo/echo.pyz"), &m, false).unwrap()
}

fn options(listen: &str) -> SystemdOptions {
    SystemdOptions {
        artifact: PathBuf::from("/srv/echo/echo.pyz"),
        listen: listen.parse().unwrap(),
        name: None,
        template: false,
        instances: None,
        python: None,
        args: Vec::new(),
        user: None,
        env: Vec::new(),
        cache_directory: None,
        hardening: Hardening::default(),
    }
}

fn units(facts: &ArtifactFacts, options: &SystemdOptions) -> Units {
    Units::of(
        &Service::plan(facts, options).unwrap(),
        options.instances,
        Vec::new(),
    )
}

fn both(units: &Units) -> String {
    units
        .files
        .iter()
        .map(|f| format!("==> {} <==\n{}", f.file_name, f.text))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn plain_units() {
    insta::assert_snapshot!(both(&units(&echo_facts(), &options("127.0.0.1:8080"))));
}

/// `docs/deploy.md` shows these units as they are written.
#[test]
fn the_deploy_guide_shows_the_plain_units_as_written() {
    let guide = include_str!("../../../../docs/deploy.md");
    for file in units(&echo_facts(), &options("127.0.0.1:8080")).files {
        assert!(
            guide.contains(&format!("```ini\n{}```", file.text)),
            "docs/deploy.md does not show {} as written now",
            file.file_name
        );
    }
}

#[test]
fn templated_units_for_four_instances() {
    let mut opts = options("0.0.0.0:8080");
    opts.instances = Some(4);
    let units = units(&echo_facts(), &opts);
    assert_eq!(units.files[0].file_name, "echo-wsgi@.socket");
    insta::assert_snapshot!(both(&units));
    insta::assert_snapshot!(
        units.next_steps(&[
            PathBuf::from("./echo-wsgi@.socket"),
            PathBuf::from("./echo-wsgi@.service")
        ]),
        @r"
    wrote ./echo-wsgi@.socket
    wrote ./echo-wsgi@.service
    install and start them, as root:
      cp ./echo-wsgi@.socket ./echo-wsgi@.service /etc/systemd/system/
      systemctl daemon-reload
      systemctl enable --now echo-wsgi@{1..4}.socket
    "
    );
}

/// Every flag that changes a line, and values that need escaping.
#[test]
fn units_with_every_override() {
    let mut opts = options("/run/echo/%i.sock");
    opts.template = true;
    opts.name = Some("echo".into());
    opts.python = Some("/opt/python 3.12/bin/python3".into());
    opts.args = vec!["--greeting".into(), "50% off $NOW".into()];
    opts.user = Some("www-data".into());
    opts.env = vec![
        "GREETING=hello world".parse().unwrap(),
        r#"QUOTED=say "hi" \o/ 100%"#.parse().unwrap(),
    ];
    opts.cache_directory = Some("echo-cache".into());
    opts.hardening = Hardening {
        protect_system: ProtectSystem::Full,
        protect_home: ProtectHome::No,
        private_tmp: false,
        no_new_privileges: false,
        private_network: true,
    };
    insta::assert_snapshot!(both(&units(&echo_facts(), &opts)));
}

#[test]
fn standalone_executables_run_by_themselves() {
    let m = manifest(None, "", &["3.11"]);
    let facts = ArtifactFacts::of(Path::new("/opt/tool/black"), &m, true).unwrap();
    let mut opts = options("127.0.0.1:8080");
    let service = Service::plan(&facts, &opts).unwrap();
    assert_eq!(service.name, "black");
    assert_eq!(service.exec_start, "/opt/tool/black");
    opts.python = Some("/usr/bin/python3.11".into());
    let err = Service::plan(&facts, &opts).unwrap_err();
    assert!(matches!(err, DeployError::PythonForStandalone(_)), "{err}");
}

#[test]
fn the_interpreter_comes_from_the_target_or_a_literal_shebang() {
    let exec = |shebang: &str, versions: &[&str], python: Option<&str>| {
        let m = manifest(Some("app"), shebang, versions);
        let facts = ArtifactFacts::of(Path::new("/srv/app.pyz"), &m, false).unwrap();
        let mut opts = options("127.0.0.1:8080");
        opts.python = python.map(PathBuf::from);
        Service::plan(&facts, &opts).map(|s| s.exec_start)
    };
    let env = "#!/usr/bin/env python3.9";
    assert_eq!(
        exec(env, &["3.9"], None).unwrap(),
        "/usr/bin/python3.9 /srv/app.pyz"
    );
    assert_eq!(
        exec("#!/opt/py/bin/python3", &["3.9"], None).unwrap(),
        "/opt/py/bin/python3 /srv/app.pyz"
    );
    // Arguments on the shebang line: the target's interpreter instead.
    assert_eq!(
        exec("#!/usr/bin/python3 -I", &["3.9"], None).unwrap(),
        "/usr/bin/python3.9 /srv/app.pyz"
    );
    assert_eq!(
        exec(env, &["3.9"], Some("/usr/local/bin/python3.9")).unwrap(),
        "/usr/local/bin/python3.9 /srv/app.pyz"
    );
    // One artifact for several versions: the unit must choose one.
    let several = exec("#!/usr/bin/env python3", &["3.12", "3.9", "3.12"], None).unwrap_err();
    assert_eq!(
        several.to_string(),
        "/srv/app.pyz carries targets of several Python versions (3.12, 3.9); a unit names one interpreter"
    );
    assert!(!several.hints().is_empty());
    assert_eq!(
        exec("#!/usr/bin/env python3", &["3.12", "3.12"], None).unwrap(),
        "/usr/bin/python3.12 /srv/app.pyz"
    );
    let relative = exec(env, &["3.9"], Some("python3.9")).unwrap_err();
    assert!(
        matches!(relative, DeployError::RelativePython(_)),
        "{relative}"
    );
}

#[test]
fn the_name_is_the_console_script_else_the_file_stem() {
    let m = manifest(None, "#!/usr/bin/env python3.11", &["3.11"]);
    let facts = ArtifactFacts::of(Path::new("/srv/web/current/site.pyz"), &m, false).unwrap();
    let opts = options("127.0.0.1:8080");
    assert_eq!(Service::plan(&facts, &opts).unwrap().name, "site");
    let m = manifest(Some("my tool"), "#!/usr/bin/env python3.11", &["3.11"]);
    let facts = ArtifactFacts::of(Path::new("/srv/t.pyz"), &m, false).unwrap();
    let err = Service::plan(&facts, &opts).unwrap_err();
    assert_eq!(err.hints(), ["choose the units' name with --name"]);
}

#[test]
fn paths_the_sandbox_hides_are_refused() {
    let m = manifest(Some("app"), "#!/usr/bin/env python3.11", &["3.11"]);
    let plan = |artifact: &str, python: Option<&str>, hardening: Hardening| {
        let facts = ArtifactFacts::of(Path::new(artifact), &m, false).unwrap();
        let mut opts = options("127.0.0.1:8080");
        opts.python = python.map(PathBuf::from);
        opts.hardening = hardening;
        Service::plan(&facts, &opts)
    };
    let strict = Hardening::default();
    let err = plan("/home/ann/app.pyz", None, strict).unwrap_err();
    assert_eq!(
        err.to_string(),
        "/home/ann/app.pyz is under /home, which ProtectHome=yes hides from the service"
    );
    let err = plan("/srv/app.pyz", Some("/root/.pyenv/bin/python3.11"), strict).unwrap_err();
    assert!(
        matches!(err, DeployError::Hidden { dir: "/root", .. }),
        "{err}"
    );
    let err = plan("/tmp/app.pyz", None, strict).unwrap_err();
    assert_eq!(
        err.hints(),
        ["install the artifact under /srv or /opt, or pass --private-tmp no"]
    );
    let open = Hardening {
        protect_home: ProtectHome::ReadOnly,
        private_tmp: false,
        ..strict
    };
    plan("/home/ann/app.pyz", None, open).unwrap();
    plan("/tmp/app.pyz", None, open).unwrap();
    // A name that only starts like a hidden directory is not under it.
    plan("/homepage/app.pyz", None, strict).unwrap();
}

#[test]
fn instances_never_share_a_socket_path_or_a_dynamic_users_cache() {
    let facts = echo_facts();
    let mut opts = options("/run/echo.sock");
    opts.template = true;
    let err = Service::plan(&facts, &opts).unwrap_err();
    assert!(matches!(err, DeployError::SharedUnixSocket(_)), "{err}");

    let mut opts = options("127.0.0.1:8080");
    opts.template = true;
    opts.cache_directory = Some("echo".into());
    let err = Service::plan(&facts, &opts).unwrap_err();
    assert!(matches!(err, DeployError::SharedCacheDirectory(_)), "{err}");
    // One fixed user owns a shared cache; the runtime's lock orders first starts.
    opts.user = Some("echo".into());
    assert_eq!(
        Service::plan(&facts, &opts).unwrap().cache_directory,
        "echo"
    );

    let mut opts = options("/run/%i.sock");
    let err = Service::plan(&facts, &opts).unwrap_err();
    assert!(matches!(err, DeployError::NotATemplate { .. }), "{err}");
    opts.listen = "127.0.0.1:1".parse().unwrap();
    opts.cache_directory = Some("echo/%i".into());
    let err = Service::plan(&facts, &opts).unwrap_err();
    assert!(matches!(err, DeployError::NotATemplate { .. }), "{err}");
}

#[test]
fn written_files_replace_old_ones_and_unreadable_artifacts_warn() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let units = units(&echo_facts(), &options("127.0.0.1:8080"));
    fs_err::write(dir.path().join("echo-wsgi.service"), "old").unwrap();
    let written = write_units(&units, &dir.path().join("units")).unwrap();
    assert_eq!(written.len(), 2);
    for (path, file) in written.iter().zip(&units.files) {
        assert_eq!(fs_err::read_to_string(path).unwrap(), file.text);
        let mode = fs_err::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }

    let private = dir.path().join("private");
    fs_err::create_dir(&private).unwrap();
    fs_err::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    let artifact = private.join("app.pyz");
    fs_err::write(&artifact, "").unwrap();
    fs_err::set_permissions(&artifact, std::fs::Permissions::from_mode(0o600)).unwrap();
    let warnings = unreadable_by_others(&artifact, false);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("cannot read") && warnings[0].contains("mode 0600"));
    assert!(warnings[1].contains("cannot enter") && warnings[1].contains("mode 0700"));
    fs_err::set_permissions(&artifact, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(unreadable_by_others(&artifact, true)[0].contains("cannot run"));
}

/// Each kind of unit passes `systemd-analyze verify`, which needs the
/// program of `ExecStart=` to exist: `/bin/sh` stands in for Python.
#[test]
fn every_kind_passes_systemd_analyze_verify() {
    let analyze = Path::new("/usr/bin/systemd-analyze");
    if !analyze.exists() {
        pyzap_test_support::skip("systemd-analyze is missing: .ci/run installs `systemd`");
        return;
    }
    let plain = options("127.0.0.1:8080");
    let mut template = options("[::]:8080");
    template.instances = Some(2);
    let mut unix = options("/run/echo/%i.sock");
    unix.template = true;
    // systemd warns of `nobody`: a user that owns nothing must not run services.
    unix.user = Some("www-data".into());
    unix.env = vec![r#"A=b "c" 50%"#.parse().unwrap()];
    unix.args = vec!["--x=$y".into(), "two words".into()];
    unix.hardening.private_network = true;
    unix.hardening.protect_home = ProtectHome::Tmpfs;
    for (i, mut opts) in [plain, template, unix].into_iter().enumerate() {
        opts.python = Some("/bin/sh".into());
        let dir = tempfile::tempdir().unwrap();
        let units = units(&echo_facts(), &opts);
        let written = write_units(&units, dir.path()).unwrap();
        let out = std::process::Command::new(analyze)
            .arg("verify")
            .args(&written)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.is_empty(),
            "kind {i}: {stderr}\n{}",
            both(&units)
        );
    }
}
