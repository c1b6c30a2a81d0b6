//! Token-bounded chunking of extracted sections, counted with the cl100k_base tokenizer.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use tiktoken_rs::{CoreBPE, Rank, cl100k_base_singleton};

use super::Section;

/// How large chunks may be and how much consecutive chunks share, in cl100k_base tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkConfig {
    /// The most tokens one chunk may hold.
    pub max_tokens: usize,
    /// About how many tokens from the end of a chunk start the next one under the same headings.
    pub overlap_tokens: usize,
}

impl Default for ChunkConfig {
    fn default() -> Self {
        Self {
            max_tokens: 400,
            overlap_tokens: 60,
        }
    }
}

/// A piece of a document small enough to embed, with the headings above it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    pub text: String,
    pub heading_path: Vec<String>,
    /// The number of cl100k_base tokens in `text`.
    pub tokens: usize,
}

/// The number of cl100k_base tokens in `text` (special-token markers count as plain text).
pub fn count_tokens(text: &str) -> usize {
    bpe().encode_ordinary(text).len()
}

/// One chunk holding all of `text` (whitespace normalised), for Q&A pairs that must stay whole.
pub fn chunk_whole(text: &str, heading_path: Vec<String>) -> Chunk {
    let text = paragraphs(text).join("\n\n");
    Chunk {
        tokens: count_tokens(&text),
        text,
        heading_path,
    }
}

/// Splits sections into chunks of at most `cfg.max_tokens` tokens, never mixing heading paths.
pub fn chunk_sections(sections: &[Section], cfg: &ChunkConfig) -> Vec<Chunk> {
    let max = cfg.max_tokens.max(1);
    let overlap = cfg.overlap_tokens.min(max / 2);
    // Pieces leave room for a full overlap in front of them, so every chunk can carry one.
    let piece_max = max - overlap;
    let mut out = Vec::new();
    let mut i = 0;
    while i < sections.len() {
        let path = &sections[i].heading_path;
        let mut pieces = Vec::new();
        while i < sections.len() && sections[i].heading_path == *path {
            for para in paragraphs(&sections[i].text) {
                split_paragraph(para, piece_max, &mut pieces);
            }
            i += 1;
        }
        pack(pieces, path, max, overlap, &mut out);
    }
    out
}

fn bpe() -> &'static CoreBPE {
    cl100k_base_singleton()
}

/// What goes between a piece and the one before it when both land in the same chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sep {
    None,
    Space,
    Line,
    Para,
}

impl Sep {
    fn as_str(self) -> &'static str {
        match self {
            Sep::None => "",
            Sep::Space => " ",
            Sep::Line => "\n",
            Sep::Para => "\n\n",
        }
    }

    /// Estimated tokens: a space merges into the next word's token, line breaks are one token.
    fn cost(self) -> usize {
        match self {
            Sep::None | Sep::Space => 0,
            Sep::Line | Sep::Para => 1,
        }
    }
}

/// A unit of packing: a paragraph, a sentence, a run of words or a hard-cut slice.
#[derive(Debug)]
struct Piece {
    text: String,
    tokens: usize,
    sep: Sep,
}

/// Paragraphs of `text`: split on blank lines, lines trimmed, runs of spaces collapsed.
fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        };
        if !cur.is_empty() {
            cur.push('\n');
        }
        cur.push_str(first);
        for w in words {
            cur.push(' ');
            cur.push_str(w);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Adds `para` as one piece, or as sentences, word runs and hard cuts when it is too long.
fn split_paragraph(para: String, limit: usize, out: &mut Vec<Piece>) {
    let tokens = bpe().encode_ordinary(&para);
    if tokens.len() <= limit {
        out.push(Piece {
            text: para,
            tokens: tokens.len(),
            sep: Sep::Para,
        });
        return;
    }
    let sentences = sentences(&para);
    if sentences.len() <= 1 {
        split_by_window(&para, &tokens, limit, Sep::Para, out);
        return;
    }
    for (i, (sentence, sep)) in sentences.into_iter().enumerate() {
        let sep = if i == 0 { Sep::Para } else { sep };
        let tokens = bpe().encode_ordinary(sentence);
        if tokens.len() <= limit {
            out.push(Piece {
                text: sentence.to_string(),
                tokens: tokens.len(),
                sep,
            });
        } else {
            split_by_window(sentence, &tokens, limit, sep, out);
        }
    }
}

/// Characters that may follow a full stop before the space that ends a sentence.
fn is_closer(c: char) -> bool {
    matches!(
        c,
        ')' | ']' | '"' | '\'' | '”' | '’' | '»' | '）' | '」' | '』'
    )
}

/// CJK sentence ends, which need no following space.
fn is_cjk_stop(c: char) -> bool {
    matches!(c, '。' | '！' | '？')
}

/// Sentences (and lines) of a normalised paragraph, each with the separator before it.
fn sentences(para: &str) -> Vec<(&str, Sep)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut sep = Sep::None;
    let mut iter = para.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if c == '\n' {
            push_sentence(&mut out, para, start..i, sep);
            sep = Sep::Line;
            start = i + 1;
            continue;
        }
        if !is_cjk_stop(c) && !matches!(c, '.' | '!' | '?') {
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = iter.peek() {
            if !is_closer(d) {
                break;
            }
            end = j + d.len_utf8();
            iter.next();
        }
        match iter.peek() {
            Some(&(j, ' ')) => {
                push_sentence(&mut out, para, start..end, sep);
                sep = Sep::Space;
                start = j + 1;
                iter.next();
            }
            Some(_) if is_cjk_stop(c) => {
                push_sentence(&mut out, para, start..end, sep);
                sep = Sep::None;
                start = end;
            }
            _ => {}
        }
    }
    push_sentence(&mut out, para, start..para.len(), sep);
    out
}

fn push_sentence<'a>(
    out: &mut Vec<(&'a str, Sep)>,
    para: &'a str,
    range: std::ops::Range<usize>,
    sep: Sep,
) {
    if !range.is_empty() {
        out.push((&para[range], sep));
    }
}

/// Byte offset where each token of `text` starts, plus `text.len()` at the end.
fn token_starts(tokens: &[Rank]) -> Vec<usize> {
    let mut starts = Vec::with_capacity(tokens.len() + 1);
    let mut offset = 0;
    starts.push(0);
    for t in tokens {
        offset += bpe()
            .decode_bytes(std::slice::from_ref(t))
            .map_or(0, |b| b.len());
        starts.push(offset);
    }
    starts
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Cuts a too-long sentence into runs of at most `limit` tokens, at the last word break
/// inside each window, or mid-word at a token boundary when the window has none.
fn split_by_window(
    text: &str,
    tokens: &[Rank],
    limit: usize,
    first_sep: Sep,
    out: &mut Vec<Piece>,
) {
    let starts = token_starts(tokens);
    let token_at = |byte: usize| starts.partition_point(|&o| o < byte);
    let mut sep = first_sep;
    let mut s = 0;
    while s < text.len() {
        let k = token_at(s);
        if k + limit >= tokens.len() {
            out.push(Piece {
                text: text[s..].to_string(),
                tokens: tokens.len().saturating_sub(k).max(1),
                sep,
            });
            break;
        }
        let hard = floor_char_boundary(text, starts[k + limit]);
        let at = match text[s..hard].rfind([' ', '\n']) {
            Some(p) if p > 0 => s + p,
            _ if hard > s => hard,
            _ => ceil_char_boundary(text, s + 1),
        };
        let (end, next, next_sep) = cut_at(text, at);
        out.push(Piece {
            text: text[s..end].to_string(),
            tokens: token_at(end).saturating_sub(k).max(1),
            sep,
        });
        sep = next_sep;
        s = next;
    }
}

/// Where a piece cut at byte `at` ends and the next one begins, leaving out the whitespace at
/// the cut, and the separator that whitespace stood for.
fn cut_at(text: &str, at: usize) -> (usize, usize, Sep) {
    let sep_of = |c: char| if c == '\n' { Sep::Line } else { Sep::Space };
    if let Some(c) = text[at..].chars().next().filter(|c| c.is_whitespace()) {
        return (at, at + c.len_utf8(), sep_of(c));
    }
    if let Some(c) = text[..at].chars().next_back().filter(|c| c.is_whitespace()) {
        return (at - c.len_utf8(), at, sep_of(c));
    }
    (at, at, Sep::None)
}

/// Greedily packs one heading path's pieces into chunks, each after the first opening with
/// the tail of the previous one.
fn pack(pieces: Vec<Piece>, path: &[String], max: usize, overlap: usize, out: &mut Vec<Chunk>) {
    let mut queue: VecDeque<Piece> = pieces.into();
    let mut body: Vec<Piece> = Vec::new();
    let mut lead: Option<Piece> = None;
    let mut prev: Option<(String, Vec<Rank>)> = None;
    let mut est = 0;
    loop {
        match queue.pop_front() {
            Some(p) if body.is_empty() => {
                let room = max.saturating_sub(p.tokens + p.sep.cost());
                lead = prev
                    .as_ref()
                    .and_then(|(text, tokens)| overlap_tail(text, tokens, overlap.min(room)));
                est = lead.as_ref().map_or(0, |l| l.tokens + p.sep.cost()) + p.tokens;
                body.push(p);
                continue;
            }
            Some(p) => {
                let cost = p.sep.cost() + p.tokens;
                if est + cost <= max {
                    est += cost;
                    body.push(p);
                    continue;
                }
                queue.push_front(p);
            }
            None if body.is_empty() => break,
            None => {}
        }
        if let Some((text, tokens)) = finalize(&mut body, &mut lead, &mut queue, max) {
            out.push(Chunk {
                text: text.clone(),
                heading_path: path.to_vec(),
                tokens: tokens.len(),
            });
            prev = Some((text, tokens));
        }
    }
}

/// Joins the current chunk and checks its exact token count; when the estimate was too low it
/// hands pieces back to the queue (or halves a lone piece) and returns None.
fn finalize(
    body: &mut Vec<Piece>,
    lead: &mut Option<Piece>,
    queue: &mut VecDeque<Piece>,
    max: usize,
) -> Option<(String, Vec<Rank>)> {
    while !body.is_empty() {
        let text = join(lead.as_ref(), body);
        let tokens = bpe().encode_ordinary(&text);
        let lone = body.len() == 1 && lead.is_none();
        if tokens.len() <= max || (lone && body[0].text.chars().nth(1).is_none()) {
            body.clear();
            *lead = None;
            return Some((text, tokens));
        }
        if body.len() > 1 {
            queue.push_front(body.pop().expect("body has pieces"));
        } else if lead.is_some() {
            *lead = None;
        } else {
            let (a, b) = halve(body.pop().expect("body has a piece"));
            queue.push_front(b);
            queue.push_front(a);
        }
    }
    None
}

fn join(lead: Option<&Piece>, body: &[Piece]) -> String {
    let mut text = String::new();
    if let Some(l) = lead {
        text.push_str(&l.text);
    }
    for p in body {
        if !text.is_empty() {
            text.push_str(p.sep.as_str());
        }
        text.push_str(&p.text);
    }
    text
}

/// Splits a piece near its middle, at a space when there is one.
fn halve(p: Piece) -> (Piece, Piece) {
    let mid = floor_char_boundary(&p.text, p.text.len() / 2);
    let mid = if mid == 0 {
        ceil_char_boundary(&p.text, 1)
    } else {
        mid
    };
    let at = p.text[..mid].rfind(' ').filter(|&i| i > 0).unwrap_or(mid);
    let (end, next, sep) = cut_at(&p.text, at);
    let (left, right) = (&p.text[..end], &p.text[next..]);
    let a = Piece {
        text: left.to_string(),
        tokens: count_tokens(left),
        sep: p.sep,
    };
    let b = Piece {
        text: right.to_string(),
        tokens: count_tokens(right),
        sep,
    };
    (a, b)
}

/// Whether a sentence begins at byte `i` of `text` (after a line break or a sentence end).
fn is_sentence_start(text: &str, i: usize) -> bool {
    let before = &text[..i];
    if before.is_empty() || before.ends_with('\n') {
        return true;
    }
    let spaced = before.strip_suffix(' ');
    let core = spaced.unwrap_or(before).trim_end_matches(is_closer);
    core.ends_with(is_cjk_stop) || (spaced.is_some() && core.ends_with(['.', '!', '?']))
}

/// About `budget` tokens from the end of the previous chunk, starting at a sentence when one
/// starts early enough in that window, else at a word, else at a token boundary.
fn overlap_tail(text: &str, tokens: &[Rank], budget: usize) -> Option<Piece> {
    if budget == 0 || tokens.is_empty() {
        return None;
    }
    let first = tokens.len().saturating_sub(budget);
    let tail_len = bpe().decode_bytes(&tokens[first..]).ok()?.len();
    let start = ceil_char_boundary(text, text.len().saturating_sub(tail_len));
    let window = &text[start..];
    let half = start + window.len() / 2;
    let sentence_start = || {
        window
            .char_indices()
            .map(|(i, _)| start + i)
            .find(|&i| is_sentence_start(text, i))
    };
    let word_start = if start == 0 || text[..start].ends_with([' ', '\n']) {
        Some(start)
    } else {
        window.find([' ', '\n']).map(|i| start + i + 1)
    };
    // A sentence start early in the window, else a word start, else (text without spaces,
    // such as Japanese) any sentence start, else the token boundary itself.
    let begin = sentence_start()
        .filter(|&i| i <= half)
        .or(word_start.filter(|&i| i < text.len()))
        .or_else(sentence_start)
        .unwrap_or(start);
    let tail = text[begin..].trim();
    if tail.is_empty() {
        return None;
    }
    Some(Piece {
        text: tail.to_string(),
        tokens: count_tokens(tail),
        sep: Sep::None,
    })
}

#[cfg(test)]
mod tests;
