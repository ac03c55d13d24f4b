//! PEP 503 HTML project pages, which are also the format of find-links pages
//! and close to the directory listings web servers write: every `<a href>`
//! whose target is named like a distribution, with its `#sha256=` fragment,
//! `data-requires-python`, `data-yanked` (PEP 592) and
//! `data-core-metadata` / `data-dist-info-metadata` (PEP 658, PEP 714).
//!
//! Pages are read by `html5gum`, a tokenizer that implements the WHATWG
//! tokenization rules (HTML § 13.2.5) and passes html5lib's tokenizer tests.
//! A page is then read as a browser reads it: any whitespace between
//! attributes (newlines after `<a`), a `>` inside a quoted value
//! (`data-requires-python=">=3.12"`), single-quoted and unquoted values, any
//! letter case of names, character references in values (`&gt;=3.8`), and
//! markup inside comments or `<script>` that is no link at all. Only the
//! attributes of `<a>` and `<base>` matter here, so a tokenizer is enough:
//! no tree is built. html5gum decodes character references itself, has no
//! dependencies and no unsafe code. `tl` (which uv uses) says it does not
//! follow the specification and leaves character references to its caller,
//! and html5ever's tokenizer brings its string-interning crates for the same
//! tokens.
//!
//! Being a tokenizer only, html5gum cannot know which elements hold raw text
//! (the tree builder decides that); its naive switching treats the contents
//! of `<script>`, `<style>`, `<title>`, `<textarea>`, `<noscript>` and the
//! like as text, which no index page puts links in.

use std::collections::BTreeMap;

use html5gum::{DefaultEmitter, HtmlString, Spanned, Token, Tokenizer};
use url::Url;

use super::{percent_decode_path, sha256_digest, specifiers};
use crate::find_links::{classify, FileLocation};
use crate::DistFile;

/// The attributes of one start tag: names in lowercase (the tokenizer's
/// doing), values with character references decoded. A name given twice
/// keeps its first value, as the WHATWG rules say.
type Attributes = BTreeMap<String, String>;

/// Every `<a href>` whose target is named like a distribution, resolved
/// against the page's `<base href>` if it has one, else against `base`.
pub fn parse_html(body: &str, base: &Url) -> Vec<DistFile> {
    let tags = Tags::read(body);
    // A base that does not resolve is ignored, as a browser ignores it.
    let base = tags
        .base_href
        .and_then(|href| base.join(&href).ok())
        .unwrap_or_else(|| base.clone());
    tags.anchors
        .iter()
        .filter_map(|anchor| dist_file(anchor, &base))
        .collect()
}

/// The tags of a page that name files.
struct Tags {
    /// The `href` of the first `<base>` that has one: a document's base URL
    /// comes from that element alone (HTML § 4.2.3), for links before it too.
    base_href: Option<String>,
    /// The attributes of every `<a>`, in page order.
    anchors: Vec<Attributes>,
}

impl Tags {
    fn read(body: &str) -> Tags {
        let mut emitter = DefaultEmitter::default();
        emitter.naively_switch_states(true);
        let mut tags = Tags {
            base_href: None,
            anchors: Vec::new(),
        };
        // Reading a `&str` cannot fail: the error type is `Infallible`.
        for Ok(token) in Tokenizer::new_with_emitter(body, emitter) {
            // Parse errors (a missing space between attributes, an unclosed
            // tag at the end) are recovered from by the tokenizer, as a
            // browser recovers: the tokens that follow are still read.
            let Token::StartTag(tag) = token else {
                continue;
            };
            match tag.name.as_slice() {
                b"a" => tags.anchors.push(attributes(tag.attributes)),
                b"base" if tags.base_href.is_none() => {
                    tags.base_href = attributes(tag.attributes).remove("href");
                }
                _ => {}
            }
        }
        tags
    }
}

fn attributes(raw: BTreeMap<HtmlString, Spanned<HtmlString, ()>>) -> Attributes {
    raw.into_iter()
        .map(|(name, value)| {
            (
                String::from_utf8_lossy(&name).into_owned(),
                String::from_utf8_lossy(&value.value).into_owned(),
            )
        })
        .collect()
}

/// The file an anchor offers, or `None` when its target is not named like
/// a distribution or when it carries a digest that is not a sha256.
fn dist_file(anchor: &Attributes, base: &Url) -> Option<DistFile> {
    let get = |name: &str| anchor.get(name).map(String::as_str);
    let url = base.join(get("href")?).ok()?;
    let filename = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .map(percent_decode_path)
        .unwrap_or_default();
    // A `sha256=` fragment or metadata digest that is not exactly 64 hex
    // digits drops the file (PEP 503: the fragment is `<hashname>=<hexdigest>`):
    // a digest names a cache entry, so a hostile value could otherwise
    // point anywhere.
    let sha256 = match url.fragment().and_then(|f| f.strip_prefix("sha256=")) {
        Some(h) => Some(sha256_digest(h)?),
        None => None,
    };
    // PEP 714: `data-core-metadata` wins; `data-dist-info-metadata` is the
    // name PEP 658 gave it first.
    let core_metadata = match get("data-core-metadata").or_else(|| get("data-dist-info-metadata")) {
        None => None,
        Some(v) => match v.trim().strip_prefix("sha256=") {
            None => Some(None),
            Some(h) => Some(Some(sha256_digest(h)?)),
        },
    };
    let mut file = classify(&filename, FileLocation::Url(url))?;
    file.sha256 = sha256;
    file.requires_python = get("data-requires-python").and_then(specifiers);
    // PEP 592: the attribute yanks the file, with or without a reason.
    file.yanked = get("data-yanked").map(str::to_string);
    file.core_metadata = core_metadata;
    Some(file)
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
    fn the_first_base_with_an_href_counts_even_for_earlier_links() {
        let body = r#"<a href="six-1.17.0.tar.gz">six</a>
<base target="_blank"><base href="https://mirror.example/six/"><base href="https://other.example/">"#;
        let files = parse_html(
            body,
            &Url::parse("https://idx.example/simple/six/").unwrap(),
        );
        let [file] = files.as_slice() else {
            panic!("{files:?}")
        };
        assert_eq!(
            file.location,
            FileLocation::Url(Url::parse("https://mirror.example/six/six-1.17.0.tar.gz").unwrap())
        );
    }
}
