//! The manifest (`__pyzap__/manifest.json`): the single description of a
//! bundle, the records it is made of (each derived from a target or a
//! wheel), and the `__pyzap__/boot` lines derived from it for the bootstrap.

use pyzap_spec::Target;
use serde::{Deserialize, Serialize};

use crate::{Bundled, SITE_ZIP};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Call `module:function`.
    Function,
    /// Run `module` as `__main__`.
    Module,
    /// Run the `--src` directory's `__main__.py`.
    Script,
    /// Run a script (or program) a wheel ships in `.data/scripts/`, named
    /// by `script`.
    DataScript,
}

impl EntryKind {
    /// The `entry_kind=` value in `boot`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Function => "function",
            EntryKind::Module => "module",
            EntryKind::Script => "script",
            EntryKind::DataScript => "data_script",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryPointRecord {
    pub kind: EntryKind,
    pub module: Option<String>,
    pub function: Option<String>,
    /// The console script it came from, if any.
    pub script: Option<String>,
}

impl EntryPointRecord {
    pub fn describe(&self) -> String {
        let target = match (self.kind, &self.module, &self.function) {
            (EntryKind::Script, _, _) => "__main__.py of the source directory".to_string(),
            (EntryKind::DataScript, _, _) => {
                return format!(
                    "script `{}` from a wheel's .data/scripts",
                    self.script.as_deref().unwrap_or("?")
                )
            }
            (_, Some(m), Some(f)) => format!("{m}:{f}"),
            (_, Some(m), None) => format!("-m {m}"),
            _ => "?".into(),
        };
        match &self.script {
            Some(s) => format!("{target} (console script `{s}`)"),
            None => target,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRecord {
    pub python: String,
    pub python_full_version: String,
    pub cache_tag: String,
    pub abi: String,
    pub platform: String,
}

impl TargetRecord {
    /// What the manifest says of `target`; `platform` is its best platform tag.
    pub(crate) fn of(target: &Target) -> Self {
        let facts = &target.facts;
        TargetRecord {
            python: target.version_string(),
            python_full_version: facts.python_full_version.clone(),
            cache_tag: facts.cache_tag.clone(),
            abi: format!("cp{}{}{}", target.major, target.minor, facts.abiflags),
            platform: target.best_platform().unwrap_or_default().to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistRecord {
    pub name: String,
    pub version: String,
    pub filename: String,
    pub sha256: String,
    /// `zip` or `extract`.
    pub placement: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub extract_reason: Option<String>,
}

impl DistRecord {
    pub(crate) fn of(b: &Bundled) -> Self {
        DistRecord {
            name: b.dist.name.to_string(),
            version: b.dist.version.to_string(),
            filename: b.dist.filename.clone(),
            sha256: b.sha256.clone(),
            placement: b.dist.placement.as_str().to_string(),
            extract_reason: b.dist.extract_reason.clone(),
        }
    }
}

/// `placement:file.pth` for every `.pth` file of `bundled` (`pth` in the
/// manifest and `boot`).
pub(crate) fn pth_lines(bundled: &[Bundled]) -> Vec<String> {
    let mut pth = Vec::new();
    for b in bundled {
        for p in &b.dist.pth_files {
            pth.push(format!("{}:{p}", b.dist.placement.as_str()));
        }
    }
    pth
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub pyzap_version: String,
    pub entry_point: EntryPointRecord,
    pub target: TargetRecord,
    pub shebang: String,
    /// True when some bundled code is compiled for one interpreter ABI.
    pub native: bool,
    /// Names the extracted site dir in the runtime cache; `None` when nothing is extracted.
    pub extract_hash: Option<String>,
    /// Bytecode is precompiled for this cache tag, if at all.
    pub bytecode: Option<String>,
    pub distributions: Vec<DistRecord>,
    /// `.pth` files, as `zip:<path>` or `extract:<path>`.
    pub pth: Vec<String>,
    /// True when the bundle has `--src` files (in the unpacked tree; `boot`
    /// says `src=0`: the zip root is not on `sys.path`).
    pub src: bool,
    /// Built with `--no-compile`: the first run does not compile the
    /// extracted sources either (otherwise it compiles those without bytecode).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_compile: bool,
    /// Every bundled distribution's `Requires-Python`, joined with `, `:
    /// the bootstrap refuses an interpreter outside it, in one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_python: Option<String>,
    /// When every native wheel is a stable-ABI one (`cp3X-abi3`): the lowest
    /// CPython that loads them all (`3.7`); any later CPython runs the
    /// artifact, not only the target's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abi3: Option<String>,
    /// For native code: the machine it is compiled for (`x86_64`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    /// For native code: the C library it needs, at least this version
    /// (`glibc 2.17`, the newest manylinux floor among the native wheels);
    /// the bootstrap refuses an older one in one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub libc: Option<String>,
    /// Format 2 only: one section per target, which the bootstrap chooses
    /// from at run time. `target` is then the first of them, `distributions`
    /// the union, and `extract_hash`, `bytecode` and `pth` describe the
    /// unpacked tree every target shares.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetSection>,
}

/// One target of a multi-target artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetSection {
    /// `cp39-manylinux_2_28_x86_64`; its files are under `__pyzap__/targets/<name>/`.
    pub name: String,
    pub target: TargetRecord,
    /// `platform.machine()` it runs on (`x86_64`).
    pub machine: String,
    /// `glibc 2.28`, `musl 1.2`, or empty when any libc will do.
    pub libc: String,
    /// `__pyzap__/targets/<name>/site-packages` when the target has zipped files of its own.
    pub site_zip: Option<String>,
    pub extract_hash: Option<String>,
    pub bytecode: Option<String>,
    /// Filenames of the wheels this target uses (shared ones included).
    pub distributions: Vec<String>,
    /// `.pth` files of the target's own site dirs (`zip:`/`extract:` as above).
    pub pth: Vec<String>,
}

/// Refuses a `boot` text in which a value could start a line of its own:
/// the bootstrap splits on `\n` only, and a name carrying `\r`, U+2028 or
/// another control character would otherwise run a different entry point
/// than `pyzap info` shows.
pub(crate) fn check_boot(text: &str) -> Result<(), crate::ArtifactError> {
    for line in text.split('\n') {
        if line
            .chars()
            .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
        {
            return Err(crate::ArtifactError::BootValue(
                line.escape_debug().to_string(),
            ));
        }
    }
    Ok(())
}

impl Manifest {
    /// The `__pyzap__/boot` text (see docs/artifact-format.md).
    pub fn boot_text(&self) -> String {
        let ep = &self.entry_point;
        let kind = ep.kind.as_str();
        // Only artifacts with a zipped site say where it is.
        let site_zip = if self.distributions.iter().any(|d| d.placement == "zip") {
            format!("site_zip={SITE_ZIP}\n")
        } else {
            String::new()
        };
        let mut out = format!(
            "format={}\nentry_kind={kind}\nentry_module={}\nentry_function={}\nentry_name={}\npython={}\ncache_tag={}\nnative={}\n{site_zip}extract_hash={}\nsrc={}\n",
            self.format,
            ep.module.as_deref().unwrap_or(""),
            ep.function.as_deref().unwrap_or(""),
            ep.script.as_deref().unwrap_or(""),
            self.target.python,
            self.target.cache_tag,
            u8::from(self.native),
            self.extract_hash.as_deref().unwrap_or(""),
            // `--src` files live in the unpacked tree; 1 would put the zip
            // root on `sys.path` (an artifact repacked with files there).
            0,
        );
        if self.no_compile {
            out.push_str("no_compile=1\n");
        }
        if let Some(spec) = &self.requires_python {
            out.push_str(&format!("requires_python={spec}\n"));
        }
        if let Some(abi3) = &self.abi3 {
            out.push_str(&format!("abi3={abi3}\n"));
        }
        if let Some(machine) = &self.machine {
            out.push_str(&format!("machine={machine}\n"));
        }
        if let Some(libc) = &self.libc {
            out.push_str(&format!("libc={}\n", libc.replace(' ', ":")));
        }
        for p in &self.pth {
            out.push_str(&format!("pth={p}\n"));
        }
        let dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
        for t in &self.targets {
            let libc = if t.libc.is_empty() {
                "-".to_string()
            } else {
                t.libc.replace(' ', ":")
            };
            out.push_str(&format!(
                "target={} {} {} {} {} {} {}\n",
                t.name,
                t.target.cache_tag,
                t.machine,
                libc,
                dash(&t.site_zip),
                dash(&t.extract_hash),
                t.target.python,
            ));
            for p in &t.pth {
                out.push_str(&format!("target_pth={} {p}\n", t.name));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::check_boot;

    /// A name that would start a line of its own in `boot` (the bootstrap
    /// splits on `\n` only, so `\r`, U+2028 and other controls are refused
    /// here) never reaches an artifact.
    #[test]
    fn boot_values_cannot_add_lines() {
        assert!(check_boot("format=1\nentry_module=app\n").is_ok());
        for bad in [
            "app\rentry_module=evil",
            "app\u{2028}x",
            "app\u{2029}x",
            "app\u{85}x",
            "a\tb",
        ] {
            let err = check_boot(&format!("format=1\nentry_module={bad}\n")).unwrap_err();
            assert!(
                err.to_string()
                    .contains("control or line-separator character"),
                "{err}"
            );
        }
    }
}
