//! HTML pages: the main text split into sections by headings, the links to follow, and the
//! page's robots directives.

mod limit;

use std::collections::HashSet;

use scraper::node::Element;
use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use super::{ExtractedDoc, Section};

/// What one HTML page yields: its text, its outgoing links and whether it may be indexed/followed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HtmlPage {
    /// The main text of the page, by section.
    pub doc: ExtractedDoc,
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
    let base = document_base(&dom, base);
    let mut links = Links::default();
    links.collect(dom.root_element(), &base, 0);
    let (noindex, nofollow) = robots_directives(&dom);
    HtmlPage {
        doc: extract_doc(&dom),
        links: links.urls,
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

// ---------------------------------------------------------------------------------------------
// Links and directives
// ---------------------------------------------------------------------------------------------

fn document_base(dom: &Html, fetched_from: &Url) -> Url {
    dom.select(&selector("base[href]"))
        .next()
        .and_then(|b| fetched_from.join(b.attr("href")?.trim()).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .unwrap_or_else(|| fetched_from.clone())
}

#[derive(Default)]
struct Links {
    urls: Vec<Url>,
    seen: HashSet<String>,
}

impl Links {
    /// Harvests links under `root` in document order; `<noscript>` text is parsed as HTML once.
    fn collect(&mut self, root: ElementRef<'_>, base: &Url, noscript_depth: usize) {
        for el_ref in root.descendent_elements() {
            let el = el_ref.value();
            match el.name() {
                "a" | "area" => self.add(base, el.attr("href")),
                "iframe" | "frame" => self.add(base, el.attr("src")),
                "link" => {
                    let rel = el.attr("rel").unwrap_or("").to_ascii_lowercase();
                    if rel.split_whitespace().any(|r| r == "next" || r == "prev") {
                        self.add(base, el.attr("href"));
                    }
                }
                // With scripting on (as in browsers), the parser keeps noscript content as text.
                "noscript" if noscript_depth == 0 => {
                    let inner: String = el_ref
                        .children()
                        .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
                        .collect();
                    if !inner.trim().is_empty() {
                        let fragment = Html::parse_fragment(&limit::limit_nesting(&inner));
                        self.collect(fragment.root_element(), base, noscript_depth + 1);
                    }
                }
                _ => {}
            }
        }
    }

    fn add(&mut self, base: &Url, href: Option<&str>) {
        let Some(href) = href.map(str::trim).filter(|h| !h.is_empty()) else {
            return;
        };
        let Ok(mut url) = base.join(href) else { return };
        if !matches!(url.scheme(), "http" | "https") {
            return;
        }
        url.set_fragment(None);
        if self.seen.insert(url.as_str().to_string()) {
            self.urls.push(url);
        }
    }
}

/// (noindex, nofollow) from `<meta name="robots">` (or our own `<meta name="otoqbot">`).
fn robots_directives(dom: &Html) -> (bool, bool) {
    let (mut noindex, mut nofollow) = (false, false);
    for meta in dom.select(&selector("meta[name][content]")) {
        let name = meta.attr("name").unwrap_or("").trim().to_ascii_lowercase();
        if name != "robots" && name != "otoqbot" {
            continue;
        }
        for directive in meta.attr("content").unwrap_or("").split(',') {
            match directive.trim().to_ascii_lowercase().as_str() {
                "noindex" => noindex = true,
                "nofollow" => nofollow = true,
                "none" => (noindex, nofollow) = (true, true),
                _ => {}
            }
        }
    }
    (noindex, nofollow)
}

// ---------------------------------------------------------------------------------------------
// Main text
// ---------------------------------------------------------------------------------------------

fn extract_doc(dom: &Html) -> ExtractedDoc {
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
    let sections = {
        let mut text = TextBuilder::new(&title);
        text.walk(root, is_content_element);
        text.finish()
    };
    ExtractedDoc {
        title,
        sections,
        partial: None,
    }
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

const DROPPED_TAGS: &[&str] = &[
    "head", "script", "style", "noscript", "template", "svg", "nav", "footer", "aside", "form",
    "button", "iframe", "frame", "frameset", "object", "embed", "canvas", "video", "audio",
    "select", "textarea", "input", "dialog",
];
const DROPPED_ROLES: &[&str] = &["navigation", "banner", "contentinfo", "search"];
const BANNER_WORDS: &[&str] = &["cookie", "consent", "gdpr", "banner"];
/// A cookie notice is short; a long element that merely mentions "banner" in a class is content.
const BANNER_MAX_TEXT: usize = 3000;

/// Whether `el` (not the content root) is navigation, chrome or hidden, and so not main text.
fn is_dropped(el: ElementRef<'_>, keep_header: bool) -> bool {
    let v = el.value();
    let name = v.name();
    if DROPPED_TAGS.contains(&name) || (name == "header" && !keep_header) {
        return true;
    }
    if v.attr("hidden").is_some()
        || v.attr("aria-hidden")
            .is_some_and(|a| a.trim().eq_ignore_ascii_case("true"))
    {
        return true;
    }
    if let Some(role) = v.attr("role")
        && DROPPED_ROLES.contains(&role.trim().to_ascii_lowercase().as_str())
    {
        return true;
    }
    if let Some(style) = v.attr("style") {
        let style: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        if style.contains("display:none") || style.contains("visibility:hidden") {
            return true;
        }
    }
    looks_like_banner(v) && !matches!(name, "html" | "body" | "main") && short_text(el)
}

fn looks_like_banner(v: &Element) -> bool {
    let id = v.id().unwrap_or("").to_ascii_lowercase();
    let classes = v.attr("class").unwrap_or("").to_ascii_lowercase();
    BANNER_WORDS
        .iter()
        .any(|w| id.contains(w) || classes.contains(w))
}

fn short_text(el: ElementRef<'_>) -> bool {
    let mut len = 0;
    for t in el.text() {
        len += t.len();
        if len > BANNER_MAX_TEXT {
            return false;
        }
    }
    true
}

fn heading_level(name: &str) -> Option<usize> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

/// Elements that end the current line of running text.
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "section"
            | "article"
            | "main"
            | "header"
            | "blockquote"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "figure"
            | "figcaption"
            | "address"
            | "details"
            | "summary"
            | "hr"
            | "center"
            | "table"
            | "thead"
            | "tbody"
            | "tfoot"
            | "caption"
            | "body"
            | "fieldset"
            | "legend"
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Paragraph,
    ListItem,
    TableRow,
    Preformatted,
}

struct Row {
    cells: Vec<String>,
    cell: Option<String>,
}

/// Turns the element tree into sections, one pass, without recursion (any nesting depth is fine).
struct TextBuilder<'t, 'a> {
    title: &'t str,
    sections: Vec<Section>,
    headings: Vec<(usize, String)>,
    blocks: Vec<(BlockKind, String)>,
    inline: String,
    heading: Option<(ElementRef<'a>, usize, String)>,
    pre: Option<(ElementRef<'a>, String)>,
    /// One entry per open `<li>`: whether it has produced its first line yet.
    items: Vec<bool>,
    rows: Vec<Row>,
}

impl<'t, 'a> TextBuilder<'t, 'a> {
    fn new(title: &'t str) -> Self {
        TextBuilder {
            title,
            sections: Vec::new(),
            headings: Vec::new(),
            blocks: Vec::new(),
            inline: String::new(),
            heading: None,
            pre: None,
            items: Vec::new(),
            rows: Vec::new(),
        }
    }

    fn walk(&mut self, root: ElementRef<'a>, keep_header: bool) {
        walk(root, |step| match step {
            Step::Open(el) => {
                if el != root && is_dropped(el, keep_header) {
                    return false;
                }
                self.open(el);
                true
            }
            Step::Text(text) => {
                self.text(text);
                false
            }
            Step::Close(el) => {
                self.close(el);
                false
            }
        });
    }

    fn text(&mut self, text: &str) {
        if let Some((_, pre)) = &mut self.pre {
            pre.push_str(text);
        } else if let Some((_, _, heading)) = &mut self.heading {
            push_collapsed(heading, text);
        } else if let Some(row) = self.rows.last_mut() {
            if let Some(cell) = &mut row.cell {
                push_collapsed(cell, text);
            }
        } else {
            push_collapsed(&mut self.inline, text);
        }
    }

    fn open(&mut self, el: ElementRef<'a>) {
        let name = el.value().name();
        let in_row = !self.rows.is_empty();
        if self.pre.is_some() || self.heading.is_some() {
            return;
        }
        if name == "br" {
            match self.rows.last_mut().and_then(|r| r.cell.as_mut()) {
                Some(cell) => push_collapsed(cell, " "),
                None => self.inline.push('\n'),
            }
            return;
        }
        if in_row {
            match name {
                "tr" => self.rows.push(Row {
                    cells: Vec::new(),
                    cell: None,
                }),
                "td" | "th" => {
                    if let Some(row) = self.rows.last_mut() {
                        row.cell = Some(String::new());
                    }
                }
                _ if is_block(name) || heading_level(name).is_some() || name == "li" => {
                    if let Some(cell) = self.rows.last_mut().and_then(|r| r.cell.as_mut()) {
                        push_collapsed(cell, " ");
                    }
                }
                _ => {}
            }
            return;
        }
        if let Some(level) = heading_level(name) {
            self.flush_inline();
            self.heading = Some((el, level, String::new()));
        } else if name == "pre" {
            self.flush_inline();
            self.pre = Some((el, String::new()));
        } else if name == "li" {
            self.flush_inline();
            self.items.push(false);
        } else if name == "tr" {
            self.flush_inline();
            self.rows.push(Row {
                cells: Vec::new(),
                cell: None,
            });
        } else if is_block(name) {
            self.flush_inline();
        }
    }

    fn close(&mut self, el: ElementRef<'a>) {
        let name = el.value().name();
        if let Some((pre, _)) = &self.pre {
            if *pre == el {
                let (_, text) = self.pre.take().expect("open pre");
                let text = text.trim_matches('\n').trim_end();
                if !text.trim().is_empty() {
                    self.blocks
                        .push((BlockKind::Preformatted, text.to_string()));
                }
            }
            return;
        }
        if let Some((heading, level, _)) = &self.heading {
            if *heading == el {
                let level = *level;
                let (_, _, text) = self.heading.take().expect("open heading");
                self.start_section(level, text.trim());
            }
            return;
        }
        match name {
            "td" | "th" if !self.rows.is_empty() => {
                let row = self.rows.last_mut().expect("open row");
                if let Some(cell) = row.cell.take() {
                    row.cells.push(cell.trim().to_string());
                }
            }
            "tr" if !self.rows.is_empty() => {
                let row = self.rows.pop().expect("open row");
                let cells: Vec<String> = row.cells.into_iter().filter(|c| !c.is_empty()).collect();
                if cells.is_empty() {
                    return;
                }
                let line = cells.join(" | ");
                match self.rows.last_mut() {
                    // A table inside a cell: its rows become part of that cell's text.
                    Some(outer) => {
                        if let Some(cell) = &mut outer.cell {
                            push_collapsed(cell, &format!(" {line} "));
                        }
                    }
                    None => self.blocks.push((BlockKind::TableRow, line)),
                }
            }
            _ if !self.rows.is_empty() => {}
            "li" => {
                self.flush_inline();
                self.items.pop();
            }
            _ if is_block(name) => self.flush_inline(),
            _ => {}
        }
    }

    /// Ends the running line(s) of text as one block (a list item inside `<li>`).
    fn flush_inline(&mut self) {
        let inline = std::mem::take(&mut self.inline);
        let lines: Vec<&str> = inline
            .split('\n')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if lines.is_empty() {
            return;
        }
        let depth = self.items.len();
        let Some(first_done) = self.items.last_mut() else {
            self.blocks.push((BlockKind::Paragraph, lines.join("\n")));
            return;
        };
        let indent = "  ".repeat(depth - 1);
        let mut text = String::new();
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                text.push('\n');
            }
            let marker = if i == 0 && !*first_done { "- " } else { "  " };
            text.push_str(&indent);
            text.push_str(marker);
            text.push_str(line);
        }
        *first_done = true;
        self.blocks.push((BlockKind::ListItem, text));
    }

    fn start_section(&mut self, level: usize, heading: &str) {
        if heading.is_empty() {
            return;
        }
        self.flush_section();
        self.headings.retain(|(l, _)| *l < level);
        self.headings.push((level, heading.to_string()));
    }

    fn flush_section(&mut self) {
        self.flush_inline();
        if self.blocks.is_empty() {
            return;
        }
        let mut text = String::new();
        let mut previous: Option<BlockKind> = None;
        for (kind, block) in self.blocks.drain(..) {
            if let Some(prev) = previous {
                let tight =
                    prev == kind && matches!(kind, BlockKind::ListItem | BlockKind::TableRow);
                text.push_str(if tight { "\n" } else { "\n\n" });
            }
            text.push_str(&block);
            previous = Some(kind);
        }
        let mut path: Vec<String> = self.headings.iter().map(|(_, h)| h.clone()).collect();
        if path
            .first()
            .is_some_and(|h| h.eq_ignore_ascii_case(self.title))
        {
            path.remove(0);
        }
        self.sections.push(Section {
            heading_path: path,
            text,
        });
    }

    fn finish(mut self) -> Vec<Section> {
        self.rows.clear();
        self.flush_section();
        self.sections
    }
}

/// One step of a document-order walk.
enum Step<'a> {
    Open(ElementRef<'a>),
    Text(&'a str),
    Close(ElementRef<'a>),
}

/// Walks the tree under `root` without recursion (any nesting depth is fine). `visit` returns,
/// for `Open`, whether to enter the element; a skipped element gets no `Close`.
fn walk<'a>(root: ElementRef<'a>, mut visit: impl FnMut(Step<'a>) -> bool) {
    if !visit(Step::Open(root)) {
        return;
    }
    let mut next = root.first_child();
    if next.is_none() {
        visit(Step::Close(root));
    }
    while let Some(node) = next {
        let entered = match node.value() {
            Node::Element(_) => {
                let el = ElementRef::wrap(node).expect("element node");
                visit(Step::Open(el))
            }
            Node::Text(text) => {
                visit(Step::Text(text));
                false
            }
            _ => false,
        };
        if entered && let Some(child) = node.first_child() {
            next = Some(child);
            continue;
        }
        if entered && let Some(el) = ElementRef::wrap(node) {
            visit(Step::Close(el));
        }
        // Climb until a sibling is found, closing every element left behind.
        let mut current = node;
        next = None;
        while current != *root {
            if let Some(sibling) = current.next_sibling() {
                next = Some(sibling);
                break;
            }
            let Some(parent) = current.parent() else {
                break;
            };
            current = parent;
            if let Some(el) = ElementRef::wrap(current) {
                visit(Step::Close(el));
            }
        }
    }
}

/// Appends `text` with whitespace runs collapsed to one space (and none at the start of a line).
fn push_collapsed(buf: &mut String, text: &str) {
    for c in text.chars() {
        if c.is_whitespace() {
            if !buf.is_empty() && !buf.ends_with(' ') && !buf.ends_with('\n') {
                buf.push(' ');
            }
        } else {
            buf.push(c);
        }
    }
}

#[cfg(test)]
mod tests;
