//! Tests of `html`.

use super::*;

fn base() -> Url {
    Url::parse("https://docs.example.com/book/intro.html").unwrap()
}

fn links(page: &HtmlPage) -> Vec<String> {
    page.links.iter().map(|u| u.to_string()).collect()
}

fn section<'a>(page: &'a HtmlPage, path: &[&str]) -> &'a Section {
    page.doc
        .sections
        .iter()
        .find(|s| s.heading_path == path)
        .unwrap_or_else(|| panic!("no section {path:?} in {:#?}", page.doc.sections))
}

#[test]
fn sections_follow_headings_and_chrome_is_dropped() {
    let html = r#"<!doctype html><html><head><title>Install - Acme Docs</title>
            <style>body{color:red}</style><script>var x = "script text";</script></head>
            <body>
              <header><a href="/">Acme</a> site header text</header>
              <nav><a href="/a">Nav link text</a></nav>
              <div id="cookie-notice">We use cookies. <button>Accept</button></div>
              <div role="navigation">role nav text</div>
              <h1>Install</h1>
              <p>Intro   paragraph
                 spanning lines.</p>
              <h2>On Linux</h2>
              <p>Use the <code>apt</code> package.</p>
              <ul><li>First <b>step</b></li><li>Second step<ul><li>Nested step</li></ul></li></ul>
              <h3>Details</h3>
              <table><tr><th>Name</th><th>Value</th></tr><tr><td>a</td><td>1</td></tr></table>
              <pre>line one
    indented two</pre>
              <h2>On Windows</h2>
              <p hidden>hidden text</p><p aria-hidden="true">aria hidden text</p>
              <p style="display: none">styled hidden</p>
              <p>Run the installer.<br>Then reboot.</p>
              <form><label>Search</label><input name="q"></form>
              <aside>aside text</aside>
              <footer>footer text</footer>
            </body></html>"#;
    let page = extract_html(html, &base());
    assert_eq!(page.doc.title, "Install");
    let paths: Vec<&Vec<String>> = page.doc.sections.iter().map(|s| &s.heading_path).collect();
    assert_eq!(
        paths,
        [
            &vec![],
            &vec!["On Linux".to_string()],
            &vec!["On Linux".to_string(), "Details".to_string()],
            &vec!["On Windows".to_string()],
        ]
    );
    assert_eq!(section(&page, &[]).text, "Intro paragraph spanning lines.");
    assert_eq!(
        section(&page, &["On Linux"]).text,
        "Use the apt package.\n\n- First step\n- Second step\n  - Nested step"
    );
    assert_eq!(
        section(&page, &["On Linux", "Details"]).text,
        // Was "Name | Value\na | 1": a header row alone, a row without its headers.
        "Details — Name: a; Value: 1\n\nline one\n    indented two"
    );
    assert_eq!(
        section(&page, &["On Windows"]).text,
        "Run the installer.\nThen reboot."
    );
    let all: String = page.doc.sections.iter().map(|s| s.text.clone()).collect();
    for absent in [
        "script text",
        "color:red",
        "site header",
        "Nav link",
        "cookies",
        "role nav",
        "hidden",
        "Search",
        "aside text",
        "footer text",
    ] {
        assert!(!all.contains(absent), "{absent:?} leaked into {all:?}");
    }
    assert!(!page.noindex && !page.nofollow);
}

#[test]
fn main_element_is_preferred_and_its_header_kept() {
    let html = r#"<html><head><title>Post title | Blog</title></head><body>
            <div class="sidebar">Sidebar junk</div>
            <main><article><header><h1>Post title</h1><p>By Ann</p></header>
            <p>Body text.</p></article></main>
            <div>After main</div></body></html>"#;
    let page = extract_html(html, &base());
    assert_eq!(page.doc.title, "Post title");
    assert_eq!(page.doc.sections.len(), 1);
    assert_eq!(page.doc.sections[0].heading_path, Vec::<String>::new());
    assert_eq!(page.doc.sections[0].text, "By Ann\n\nBody text.");
}

#[test]
fn title_falls_back_to_the_first_h1_and_unrelated_titles_are_kept_whole() {
    let page = extract_html("<h1>Only  heading</h1><p>x</p>", &base());
    assert_eq!(page.doc.title, "Only heading");
    let page = extract_html(
        "<title>Acme - Introduction</title><h1>Introduction</h1><p>x</p>",
        &base(),
    );
    assert_eq!(page.doc.title, "Acme - Introduction");
    assert_eq!(page.doc.sections[0].heading_path, ["Introduction"]);
    let page = extract_html("<p>no title</p>", &base());
    assert_eq!(page.doc.title, "");
    assert_eq!(page.doc.sections[0].text, "no title");
}

#[test]
fn links_are_resolved_deduplicated_and_in_order() {
    let html = r##"<html><head>
            <link rel="next" href="chapter2.html"><link rel="stylesheet" href="x.css">
            <link rel="Prev Start" href="/book/index.html"></head><body>
            <a href="a.html#top">A</a> <a href="a.html">A again</a>
            <a href="../up.html?q=1">up</a> <a href="https://other.org/x">ext</a>
            <a href="mailto:x@y.z">mail</a> <a href="javascript:void(0)">js</a>
            <a href="#frag">self</a> <a>no href</a> <a href=" ">blank</a>
            <area href="map.html">
            </body></html>"##;
    let page = extract_html(html, &base());
    assert_eq!(
        links(&page),
        [
            "https://docs.example.com/book/chapter2.html",
            "https://docs.example.com/book/index.html",
            "https://docs.example.com/book/a.html",
            "https://docs.example.com/up.html?q=1",
            "https://other.org/x",
            "https://docs.example.com/book/intro.html",
            "https://docs.example.com/book/map.html",
        ]
    );
    let frames =
        r#"<html><frameset><frame src="menu.html"><frame src="body.html"></frameset></html>"#;
    assert_eq!(
        links(&extract_html(frames, &base())),
        [
            "https://docs.example.com/book/menu.html",
            "https://docs.example.com/book/body.html",
        ]
    );
}

#[test]
fn base_href_is_respected() {
    let html = r#"<head><base href="https://cdn.example.com/v2/"></head><a href="page">p</a>"#;
    let page = extract_html(html, &base());
    assert_eq!(links(&page), ["https://cdn.example.com/v2/page"]);
    let html = r#"<head><base href="javascript:alert(1)"></head><a href="page">p</a>"#;
    let page = extract_html(html, &base());
    assert_eq!(links(&page), ["https://docs.example.com/book/page"]);
}

#[test]
fn robots_meta_directives() {
    let page = extract_html(
        r#"<meta name="ROBOTS" content="NoIndex, follow"><p>x</p>"#,
        &base(),
    );
    assert!(page.noindex && !page.nofollow);
    let page = extract_html(
        r#"<meta name="robots" content="nofollow"><p>x</p>"#,
        &base(),
    );
    assert!(!page.noindex && page.nofollow);
    let page = extract_html(r#"<meta name="robots" content="none">"#, &base());
    assert!(page.noindex && page.nofollow);
    let page = extract_html(r#"<meta name="googlebot" content="noindex">"#, &base());
    assert!(!page.noindex);
}

/// mdBook: the sidebar is built by toc.js; crawlers only see a noscript fallback and an iframe.
#[test]
fn mdbook_page_yields_its_text_and_its_hidden_table_of_contents() {
    let html = r##"<!DOCTYPE HTML>
<html lang="en" class="light sidebar-visible" dir="ltr">
<head><meta charset="UTF-8"><title>Getting started - The Acme Book</title>
<script src="toc.js"></script></head>
<body>
<div id="body-container">
  <script>var path_to_root = "";</script>
  <nav id="sidebar" class="sidebar" aria-label="Table of contents">
    <div class="sidebar-scrollbox"><mdbook-sidebar-scrollbox></mdbook-sidebar-scrollbox></div>
    <noscript><iframe class="sidebar-iframe-outer" src="toc.html"></iframe></noscript>
  </nav>
  <div id="page-wrapper" class="page-wrapper">
    <div class="page">
      <div id="menu-bar" class="menu-bar sticky"><h1 class="menu-title">The Acme Book</h1></div>
      <div id="content" class="content">
        <main>
          <h1 id="getting-started"><a class="header" href="#getting-started">Getting started</a></h1>
          <p>Install the tool first.</p>
          <h2 id="config"><a class="header" href="#config">Configuration</a></h2>
          <p>Edit <code>acme.toml</code>.</p>
          <pre><code class="language-toml">[acme]
name = "x"
</code></pre>
        </main>
        <nav class="nav-wrapper" aria-label="Page navigation">
          <a rel="prev" href="intro.html" class="mobile-nav-chapters previous">&larr;</a>
          <a rel="next prefetch" href="advanced/usage.html" class="mobile-nav-chapters next">&rarr;</a>
        </nav>
      </div>
    </div>
  </div>
  <noscript><ol class="chapter"><li><a href="intro.html">Intro</a></li>
    <li><a href="deep/hidden.html">Only here</a></li></ol></noscript>
</div>
</body></html>"##;
    let base = Url::parse("https://acme.dev/book/start.html").unwrap();
    let page = extract_html(html, &base);
    assert_eq!(page.doc.title, "Getting started");
    assert_eq!(page.doc.sections.len(), 2);
    assert_eq!(page.doc.sections[0].heading_path, Vec::<String>::new());
    assert_eq!(page.doc.sections[0].text, "Install the tool first.");
    assert_eq!(page.doc.sections[1].heading_path, ["Configuration"]);
    assert_eq!(
        page.doc.sections[1].text,
        "Edit acme.toml.\n\n[acme]\nname = \"x\""
    );
    assert_eq!(
        links(&page),
        [
            "https://acme.dev/book/toc.html",
            "https://acme.dev/book/start.html",
            "https://acme.dev/book/intro.html",
            "https://acme.dev/book/advanced/usage.html",
            "https://acme.dev/book/deep/hidden.html",
        ]
    );
}

#[test]
fn banner_word_in_a_long_content_wrapper_does_not_drop_the_content() {
    let long = "Real content sentence. ".repeat(200);
    let html = format!(r#"<body><div class="has-banner"><p>{long}</p></div></body>"#);
    let page = extract_html(&html, &base());
    assert!(
        page.doc.sections[0]
            .text
            .starts_with("Real content sentence.")
    );
}

#[test]
fn layout_tables_and_headings_in_cells_stay_readable() {
    let html = "<table><tr><td><h2>Cell heading</h2><p>para</p><table><tr><td>x</td><td>y</td></tr></table></td><td>z</td></tr></table>";
    let page = extract_html(html, &base());
    assert_eq!(page.doc.sections.len(), 1);
    assert_eq!(page.doc.sections[0].text, "Cell heading para x | y | z");
}

#[test]
fn survives_hostile_input() {
    let inputs = [
        String::new(),
        "<".into(),
        "<html><body><p>unclosed <b>bold <i>both <table><tr><td>cell".into(),
        "<div>".repeat(100_000) + "deep text",
        "<table>".repeat(5_000) + "t",
        "<ul><li>".repeat(5_000),
        "<b><i><u><s>".repeat(10_000) + "x",
        "<noscript><noscript><a href='/n'>n</a></noscript></noscript>".into(),
        "\u{0}\u{fffd}<a href='\u{0}'>\u{202e}</a>".into(),
    ];
    for input in &inputs {
        let _ = extract_html(input, &base());
    }
    let deep = extract_html(&inputs[3], &base());
    assert_eq!(deep.doc.sections[0].text, "deep text");
    let formatting: String = (0..5_000).map(|i| format!("<p><b id={i}>x</p>")).collect();
    let page = extract_html(&formatting, &base());
    assert_eq!(page.doc.sections[0].text.matches('x').count(), 5_000);

    // About 10 MB of tag soup.
    let mut garbage = String::with_capacity(10 << 20);
    let pieces = [
        "<p>word ",
        "</div>",
        "<a href='x?",
        "&amp;",
        "<!--",
        "-->",
        "<td>",
        "\"'>",
        "<h2>h",
        "</h2>",
        "\n",
    ];
    let mut state = 0x2545_f491_u32;
    while garbage.len() < 10 << 20 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        garbage.push_str(pieces[state as usize % pieces.len()]);
    }
    let page = extract_html(&garbage, &base());
    assert!(!page.doc.sections.is_empty());
    assert!(
        page.links.iter().all(|l| l.path() == "/book/x"),
        "{:?}",
        page.links
    );
}
