//! Turns a page's element tree into sections, in one pass: headings open sections, an FAQ
//! question (`<summary>`, a `<dt>` or a paragraph that is only a question) heads its answer,
//! each table row becomes one line carrying its headers.

use std::collections::HashSet;

use scraper::ElementRef;

use super::Section;
use super::chrome::{is_bare_label, is_dropped};
use super::table::Table;
use super::walk::{Step, walk};

/// The heading level of an FAQ question: below every real heading (h1–h6).
const QUESTION_LEVEL: usize = 7;
/// A paragraph ending in "?" with at most this many words heads what follows as a question.
const QUESTION_MAX_WORDS: usize = 30;

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
            | "footer"
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

/// Whether a line is one question and nothing else ("Do you ship to Canada?").
fn is_question(line: &str) -> bool {
    let line = line.trim();
    let Some(body) = line.strip_suffix(['?', '？']) else {
        return false;
    };
    let words = line.split_whitespace().count();
    // One sentence only: "Returns are free. Questions?" is a paragraph, not a question.
    let one_sentence = !body
        .split_whitespace()
        .any(|w| w.ends_with(['.', '!', '?']) && w.chars().count() > 2);
    words <= QUESTION_MAX_WORDS && one_sentence
}

/// "Q: Do you…?" → "Do you…?"
fn strip_q(line: &str) -> &str {
    let t = line.trim();
    for p in ["Q:", "Q.", "Q -", "Question:"] {
        if let Some(rest) = t.strip_prefix(p) {
            return rest.trim();
        }
    }
    t
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Paragraph,
    ListItem,
    TableRow,
    Preformatted,
}

/// Text read into something other than the running line: a heading, an FAQ summary, a term.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Capture {
    Heading(usize),
    Summary,
    Term,
}

/// Turns the element tree into sections, one pass, without recursion (any nesting depth is fine).
pub(super) struct TextBuilder<'t, 'a> {
    title: &'t str,
    sections: Vec<Section>,
    headings: Vec<(usize, String)>,
    blocks: Vec<(BlockKind, String)>,
    inline: String,
    capture: Option<(ElementRef<'a>, Capture, String)>,
    pre: Option<(ElementRef<'a>, String)>,
    /// One entry per open `<li>`: whether it has produced its first line yet.
    items: Vec<bool>,
    tables: Vec<(ElementRef<'a>, Table)>,
    /// Open `<details>` / `<dl>` elements that head a question, with that question's level.
    faq: Vec<(ElementRef<'a>, usize)>,
    /// A `<dt>` that is not a question: it prefixes its definition ("Weight: 2 kg").
    term: Option<String>,
    /// The lines of non-preformatted blocks, for the site-wide repetition filter.
    lines: Vec<String>,
}

impl<'t, 'a> TextBuilder<'t, 'a> {
    pub(super) fn new(title: &'t str) -> Self {
        TextBuilder {
            title,
            sections: Vec::new(),
            headings: Vec::new(),
            blocks: Vec::new(),
            inline: String::new(),
            capture: None,
            pre: None,
            items: Vec::new(),
            tables: Vec::new(),
            faq: Vec::new(),
            term: None,
            lines: Vec::new(),
        }
    }

    pub(super) fn walk(&mut self, root: ElementRef<'a>, in_content: bool) {
        walk(root, |step| match step {
            Step::Open(el) => {
                if el != root && is_dropped(el, in_content) {
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
        } else if let Some((_, _, captured)) = &mut self.capture {
            push_collapsed(captured, text);
        } else if let Some((_, table)) = self.tables.last_mut() {
            if let Some(sink) = table.sink() {
                push_collapsed(sink, text);
            }
        } else {
            push_collapsed(&mut self.inline, text);
        }
    }

    fn open(&mut self, el: ElementRef<'a>) {
        let name = el.value().name();
        if self.pre.is_some() || self.capture.is_some() {
            return;
        }
        if let Some((_, table)) = self.tables.last_mut() {
            match name {
                "table" => {
                    table.layout = true;
                    self.tables.push((el, Table::default()));
                }
                "caption" => table.open_caption(),
                "thead" => table.set_head(true),
                "tbody" | "tfoot" => table.set_head(false),
                "tr" => table.open_row(),
                "td" | "th" => table.open_cell(name == "th", el.value().attr("colspan")),
                _ => {
                    if heading_level(name).is_some() {
                        table.layout = true;
                    }
                    let breaks = name == "br"
                        || is_block(name)
                        || heading_level(name).is_some()
                        || name == "li";
                    if breaks && let Some(sink) = table.sink() {
                        push_collapsed(sink, " ");
                    }
                }
            }
            return;
        }
        if name == "br" {
            self.inline.push('\n');
            return;
        }
        if let Some(level) = heading_level(name) {
            self.flush_inline();
            self.capture = Some((el, Capture::Heading(level), String::new()));
        } else if name == "summary" {
            self.flush_inline();
            self.capture = Some((el, Capture::Summary, String::new()));
        } else if name == "dt" {
            self.flush_inline();
            self.capture = Some((el, Capture::Term, String::new()));
        } else if name == "pre" {
            self.flush_inline();
            self.pre = Some((el, String::new()));
        } else if name == "li" {
            self.flush_inline();
            self.items.push(false);
        } else if name == "table" {
            self.flush_inline();
            self.tables.push((el, Table::default()));
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
        if let Some((captured, _, _)) = &self.capture {
            if *captured == el {
                let (_, kind, text) = self.capture.take().expect("open capture");
                self.captured(el, kind, text.trim());
            }
            return;
        }
        if let Some((table_el, table)) = self.tables.last_mut() {
            if *table_el != el {
                match name {
                    "caption" => table.close_caption(),
                    "thead" => table.set_head(false),
                    "td" | "th" => table.close_cell(),
                    "tr" => table.close_row(),
                    _ => {}
                }
                return;
            }
            let (_, table) = self.tables.pop().expect("open table");
            match self.tables.last_mut() {
                // A table inside a cell: its rows become part of that cell's text.
                Some((_, outer)) => {
                    let text = table.plain();
                    if let Some(sink) = outer.sink() {
                        push_collapsed(sink, &format!(" {text} "));
                    }
                }
                None => {
                    let heading = self
                        .headings
                        .last()
                        .map(|(_, h)| h.as_str())
                        .or(Some(self.title))
                        .filter(|h| !h.is_empty())
                        .map(str::to_string);
                    for line in table.lines(heading.as_deref()) {
                        if !is_bare_label(&line) {
                            self.blocks.push((BlockKind::TableRow, line));
                        }
                    }
                }
            }
            return;
        }
        match name {
            "li" => {
                self.flush_inline();
                self.items.pop();
            }
            "details" | "dl" if self.faq.last().is_some_and(|(open, _)| *open == el) => {
                let (_, level) = self.faq.pop().expect("open question");
                self.flush_section();
                self.headings.retain(|(l, _)| *l < level);
                if name == "dl" {
                    self.term = None;
                }
            }
            "dl" => {
                self.flush_inline();
                self.term = None;
            }
            _ if is_block(name) => self.flush_inline(),
            _ => {}
        }
    }

    /// A heading, summary or term has been read.
    fn captured(&mut self, el: ElementRef<'a>, kind: Capture, text: &str) {
        match kind {
            Capture::Heading(level) => self.start_section(level, text),
            Capture::Summary => {
                let details = el
                    .parent()
                    .and_then(ElementRef::wrap)
                    .filter(|p| p.value().name() == "details");
                if let (Some(details), false) = (details, text.is_empty()) {
                    self.open_question(details, text);
                } else {
                    push_collapsed(&mut self.inline, text);
                    self.flush_inline();
                }
            }
            Capture::Term => {
                let list = el
                    .ancestors()
                    .filter_map(ElementRef::wrap)
                    .find(|a| a.value().name() == "dl");
                match list {
                    Some(list) if is_question(text) => self.open_question(list, strip_q(text)),
                    _ if !text.is_empty() => self.term = Some(text.to_string()),
                    _ => {}
                }
            }
        }
    }

    /// Starts the section of an FAQ question owned by `owner` (a `<details>` or a `<dl>`): a
    /// further question of the same `<dl>` replaces it, the owner's end closes it.
    fn open_question(&mut self, owner: ElementRef<'a>, question: &str) {
        let level = match self.faq.last() {
            Some((open, level)) if *open == owner => *level,
            _ => {
                let level = QUESTION_LEVEL + self.faq.len();
                self.faq.push((owner, level));
                level
            }
        };
        self.start_section(level, question);
    }

    /// Ends the running line(s) of text as one block (a list item inside `<li>`).
    fn flush_inline(&mut self) {
        let inline = std::mem::take(&mut self.inline);
        let lines: Vec<&str> = inline
            .split('\n')
            .map(str::trim)
            .filter(|l| !l.is_empty() && !is_bare_label(l))
            .collect();
        if lines.is_empty() {
            return;
        }
        let depth = self.items.len();
        let Some(first_done) = self.items.last_mut() else {
            if let [line] = lines[..]
                && self.faq.is_empty()
                && self.term.is_none()
                && is_question(strip_q(line))
            {
                // A paragraph that is only a question heads the paragraphs after it.
                self.start_section(QUESTION_LEVEL, strip_q(line));
                return;
            }
            let mut text = lines.join("\n");
            if let Some(term) = self.term.take() {
                text = format!("{term}: {text}");
            }
            self.blocks.push((BlockKind::Paragraph, text));
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
        if let Some(term) = self.term.take() {
            self.blocks.push((BlockKind::Paragraph, format!("{term}:")));
        }
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
            if kind != BlockKind::Preformatted {
                self.lines
                    .extend(block.lines().map(str::trim).map(str::to_string));
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

    /// The sections, and the distinct lines outside preformatted blocks.
    pub(super) fn finish(mut self) -> (Vec<Section>, Vec<String>) {
        self.tables.clear();
        self.capture = None;
        self.flush_section();
        let mut seen = HashSet::new();
        let lines = std::mem::take(&mut self.lines)
            .into_iter()
            .filter(|l| !l.is_empty() && seen.insert(l.clone()))
            .collect();
        (self.sections, lines)
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
