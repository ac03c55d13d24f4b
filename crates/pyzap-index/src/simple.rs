//! Project pages of the simple repository API: PEP 691 JSON, and PEP 503
//! HTML (also the format of find-links pages; read in `html`). Both become
//! `DistFile`s with the index's digest, `requires-python`, yanked flag
//! (PEP 592) and metadata-file availability (PEP 658, renamed by PEP 714).

use std::str::FromStr;

use pyzap_spec::VersionSpecifiers;
use url::Url;

use crate::find_links::{classify, FileLocation};
use crate::DistFile;

mod html;

pub use html::parse_html;

/// The `Accept` header: JSON preferred, HTML accepted (PEP 691 "Version + Format Selection").
pub(crate) const ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// Parses a project page served with `content_type` from `base`.
pub fn parse_page(body: &str, content_type: &str, base: &Url) -> Result<Vec<DistFile>, String> {
    if content_type.contains("json") {
        parse_json(body, base)
    } else {
        Ok(parse_html(body, base))
    }
}

#[derive(serde::Deserialize)]
struct JsonPage {
    files: Vec<JsonFile>,
}

#[derive(serde::Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: std::collections::BTreeMap<String, String>,
    #[serde(rename = "requires-python")]
    requires_python: Option<String>,
    #[serde(default)]
    yanked: serde_json::Value,
    #[serde(rename = "core-metadata")]
    core_metadata: Option<serde_json::Value>,
    #[serde(rename = "dist-info-metadata")]
    dist_info_metadata: Option<serde_json::Value>,
}

fn parse_json(body: &str, base: &Url) -> Result<Vec<DistFile>, String> {
    let page: JsonPage = serde_json::from_str(body).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for f in page.files {
        let Ok(url) = base.join(&f.url) else { continue };
        let Some(mut file) = classify(&f.filename, FileLocation::Url(url)) else {
            continue;
        };
        // A digest that is not exactly a sha256 drops the file: it names a
        // cache entry, so a hostile value could otherwise point anywhere.
        file.sha256 = match f.hashes.get("sha256") {
            Some(h) => match sha256_digest(h) {
                Some(h) => Some(h),
                None => continue,
            },
            None => None,
        };
        file.requires_python = f.requires_python.as_deref().and_then(specifiers);
        file.yanked = match f.yanked {
            serde_json::Value::Bool(true) => Some(String::new()),
            serde_json::Value::String(reason) => Some(reason),
            _ => None,
        };
        // PEP 714: `core-metadata` wins; `dist-info-metadata` is the old name.
        file.core_metadata = match f.core_metadata.or(f.dist_info_metadata) {
            Some(serde_json::Value::Bool(true)) => Some(None),
            Some(serde_json::Value::Object(map)) => match map.get("sha256") {
                None => Some(None),
                Some(v) => match v.as_str().and_then(sha256_digest) {
                    Some(h) => Some(Some(h)),
                    None => continue,
                },
            },
            _ => None,
        };
        out.push(file);
    }
    Ok(out)
}

/// `text` as a lowercase sha256 hex digest, or `None` unless it is exactly 64 hex digits.
pub(crate) fn sha256_digest(text: &str) -> Option<String> {
    let text = text.trim();
    (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}

pub(crate) fn specifiers(text: &str) -> Option<VersionSpecifiers> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    VersionSpecifiers::from_str(text).ok()
}

pub(crate) fn percent_decode_path(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_page() {
        let base = Url::parse("https://idx.example/simple/six/").unwrap();
        let body = r#"{"meta":{"api-version":"1.1"},"name":"six","files":[
 {"filename":"six-1.17.0-py2.py3-none-any.whl","url":"/f/six-1.17.0-py2.py3-none-any.whl","hashes":{"sha256":"ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB"},"requires-python":">=2.7, !=3.0.*","yanked":false,"core-metadata":{"sha256":"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"}},
 {"filename":"six-1.15.0-py2.py3-none-any.whl","url":"/f/six-1.15.0-py2.py3-none-any.whl","hashes":{"sha256":"../x"}},
 {"filename":"six-1.16.0.tar.gz","url":"https://other.example/six-1.16.0.tar.gz","hashes":{},"yanked":"bad","dist-info-metadata":true},
 {"filename":"junk.txt","url":"junk.txt","hashes":{}}]}"#;
        let files = parse_page(body, "application/vnd.pypi.simple.v1+json", &base).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(
            files[0].sha256.as_deref(),
            Some("abababababababababababababababababababababababababababababababab")
        );
        assert_eq!(
            files[0].core_metadata,
            Some(Some(
                "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd".into()
            ))
        );
        assert!(files[0].requires_python.is_some());
        assert_eq!(files[1].yanked.as_deref(), Some("bad"));
        assert_eq!(files[1].core_metadata, Some(None));
        assert!(parse_page("{", "application/json", &base).is_err());
    }
}
