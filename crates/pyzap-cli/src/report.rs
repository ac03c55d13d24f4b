//! The one error report: `error: …`, then `caused by: …` for each source (a
//! cause whose text an earlier line already holds is not repeated), then
//! the `hint: …` lines of every error in the chain. Rendered as text; the
//! command prints it to stderr.

use std::error::Error;
use std::fmt::Write as _;

use pyzap_bundle::{BundleError, ResolveError};

/// The report of `err` and its source chain, every line ending with `\n`.
pub fn render(err: &(dyn Error + 'static)) -> String {
    let mut heads: Vec<String> = Vec::new();
    let mut hints: Vec<String> = Vec::new();
    let mut cause = Some(err);
    while let Some(e) = cause {
        if let Some(e) = e.downcast_ref::<BundleError>() {
            hints.extend(e.hints());
        } else if let Some(e) = e.downcast_ref::<ResolveError>() {
            hints.extend(e.hints());
        } else if let Some(e) = e.downcast_ref::<pyzap_deploy::DeployError>() {
            hints.extend(e.hints());
        }
        let head = e.to_string();
        if !head.is_empty() && !heads.iter().any(|h| h.contains(&head)) {
            heads.push(head);
        }
        cause = e.source();
    }
    let mut heads = heads.into_iter();
    let mut out = format!("error: {}\n", heads.next().unwrap_or_default());
    for head in heads {
        let _ = writeln!(out, "  caused by: {head}");
    }
    for hint in hints {
        let _ = writeln!(out, "hint: {hint}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_follow_the_error_and_hints_of_boxed_sources_come_last() {
        let err = BundleError::BuildRequirements {
            dir: "proj".into(),
            requires: "setuptools".into(),
            source: Box::new(ResolveError::NoSolution {
                explanation: "setuptools is not available".into(),
                hints: vec!["no distribution named `setuptools` was found".into()],
            }),
        };
        assert_eq!(
            render(&err),
            "error: resolving the build requirements of proj (setuptools)\n  \
             caused by: no set of distributions satisfies the requirements:\n\
             setuptools is not available\n\
             hint: no distribution named `setuptools` was found\n"
        );
    }
}
