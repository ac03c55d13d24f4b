//! PEP 508 direct references (`name @ URL`): what the URL points at, read
//! once from the requirement so the pipeline never looks at URL text.
//!
//! Three kinds are understood, as pip understands them: `git+` URLs (pip's
//! VCS syntax, `@ref` and `#subdirectory=`), `file:` URLs of a local
//! wheel, sdist or project directory, and `http(s):` URLs of a wheel or
//! sdist (a `#sha256=` fragment is the digest the download must have).

use std::path::PathBuf;

use crate::{
    ExtraName, MarkerTree, PackageName, Requirement, SpecError, VerbatimUrl, VersionOrUrl,
};

/// Where a direct reference points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectSource {
    /// A repository to clone: the `git+…` URL, `@ref` and fragment included.
    Git(String),
    /// A wheel, sdist or project directory on this machine.
    Path(PathBuf),
    /// A wheel or sdist to download, with its fragment (`#sha256=…`).
    Remote(VerbatimUrl),
}

/// One `name[extras] @ URL ; marker` requirement.
#[derive(Debug, Clone)]
pub struct DirectReference {
    pub name: PackageName,
    pub extras: Vec<ExtraName>,
    pub marker: MarkerTree,
    pub source: DirectSource,
    /// The URL, for messages and to tell two references to one name apart.
    pub url: String,
}

impl DirectReference {
    /// The direct reference `requirement` is, or `None` when it names
    /// versions (or nothing) instead of a URL.
    pub fn from_requirement(requirement: &Requirement) -> Result<Option<Self>, SpecError> {
        let Some(VersionOrUrl::Url(url)) = &requirement.version_or_url else {
            return Ok(None);
        };
        let raw = url.raw();
        let invalid = |message: String| SpecError::DirectReference {
            requirement: requirement.to_string(),
            message,
        };
        let source = match raw.scheme() {
            "git+https" | "git+http" | "git+ssh" | "git+file" | "git+git" => {
                DirectSource::Git(raw.as_str().to_string())
            }
            "file" => {
                let path = raw.to_file_path().map_err(|()| {
                    invalid("a file: URL must name an absolute path on this machine".into())
                })?;
                DirectSource::Path(path)
            }
            "https" | "http" => DirectSource::Remote(url.clone()),
            scheme if scheme.contains('+') => {
                return Err(invalid(format!(
                    "`{scheme}` repositories are not supported, only git+ ones"
                )))
            }
            // `pep508_rs` refuses schemes it does not know before this.
            scheme => {
                return Err(invalid(format!(
                    "`{scheme}:` URLs are not supported (use https:, file: or git+)"
                )))
            }
        };
        if let DirectSource::Remote(remote) = &source {
            let name = remote
                .raw()
                .path_segments()
                .and_then(|mut s| s.next_back())
                .unwrap_or_default();
            if !is_archive(name) {
                return Err(invalid(format!(
                    "`{name}` is not a wheel (.whl) or an sdist (.tar.gz, .zip)"
                )));
            }
        }
        Ok(Some(DirectReference {
            name: requirement.name.clone(),
            extras: requirement.extras.clone(),
            marker: requirement.marker.clone(),
            url: raw.as_str().to_string(),
            source,
        }))
    }

    /// The requirement as a user would write it, for messages.
    pub fn describe(&self) -> String {
        format!("{} @ {}", self.name, self.url)
    }
}

fn is_archive(filename: &str) -> bool {
    [".whl", ".tar.gz", ".zip"]
        .iter()
        .any(|s| filename.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(text: &str) -> Result<Option<DirectReference>, SpecError> {
        DirectReference::from_requirement(&crate::parse_requirement(text).unwrap())
    }

    #[test]
    fn each_kind_of_url() {
        let r =
            direct("six[x] @ file:///tmp/w/six-1.17.0-py2.py3-none-any.whl ; os_name == 'posix'")
                .unwrap()
                .unwrap();
        assert_eq!(
            r.source,
            DirectSource::Path(PathBuf::from("/tmp/w/six-1.17.0-py2.py3-none-any.whl"))
        );
        assert_eq!(r.extras.len(), 1);
        assert!(!r.marker.is_true());
        let r = direct("app @ git+https://h/o/r.git@v1#subdirectory=app")
            .unwrap()
            .unwrap();
        assert_eq!(
            r.source,
            DirectSource::Git("git+https://h/o/r.git@v1#subdirectory=app".into())
        );
        let r = direct("tomli @ https://h/f/tomli-2.5.0.tar.gz#sha256=00")
            .unwrap()
            .unwrap();
        match &r.source {
            DirectSource::Remote(url) => assert_eq!(url.raw().fragment(), Some("sha256=00")),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            r.describe(),
            "tomli @ https://h/f/tomli-2.5.0.tar.gz#sha256=00"
        );
        // Percent-encoded paths come out decoded.
        let r = direct("p @ file:///tmp/a%20b/proj").unwrap().unwrap();
        assert_eq!(r.source, DirectSource::Path(PathBuf::from("/tmp/a b/proj")));
        assert!(direct("six>=1").unwrap().is_none());
    }

    #[test]
    fn unsupported_urls_name_the_requirement() {
        let message = |text: &str| direct(text).unwrap_err().to_string();
        assert_eq!(
            message("x @ hg+https://h/r"),
            "unsupported direct reference `x @ hg+https://h/r`: `hg+https` repositories are not supported, only git+ ones"
        );
        assert_eq!(
            message("x @ https://h/download?id=3"),
            "unsupported direct reference `x @ https://h/download?id=3`: `download` is not a wheel (.whl) or an sdist (.tar.gz, .zip)"
        );
        assert!(message("x @ file://elsewhere/tmp/x").contains("absolute path on this machine"));
    }
}
