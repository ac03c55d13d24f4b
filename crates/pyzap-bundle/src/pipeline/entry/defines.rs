//! Whether a module's source binds a name at its top level, told by
//! reading it, never by running it (the target's Python may not be here,
//! and importing a module runs its code). The source is cut into logical
//! lines with string literals blanked and comments dropped; the lines at
//! the left margin are the module's top-level statements, whose bindings
//! (`def`, `class`, `import … as`, `from … import`, assignments) are read
//! as Python binds them. What a static look cannot decide — a star import,
//! a module `__getattr__` (PEP 562), a binding only inside an `if`/`try`
//! block, `exec`/`globals()` — is said to be unknown, with why.

/// What the source says about one name.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Defines {
    Yes,
    /// Not bound; the functions the module does define (public ones), for the hint.
    No {
        functions: Vec<String>,
    },
    /// A static look cannot tell; why.
    Unknown(String),
}

/// Whether `source` binds `name` at its top level.
pub(crate) fn defines(source: &str, name: &str) -> Defines {
    let mut functions = Vec::new();
    let mut unknown: Option<String> = None;
    // The keyword of the top-level compound statement whose block the
    // indented lines belong to (`None` inside a `def` or `class` body).
    let mut block: Option<&'static str> = None;
    for (indent, line) in logical_lines(source) {
        if line.contains("globals()") || line.contains("exec(") {
            unknown.get_or_insert_with(|| "it runs exec() or writes to globals()".into());
        }
        for statement in split_top(&line, ';') {
            let statement = statement.trim();
            if indent > 0 {
                if let Some(keyword) = block {
                    if bindings(statement).names.iter().any(|n| n == name) {
                        unknown.get_or_insert_with(|| {
                            format!("it binds `{name}` only inside a top-level `{keyword}` block")
                        });
                    }
                }
                continue;
            }
            block = compound(statement);
            if let (Some(keyword), Some((_, body))) = (block, statement.split_once(':')) {
                // `if x: main = f` binds in its header's line.
                if bindings(body.trim()).names.iter().any(|n| n == name) {
                    unknown.get_or_insert_with(|| {
                        format!("it binds `{name}` only inside a top-level `{keyword}` block")
                    });
                }
            }
            let bound = bindings(statement);
            if bound.names.iter().any(|n| n == name) {
                return Defines::Yes;
            }
            if let Some(module) = bound.star {
                unknown.get_or_insert_with(|| format!("it imports * from {module}"));
            }
            if bound.names.iter().any(|n| n == "__getattr__") && bound.function {
                unknown.get_or_insert_with(|| "it defines a module __getattr__".into());
            }
            if bound.function {
                functions.extend(bound.names.into_iter().filter(|n| !n.starts_with('_')));
            }
        }
    }
    match unknown {
        Some(why) => Defines::Unknown(why),
        None => Defines::No { functions },
    }
}

/// What one statement binds.
#[derive(Default)]
struct Bound {
    names: Vec<String>,
    /// A `def` or `class`.
    function: bool,
    /// `from MODULE import *`.
    star: Option<String>,
}

fn bindings(statement: &str) -> Bound {
    let mut bound = Bound::default();
    let word = |rest: &str| -> String {
        rest.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    if let Some(rest) = statement
        .strip_prefix("def ")
        .or_else(|| statement.strip_prefix("async def "))
    {
        bound.names.push(word(rest));
        bound.function = true;
    } else if let Some(rest) = statement.strip_prefix("class ") {
        bound.names.push(word(rest));
        bound.function = true;
    } else if let Some(rest) = statement.strip_prefix("import ") {
        for item in split_top(rest, ',') {
            let (module, alias) = split_as(item);
            bound
                .names
                .push(alias.unwrap_or_else(|| word(module.split('.').next().unwrap_or(""))));
        }
    } else if let Some(rest) = statement.strip_prefix("from ") {
        let Some((module, names)) = rest.split_once(" import ") else {
            return bound;
        };
        let names = names.trim().trim_start_matches('(').trim_end_matches(')');
        if names.trim() == "*" {
            bound.star = Some(module.trim().to_string());
        }
        for item in split_top(names, ',') {
            let (imported, alias) = split_as(item);
            bound.names.push(alias.unwrap_or_else(|| word(imported)));
        }
    } else if compound(statement).is_none() {
        bound.names = assigned(statement);
    }
    bound.names.retain(|n| !n.is_empty());
    bound
}

/// `a as b`: (`a`, `b`).
fn split_as(item: &str) -> (&str, Option<String>) {
    match item.split_once(" as ") {
        Some((name, alias)) => (name.trim(), Some(alias.trim().to_string())),
        None => (item.trim(), None),
    }
}

/// The names an assignment statement binds: every target before the last
/// `=` (`a = b = 1`, `a, b = …`, `a: int = 1`); augmented assignments and
/// comparisons bind nothing new.
fn assigned(statement: &str) -> Vec<String> {
    let chars: Vec<char> = statement.chars().collect();
    let mut depth = 0i32;
    let mut cuts = Vec::new();
    for (i, c) in chars.iter().enumerate() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            '=' if depth == 0 => {
                let before = i.checked_sub(1).map(|j| chars[j]);
                let after = chars.get(i + 1);
                let operator = before.is_some_and(|b| "=!<>:+-*/%&|^@".contains(b));
                if !operator && after != Some(&'=') {
                    cuts.push(i);
                }
            }
            _ => {}
        }
    }
    let Some(&last) = cuts.last() else {
        return Vec::new();
    };
    let targets: String = chars[..last].iter().collect();
    let mut names = Vec::new();
    for target in split_top(&targets, '=') {
        // `name: annotation` binds `name`.
        let target = split_top(target, ':').into_iter().next().unwrap_or("");
        target_names(target, &mut names);
    }
    names
}

/// The names one assignment target binds: `a`, `*rest`, `(a, [b, c])`;
/// attributes and subscripts (`obj.x`, `d[k]`) bind none.
fn target_names(target: &str, names: &mut Vec<String>) {
    let target = target.trim().trim_start_matches('*').trim();
    let inner = target
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .or_else(|| target.strip_prefix('[').and_then(|t| t.strip_suffix(']')));
    let parts = split_top(inner.unwrap_or(target), ',');
    if inner.is_some() || parts.len() > 1 {
        for part in parts {
            target_names(part, names);
        }
    } else if !target.is_empty()
        && !target.starts_with(|c: char| c.is_ascii_digit())
        && target.chars().all(|c| c.is_alphanumeric() || c == '_')
    {
        names.push(target.to_string());
    }
}

/// The keyword of a compound statement's header, except `def` and `class`
/// (whose bodies bind nothing at the top level).
fn compound(statement: &str) -> Option<&'static str> {
    const KEYWORDS: [&str; 11] = [
        "if", "elif", "else", "try", "except", "finally", "with", "for", "while", "match", "async",
    ];
    let first: String = statement
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let keyword = KEYWORDS.into_iter().find(|k| *k == first)?;
    // `match = re.match(…)` is an assignment; `match x:` a header.
    let header = statement.ends_with(':') || (keyword != "match" && statement.contains(':'));
    header.then_some(keyword)
}

/// `text` split at `separator` outside brackets.
fn split_top(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            c if c == separator && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The logical lines of `source` (continuations and bracketed lines
/// joined), each with the indentation of its first line, string literals
/// reduced to `""` and comments removed; blank lines left out.
fn logical_lines(source: &str) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut indent: Option<usize> = None;
    let mut depth = 0i32;
    let mut chars = source.chars().peekable();
    let mut column = 0usize;
    while let Some(c) = chars.next() {
        if indent.is_none() {
            match c {
                ' ' | '\t' | '\x0c' => {
                    column += 1;
                    continue;
                }
                '\n' | '\r' => {
                    column = 0;
                    continue;
                }
                _ => indent = Some(column),
            }
        }
        match c {
            '#' => {
                while chars.peek().is_some_and(|c| *c != '\n') {
                    chars.next();
                }
            }
            '\\' if chars.peek() == Some(&'\n') => {
                chars.next();
                line.push(' ');
            }
            '"' | '\'' => {
                skip_string(c, &mut chars);
                line.push_str("\"\"");
            }
            '(' | '[' | '{' => {
                depth += 1;
                line.push(c);
            }
            ')' | ']' | '}' => {
                depth -= 1;
                line.push(c);
            }
            '\n' if depth > 0 => line.push(' '),
            '\n' => {
                let text = std::mem::take(&mut line);
                if !text.trim().is_empty() {
                    lines.push((indent.unwrap_or(0), text.trim().to_string()));
                }
                indent = None;
                column = 0;
                depth = 0;
            }
            c => line.push(c),
        }
    }
    if !line.trim().is_empty() {
        lines.push((indent.unwrap_or(0), line.trim().to_string()));
    }
    lines
}

/// Skips a string literal whose opening `quote` was just read (a prefix
/// like `r` or `f` stays in the line, harmlessly): to the closing quote,
/// or three of them for a triple-quoted one, or the end of the line for an
/// unterminated short one.
fn skip_string(quote: char, chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    let mut triple = false;
    if chars.peek() == Some(&quote) {
        chars.next();
        if chars.peek() == Some(&quote) {
            chars.next();
            triple = true;
        } else {
            return; // `""`: an empty string.
        }
    }
    let mut run = 0;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
                run = 0;
            }
            c if c == quote => {
                run += 1;
                if !triple || run == 3 {
                    return;
                }
            }
            '\n' if !triple => return,
            _ => run = 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no(functions: &[&str]) -> Defines {
        Defines::No {
            functions: functions.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn top_level_bindings_count() {
        let source = r#""""A module.

def hidden(): pass
"""
import os, sys as system
from pkg.cli import (
    run,
    start as begin,
)

@decorator
def main(argv=None):
    def inner():
        pass
    text = "def fake(): pass"  # def fake2
    return 0

async def serve(): ...
class App:
    def method(self): ...
handler = other = App()
a, (b, c) = 1, (2, 3)
count: int = 0
x == 1
y += 1
def _private(): ...
"#;
        for name in [
            "os", "system", "run", "begin", "main", "serve", "App", "handler", "other", "a", "b",
            "c", "count",
        ] {
            assert_eq!(defines(source, name), Defines::Yes, "{name}");
        }
        let missing = no(&["main", "serve", "App"]);
        for name in [
            "hidden", "inner", "text", "fake", "fake2", "method", "sys", "start", "x", "y",
            "nothing",
        ] {
            assert_eq!(defines(source, name), missing, "{name}");
        }
    }

    #[test]
    fn what_a_static_look_cannot_tell_is_unknown() {
        let star = "from .impl import *\ndef helper(): pass\n";
        assert_eq!(
            defines(star, "main"),
            Defines::Unknown("it imports * from .impl".into())
        );
        // What is bound at the top level is known all the same.
        assert_eq!(defines(star, "helper"), Defines::Yes);
        let lazy = "def __getattr__(name):\n    return 1\n";
        assert_eq!(
            defines(lazy, "main"),
            Defines::Unknown("it defines a module __getattr__".into())
        );
        let conditional =
            "try:\n    from _speedups import main\nexcept ImportError:\n    def main(): pass\n";
        assert_eq!(
            defines(conditional, "main"),
            Defines::Unknown("it binds `main` only inside a top-level `try` block".into())
        );
        assert_eq!(defines(conditional, "other"), no(&[]));
        let dynamic = "globals()['main'] = lambda: 0\n";
        assert!(matches!(defines(dynamic, "main"), Defines::Unknown(_)));
    }

    #[test]
    fn strings_and_continuations_do_not_confuse_the_margin() {
        let source = "x = '''\ndef main():\n'''\ny = (1,\n2)\nz = 1 + \\\n    2\nw = 'it''s'\n";
        assert_eq!(defines(source, "main"), no(&[]));
        for name in ["x", "y", "z", "w"] {
            assert_eq!(defines(source, name), Defines::Yes, "{name}");
        }
        let lines = logical_lines(source);
        assert_eq!(lines.len(), 4, "{lines:?}");
    }
}
