//! The one door into the `pep508_rs`/`pep440_rs` parsers: requirements,
//! versions and specifiers from text, never a panic.
//!
//! `pep508_rs` 0.9 panics on some malformed requirements instead of returning
//! an error. Each shape is rejected here before the text reaches it:
//!
//! - a name or extra that ends in `.`, `-` or `_` with more text after it
//!   (`foo.>=1`, `a[b-]`): the `expect`s in `parse_name` (`lib.rs:477`) and
//!   `parse_extras_cursor` (`lib.rs:658`);
//! - a reversed `~=` against a string marker (`"x" ~= os_name`): the
//!   `unreachable!` in `Edges::from_string` (`marker/algebra.rs:735`);
//! - a number near `u64::MAX` in a marker (`python_version >
//!   "3.18446744073709551615"`): `+ 1` overflows in the marker algebra
//!   (`marker/algebra.rs:1135`, `simplify.rs:338`, `pep440_rs`'
//!   `version_ranges.rs:174`); in a specifier (`a==1.18446744073709551615.*`)
//!   the same overflow waits in `Ranges::from` (`version_ranges.rs:32–91`),
//!   which the resolver calls, so such numbers are refused here too;
//! - non-ASCII text where a marker may continue (`os_name == 'x' é`): the
//!   parser counts the next word in characters and slices that many bytes
//!   (`marker/parse.rs:525`, `cursor.rs:40`);
//! - deeply nested marker parentheses: the recursive-descent parser overflows
//!   the stack, which aborts the process and cannot be caught at all;
//! - `${PROJECT_ROOT}` while the current directory is gone: `unwrap` in
//!   `expand_env_vars` (`verbatim_url.rs:329`).
//!
//! Checking first is the fix, not catching: the marker panics happen while
//! `pep508_rs` holds its global marker interner lock, so one of them poisons
//! that lock and every later marker in the process panics as well. The calls
//! are still wrapped in `catch_unwind` as a last line of defence for shapes
//! nobody has found yet. The panic hook is left alone: it is process-wide, and
//! swapping it around each call would race with other threads' panics (and
//! hide them). So such a panic still prints the hook's message, a bug report,
//! but the user gets an error naming the input instead of a crash.

use std::panic::{catch_unwind, UnwindSafe};
use std::str::FromStr;

use pep508_rs::MarkerValue;

use crate::{Requirement, SpecError, Version, VersionOrUrl, VersionSpecifiers};

/// More `(` than this in a marker is refused: each level costs the parser a
/// few KiB of stack, and a 2 MiB thread overflows at roughly 600.
const MAX_MARKER_PARENS: usize = 100;

/// Version numbers are capped at 18 digits, well below `u64::MAX`, so the
/// `+ 1` that `pep440_rs` applies when it turns specifiers into ranges cannot
/// overflow. No real version comes near this.
const MAX_VERSION_NUMBER: u64 = 999_999_999_999_999_999;
const MAX_VERSION_DIGITS: usize = 18;

/// Parses one PEP 508 requirement line (`flask>=3`, `requests[socks]; python_version<"3.12"`).
pub fn parse_requirement(text: &str) -> Result<Requirement, SpecError> {
    let text = text.trim();
    let invalid = |message: String| SpecError::Requirement {
        text: text.to_string(),
        message,
    };
    check_shape(text).map_err(invalid)?;
    let requirement = guard(|| text.parse::<Requirement>())
        .map_err(invalid)?
        .map_err(|err| invalid(lowercase_first(&err.message.to_string())))?;
    if let Some(VersionOrUrl::VersionSpecifier(specifiers)) = &requirement.version_or_url {
        check_numbers(specifiers).map_err(invalid)?;
    }
    Ok(requirement)
}

/// Parses a PEP 440 version (`2.32.5`, `1!2.0rc1.post3`).
pub(crate) fn parse_version(text: &str) -> Result<Version, SpecError> {
    let invalid = |message: String| SpecError::Version {
        text: text.to_string(),
        message,
    };
    guard(|| Version::from_str(text))
        .map_err(invalid)?
        .map_err(|err| invalid(err.to_string()))
}

/// Parses PEP 440 specifiers (`>=3.8, !=3.9.*`).
pub(crate) fn parse_specifiers(text: &str) -> Result<VersionSpecifiers, SpecError> {
    let invalid = |message: String| SpecError::Version {
        text: text.to_string(),
        message,
    };
    guard(|| VersionSpecifiers::from_str(text))
        .map_err(invalid)?
        .map_err(|err| invalid(err.to_string()))
}

/// Runs a foreign parser, turning a panic into an error message.
pub(crate) fn guard<T>(parse: impl FnOnce() -> T + UnwindSafe) -> Result<T, String> {
    catch_unwind(parse)
        .map_err(|_| "the parser crashed on this input (a bug: please report it)".to_string())
}

/// Rejects the shapes that make `pep508_rs` panic (see the module docs).
fn check_shape(text: &str) -> Result<(), String> {
    check_name_and_extras(text)?;
    if let Some((_, marker)) = text.split_once(';') {
        check_marker(marker)?;
        check_words(text)?;
    }
    if text.contains("${PROJECT_ROOT}")
        && std::env::var("PROJECT_ROOT").is_err()
        && std::env::current_dir().is_err()
    {
        return Err("`${PROJECT_ROOT}` cannot be expanded: the current directory is gone".into());
    }
    Ok(())
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

/// A name-character run that `pep508_rs` reads as a name or extra (it starts
/// with a letter or digit) but that ends in punctuation.
fn ends_badly(run: &str) -> bool {
    run.starts_with(|c: char| c.is_ascii_alphanumeric()) && run.ends_with(['.', '-', '_'])
}

/// PEP 508 names and extras must end with a letter or digit. `pep508_rs`
/// reads a name or extra as a maximal run of `[A-Za-z0-9._-]` starting with a
/// letter or digit, and panics when the run ends in punctuation and more text
/// follows; the same runs are checked here.
fn check_name_and_extras(text: &str) -> Result<(), String> {
    let end = text.find(|c: char| !is_name_char(c)).unwrap_or(text.len());
    let (name, rest) = text.split_at(end);
    if ends_badly(name) {
        return Err(format!("name `{name}` must end with a letter or digit"));
    }
    let Some(extras) = rest.trim_start().strip_prefix('[') else {
        return Ok(());
    };
    let extras = extras.split(']').next().unwrap_or_default();
    match extras
        .split(|c: char| !is_name_char(c))
        .find(|run| ends_badly(run))
    {
        Some(run) => Err(format!("extra `{run}` must end with a letter or digit")),
        None => Ok(()),
    }
}

/// Checks the text after the first `;`: the marker, or, in a URL requirement
/// whose URL holds a `;`, a little more. Quotes are not tracked here, so a
/// false alarm needs a URL or a quoted value with a 19-digit number, over 100
/// `(` or a `~=`; none is a real marker, and the error says what it found.
fn check_marker(marker: &str) -> Result<(), String> {
    let parens = marker.matches('(').count();
    if parens > MAX_MARKER_PARENS {
        return Err(format!(
            "marker `{}` has {parens} parentheses; at most {MAX_MARKER_PARENS} are allowed",
            marker.trim()
        ));
    }
    if let Some(number) = marker
        .split(|c: char| !c.is_ascii_digit())
        .find(|digits| digits.trim_start_matches('0').len() > MAX_VERSION_DIGITS)
    {
        return Err(format!(
            "number `{number}` in marker `{}` is too large (at most {MAX_VERSION_DIGITS} digits)",
            marker.trim()
        ));
    }
    check_reversed_tilde(marker)
}

const OUTSIDE: u8 = 1;
const IN_SINGLE: u8 = 2;
const IN_DOUBLE: u8 = 4;

/// After each marker expression `pep508_rs` looks for `and`/`or`: it counts
/// the characters up to the next white space and slices that many *bytes*,
/// which panics inside a multi-byte character (`'x' é`, `'x'xé`). Every
/// position where such a word can start, outside quoted values and right
/// after an expression, is checked; text inside quoted values is never
/// sliced that way, so real markers with non-ASCII values still parse.
fn check_words(text: &str) -> Result<(), String> {
    if text.is_ascii() {
        return Ok(());
    }
    let states = quote_states(text);
    // Backwards, counting the characters from each position to the word's end.
    let mut chars = 0;
    for (i, c) in text.char_indices().rev() {
        if c.is_whitespace() {
            chars = 0;
            continue;
        }
        chars += 1;
        if !text.is_char_boundary(i + chars)
            && states[i] & OUTSIDE != 0
            && follows_expression(&text[..i], &states)
        {
            let word = text[i..]
                .split(char::is_whitespace)
                .next()
                .unwrap_or_default();
            return Err(format!("unexpected non-ASCII text `{word}` in a marker"));
        }
    }
    Ok(())
}

/// For each byte offset, the quote states the marker parser may be in just
/// before that character: outside, in `'…'` or in `"…"`. Where the marker
/// starts is not known here (after the first `;`, or, for a URL holding a
/// `;`, at a later `;` after white space), so all starts are followed at once.
fn quote_states(text: &str) -> Vec<u8> {
    let step = |states: u8, c: char| {
        let mut next = 0;
        if states & OUTSIDE != 0 {
            next |= match c {
                '\'' => IN_SINGLE,
                '"' => IN_DOUBLE,
                _ => OUTSIDE,
            };
        }
        if states & IN_SINGLE != 0 {
            next |= if c == '\'' { OUTSIDE } else { IN_SINGLE };
        }
        if states & IN_DOUBLE != 0 {
            next |= if c == '"' { OUTSIDE } else { IN_DOUBLE };
        }
        next
    };
    let mut out = vec![0; text.len()];
    let (mut states, mut seen_semicolon, mut previous) = (0, false, None);
    for (i, c) in text.char_indices() {
        out[i] = states;
        states = step(states, c);
        if c == ';' && (!seen_semicolon || previous.is_some_and(char::is_whitespace)) {
            states |= OUTSIDE; // a marker may start after this `;`
            seen_semicolon = true;
        }
        previous = Some(c);
    }
    out
}

/// Whether `before` (the text up to a position) may end with a marker
/// expression, after which the parser looks for `and`/`or`: a closing quote,
/// a `)` or a marker variable (`'3.8' < python_version`), and any white space.
fn follows_expression(before: &str, states: &[u8]) -> bool {
    let before = before.trim_end();
    match before.char_indices().next_back() {
        Some((_, ')')) => true,
        Some((i, '\'')) => states[i] & IN_SINGLE != 0,
        Some((i, '"')) => states[i] & IN_DOUBLE != 0,
        Some(_) => {
            // Variable names are lowercase ASCII, `_` and `.`, 30 at most.
            let name = before
                .bytes()
                .rev()
                .take(31)
                .take_while(|b| b.is_ascii_lowercase() || matches!(b, b'_' | b'.'))
                .count();
            MarkerValue::from_str(&before[before.len() - name..]).is_ok()
        }
        None => false,
    }
}

/// `"x" ~= os_name`: `pep508_rs` ignores `os_name ~= "x"` (with a warning)
/// but builds the reversed form and then panics on it.
fn check_reversed_tilde(marker: &str) -> Result<(), String> {
    const OPERATOR: [char; 5] = ['<', '=', '>', '~', '!'];
    let mut rest = marker;
    while let Some((before, after)) = rest.split_once("~=") {
        rest = after;
        if before.ends_with(OPERATOR) || after.starts_with(OPERATOR) {
            continue; // part of a longer operator, which pep508_rs rejects
        }
        let word = after
            .trim_start()
            .split(|c: char| c.is_whitespace() || matches!(c, '>' | '=' | '<' | '!' | '~' | ')'))
            .next()
            .unwrap_or_default();
        if let Ok(MarkerValue::MarkerEnvString(_)) = MarkerValue::from_str(word) {
            return Err(format!(
                "`~=` compares versions, not the string marker `{word}`"
            ));
        }
    }
    Ok(())
}

/// Refuses version numbers whose `+ 1` could overflow in `pep440_rs`.
fn check_numbers(specifiers: &VersionSpecifiers) -> Result<(), String> {
    for specifier in specifiers.iter() {
        let v = specifier.version();
        let numbers = std::iter::once(v.epoch())
            .chain(v.release().iter().copied())
            .chain(v.pre().map(|pre| pre.number))
            .chain(v.post())
            .chain(v.dev());
        for number in numbers {
            if number > MAX_VERSION_NUMBER {
                return Err(format!(
                    "number `{number}` in `{specifier}` is too large (at most {MAX_VERSION_DIGITS} digits)"
                ));
            }
        }
    }
    Ok(())
}

/// `pep508_rs` messages start with a capital (`Expected …`); ours do not.
/// Acronyms (`URL requirement …`) are left alone.
fn lowercase_first(message: &str) -> String {
    let mut chars = message.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_ascii_uppercase() && second.is_lowercase() => {
            let mut out = String::with_capacity(message.len());
            out.push(first.to_ascii_lowercase());
            out.push_str(&message[first.len_utf8()..]);
            out
        }
        _ => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> String {
        parse_requirement(text).unwrap_err().to_string()
    }

    #[test]
    fn requirement_foo_dot_ge_does_not_panic() {
        assert_eq!(
            message("foo.>=1"),
            "invalid requirement `foo.>=1`: name `foo.` must end with a letter or digit"
        );
        for text in [
            "foo-[x]",
            "foo_ ; os_name == 'a'",
            "a-.(>=1)",
            "foo. @ https://x/y",
        ] {
            assert!(parse_requirement(text).is_err(), "{text}");
        }
    }

    #[test]
    fn requirement_extra_ending_in_dash_does_not_panic() {
        assert_eq!(
            message("a[b-]"),
            "invalid requirement `a[b-]`: extra `b-` must end with a letter or digit"
        );
        for text in ["a[b-", "a [x, b.,c]", "a[b_ ]>=1"] {
            assert!(parse_requirement(text).is_err(), "{text}");
        }
    }

    #[test]
    fn requirement_reversed_tilde_string_marker_does_not_panic() {
        assert_eq!(
            message("a; 'x' ~= os_name"),
            "invalid requirement `a; 'x' ~= os_name`: `~=` compares versions, not the string marker `os_name`"
        );
        assert!(parse_requirement("a; \"x\"~=sys.platform").is_err());
        // A reversed `~=` on a version marker is valid PEP 508 and still parses.
        assert!(parse_requirement("a; '3.8' ~= python_version").is_ok());
        // Markers still work after the rejected ones (the interner lock is not poisoned).
        assert!(parse_requirement("a; os_name == 'posix' and python_version < '3.12'").is_ok());
    }

    #[test]
    fn requirement_huge_marker_version_does_not_panic() {
        for text in [
            "a; python_version > \"3.18446744073709551615\"",
            "a; python_version <= '3.18446744073709551615'",
            "a; python_full_version ~= '3.18446744073709551615'",
            "a; python_full_version == '18446744073709551615.*'",
            "a; python_version in '3.0000018446744073709551615'",
        ] {
            let err = message(text);
            assert!(err.contains("is too large"), "{err}");
        }
        assert!(parse_requirement("a; python_version > '3.999999999999999999'").is_ok());
    }

    #[test]
    fn requirement_huge_specifier_version_is_refused() {
        for text in [
            "a==1.18446744073709551615.*",
            "a>1.post18446744073709551615",
            "a~=1.18446744073709551615.0",
            "a>1.dev18446744073709551615",
            "a>=18446744073709551615!1",
        ] {
            let err = message(text);
            assert!(err.contains("is too large"), "{err}");
        }
    }

    #[test]
    fn requirement_non_ascii_after_marker_does_not_panic() {
        assert_eq!(
            message("a; os_name == 'x' é"),
            "invalid requirement `a; os_name == 'x' é`: unexpected non-ASCII text `é` in a marker"
        );
        for text in [
            "a; os_name == 'x'é",
            "a; os_name == 'x' xé",
            "a ; python_version == '0' and (python_version == \"\"Σਪ\")",
        ] {
            assert!(
                message(text).contains("unexpected non-ASCII text"),
                "{text}"
            );
        }
        // A `;` after white space may start the marker of a URL requirement.
        assert!(message("a @ https://x/a;b'c ; os_name == 'x' xé").contains("non-ASCII"));
        // Non-ASCII inside quoted values is left to pep508_rs.
        for text in [
            "a; platform_version == 'Über'",
            "a ; os_name == '®\u{1772}a'",
            "a ; (os_name == \"®\u{1772}a\" or os_name == 'ab\u{1772}')",
        ] {
            parse_requirement(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
    }

    #[test]
    fn requirement_deeply_nested_marker_does_not_overflow_the_stack() {
        let text = format!("a; {}os_name == 'x'{}", "(".repeat(5000), ")".repeat(5000));
        assert!(message(&text).contains("5000 parentheses"));
        let ok = format!("a; {}os_name == 'x'{}", "(".repeat(20), ")".repeat(20));
        assert!(parse_requirement(&ok).is_ok());
    }

    #[test]
    fn foreign_messages_are_lowercase() {
        assert_eq!(
            message("a (>=1"),
            "invalid requirement `a (>=1`: missing closing parenthesis (expected ')', found end of dependency specification)"
        );
        assert_eq!(lowercase_first("URL requirement"), "URL requirement");
        assert_eq!(lowercase_first("É"), "É");
    }

    #[test]
    fn valid_requirements_still_parse() {
        for text in [
            "flask>=3",
            "requests[socks, security] == 2.32.5 ; python_version < '3.12'",
            "a.b-c_d[e.f-g]",
            "pkg @ https://example.org/pkg-1.0-py3-none-any.whl ; os_name == 'posix'",
            "x ; '3.8' <= python_version and (sys_platform == 'linux' or extra == 'y')",
        ] {
            parse_requirement(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
    }

    #[test]
    fn versions_and_specifiers() {
        assert_eq!(parse_version("1.0.post1").unwrap().to_string(), "1.0.post1");
        assert!(parse_version("1..0")
            .unwrap_err()
            .to_string()
            .starts_with("invalid version `1..0`"));
        assert!(parse_specifiers(">=3.8, !=3.9.*").is_ok());
        assert!(parse_specifiers(">=é").is_err());
    }

    #[test]
    fn guard_turns_a_panic_into_an_error() {
        // The default hook prints this panic to the test's captured output.
        let err = guard(|| -> u8 { panic!("boom") }).unwrap_err();
        assert!(err.starts_with("the parser crashed"), "{err}");
    }
}
