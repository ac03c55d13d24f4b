//! Writing values into unit files so that systemd reads them back as
//! given: specifiers (`%`), the variable expansion of command lines (`$`),
//! quotes and C escapes (systemd.unit(5) "Specifiers", systemd.service(5)
//! "Command lines", systemd.exec(5) `Environment=`).

use super::values::refuse_control;
use crate::DeployError;

/// `%` doubled: in every value that expands specifiers.
pub(crate) fn specifiers(value: &str) -> String {
    value.replace('%', "%%")
}

/// One word of `ExecStart=`: bare when it holds nothing systemd would
/// interpret, otherwise in double quotes with `\` and `"` escaped. `%` and
/// `$` are doubled either way: quotes stop neither specifiers nor `$VAR`.
pub(crate) fn exec_word(what: &'static str, word: &str) -> Result<String, DeployError> {
    refuse_control(what, word)?;
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+=:,@%$".contains(c);
    let escaped = word.replace('%', "%%").replace('$', "$$");
    // A word of its own `;` separates commands in older systemd versions.
    if !word.is_empty() && word != ";" && word.chars().all(plain) {
        return Ok(escaped);
    }
    Ok(format!(
        "\"{}\"",
        escaped.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

/// The value of `Environment=` for one variable: the whole assignment in
/// double quotes, so spaces stay inside it; no `$` expansion happens there.
pub(crate) fn environment(key: &str, value: &str) -> String {
    let assignment = format!("{key}={value}");
    format!(
        "\"{}\"",
        specifiers(&assignment)
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_words_are_bare_when_they_can_be() {
        let word = |w| exec_word("the argument", w).unwrap();
        assert_eq!(word("/usr/bin/python3.11"), "/usr/bin/python3.11");
        assert_eq!(word("--bind=unix:/run/x"), "--bind=unix:/run/x");
        assert_eq!(word("app:make_app()"), "\"app:make_app()\"");
        assert_eq!(word("/srv/my app/a.pyz"), "\"/srv/my app/a.pyz\"");
        assert_eq!(word("100%"), "100%%");
        assert_eq!(word("$HOME"), "$$HOME");
        assert_eq!(word(r#"say "hi"\n"#), r#""say \"hi\"\\n""#);
        assert_eq!(word("it's"), "\"it's\"");
        assert_eq!(word(""), "\"\"");
        assert_eq!(word(";"), "\";\"");
        assert!(exec_word("the argument", "a\nb").is_err());
    }

    #[test]
    fn environment_assignments_are_quoted_whole() {
        assert_eq!(environment("A", "b c"), "\"A=b c\"");
        assert_eq!(environment("A", "50%"), "\"A=50%%\"");
        assert_eq!(environment("A", r#"x"y\"#), r#""A=x\"y\\""#);
        assert_eq!(environment("A", "$B"), "\"A=$B\"");
    }
}
