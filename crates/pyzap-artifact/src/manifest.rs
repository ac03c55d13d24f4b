//! The manifest (`__pyzap__/manifest.json`): the single description of a
//! bundle, and the `__pyzap__/boot` lines derived from it for the bootstrap.

use serde::{Deserialize, Serialize};

/// The artifact format version this pyzap writes for a single target.
pub const FORMAT: u32 = 1;
/// The format of artifacts built for several targets (`targets` in the
/// manifest, `target=` lines in `boot`); single-target artifacts stay format 1.
pub const FORMAT_MULTI: u32 = 2;
/// Where a multi-target artifact keeps each target's own files:
/// `__pyzap__/targets/<name>/site-packages/…` and `…/extract/…`.
pub const TARGETS_DIR: &str = "__pyzap__/targets";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// Call `module:function`.
    Function,
    /// Run `module` as `__main__`.
    Module,
    /// Run the `--src` directory's `__main__.py`.
    Script,
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
    /// True when `--src` files sit at the zip root.
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
    /// Format 2 only: one section per target, which the bootstrap chooses
    /// from at run time. `target` is then the first of them, `distributions`
    /// the union, and `extract_hash`, `bytecode` and `pth` describe the
    /// shared zipped site dir.
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
        let kind = match ep.kind {
            EntryKind::Function => "function",
            EntryKind::Module => "module",
            EntryKind::Script => "script",
        };
        let mut out = format!(
            "format={}\nentry_kind={kind}\nentry_module={}\nentry_function={}\nentry_name={}\npython={}\ncache_tag={}\nnative={}\nsite_zip=site-packages\nextract_hash={}\nsrc={}\n",
            self.format,
            ep.module.as_deref().unwrap_or(""),
            ep.function.as_deref().unwrap_or(""),
            ep.script.as_deref().unwrap_or(""),
            self.target.python,
            self.target.cache_tag,
            u8::from(self.native),
            self.extract_hash.as_deref().unwrap_or(""),
            u8::from(self.src),
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
