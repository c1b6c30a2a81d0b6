//! Plain text and Markdown files.

use super::{ExtractedDoc, Section};

/// A plain text file: one section per paragraph (blank-line separated), no headings.
pub fn extract_text(text: &str, title: &str) -> ExtractedDoc {
    let mut sections = Vec::new();
    let mut para: Vec<String> = Vec::new();
    for line in strip_bom(text).lines() {
        let line = line.replace('\t', " ");
        let line = line.trim_end();
        if line.trim().is_empty() {
            push_paragraph(&mut sections, &mut para);
        } else {
            para.push(line.to_string());
        }
    }
    push_paragraph(&mut sections, &mut para);
    ExtractedDoc {
        title: title.trim().to_string(),
        sections,
        partial: None,
    }
}

fn push_paragraph(sections: &mut Vec<Section>, para: &mut Vec<String>) {
    if !para.is_empty() {
        sections.push(Section {
            heading_path: Vec::new(),
            text: para.join("\n"),
        });
        para.clear();
    }
}

fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// A Markdown file: headings build each section's heading path; the first heading becomes the
/// title when it is an H1 (else `title` is kept); code fences are kept verbatim.
pub fn extract_markdown(text: &str, title: &str) -> ExtractedDoc {
    let mut md = Markdown::default();
    let mut lines = strip_bom(text).lines().peekable();
    skip_front_matter(&mut lines);
    let mut in_comment = false;
    for raw in lines {
        if let Some(fence) = md.fence {
            md.para.push(raw.trim_end().to_string());
            if closes_fence(raw, fence) {
                md.fence = None;
                md.end_paragraph();
            }
            continue;
        }
        let had_text = !raw.trim().is_empty();
        let line = strip_comments(raw, &mut in_comment);
        let line = line.replace('\t', "    ");
        let line = line.trim_end();
        if line.trim().is_empty() {
            // A line holding only a comment vanishes instead of ending the paragraph.
            if !had_text {
                md.end_paragraph();
            }
            continue;
        }
        md.line(line);
    }
    md.end_section();
    ExtractedDoc {
        title: md.title.unwrap_or_else(|| title.trim().to_string()),
        sections: md.sections,
        partial: None,
    }
}

/// The parser's state while walking the lines.
#[derive(Default)]
struct Markdown {
    /// Set once the first heading was seen: the title when that heading was an H1.
    title: Option<String>,
    seen_heading: bool,
    /// Open headings, outermost first, with their levels.
    headings: Vec<(usize, String)>,
    /// Finished paragraphs of the current section.
    paras: Vec<String>,
    /// Lines of the paragraph being read.
    para: Vec<String>,
    /// The open code fence's character and length.
    fence: Option<(char, usize)>,
    sections: Vec<Section>,
}

impl Markdown {
    fn line(&mut self, line: &str) {
        if let Some(fence) = opens_fence(line) {
            self.end_paragraph();
            self.fence = Some(fence);
            self.para.push(line.to_string());
            return;
        }
        if let Some((level, text)) = atx_heading(line) {
            self.end_paragraph();
            self.heading(level, clean_inline(&text));
            return;
        }
        if !self.para.is_empty()
            && let Some(level) = setext_level(line)
            && self.para.iter().all(|l| !l.starts_with('|'))
        {
            let text = self.para.join(" ");
            self.para.clear();
            self.heading(level, text);
            return;
        }
        let trimmed = line.trim_start();
        if is_thematic_break(trimmed) || is_table_rule(trimmed) || is_link_definition(trimmed) {
            return;
        }
        let unquoted = unquote(trimmed);
        if !unquoted.is_empty() {
            self.para.push(clean_inline(unquoted));
        }
    }

    fn heading(&mut self, level: usize, text: String) {
        let text = text.trim().to_string();
        if text.is_empty() {
            return;
        }
        self.end_section();
        if !self.seen_heading {
            self.seen_heading = true;
            if level == 1 {
                self.title = Some(text);
                return;
            }
        }
        while self.headings.last().is_some_and(|(l, _)| *l >= level) {
            self.headings.pop();
        }
        self.headings.push((level, text));
    }

    fn end_paragraph(&mut self) {
        if !self.para.is_empty() {
            self.paras.push(self.para.join("\n"));
            self.para.clear();
        }
    }

    fn end_section(&mut self) {
        self.end_paragraph();
        if !self.paras.is_empty() {
            self.sections.push(Section {
                heading_path: self.headings.iter().map(|(_, h)| h.clone()).collect(),
                text: self.paras.join("\n\n"),
            });
            self.paras.clear();
        }
    }
}

/// Skips a YAML front matter block (`---` on the first line up to the next `---` or `...`).
fn skip_front_matter<'a>(lines: &mut std::iter::Peekable<impl Iterator<Item = &'a str> + Clone>) {
    if lines.peek().map(|l| l.trim_end()) != Some("---") {
        return;
    }
    let mut ahead = lines.clone();
    ahead.next();
    let Some(len) = ahead.position(|l| matches!(l.trim_end(), "---" | "...")) else {
        return;
    };
    for _ in 0..len + 2 {
        lines.next();
    }
}

/// Removes `<!-- -->` comments, which may span lines (`in_comment` carries the state).
fn strip_comments(line: &str, in_comment: &mut bool) -> String {
    let mut out = String::new();
    let mut rest = line;
    loop {
        if *in_comment {
            match rest.find("-->") {
                Some(i) => {
                    rest = &rest[i + 3..];
                    *in_comment = false;
                }
                None => return out,
            }
        }
        match rest.find("<!--") {
            Some(i) => {
                out.push_str(&rest[..i]);
                rest = &rest[i + 4..];
                *in_comment = true;
            }
            None => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

/// The indentation-free form of a line that may be indented by up to three spaces.
fn block_start(line: &str) -> Option<&str> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    (indent <= 3).then(|| &line[indent..])
}

fn opens_fence(line: &str) -> Option<(char, usize)> {
    let s = block_start(line)?;
    let c = s.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let len = s.len() - s.trim_start_matches(c).len();
    let info = &s[len..];
    (len >= 3 && !(c == '`' && info.contains('`'))).then_some((c, len))
}

fn closes_fence(line: &str, (c, len): (char, usize)) -> bool {
    let Some(s) = block_start(line) else {
        return false;
    };
    let run = s.len() - s.trim_start_matches(c).len();
    run >= len && s[run..].trim().is_empty()
}

/// `# Heading ##` → (1, "Heading").
fn atx_heading(line: &str) -> Option<(usize, String)> {
    let s = block_start(line)?;
    let level = s.len() - s.trim_start_matches('#').len();
    let rest = &s[level..];
    if !(1..=6).contains(&level) || !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let rest = rest.trim();
    let without_closing = rest.trim_end_matches('#');
    let text = if without_closing.is_empty() || without_closing.ends_with([' ', '\t']) {
        without_closing.trim_end()
    } else {
        rest
    };
    Some((level, text.to_string()))
}

/// `===` under a paragraph makes it an H1, `---` an H2.
fn setext_level(line: &str) -> Option<usize> {
    let s = block_start(line)?.trim_end();
    let c = s.chars().next()?;
    let all_same = s.chars().all(|d| d == c);
    match c {
        '=' if all_same => Some(1),
        '-' if all_same => Some(2),
        _ => None,
    }
}

fn is_thematic_break(s: &str) -> bool {
    let mut chars = s.chars().filter(|c| *c != ' ');
    let Some(c) = chars.next() else {
        return false;
    };
    matches!(c, '-' | '*' | '_')
        && s.chars().filter(|d| *d == c).count() >= 3
        && chars.all(|d| d == c)
}

/// A table's header rule such as `|---|:---:|`.
fn is_table_rule(s: &str) -> bool {
    s.contains('-') && s.contains('|') && s.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '))
}

/// A reference link definition such as `[docs]: https://example.com "Docs"`.
fn is_link_definition(s: &str) -> bool {
    s.starts_with('[')
        && s.find("]:")
            .is_some_and(|i| i > 1 && !s[i + 2..].trim().is_empty() && !s[1..i].contains(']'))
}

/// Strips block quote markers (`> `).
fn unquote(mut s: &str) -> &str {
    while let Some(rest) = s.strip_prefix('>') {
        s = rest.trim_start();
    }
    s
}

/// Inline Markdown to text: links and images become their text, emphasis markers and
/// escapes go, code spans stay as written.
fn clean_inline(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if chars.get(i + 1).is_some_and(|n| n.is_ascii_punctuation()) => {
                out.push(chars[i + 1]);
                i += 2;
            }
            '`' => {
                let run = run_len(&chars, i, '`');
                match find_run(&chars, i + run, '`', run) {
                    Some(end) => {
                        out.extend(&chars[i..end + run]);
                        i = end + run;
                    }
                    None => {
                        out.extend(&chars[i..i + run]);
                        i += run;
                    }
                }
            }
            '!' if chars.get(i + 1) == Some(&'[') => match link(&chars, i + 1) {
                Some((text, end)) => {
                    out.push_str(&clean_inline(&text));
                    i = end;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            '[' => match link(&chars, i) {
                Some((text, end)) => {
                    out.push_str(&clean_inline(&text));
                    i = end;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            '<' => match autolink(&chars, i) {
                Some((url, end)) => {
                    out.push_str(&url);
                    i = end;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            '*' | '_' | '~' => {
                let run = run_len(&chars, i, c);
                let prev = i.checked_sub(1).map(|p| chars[p]);
                let next = chars.get(i + run).copied();
                let is_marker = match c {
                    '~' => run == 2,
                    _ => run <= 3,
                };
                if !(is_marker && is_emphasis_delimiter(prev, next)) {
                    out.extend(&chars[i..i + run]);
                }
                i += run;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn run_len(chars: &[char], i: usize, c: char) -> usize {
    chars[i..].iter().take_while(|&&d| d == c).count()
}

/// The start of the next run of exactly `len` `c`s at or after `from`.
fn find_run(chars: &[char], from: usize, c: char, len: usize) -> Option<usize> {
    let mut j = from;
    while j < chars.len() {
        if chars[j] == c {
            let run = run_len(chars, j, c);
            if run == len {
                return Some(j);
            }
            j += run;
        } else {
            j += 1;
        }
    }
    None
}

fn is_punct(c: char) -> bool {
    !c.is_alphanumeric() && !c.is_whitespace()
}

/// Whether a run of `*`, `_` or `~` opens or closes emphasis (CommonMark's flanking rules,
/// simplified), so `snake_case`, `2 * 3` and `* item` keep their characters.
fn is_emphasis_delimiter(prev: Option<char>, next: Option<char>) -> bool {
    let ws_or_punct = |c: Option<char>| c.is_none_or(|c| c.is_whitespace() || is_punct(c));
    let left = next.is_some_and(|n| !n.is_whitespace())
        && (next.is_some_and(|n| !is_punct(n)) || ws_or_punct(prev));
    let right = prev.is_some_and(|p| !p.is_whitespace())
        && (prev.is_some_and(|p| !is_punct(p)) || ws_or_punct(next));
    let intraword =
        prev.is_some_and(char::is_alphanumeric) && next.is_some_and(char::is_alphanumeric);
    (left || right) && !intraword
}

/// `[text](url)`, `[text][ref]` or `[text][]` starting at `i`: the text and the index after it.
fn link(chars: &[char], i: usize) -> Option<(String, usize)> {
    let close = matching(chars, i, '[', ']')?;
    let text: String = chars[i + 1..close].iter().collect();
    match chars.get(close + 1) {
        Some('(') => {
            let end = matching(chars, close + 1, '(', ')')?;
            Some((text, end + 1))
        }
        Some('[') => {
            let end = matching(chars, close + 1, '[', ']')?;
            Some((text, end + 1))
        }
        _ => None,
    }
}

/// The index of the bracket closing the one at `open`, skipping escaped and nested ones.
fn matching(chars: &[char], open: usize, o: char, c: char) -> Option<usize> {
    let mut depth = 0usize;
    let mut j = open;
    while j < chars.len() {
        match chars[j] {
            '\\' => j += 1,
            d if d == o => depth += 1,
            d if d == c => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// `<https://example.com>` or `<me@example.com>`: the address and the index after it.
fn autolink(chars: &[char], i: usize) -> Option<(String, usize)> {
    let len = chars[i + 1..].iter().position(|&c| c == '>')?;
    let inner: String = chars[i + 1..i + 1 + len].iter().collect();
    let plausible = !inner.contains(char::is_whitespace)
        && !inner.contains('<')
        && (inner.contains("://") || inner.starts_with("mailto:") || inner.contains('@'));
    plausible.then_some((inner, i + len + 2))
}

#[cfg(test)]
mod tests;
