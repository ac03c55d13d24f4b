//! `requirements.txt` as pip reads it: comments, `\` continuations, `${VAR}`
//! expansion, `-r`/`-c` includes, index options and per-line `--hash`.
//! Parsing is pure; the caller supplies how files are read.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use crate::{FormatChoice, FormatOption, LocalKind, LocalPath, Requirement, SpecError};

/// One requirement line and where it came from.
#[derive(Debug, Clone)]
pub struct RequirementEntry {
    pub requirement: Requirement,
    /// `sha256:…` digests from `--hash` options, kept for verification.
    pub hashes: Vec<String>,
    pub file: PathBuf,
    pub line: usize,
}

/// Everything a requirements file (and its includes) says.
#[derive(Debug, Clone, Default)]
pub struct RequirementsFile {
    pub requirements: Vec<RequirementEntry>,
    pub constraints: Vec<RequirementEntry>,
    /// Local projects, wheels and sdists given as requirement lines
    /// (`./proj[server]`), relative to the file that names them.
    pub paths: Vec<LocalPath>,
    pub find_links: Vec<String>,
    pub index_urls: Vec<String>,
    pub extra_index_urls: Vec<String>,
    pub no_index: bool,
    /// `--require-hashes`: pip's hash-checking mode.
    pub require_hashes: bool,
    /// `--no-binary` / `--only-binary` lines, in file order (includes inline).
    pub format_choices: Vec<FormatChoice>,
}

/// How deep `-r`/`-c` includes may nest. Paths that differ only by `.`
/// components are one file, but `-r ../d/req.txt` inside `d/req.txt` names
/// a new path every time; without a bound that recursion would run until
/// the path grew too long for the OS, deep enough to overflow a thread's stack.
const MAX_INCLUDE_DEPTH: usize = 32;

/// The files read so far (each is read once, as pip does) and the depth of
/// the current include chain.
#[derive(Default)]
struct Includes {
    seen: BTreeSet<PathBuf>,
    depth: usize,
}

impl RequirementsFile {
    /// Reads `path` and everything it includes, with `read` doing the I/O.
    pub fn parse(
        path: &Path,
        read: &mut dyn FnMut(&Path) -> io::Result<String>,
    ) -> Result<Self, SpecError> {
        let mut out = RequirementsFile::default();
        out.parse_into(path, false, read, &mut Includes::default())?;
        Ok(out)
    }

    fn parse_into(
        &mut self,
        path: &Path,
        as_constraints: bool,
        read: &mut dyn FnMut(&Path) -> io::Result<String>,
        includes: &mut Includes,
    ) -> Result<(), SpecError> {
        if !includes.seen.insert(path.to_path_buf()) {
            return Ok(()); // an include cycle: pip reads each file once too
        }
        let text = read(path).map_err(|source| SpecError::RequirementsRead {
            file: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for (line_no, line) in logical_lines(&text) {
            let err = |message: String| SpecError::RequirementsLine {
                file: path.to_path_buf(),
                line: line_no,
                message,
            };
            let line = expand_env(&line);
            let tokens = split_words(&line);
            let Some(first) = tokens.first() else {
                continue;
            };
            if first.starts_with('-') {
                let (opt, value) = option_value(&tokens).map_err(err)?;
                match opt.as_str() {
                    "-r" | "--requirement" | "-c" | "--constraint" => {
                        let value = value.ok_or_else(|| err(format!("{opt} needs a file")))?;
                        if includes.depth == MAX_INCLUDE_DEPTH {
                            return Err(err(format!(
                                "{opt} {value}: requirements files nest more than \
                                 {MAX_INCLUDE_DEPTH} deep (an include cycle through \
                                 different paths?)"
                            )));
                        }
                        let include = base.join(value);
                        let constraints =
                            as_constraints || opt.starts_with("-c") || opt == "--constraint";
                        includes.depth += 1;
                        let included = self.parse_into(&include, constraints, read, includes);
                        includes.depth -= 1;
                        included?;
                    }
                    "-f" | "--find-links" => {
                        let value = value.ok_or_else(|| err(format!("{opt} needs a value")))?;
                        self.find_links.push(resolve_local(base, &value));
                    }
                    "-i" | "--index-url" => self
                        .index_urls
                        .push(value.ok_or_else(|| err(format!("{opt} needs a URL")))?),
                    "--extra-index-url" => self
                        .extra_index_urls
                        .push(value.ok_or_else(|| err(format!("{opt} needs a URL")))?),
                    "--no-index" => self.no_index = true,
                    "--require-hashes" => self.require_hashes = true,
                    "--no-binary" | "--only-binary" => {
                        let value = value.ok_or_else(|| err(format!("{opt} needs a value")))?;
                        let option = if opt == "--no-binary" {
                            FormatOption::NoBinary
                        } else {
                            FormatOption::OnlyBinary
                        };
                        let choice =
                            FormatChoice::parse(option, &value).map_err(|e| err(e.to_string()))?;
                        self.format_choices.push(choice);
                    }
                    // Accepted for compatibility; they do not change what pyzap installs.
                    "--pre" | "--trusted-host" | "--prefer-binary" | "--use-feature" => {}
                    "-e" | "--editable" => {
                        return Err(err(
                            "editable requirements (-e) cannot go into an artifact; \
                             name the project directory as an input instead"
                                .into(),
                        ))
                    }
                    other => return Err(err(format!("unknown option `{other}`"))),
                }
                continue;
            }
            let (spec, hashes) = split_hashes(&tokens).map_err(err)?;
            if LocalPath::looks_like(&spec) {
                let mut local = LocalPath::parse(&spec).map_err(|e| err(e.to_string()))?;
                if local.kind() == LocalKind::Script {
                    return Err(err(format!(
                        "`{spec}` is a script: give it on the command line, not in a \
                         requirements file"
                    )));
                }
                local.path = base.join(&local.path);
                self.paths.push(local);
                continue;
            }
            let requirement = crate::parse_requirement(&spec).map_err(|e| err(e.to_string()))?;
            let entry = RequirementEntry {
                requirement,
                hashes,
                file: path.to_path_buf(),
                line: line_no,
            };
            if as_constraints {
                self.constraints.push(entry);
            } else {
                self.requirements.push(entry);
            }
        }
        Ok(())
    }
}

/// Joins `\` continuations and strips comments; yields (first line number, text).
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        if current.is_empty() {
            start = i + 1;
        }
        let line = strip_comment(raw);
        if let Some(head) = line.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        let done = std::mem::take(&mut current);
        if !done.trim().is_empty() {
            out.push((start, done.trim().to_string()));
        }
    }
    if !current.trim().is_empty() {
        out.push((start, current.trim().to_string()));
    }
    out
}

/// A `#` starts a comment at the start of a line or after white space (pip's rule).
fn strip_comment(line: &str) -> &str {
    let mut previous = None;
    for (i, c) in line.char_indices() {
        if c == '#' && previous.is_none_or(char::is_whitespace) {
            return line[..i].trim_end(); // `i` is where the `#` starts: a char boundary
        }
        previous = Some(c);
    }
    line.trim_end()
}

/// `${VAR}` is replaced from the environment, as pip does (only that form,
/// and only names of `A-Z`, `0-9` and `_`, as pip's `ENV_VAR_RE`; anything
/// else is left as written).
fn expand_env(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some((before, after)) = rest.split_once("${") {
        out.push_str(before);
        match after.split_once('}') {
            Some((name, tail)) if is_env_name(name) => {
                out.push_str(&std::env::var(name).unwrap_or_default());
                rest = tail;
            }
            _ => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_env_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn split_words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_string).collect()
}

/// `--opt=value`, `--opt value`, `-fvalue` forms. A short option is the
/// first two characters (not bytes: `-é` is one option, not a split `é`).
fn option_value(tokens: &[String]) -> Result<(String, Option<String>), String> {
    let Some((first, others)) = tokens.split_first() else {
        return Err("empty option line".into());
    };
    let rest = others.join(" ");
    let rest = (!rest.is_empty()).then_some(rest);
    if let Some((opt, value)) = first.split_once('=') {
        return Ok((opt.to_string(), Some(value.to_string())));
    }
    if !first.starts_with("--") {
        if let Some((at, _)) = first.char_indices().nth(2) {
            let (opt, value) = first.split_at(at);
            return Ok((opt.to_string(), Some(value.to_string())));
        }
    }
    Ok((first.clone(), rest))
}

/// Separates `--hash=sha256:…` options from the requirement text.
fn split_hashes(tokens: &[String]) -> Result<(String, Vec<String>), String> {
    let mut spec = Vec::new();
    let mut hashes = Vec::new();
    let mut iter = tokens.iter();
    while let Some(tok) = iter.next() {
        let value = if let Some(v) = tok.strip_prefix("--hash=") {
            v.to_string()
        } else if tok == "--hash" {
            iter.next().cloned().ok_or("--hash needs a value")?
        } else if tok.starts_with("--") {
            return Err(format!("unknown per-requirement option `{tok}`"));
        } else {
            spec.push(tok.as_str());
            continue;
        };
        match value.split_once(':') {
            Some((algo, digest)) if !digest.is_empty() => {
                hashes.push(format!("{algo}:{}", digest.to_ascii_lowercase()));
            }
            _ => return Err(format!("--hash `{value}` is not `algorithm:digest`")),
        }
    }
    Ok((spec.join(" "), hashes))
}

fn resolve_local(base: &Path, value: &str) -> String {
    if value.contains("://") || Path::new(value).is_absolute() {
        value.to_string()
    } else {
        base.join(value).to_string_lossy().into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(files: &[(&str, &str)]) -> Result<RequirementsFile, SpecError> {
        let map: HashMap<PathBuf, String> = files
            .iter()
            .map(|(p, t)| (PathBuf::from(p), t.to_string()))
            .collect();
        RequirementsFile::parse(Path::new(files[0].0), &mut |p| {
            map.get(p)
                .cloned()
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
        })
    }

    #[test]
    fn includes_continuations_hashes_and_options() {
        let r = parse(&[
            (
                "d/req.txt",
                "# top comment\nflask>=3 \\\n  ; python_version >= '3.8'  # trailing\n-r more.txt\n-c cons.txt\n--find-links wheels\n--no-index\n--require-hashes\nrequests[socks]==2.32.5 --hash=sha256:ABCD \\\n    --hash sha256:ef01\n./local/pkg-1.0-py3-none-any.whl\n",
            ),
            ("d/more.txt", "black\n"),
            ("d/cons.txt", "click<9\n"),
        ])
        .unwrap();
        let names: Vec<_> = r
            .requirements
            .iter()
            .map(|e| e.requirement.name.to_string())
            .collect();
        assert_eq!(names, ["flask", "black", "requests"]);
        assert_eq!(r.requirements[0].line, 2);
        assert_eq!(r.requirements[2].hashes, ["sha256:abcd", "sha256:ef01"]);
        assert!(r.require_hashes);
        assert_eq!(r.constraints.len(), 1);
        assert!(r.no_index);
        assert_eq!(r.find_links, ["d/wheels"]);
        let paths: Vec<&Path> = r.paths.iter().map(|p| p.path.as_path()).collect();
        assert_eq!(paths, [Path::new("d/./local/pkg-1.0-py3-none-any.whl")]);
    }

    #[test]
    fn direct_references_projects_with_extras_and_scripts() {
        let r = parse(&[(
            "d/req.txt",
            "six @ file:///w/six-1.17.0-py2.py3-none-any.whl --hash=sha256:AB\n\
             ./proj[server]\n.\napp @ git+https://h/o/app.git@v1\n",
        )])
        .unwrap();
        let reqs: Vec<String> = r
            .requirements
            .iter()
            .map(|e| e.requirement.to_string())
            .collect();
        assert_eq!(
            reqs,
            [
                "six @ file:///w/six-1.17.0-py2.py3-none-any.whl",
                "app @ git+https://h/o/app.git@v1"
            ]
        );
        assert_eq!(r.requirements[0].hashes, ["sha256:ab"]);
        assert_eq!(r.paths[0].path, Path::new("d/./proj"));
        assert_eq!(r.paths[0].extras.len(), 1);
        assert_eq!(r.paths[1].path, Path::new("d/."));
        let err = parse(&[("req.txt", "six\ntool.py\n")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "req.txt:2: `tool.py` is a script: give it on the command line, not in a requirements file"
        );
    }

    #[test]
    fn binary_options_are_recorded_in_order() {
        let r = parse(&[
            ("req.txt", "--only-binary :all:\n-r more.txt\nsix\n"),
            ("more.txt", "--no-binary=Six,tomli\n"),
        ])
        .unwrap();
        let mut control = crate::FormatControl::default();
        for choice in &r.format_choices {
            control.apply(choice);
        }
        let name = |n: &str| n.parse::<crate::PackageName>().unwrap();
        assert!(!control.allows_wheels(&name("six")));
        assert!(control.allows_sdists(&name("tomli")));
        assert!(!control.allows_sdists(&name("flask")));
        let err = parse(&[("req.txt", "--no-binary\n")]).unwrap_err();
        assert_eq!(err.to_string(), "req.txt:1: --no-binary needs a value");
        let err = parse(&[("req.txt", "--only-binary a b\n")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "req.txt:1: --only-binary: `a b` is not a project name, `:all:` or `:none:`"
        );
    }

    #[test]
    fn malformed_line_names_file_and_line() {
        let err = parse(&[("req.txt", "flask\n\nblack >= = 1\n")]).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("req.txt:3: invalid requirement `black >= = 1`"),
            "{msg}"
        );
    }

    #[test]
    fn unknown_option_and_missing_include() {
        let err = parse(&[("req.txt", "--frobnicate\n")]).unwrap_err();
        assert_eq!(err.to_string(), "req.txt:1: unknown option `--frobnicate`");
        let err = parse(&[("req.txt", "-r nope.txt\n")]).unwrap_err();
        assert_eq!(err.to_string(), "cannot read requirements file nope.txt");
    }

    #[test]
    fn hash_in_url_fragment_is_not_a_comment() {
        assert_eq!(
            strip_comment("pkg @ https://x/y.whl#sha256=00"),
            "pkg @ https://x/y.whl#sha256=00"
        );
        assert_eq!(strip_comment("pkg # c"), "pkg");
    }

    #[test]
    fn requirements_line_dash_e_acute_does_not_panic() {
        let err = parse(&[("req.txt", "-é\n")]).unwrap_err();
        assert_eq!(err.to_string(), "req.txt:1: unknown option `-é`");
        let err = parse(&[("req.txt", "-éx\n")]).unwrap_err();
        assert_eq!(err.to_string(), "req.txt:1: unknown option `-é`");
        let err = parse(&[("req.txt", "-\u{1F600}\u{1F600}\n")]).unwrap_err();
        assert_eq!(err.to_string(), "req.txt:1: unknown option `-\u{1F600}`");
        // A short option with its value attached still splits after two characters.
        let r = parse(&[("req.txt", "-fwheels\n")]).unwrap();
        assert_eq!(r.find_links, ["wheels"]);
    }

    #[test]
    fn requirements_line_foo_dot_ge_does_not_panic() {
        let err = parse(&[("req.txt", "six\nfoo.>=1 --hash=sha256:00\n")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "req.txt:2: invalid requirement `foo.>=1`: name `foo.` must end with a letter or digit"
        );
    }

    #[test]
    fn requirements_hash_oddities_are_errors() {
        for (line, message) in [
            ("six --hash\n", "--hash needs a value"),
            ("six --hash=\n", "--hash `` is not `algorithm:digest`"),
            (
                "six --hash=sha256:\n",
                "--hash `sha256:` is not `algorithm:digest`",
            ),
            ("six --hash=é\n", "--hash `é` is not `algorithm:digest`"),
            ("six --hashé\n", "unknown per-requirement option `--hashé`"),
        ] {
            let err = parse(&[("req.txt", line)]).unwrap_err();
            assert_eq!(err.to_string(), format!("req.txt:1: {message}"), "{line}");
        }
        // An unterminated continuation at the end of the file ends the line.
        let r = parse(&[("req.txt", "six \\\n    --hash=sha256:AB \\")]).unwrap();
        assert_eq!(r.requirements[0].hashes, ["sha256:ab"]);
    }

    #[test]
    fn comments_and_env_vars_next_to_multibyte_text() {
        assert_eq!(strip_comment("é#x"), "é#x");
        assert_eq!(strip_comment("é #x"), "é");
        assert_eq!(strip_comment("é\u{3000}#x"), "é");
        assert_eq!(expand_env("a${é}b${"), "a${é}b${");
        assert_eq!(expand_env("${lower}"), "${lower}");
        assert_eq!(expand_env("x${PYZAP_SPEC_SURELY_UNSET_VAR}y"), "xy");
    }

    #[test]
    fn include_through_ever_longer_paths_stops() {
        let mut reads = 0;
        let err = RequirementsFile::parse(Path::new("d/req.txt"), &mut |_| {
            reads += 1;
            Ok("-r ../d/req.txt\n".to_string())
        })
        .unwrap_err();
        assert!(err.to_string().contains("nest more than 32 deep"), "{err}");
        assert_eq!(reads, 33);
        // The same file through `./` is one file, read once.
        let r = parse(&[("d/req.txt", "-r ./req.txt\nsix\n")]).unwrap();
        assert_eq!(r.requirements.len(), 1);
    }
}
