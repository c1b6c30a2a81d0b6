//! HTML pages: the main text split into sections by headings, the links to follow, and the
//! page's robots directives.

mod chrome;
mod faq;
mod limit;
mod links;
pub mod repeated;
mod table;
mod text;
mod walk;

use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::{ExtractedDoc, Section};

/// What one HTML page yields: its text, its outgoing links and whether it may be indexed/followed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HtmlPage {
    /// The main text of the page, by section.
    pub doc: ExtractedDoc,
    /// The distinct lines of `doc` outside preformatted blocks, for spotting the text a site
    /// repeats on every page (see [`repeated`]).
    pub lines: Vec<String>,
    /// Absolute http(s) links without fragments, deduplicated, in document order.
    pub links: Vec<Url>,
    /// `<meta name="robots" content="noindex">`: the page must not be stored.
    pub noindex: bool,
    /// `<meta name="robots" content="nofollow">`: the page's links must not be followed.
    pub nofollow: bool,
}

/// Reads an HTML page; `base` is the URL it was fetched from (a `<base href>` in the page wins).
pub fn extract_html(html: &str, base: &Url) -> HtmlPage {
    let dom = Html::parse_document(&limit::limit_nesting(html));
    let base = links::document_base(&dom, base);
    let mut found = links::Links::default();
    found.collect(dom.root_element(), &base, 0);
    let (noindex, nofollow) = links::robots_directives(&dom);
    let (doc, lines) = extract_doc(&dom);
    HtmlPage {
        doc,
        lines,
        links: found.urls,
        noindex,
        nofollow,
    }
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("static selector")
}

/// Collapses every run of whitespace to one space and trims.
fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn element_text(el: ElementRef<'_>) -> String {
    normalise(&el.text().collect::<String>())
}

fn extract_doc(dom: &Html) -> (ExtractedDoc, Vec<String>) {
    let (root, is_content_element) = content_root(dom);
    // The content's own h1 first: site chrome (mdBook's menu bar) can hold an earlier one.
    let h1 = selector("h1");
    let first_h1 = root
        .select(&h1)
        .chain(dom.select(&h1))
        .map(element_text)
        .find(|t| !t.is_empty())
        .unwrap_or_default();
    let title = page_title(dom, &first_h1);
    let mut text = text::TextBuilder::new(&title);
    text.walk(root, is_content_element);
    let (mut sections, lines) = text.finish();
    faq::add_structured_faq(dom, &mut sections);
    let doc = ExtractedDoc {
        title,
        sections,
        partial: None,
    };
    (doc, lines)
}

/// `<title>`, shortened to the first h1 when it is that h1 plus a " - Site name" suffix.
fn page_title(dom: &Html, first_h1: &str) -> String {
    let title = dom
        .select(&selector("head > title"))
        .chain(dom.select(&selector("title")))
        .map(element_text)
        .find(|t| !t.is_empty());
    let Some(title) = title else {
        return first_h1.to_string();
    };
    if !first_h1.is_empty() && title.len() > first_h1.len() && title.starts_with(first_h1) {
        let rest = &title[first_h1.len()..];
        if [" - ", " | ", " — ", " – ", " · ", " :: ", " : "]
            .iter()
            .any(|sep| rest.starts_with(sep))
        {
            return first_h1.to_string();
        }
    }
    title
}

/// The element holding the page's own content: `<main>`, `[role=main]`, a single `<article>`, or
/// `<body>`. The flag says whether a content element was found (its `<header>` is then kept).
fn content_root(dom: &Html) -> (ElementRef<'_>, bool) {
    let has_text = |el: &ElementRef<'_>| el.text().any(|t| !t.trim().is_empty());
    for css in ["main", "[role=main]"] {
        if let Some(el) = dom.select(&selector(css)).find(has_text) {
            return (el, true);
        }
    }
    let article = selector("article");
    let mut articles = dom.select(&article);
    if let (Some(article), None) = (articles.next(), articles.next())
        && has_text(&article)
    {
        return (article, true);
    }
    match dom.select(&selector("body")).next() {
        Some(body) => (body, false),
        None => (dom.root_element(), false),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_passages;
