//! Text a website repeats on many of its pages (a header or footer built of plain `<div>`s, a
//! promotion bar, "Add to cart") is chrome, not the page's content: once every page of a crawl
//! is known, such lines are dropped. A repeated line that states something (a phone number, an
//! address, "free shipping over $50") is kept once, on the site's first page that has it.
//!
//! The result depends only on the set of pages, not on the order they were read in, so a
//! re-sync of an unchanged site produces the same documents.

use std::collections::{HashMap, HashSet};

use crate::extract::ExtractedDoc;

/// A line is repeated when at least this many pages have it…
const MIN_PAGES: usize = 3;
/// …and at least this share of the pages (in percent).
const MIN_SHARE_PERCENT: usize = 40;

/// Counts, over one site's pages, on how many pages each line appears.
#[derive(Debug, Default)]
pub struct Repetition {
    pages: usize,
    /// line → (pages holding it, the first of them in page order).
    lines: HashMap<String, (usize, String)>,
}

/// The lines found to repeat, and for the informative ones the page that keeps them.
#[derive(Debug, Default)]
pub struct Repeated {
    lines: HashMap<String, Option<String>>,
}

/// Pages are ordered by URL length, then URL: the home page comes first.
fn earlier(a: &str, b: &str) -> bool {
    (a.len(), a) < (b.len(), b)
}

/// Whether a line says something worth keeping once: a number, or a phrase of some length.
fn informative(line: &str) -> bool {
    line.chars().any(|c| c.is_ascii_digit()) || line.split_whitespace().count() >= 4
}

impl Repetition {
    /// Records one page (`key` is its URL) with its distinct lines ([`super::HtmlPage::lines`]).
    pub fn add(&mut self, key: &str, lines: &[String]) {
        self.pages += 1;
        let mut seen = HashSet::new();
        for line in lines {
            if !seen.insert(line.as_str()) {
                continue;
            }
            match self.lines.get_mut(line) {
                Some((n, first)) => {
                    *n += 1;
                    if earlier(key, first) {
                        *first = key.to_string();
                    }
                }
                None => {
                    self.lines.insert(line.clone(), (1, key.to_string()));
                }
            }
        }
    }

    /// The lines that repeat across the pages recorded so far.
    pub fn repeated(&self) -> Repeated {
        let need = MIN_PAGES.max((self.pages * MIN_SHARE_PERCENT).div_ceil(100));
        let lines = self
            .lines
            .iter()
            .filter(|(_, (n, _))| *n >= need)
            .map(|(line, (_, first))| (line.clone(), informative(line).then(|| first.clone())))
            .collect();
        Repeated { lines }
    }
}

impl Repeated {
    /// How many distinct lines repeat.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Removes the repeated lines from the page `key` (only where the page has them outside
    /// preformatted text, per its `lines`); sections left empty go.
    pub fn strip(&self, key: &str, doc: &mut ExtractedDoc, lines: &[String]) {
        if self.lines.is_empty() {
            return;
        }
        let drop: HashSet<&str> = lines
            .iter()
            .filter(|l| match self.lines.get(*l) {
                Some(Some(keeper)) => keeper != key,
                Some(None) => true,
                None => false,
            })
            .map(String::as_str)
            .collect();
        if drop.is_empty() {
            return;
        }
        for section in &mut doc.sections {
            section.text = strip_lines(&section.text, &drop);
        }
        doc.sections.retain(|s| !s.text.trim().is_empty());
    }
}

/// `text` without the lines in `drop`, paragraph breaks kept (and never doubled).
fn strip_lines(text: &str, drop: &HashSet<&str>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = false;
    for line in text.split('\n') {
        if line.trim().is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if drop.contains(line.trim()) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank { "\n\n" } else { "\n" });
        }
        blank = false;
        out.push_str(line);
    }
    out
}
