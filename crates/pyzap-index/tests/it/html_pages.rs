//! HTML project pages and find-links pages as real servers write them
//! (PyPI, devpi, Artifactory, a Nexus-style page, directory listings of
//! `python -m http.server` and Apache), and markup the hand-written parser
//! misread (issue 12, correctness item 2): whitespace and newlines inside
//! tags, `>` inside quoted values, single-quoted and unquoted values,
//! uppercase names, character references, links inside comments. Each test
//! states every file found and every attribute read; the last one runs a
//! resolution against a local index whose newest file is yanked behind a
//! `data-requires-python=">=…"`.

use std::collections::{BTreeMap, BTreeSet};

use pyzap_index::{parse_html, DistFile, FileLocation, IndexClient, IndexError, NoReporter, Url};
use pyzap_resolve::{resolve, CandidateMetadata, Provider, ResolveOptions};
use pyzap_spec::{parse_requirement, PackageName, PlatformTag, Target, Version};
use pyzap_test_support::{Route, RouteServer};

const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const C: &str = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
const D: &str = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd";

/// Each file as one line: name, URL, then what the page said about it
/// (`-` where it said nothing).
fn seen(files: &[DistFile]) -> Vec<String> {
    files
        .iter()
        .map(|f| {
            let url = match &f.location {
                FileLocation::Url(u) => u.as_str().to_string(),
                FileLocation::Path(p) => panic!("a page gave a path: {}", p.display()),
            };
            let or_dash = |s: Option<String>| s.unwrap_or_else(|| "-".into());
            format!(
                "{} <- {url} | sha256 {} | python {} | yanked {} | metadata {}",
                f.filename,
                or_dash(f.sha256.clone()),
                or_dash(f.requires_python.as_ref().map(ToString::to_string)),
                or_dash(f.yanked.as_ref().map(|r| format!("{r:?}"))),
                match &f.core_metadata {
                    None => "-".to_string(),
                    Some(None) => "yes".to_string(),
                    Some(Some(h)) => format!("sha256 {h}"),
                },
            )
        })
        .collect()
}

fn parse(body: &str, page: &str) -> Vec<String> {
    seen(&parse_html(body, &Url::parse(page).unwrap()))
}

/// As Warehouse's template writes it (autoescaped): absolute links to the
/// file host, both PEP 714 metadata names, yanked with and without a reason.
#[test]
fn pypi_project_page() {
    let body = format!(
        r#"<!DOCTYPE html>
<html>
  <head>
    <meta name="pypi:repository-version" content="1.4">
    <meta name="pypi:project-status" content="active">
    <title>Links for idna</title>
  </head>
  <body>
    <h1>Links for idna</h1>
    <a href="https://files.pythonhosted.org/packages/76/c6/c88e/idna-3.15-py3-none-any.whl#sha256={A}" data-requires-python="&gt;=3.8" data-dist-info-metadata="sha256={B}" data-core-metadata="sha256={B}">idna-3.15-py3-none-any.whl</a><br />
    <a href="https://files.pythonhosted.org/packages/f1/70/7703/idna-3.15.tar.gz#sha256={C}" data-requires-python="&gt;=3.8" >idna-3.15.tar.gz</a><br />
    <a href="https://files.pythonhosted.org/packages/0e/61/2b1e/idna-3.16-py3-none-any.whl#sha256={D}" data-requires-python="&gt;=3.9" data-yanked="Don&#39;t use: wrong &lt;wheel&gt; tags" data-dist-info-metadata="sha256={B}" data-core-metadata="sha256={B}">idna-3.16-py3-none-any.whl</a><br />
    <a href="https://files.pythonhosted.org/packages/9a/1c/5e2f/idna-3.17.tar.gz#sha256={A}" data-requires-python="&gt;=3.9" data-yanked="">idna-3.17.tar.gz</a><br />
    </body>
</html>
<!--SERIAL 28712345-->"#
    );
    assert_eq!(
        parse(&body, "https://pypi.org/simple/idna/"),
        [
            format!("idna-3.15-py3-none-any.whl <- https://files.pythonhosted.org/packages/76/c6/c88e/idna-3.15-py3-none-any.whl#sha256={A} | sha256 {A} | python >=3.8 | yanked - | metadata sha256 {B}"),
            format!("idna-3.15.tar.gz <- https://files.pythonhosted.org/packages/f1/70/7703/idna-3.15.tar.gz#sha256={C} | sha256 {C} | python >=3.8 | yanked - | metadata -"),
            format!("idna-3.16-py3-none-any.whl <- https://files.pythonhosted.org/packages/0e/61/2b1e/idna-3.16-py3-none-any.whl#sha256={D} | sha256 {D} | python >=3.9 | yanked \"Don't use: wrong <wheel> tags\" | metadata sha256 {B}"),
            format!("idna-3.17.tar.gz <- https://files.pythonhosted.org/packages/9a/1c/5e2f/idna-3.17.tar.gz#sha256={A} | sha256 {A} | python >=3.9 | yanked \"\" | metadata -"),
        ]
    );
}

/// As devpi-server writes a `+simple` page: relative links into `+f/`,
/// the index name as text before each anchor, a form to refresh.
#[test]
fn devpi_project_page() {
    let body = format!(
        r#"<!DOCTYPE html>
<html>
  <head>
    <title>root/pypi: links for six</title>
  </head>
  <body>
    <h1>root/pypi: links for six</h1>
    <form action="http://127.0.0.1:3141/root/pypi/+simple/six/refresh" method="post">
      <input name="refresh" type="submit" value="Refresh PyPI links">
    </form>
    root/dev <a href="../../../dev/+f/0a1/b2c3d4e5f6a7b/six-1.17.1.dev3-py2.py3-none-any.whl#sha256={A}">six-1.17.1.dev3-py2.py3-none-any.whl</a><br/>
    root/pypi <a data-requires-python="&gt;=2.7, !=3.0.*, !=3.1.*, !=3.2.*" href="../../+f/d17/7dbf7ab9fa08f/six-1.17.0-py2.py3-none-any.whl#sha256={B}">six-1.17.0-py2.py3-none-any.whl</a><br/>
    root/pypi <a data-requires-python="&gt;=2.7, !=3.0.*, !=3.1.*, !=3.2.*" href="../../+f/ff7/1c3c3b4a9d32d/six-1.17.0.tar.gz#sha256={C}">six-1.17.0.tar.gz</a><br/>
  </body>
</html>"#
    );
    let python = ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*";
    assert_eq!(
        parse(&body, "http://127.0.0.1:3141/root/pypi/+simple/six/"),
        [
            format!("six-1.17.1.dev3-py2.py3-none-any.whl <- http://127.0.0.1:3141/root/dev/+f/0a1/b2c3d4e5f6a7b/six-1.17.1.dev3-py2.py3-none-any.whl#sha256={A} | sha256 {A} | python - | yanked - | metadata -"),
            format!("six-1.17.0-py2.py3-none-any.whl <- http://127.0.0.1:3141/root/pypi/+f/d17/7dbf7ab9fa08f/six-1.17.0-py2.py3-none-any.whl#sha256={B} | sha256 {B} | python {python} | yanked - | metadata -"),
            format!("six-1.17.0.tar.gz <- http://127.0.0.1:3141/root/pypi/+f/ff7/1c3c3b4a9d32d/six-1.17.0.tar.gz#sha256={C} | sha256 {C} | python {python} | yanked - | metadata -"),
        ]
    );
}

/// As Artifactory writes a PyPI repository's page: `data-requires-python`
/// before `href`, `rel="internal"`, links up into `packages/packages/`.
#[test]
fn artifactory_project_page() {
    let body = format!(
        r#"<!DOCTYPE html>
<html>
<head><title>Links for markupsafe</title></head>
<body>
<h1>Links for markupsafe</h1>
<a data-requires-python="&gt;=3.9" href="../../packages/packages/08/2c/1f2e/markupsafe-3.0.4-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl#sha256={A}" rel="internal">markupsafe-3.0.4-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl</a><br/>
<a data-requires-python="&gt;=3.7" href="../../packages/packages/87/5b/aae4/MarkupSafe-2.1.5.tar.gz#sha256={B}" rel="internal">MarkupSafe-2.1.5.tar.gz</a><br/>
</body>
</html>"#
    );
    assert_eq!(
        parse(&body, "https://art.example/artifactory/api/pypi/pypi-remote/simple/markupsafe/"),
        [
            format!("markupsafe-3.0.4-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl <- https://art.example/artifactory/api/pypi/pypi-remote/packages/packages/08/2c/1f2e/markupsafe-3.0.4-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl#sha256={A} | sha256 {A} | python >=3.9 | yanked - | metadata -"),
            format!("MarkupSafe-2.1.5.tar.gz <- https://art.example/artifactory/api/pypi/pypi-remote/packages/packages/87/5b/aae4/MarkupSafe-2.1.5.tar.gz#sha256={B} | sha256 {B} | python >=3.7 | yanked - | metadata -"),
        ]
    );
}

/// A Nexus-style page as some repository managers and generator scripts
/// write it: CRLF line ends, anchors broken over lines with tabs, values
/// not escaped (`>` inside quotes), a `<base>` to the file host, an
/// `<a>` without `href`.
#[test]
fn nexus_style_page_with_newlines_and_unescaped_values() {
    let body = format!(
        "<html lang=\"en\">\r\n<head><title>Links for six</title>\r\n  <meta name=\"api-version\" value=\"2\"/>\r\n\
         <base href=\"https://nexus.example/repository/pypi-all/\">\r\n</head>\r\n\
         <body><h1>Links for six</h1>\r\n\
         <a name=\"top\"></a>\r\n\
         <a\r\n\thref=\"packages/six/1.17.0/six-1.17.0-py2.py3-none-any.whl#sha256={A}\"\r\n\
         \tdata-requires-python=\">=2.7, !=3.0.*\"\r\n\tdata-yanked=\"broken > 1.16\"\r\n\trel=\"internal\"\r\n>six-1.17.0-py2.py3-none-any.whl</a><br/>\r\n\
         <a\r\n  href=\"packages/six/1.16.0/six-1.16.0.tar.gz#sha256={B}\"  data-requires-python=\">=2.7\"\r\n  \
         data-core-metadata=\"true\"   >six-1.16.0.tar.gz</a\r\n><br/>\r\n</body>\r\n</html>\r\n"
    );
    assert_eq!(
        parse(&body, "https://nexus.example/repository/pypi-all/simple/six/"),
        [
            format!("six-1.17.0-py2.py3-none-any.whl <- https://nexus.example/repository/pypi-all/packages/six/1.17.0/six-1.17.0-py2.py3-none-any.whl#sha256={A} | sha256 {A} | python >=2.7, !=3.0.* | yanked \"broken > 1.16\" | metadata -"),
            format!("six-1.16.0.tar.gz <- https://nexus.example/repository/pypi-all/packages/six/1.16.0/six-1.16.0.tar.gz#sha256={B} | sha256 {B} | python >=2.7 | yanked - | metadata yes"),
        ]
    );
}

/// `pip download -d wheels` served by `python -m http.server`: links
/// percent-encoded by `urllib.parse.quote`, names escaped, directories and
/// other files listed too, no digests.
#[test]
fn python_http_server_directory_listing() {
    let body = r#"<!DOCTYPE HTML>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Directory listing for /wheels/</title>
</head>
<body>
<h1>Directory listing for /wheels/</h1>
<hr>
<ul>
<li><a href="idna-3.15-py3-none-any.whl">idna-3.15-py3-none-any.whl</a></li>
<li><a href="old/">old/</a></li>
<li><a href="pyzap_demo-1.0%2Blocal.1-py3-none-any.whl">pyzap_demo-1.0+local.1-py3-none-any.whl</a></li>
<li><a href="requirements.txt">requirements.txt</a></li>
<li><a href="six-1.17.0.tar.gz">six-1.17.0.tar.gz</a></li>
<li><a href="Tom%20%26%20Jerry.txt">Tom &amp; Jerry.txt</a></li>
</ul>
<hr>
</body>
</html>
"#;
    assert_eq!(
        parse(body, "http://127.0.0.1:8000/wheels/"),
        [
            "idna-3.15-py3-none-any.whl <- http://127.0.0.1:8000/wheels/idna-3.15-py3-none-any.whl | sha256 - | python - | yanked - | metadata -",
            "pyzap_demo-1.0+local.1-py3-none-any.whl <- http://127.0.0.1:8000/wheels/pyzap_demo-1.0%2Blocal.1-py3-none-any.whl | sha256 - | python - | yanked - | metadata -",
            "six-1.17.0.tar.gz <- http://127.0.0.1:8000/wheels/six-1.17.0.tar.gz | sha256 - | python - | yanked - | metadata -",
        ]
    );
}

/// Apache's fancy index in HTML 3.2: uppercase tags and attributes,
/// unquoted and single-quoted `HREF`, sort links with a query, a parent
/// directory link.
#[test]
fn apache_directory_listing_in_uppercase() {
    let body = r#"<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<HTML>
 <HEAD>
  <TITLE>Index of /wheels</TITLE>
 </HEAD>
 <BODY>
<H1>Index of /wheels</H1>
<PRE><IMG SRC="/icons/blank.gif" ALT="Icon "> <A HREF="?C=N;O=D">Name</A>                    <A HREF="?C=M;O=A">Last modified</A>      <A HREF="?C=S;O=A">Size</A>  <HR><IMG SRC="/icons/back.gif" ALT="[PARENTDIR]"> <A HREF="/">Parent Directory</A>                             -
<IMG SRC="/icons/unknown.gif" ALT="[   ]"> <A HREF=six-1.17.0-py2.py3-none-any.whl>six-1.17.0-py2.py3-none-any.whl</A> 2024-12-04 20:30   11K
<IMG SRC="/icons/compressed.gif" ALT="[   ]"> <A HREF='six-1.17.0.tar.gz' DATA-YANKED>six-1.17.0.tar.gz</A>        2024-12-04 20:30   33K
<HR></PRE>
</BODY></HTML>
"#;
    assert_eq!(
        parse(body, "https://files.example/wheels/"),
        [
            "six-1.17.0-py2.py3-none-any.whl <- https://files.example/wheels/six-1.17.0-py2.py3-none-any.whl | sha256 - | python - | yanked - | metadata -",
            "six-1.17.0.tar.gz <- https://files.example/wheels/six-1.17.0.tar.gz | sha256 - | python - | yanked \"\" | metadata -",
        ]
    );
}

/// Markup that is no link (comments, script text, `<link>`, `<abbr>`),
/// repeated attributes (the first counts), references in `href`, a bare
/// `data-yanked`, and the hostile-input rules: a digest that is not 64 hex
/// digits and a name that is not one plain path component drop the file.
#[test]
fn markup_that_is_no_link_and_hostile_anchors() {
    let body = format!(
        r#"<html><head>
<link rel="alternate" href="/files/six-0.9.tar.gz">
<script>document.write('<a href="/files/six-0.8.tar.gz">old</a>');</script>
</head><body>
<!-- <a href="/files/six-0.7.tar.gz">removed</a> -->
<abbr title="six-0.6.tar.gz" href="/files/six-0.6.tar.gz">?</abbr>
<a href="/files/six-1.0.tar.gz?a=1&amp;b=2" href="/files/six-0.5.tar.gz" data-yanked data-yanked="second">first href</a>
<a href='/files/six-1.1.tar.gz' data-requires-python='>=3.12' data-core-metadata='sha256={C}'>single quotes</a>
<a href="/files/six-1.2.tar.gz#sha256=../../../escape">digest that leaves the cache</a>
<a href="/files/six-1.3.tar.gz#sha256={A}" data-core-metadata="sha256=abcd">short metadata digest</a>
<a href="/files/..%2F..%2Fescape%2Fsix-1.4.tar.gz">encoded slashes</a>
<a href="/files/six-1.5.tar.gz#sha256={A}0">65 digits</a>
<a href="/files/six-1.6.tar.gz" data-requires-python="not a specifier">kept, without requires-python</a>
</body></html>"#
    );
    assert_eq!(
        parse(&body, "https://idx.example/simple/six/"),
        [
            "six-1.0.tar.gz <- https://idx.example/files/six-1.0.tar.gz?a=1&b=2 | sha256 - | python - | yanked \"\" | metadata -".to_string(),
            format!("six-1.1.tar.gz <- https://idx.example/files/six-1.1.tar.gz | sha256 - | python >=3.12 | yanked - | metadata sha256 {C}"),
            "six-1.6.tar.gz <- https://idx.example/files/six-1.6.tar.gz | sha256 - | python - | yanked - | metadata -".to_string(),
        ]
    );
}

/// The resolver's view of a client: every version with a file, yanked
/// when all its files are (PEP 592), metadata from the index.
struct Over<'a>(&'a IndexClient);

impl Provider for Over<'_> {
    type Err = IndexError;

    fn versions(&self, name: &PackageName) -> Result<Vec<Version>, IndexError> {
        let files = self.0.files(name)?;
        let versions: BTreeSet<&Version> = files.iter().map(|f| &f.version).collect();
        Ok(versions.into_iter().cloned().collect())
    }

    fn unavailable_reason(&self, name: &PackageName) -> Option<String> {
        Some(format!("the index lists no file of {name}"))
    }

    fn yanked(&self, name: &PackageName, version: &Version) -> bool {
        self.0.files(name).is_ok_and(|files| {
            files
                .iter()
                .filter(|f| &f.version == version)
                .all(|f| f.yanked.is_some())
        })
    }

    fn metadata(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<CandidateMetadata, IndexError> {
        let files = self.0.files(name)?;
        let file = files
            .iter()
            .find(|f| &f.version == version)
            .expect("the resolver asks only for listed versions");
        let metadata = self.0.metadata(file)?;
        Ok(CandidateMetadata {
            requires_dist: metadata.requires_dist,
            requires_python: metadata.requires_python,
            provides_extra: metadata.provides_extra,
        })
    }
}

/// The bug as users met it, both halves on one page. The hand-written
/// parser ended the tag of the yanked 3.20 at the `>` of
/// `data-requires-python=">=3.9"` and lost `data-yanked`, so 3.20 was
/// installed; and it found no link in an anchor written `<a\n  href=`
/// (on a page of only such anchors: "no distribution named `idna` was
/// found"). Now both files are read, 3.15 is chosen, and the yanked 3.20
/// only for an exact pin (PEP 592).
#[test]
fn a_yanked_file_behind_a_quoted_gt_is_not_chosen() {
    let wheelhouse = pyzap_test_support::wheelhouse();
    let newer = "idna-3.20-py3-none-any.whl";
    let older = "idna-3.15-py3-none-any.whl";
    let wheel = |f: &str| fs_err::read(wheelhouse.join(f)).unwrap();
    let digest = |f: &str| pyzap_fs::sha256_hex(&wheel(f));
    let page = format!(
        r#"<!DOCTYPE html>
<html><body>
<a href="/files/{newer}#sha256={}" data-requires-python=">=3.9" data-yanked="broken release">{newer}</a><br/>
<a
  href="/files/{older}#sha256={}" data-requires-python=">=3.8">{older}</a><br/>
</body></html>"#,
        digest(newer),
        digest(older),
    );
    let server = RouteServer::start(BTreeMap::from([
        ("/simple/idna/".to_string(), Route::html(page)),
        (format!("/files/{newer}"), Route::file(wheel(newer))),
        (format!("/files/{older}"), Route::file(wheel(older))),
    ]));
    let cache = tempfile::tempdir().unwrap();
    let client = super::client(&server.url("/simple/"), cache.path(), false);
    let idna: PackageName = "idna".parse().unwrap();
    let files = client.files(&idna).unwrap();
    let read: Vec<(&str, Option<&str>, String)> = files
        .iter()
        .map(|f| {
            let python = f.requires_python.as_ref().map(ToString::to_string);
            (
                f.filename.as_str(),
                f.yanked.as_deref(),
                python.unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        read,
        [
            (newer, Some("broken release"), ">=3.9".to_string()),
            (older, None, ">=3.8".to_string()),
        ]
    );

    let platform: PlatformTag = "manylinux_2_36_x86_64".parse().unwrap();
    let target = Target::cross("3.12", Some(&platform), None).unwrap();
    let pick = |requirement: &str| {
        let resolution = resolve(
            &Over(&client),
            &[parse_requirement(requirement).unwrap()],
            &[],
            &target.markers,
            &ResolveOptions::default(),
        )
        .unwrap();
        let [dist] = resolution.dists.as_slice() else {
            panic!("{resolution:?}")
        };
        dist.version.to_string()
    };
    assert_eq!(pick("idna"), "3.15");
    assert_eq!(pick("idna==3.20"), "3.20");

    // The chosen file downloads and matches the page's digest.
    let chosen = files.iter().find(|f| f.filename == older).unwrap();
    let path = client.download(chosen, &NoReporter).unwrap();
    assert_eq!(fs_err::read(path).unwrap(), wheel(older));
}
