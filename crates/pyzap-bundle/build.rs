//! Builds the launcher stub that starts every standalone executable (the
//! `pyzap-launcher` binary of `crates/pyzap-launcher`) and gives its path to
//! the crate as `PYZAP_LAUNCHER_STUB`; `pipeline/standalone.rs` embeds it, so
//! `pyzap` carries its stub wherever it is installed.
//!
//! The stub runs on the machines an executable is copied to, not on this
//! one, so it is built static for `<arch>-unknown-linux-musl` and needs no
//! glibc at all: linked against this machine's glibc it would need that
//! glibc's newest symbols (`GLIBC_2.34` from Debian 12's), and the
//! executables would not start on Debian 11, Ubuntu 20.04 or RHEL 8, where
//! python-build-standalone's CPython (glibc 2.17) runs. That takes the Rust
//! target (`rustup target add x86_64-unknown-linux-musl`); without it the
//! stub is built for this build's own target, with a warning, and
//! `pipeline/standalone.rs`'s floor test fails in CI. `PYZAP_LAUNCHER_TARGET`
//! names the stub's target outright (another architecture's musl target,
//! say); then there is no fallback.
//!
//! A second cargo builds it, in a target directory of its own under
//! `OUT_DIR` (this cargo holds the lock of its own), with the `launcher`
//! profile (size-optimised, stripped) whichever profile builds pyzap, and
//! without this build's compiler flags: `-C target-cpu=native` would make a
//! stub that dies of SIGILL on an older CPU.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let launcher = manifest_dir.join("../pyzap-launcher");
    let target = stub_target();
    let stub = build(&launcher, &target, &out_dir.join("launcher"));
    directive(&format!("rustc-env=PYZAP_LAUNCHER_STUB={}", stub.display()));
    directive(&format!("rustc-env=PYZAP_LAUNCHER_TARGET={target}"));
    // The stub's sources and what its build reads; the nested cargo itself
    // decides what is stale.
    for path in ["src", "Cargo.toml"] {
        directive(&format!(
            "rerun-if-changed={}",
            launcher.join(path).display()
        ));
    }
    for path in ["../../Cargo.toml", "../../Cargo.lock"] {
        directive(&format!(
            "rerun-if-changed={}",
            manifest_dir.join(path).display()
        ));
    }
    directive("rerun-if-changed=build.rs");
}

#[allow(
    clippy::print_stdout,
    reason = "a build script talks to cargo on stdout"
)]
fn directive(text: &str) {
    println!("cargo::{text}");
}

/// The stub's target: `PYZAP_LAUNCHER_TARGET`, else the musl counterpart of
/// this build's target when its Rust standard library is installed, else
/// this build's target (with a warning saying what the stub then needs).
fn stub_target() -> String {
    directive("rerun-if-env-changed=PYZAP_LAUNCHER_TARGET");
    if let Some(given) = env::var("PYZAP_LAUNCHER_TARGET")
        .ok()
        .filter(|t| !t.is_empty())
    {
        return given;
    }
    let own = env::var("TARGET").expect("set by cargo");
    let Some(musl) = musl_counterpart(&own) else {
        return own;
    };
    let rustlib = sysroot().map(|s| s.join("lib/rustlib"));
    if let Some(rustlib) = &rustlib {
        // `rustup target add` adds a directory here: build the static stub then.
        directive(&format!("rerun-if-changed={}", rustlib.display()));
        if rustlib.join(&musl).join("lib").is_dir() {
            return musl;
        }
    }
    directive(&format!(
        "warning=the launcher of standalone executables is built for {own}: it needs this \
         machine's glibc version or newer wherever an executable runs. For a static one \
         that runs on any Linux, run `rustup target add {musl}` and build again."
    ));
    own
}

/// `x86_64-unknown-linux-gnu` → `x86_64-unknown-linux-musl` (and
/// `…-gnueabihf` → `…-musleabihf`); a musl target is its own; `None` for
/// targets that are not Linux.
fn musl_counterpart(target: &str) -> Option<String> {
    let (head, abi) = target.split_once("-linux-")?;
    if abi.starts_with("musl") {
        return Some(target.to_string());
    }
    let rest = abi.strip_prefix("gnu")?;
    Some(format!("{head}-linux-musl{rest}"))
}

fn sysroot() -> Option<PathBuf> {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    Some(PathBuf::from(String::from_utf8(out.stdout).ok()?.trim()))
}

/// Runs the nested cargo; returns the stub's path.
fn build(launcher: &Path, target: &str, target_dir: &Path) -> PathBuf {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--locked", "--quiet", "--bin", "pyzap-launcher"])
        .args([
            "--features",
            "stub",
            "--profile",
            "launcher",
            "--target",
            target,
        ])
        .arg("--manifest-path")
        .arg(launcher.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir)
        // Config files' flags are this machine's; the stub runs elsewhere.
        .args(["--config", "build.rustflags=[]"]);
    for (key, _) in env::vars_os() {
        if outer_only(&key) {
            cmd.env_remove(key);
        }
    }
    c_compiler(&mut cmd, target);
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo to build the launcher stub: {e}"));
    assert!(
        out.status.success(),
        "building the launcher stub for {target} failed:\n{}\n\
         (PYZAP_LAUNCHER_TARGET chooses the stub's target; CC_<target> its C compiler)",
        String::from_utf8_lossy(&out.stderr)
    );
    target_dir.join(target).join("launcher/pyzap-launcher")
}

/// What this cargo tells its build scripts and what the outer build was
/// asked to use, which the nested build must not inherit: flags and
/// wrappers (clippy's driver under `cargo clippy`), the target directory,
/// and the variables every build script gets (the nested cargo sets its own
/// for its build scripts, but one it does not set would leak through).
/// `CARGO_MAKEFLAGS` stays: the nested cargo shares this build's jobserver.
fn outer_only(key: &OsString) -> bool {
    let Some(key) = key.to_str() else {
        return false;
    };
    const NAMES: &[&str] = &[
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_BUILD_BUILD_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_MANIFEST_LINKS",
        "CARGO_PRIMARY_PACKAGE",
        "OUT_DIR",
        "TARGET",
        "HOST",
        "NUM_JOBS",
        "OPT_LEVEL",
        "DEBUG",
        "PROFILE",
        "RUSTC_LINKER",
    ];
    const PREFIXES: &[&str] = &["CARGO_CFG_", "CARGO_FEATURE_", "CARGO_PKG_", "DEP_"];
    NAMES.contains(&key) || PREFIXES.iter().any(|p| key.starts_with(p))
}

/// The C compiler for `zstd-sys` when the stub's target is musl and nobody
/// chose one: for `x86_64-unknown-linux-musl` cc-rs looks only for
/// `x86_64-linux-musl-gcc`, which few machines have. `musl-gcc` (Debian's
/// `musl-tools`) when installed, else, for this machine's architecture, the
/// system `cc`: zstd's decoder calls only `string.h` and `stdlib.h`
/// functions, whose ABI glibc's headers and musl share, and the static link
/// fails on any symbol musl lacks. `-U_FORTIFY_SOURCE`, because Ubuntu's gcc
/// fortifies by default and musl has no `__memcpy_chk`.
fn c_compiler(cmd: &mut Command, target: &str) {
    if !target.contains("-linux-musl") {
        return;
    }
    let under = target.replace('-', "_");
    let cc_vars = [
        format!("CC_{target}"),
        format!("CC_{under}"),
        "TARGET_CC".into(),
        "CC".into(),
    ];
    for var in &cc_vars {
        directive(&format!("rerun-if-env-changed={var}"));
    }
    if cc_vars.iter().any(|v| env::var_os(v).is_some()) {
        return;
    }
    let arch = target.split('-').next().unwrap_or_default();
    let host_arch = env::var("HOST")
        .ok()
        .and_then(|h| h.split('-').next().map(str::to_string));
    let musl_gcc = [format!("{arch}-linux-musl-gcc"), "musl-gcc".into()]
        .into_iter()
        .find(|c| on_path(c) && (c != "musl-gcc" || host_arch.as_deref() == Some(arch)));
    if let Some(cc) = musl_gcc {
        cmd.env(format!("CC_{under}"), cc);
    } else if host_arch.as_deref() == Some(arch) {
        let cflags_vars = [
            format!("CFLAGS_{under}"),
            "TARGET_CFLAGS".into(),
            "CFLAGS".into(),
        ];
        for var in &cflags_vars {
            directive(&format!("rerun-if-env-changed={var}"));
        }
        let given = cflags_vars
            .iter()
            .find_map(|v| env::var(v).ok())
            .unwrap_or_default();
        cmd.env(format!("CC_{under}"), "cc").env(
            format!("CFLAGS_{under}"),
            format!("{given} -U_FORTIFY_SOURCE"),
        );
    }
}

fn on_path(program: &str) -> bool {
    env::var_os("PATH")
        .is_some_and(|path| env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}
