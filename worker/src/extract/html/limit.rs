//! Keeps hostile markup from making the HTML parser quadratic.
//!
//! html5ever walks its stack of open elements for most start tags, and re-opens every unclosed
//! formatting element (`<b>`, `<a>`…) for each new block: 100 000 nested `<div>`s, or thousands of
//! unclosed `<b id=N>`s across paragraphs, take minutes to hours. Before parsing, a linear scan
//! drops start tags (never text) beyond a nesting depth and beyond a count of unclosed formatting
//! elements. Real pages stay far below both limits and pass through untouched.

use std::borrow::Cow;

/// Nesting depth (as counted here) beyond which start tags are dropped.
const MAX_DEPTH: usize = 128;
/// Unclosed formatting elements beyond which further ones are dropped.
const MAX_OPEN_FORMATTING: usize = 64;

/// Elements that never have content.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "keygen", "frame",
];
/// Elements the parser closes implicitly when a sibling starts; they cannot nest by themselves.
const SELF_CLOSING_SIBLINGS: &[&str] = &[
    "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot",
    "colgroup", "caption", "rb", "rt", "rp", "rtc",
];
/// The formatting elements of the HTML parsing algorithm.
const FORMATTING: &[&str] = &[
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
];
/// Elements whose content is text up to their end tag.
const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
];

/// `html` with excess start tags removed; borrowed when nothing had to go.
pub(super) fn limit_nesting(html: &str) -> Cow<'_, str> {
    let bytes = html.as_bytes();
    let mut out: Option<String> = None;
    // Start of the input not yet copied to `out`.
    let mut copied = 0;
    let mut stack: Vec<String> = Vec::new();
    let mut formatting = 0usize;
    let mut i = 0;
    while let Some(offset) = memchr(b'<', &bytes[i..]) {
        let lt = i + offset;
        let rest = &bytes[lt + 1..];
        if rest.starts_with(b"!--") {
            i = find(bytes, lt + 4, b"-->").map_or(bytes.len(), |e| e + 3);
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let name_start = lt + 1 + usize::from(closing);
        if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            // "<!doctype", "<?xml", "< " and the like: not an element.
            i = lt + 1;
            continue;
        }
        let name_end = bytes[name_start..]
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b'/' || *b == b'>')
            .map_or(bytes.len(), |p| name_start + p);
        let name = html[name_start..name_end].to_ascii_lowercase();
        let tag_end = tag_end(bytes, name_end);
        i = tag_end;
        if closing {
            if let Some(pos) = stack.iter().rposition(|open| *open == name) {
                stack.truncate(pos);
            }
            if FORMATTING.contains(&name.as_str()) {
                formatting = formatting.saturating_sub(1);
            }
            continue;
        }
        let self_closed = tag_end >= 2 && bytes[tag_end - 2] == b'/';
        if RAW_TEXT.contains(&name.as_str()) {
            let close = format!("</{name}");
            i = find_ignore_case(bytes, tag_end, close.as_bytes()).unwrap_or(bytes.len());
            continue;
        }
        if self_closed
            || VOID.contains(&name.as_str())
            || SELF_CLOSING_SIBLINGS.contains(&name.as_str())
        {
            continue;
        }
        let is_formatting = FORMATTING.contains(&name.as_str());
        if stack.len() >= MAX_DEPTH || (is_formatting && formatting >= MAX_OPEN_FORMATTING) {
            let out = out.get_or_insert_with(|| String::with_capacity(html.len()));
            out.push_str(&html[copied..lt]);
            copied = tag_end;
            continue;
        }
        stack.push(name);
        if is_formatting {
            formatting += 1;
        }
    }
    match out {
        None => Cow::Borrowed(html),
        Some(mut out) => {
            out.push_str(&html[copied..]);
            Cow::Owned(out)
        }
    }
}

/// The index just past the `>` closing a tag whose name ends at `from` (quotes respected).
fn tag_end(bytes: &[u8], from: usize) -> usize {
    let mut quote: Option<u8> = None;
    for (k, &b) in bytes[from..].iter().enumerate() {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'')
                if bytes[from + k - 1] == b'=' || bytes[from + k - 1].is_ascii_whitespace() =>
            {
                quote = Some(b)
            }
            (None, b'>') => return from + k + 1,
            _ => {}
        }
    }
    bytes.len()
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|b| *b == needle)
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

fn find_ignore_case(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_markup_is_untouched() {
        let html = r#"<!doctype html><html><head><title>a <b> c</title><script>if (a<b) { x = "<div>"; }</script>
            <!-- <div><div> --></head><body><div class="x>y"><p>one<p>two<ul><li>a<li>b</ul>
            <img src=x><br/><b>bold</b><a href='/'>link</a></div></body></html>"#;
        assert!(matches!(limit_nesting(html), Cow::Borrowed(_)));
    }

    #[test]
    fn deep_nesting_is_cut_but_text_kept() {
        let html = "<div>".repeat(1000) + "deep text" + &"</div>".repeat(1000);
        let limited = limit_nesting(&html);
        assert_eq!(limited.matches("<div>").count(), MAX_DEPTH);
        assert!(limited.contains("deep text"));
        assert_eq!(limited.matches("</div>").count(), 1000);
    }

    #[test]
    fn unclosed_formatting_elements_are_capped() {
        let html: String = (0..1000).map(|i| format!("<p><b id={i}>x</p>")).collect();
        let limited = limit_nesting(&html);
        assert_eq!(limited.matches("<b ").count(), MAX_OPEN_FORMATTING);
        assert_eq!(limited.matches('x').count(), 1000);
    }
}
