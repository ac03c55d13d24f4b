//! Project pages of the simple repository API: PEP 691 JSON, and PEP 503
//! HTML (also the format of find-links pages). Both become `DistFile`s with
//! the index's digest, `requires-python`, yanked flag (PEP 592) and
//! metadata-file availability (PEP 658, renamed by PEP 714).

use std::str::FromStr;

use pyzap_spec::VersionSpecifiers;
use url::Url;

use crate::find_links::{classify, FileLocation};
use crate::DistFile;

/// The `Accept` header: JSON preferred, HTML accepted (PEP 691 "Version + Format Selection").
pub const ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

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

fn specifiers(text: &str) -> Option<VersionSpecifiers> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    VersionSpecifiers::from_str(text).ok()
}

/// Every `<a href>` whose target is named like a distribution.
pub fn parse_html(body: &str, base: &Url) -> Vec<DistFile> {
    let mut base = base.clone();
    if let Some(href) = find_base_href(body) {
        if let Ok(b) = base.join(&href) {
            base = b;
        }
    }
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = find_ci(rest, "<a ") {
        rest = &rest[start + 3..];
        let Some(end) = rest.find('>') else { break };
        let attrs = parse_attrs(&rest[..end]);
        rest = &rest[end + 1..];
        let get = |name: &str| attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        let Some(href) = get("href") else { continue };
        let Ok(url) = base.join(href) else { continue };
        let filename = url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .map(percent_decode_path)
            .unwrap_or_default();
        // A `sha256=` fragment or metadata digest that is not exactly 64 hex
        // digits drops the file (PEP 503: the fragment is `<hashname>=<hexdigest>`).
        let sha256 = match url.fragment().and_then(|f| f.strip_prefix("sha256=")) {
            Some(h) => match sha256_digest(h) {
                Some(h) => Some(h),
                None => continue,
            },
            None => None,
        };
        let core_metadata =
            match get("data-core-metadata").or_else(|| get("data-dist-info-metadata")) {
                None => None,
                Some(v) => match v.trim().strip_prefix("sha256=") {
                    None => Some(None),
                    Some(h) => match sha256_digest(h) {
                        Some(h) => Some(Some(h)),
                        None => continue,
                    },
                },
            };
        let Some(mut file) = classify(&filename, FileLocation::Url(url)) else {
            continue;
        };
        file.sha256 = sha256;
        file.requires_python = get("data-requires-python").and_then(|s| specifiers(s));
        file.yanked = get("data-yanked").cloned();
        file.core_metadata = core_metadata;
        out.push(file);
    }
    out
}

fn find_base_href(body: &str) -> Option<String> {
    let start = find_ci(body, "<base ")?;
    let end = body[start..].find('>')? + start;
    parse_attrs(&body[start + 6..end])
        .into_iter()
        .find(|(k, _)| k == "href")
        .map(|(_, v)| v)
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// `key="value" key='value' key=value key` → (lowercase key, unescaped value).
fn parse_attrs(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' {
            i += 1;
        }
        if start == i {
            break;
        }
        let key = text[start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let value = if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let quote = b[i];
                let vstart = i + 1;
                let vend = b[vstart..]
                    .iter()
                    .position(|c| *c == quote)
                    .map_or(b.len(), |p| vstart + p);
                i = (vend + 1).min(b.len());
                &text[vstart..vend]
            } else {
                let vstart = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                &text[vstart..i]
            };
            out.push((key, unescape(value)));
        } else {
            out.push((key, String::new()));
        }
    }
    out
}

fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        let Some(end) = rest.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let ch = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
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
    fn html_anchors_with_pep_503_658_592_attributes() {
        let base = Url::parse("https://idx.example/simple/flask/").unwrap();
        let body = r#"<html><body>
<a href="../../files/flask-3.0.3-py3-none-any.whl#sha256=ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB" data-requires-python="&gt;=3.8" data-dist-info-metadata="sha256=efefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefef">flask-3.0.3-py3-none-any.whl</a><br/>
<A HREF='/files/flask-3.1.3-py3-none-any.whl' data-yanked="broken" data-core-metadata="true">x</A>
<a href="notes.txt">notes</a>
<a href="/files/flask-2.0.0-py3-none-any.whl#sha256=abcd">a short digest: dropped</a>
</body></html>"#;
        let files = parse_html(body, &base);
        assert_eq!(files.len(), 2);
        assert_eq!(
            files[0].location,
            FileLocation::Url(
                Url::parse("https://idx.example/files/flask-3.0.3-py3-none-any.whl#sha256=ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB")
                    .unwrap()
            )
        );
        assert_eq!(
            files[0].sha256.as_deref(),
            Some("abababababababababababababababababababababababababababababababab")
        );
        assert_eq!(
            files[0].requires_python.as_ref().unwrap().to_string(),
            ">=3.8"
        );
        assert_eq!(
            files[0].core_metadata,
            Some(Some(
                "efefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefef".into()
            ))
        );
        assert_eq!(files[0].yanked, None);
        assert_eq!(files[1].yanked.as_deref(), Some("broken"));
        assert_eq!(files[1].core_metadata, Some(None));
    }

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
