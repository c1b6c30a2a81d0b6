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
mod tests {
    use super::*;

    fn section(path: &[&str], text: &str) -> Section {
        Section {
            heading_path: path.iter().map(|s| s.to_string()).collect(),
            text: text.to_string(),
        }
    }

    fn assert_well_formed(chunks: &[Chunk], max: usize) {
        for c in chunks {
            assert!(!c.text.is_empty(), "empty chunk");
            assert_eq!(c.text, c.text.trim(), "untrimmed chunk");
            assert_eq!(c.tokens, count_tokens(&c.text), "wrong token count");
            assert!(c.tokens <= max, "{} tokens > {max}: {:?}", c.tokens, c.text);
        }
    }

    /// The longest suffix of `a` that is also a prefix of `b`.
    fn shared(a: &str, b: &str) -> usize {
        (1..=a.len().min(b.len()))
            .rev()
            .find(|&n| {
                a.is_char_boundary(a.len() - n) && b.is_char_boundary(n) && a.ends_with(&b[..n])
            })
            .unwrap_or(0)
    }

    fn mixed_text() -> String {
        let mut text = String::new();
        for i in 0..30 {
            text.push_str(&format!(
                "Paragraph {i} explains how the widget is installed. It has two sentences!\n\n"
            ));
        }
        for i in 0..2000 {
            text.push_str(&format!("word{i} "));
        }
        text.push_str("\n\n");
        text.push_str(&"x".repeat(6000));
        text.push_str("\n\nA closing paragraph that ends the document.");
        text
    }

    #[test]
    fn counts_tokens_with_cl100k() {
        assert_eq!(count_tokens("hello world"), 2);
        assert_eq!(count_tokens(""), 0);
    }

    #[test]
    fn long_mixed_input_respects_the_limit() {
        let text = mixed_text();
        for cfg in [
            ChunkConfig::default(),
            ChunkConfig {
                max_tokens: 50,
                overlap_tokens: 10,
            },
            ChunkConfig {
                max_tokens: 7,
                overlap_tokens: 2,
            },
        ] {
            let chunks = chunk_sections(&[section(&[], &text)], &cfg);
            assert!(chunks.len() > 3);
            assert_well_formed(&chunks, cfg.max_tokens);
            let all: String = chunks.iter().map(|c| c.text.as_str()).collect();
            for needle in [
                "Paragraph 0 ",
                "Paragraph 29 ",
                "word0",
                "word1999",
                "closing paragraph",
            ] {
                assert!(all.contains(needle), "lost {needle:?}");
            }
            let xs = all.chars().filter(|&c| c == 'x').count();
            assert!(xs >= 6000, "lost part of the long word: {xs}");
        }
    }

    #[test]
    fn splits_at_paragraphs_then_sentences() {
        let para = "This is a sentence about routers. ".repeat(30);
        let text = format!("{}\n\n{}", para.trim(), para.trim());
        let cfg = ChunkConfig {
            max_tokens: 100,
            overlap_tokens: 0,
        };
        let chunks = chunk_sections(&[section(&[], &text)], &cfg);
        assert_well_formed(&chunks, 100);
        for c in &chunks {
            assert!(c.text.starts_with("This is"), "{:?}", c.text);
            assert!(c.text.ends_with("routers."), "{:?}", c.text);
        }
    }

    #[test]
    fn heading_paths_are_never_mixed() {
        let sections = [
            section(&["Install"], "Download the package."),
            section(&["Install"], "Run the installer."),
            section(&["Install", "Linux"], "Use apt."),
            section(&["Install"], "Reboot when done."),
        ];
        let chunks = chunk_sections(&sections, &ChunkConfig::default());
        let paths: Vec<Vec<String>> = chunks.iter().map(|c| c.heading_path.clone()).collect();
        assert_eq!(
            paths,
            vec![
                vec!["Install".to_string()],
                vec!["Install".to_string(), "Linux".to_string()],
                vec!["Install".to_string()],
            ]
        );
        assert_eq!(
            chunks[0].text,
            "Download the package.\n\nRun the installer."
        );
        assert_eq!(chunks[1].text, "Use apt.");
        assert_eq!(chunks[2].text, "Reboot when done.");
    }

    #[test]
    fn long_heading_block_never_borrows_from_the_next() {
        let long = "Alpha beta gamma delta. ".repeat(200);
        let sections = [section(&["A"], &long), section(&["B"], "Only B text here.")];
        let chunks = chunk_sections(&sections, &ChunkConfig::default());
        assert_well_formed(&chunks, 400);
        let b: Vec<&Chunk> = chunks.iter().filter(|c| c.heading_path == ["B"]).collect();
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].text, "Only B text here.");
        assert!(
            chunks
                .iter()
                .filter(|c| c.heading_path == ["A"])
                .all(|c| !c.text.contains("Only B"))
        );
    }

    #[test]
    fn overlap_is_present_bounded_and_starts_at_a_sentence() {
        let text: String = (0..400)
            .map(|i| format!("Sentence number {i} describes the product in detail. "))
            .collect();
        let cfg = ChunkConfig::default();
        let chunks = chunk_sections(&[section(&["Doc"], &text)], &cfg);
        assert!(chunks.len() > 3);
        assert_well_formed(&chunks, cfg.max_tokens);
        for pair in chunks.windows(2) {
            let n = shared(&pair[0].text, &pair[1].text);
            assert!(
                n > 0,
                "no overlap between {:?} and {:?}",
                pair[0].text,
                pair[1].text
            );
            let overlap = count_tokens(&pair[1].text[..n]);
            assert!(
                overlap >= 20 && overlap <= cfg.overlap_tokens,
                "overlap of {overlap} tokens"
            );
            assert!(
                pair[1].text.starts_with("Sentence number"),
                "{:?}",
                pair[1].text
            );
        }
        // The overlap only repeats text: every sentence is still present, in order.
        let all: String = chunks.iter().map(|c| c.text.as_str()).collect();
        assert!(all.contains("Sentence number 0 ") && all.contains("Sentence number 399 "));
    }

    #[test]
    fn overlap_only_repeats_and_nothing_is_lost() {
        let text: String = (0..500)
            .map(|i| match i % 7 {
                0 => format!("Item {i} ends a paragraph.\n\n"),
                3 => format!("Item {i} is on its own line\n"),
                _ => format!("Item {i} is a sentence! "),
            })
            .collect();
        let cfg = ChunkConfig {
            max_tokens: 80,
            overlap_tokens: 15,
        };
        let chunks = chunk_sections(&[section(&[], &text)], &cfg);
        assert_well_formed(&chunks, cfg.max_tokens);
        let mut seen = Vec::new();
        for (i, c) in chunks.iter().enumerate() {
            let skip = if i == 0 {
                0
            } else {
                shared(&chunks[i - 1].text, &c.text)
            };
            for part in c.text[skip..].split("Item ").skip(1) {
                let n: usize = part.split(' ').next().unwrap().parse().unwrap();
                seen.push(n);
            }
        }
        assert_eq!(seen, (0..500).collect::<Vec<_>>());
    }

    #[test]
    fn overlap_on_text_without_punctuation_cuts_at_words() {
        let text: String = (0..3000).map(|i| format!("w{i} ")).collect();
        let cfg = ChunkConfig::default();
        let chunks = chunk_sections(&[section(&[], &text)], &cfg);
        assert_well_formed(&chunks, cfg.max_tokens);
        for pair in chunks.windows(2) {
            let n = shared(&pair[0].text, &pair[1].text);
            assert!(n > 0);
            assert!(pair[1].text.starts_with('w'), "{:?}", &pair[1].text[..20]);
            assert!(count_tokens(&pair[1].text[..n]) <= cfg.overlap_tokens);
        }
    }

    #[test]
    fn short_section_stays_whole() {
        let qa = "Q: How do I reset my password?\nA: Open Settings, then Security, then Reset.";
        let chunks = chunk_sections(&[section(&["FAQ"], qa)], &ChunkConfig::default());
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].text, qa);
        assert_eq!(chunks[0].heading_path, vec!["FAQ".to_string()]);
        assert_eq!(chunks[0].tokens, count_tokens(qa));
    }

    #[test]
    fn chunk_whole_never_splits() {
        let text = format!("  Q: why?\r\n\r\n\r\nA: {}  ", "because ".repeat(600));
        let chunk = chunk_whole(&text, vec!["FAQ".into()]);
        assert!(chunk.text.starts_with("Q: why?\n\nA: because"));
        assert!(chunk.text.ends_with("because"));
        assert!(chunk.tokens > 600);
        assert_eq!(chunk.tokens, count_tokens(&chunk.text));
    }

    #[test]
    fn empty_input_gives_no_chunks() {
        let cfg = ChunkConfig::default();
        assert!(chunk_sections(&[], &cfg).is_empty());
        assert!(chunk_sections(&[section(&["A"], " \n\t\r\n  ")], &cfg).is_empty());
    }

    #[test]
    fn whitespace_is_normalised() {
        let chunks = chunk_sections(
            &[section(&[], "  one \t two  \r\n three\n\n\n\n  four  ")],
            &ChunkConfig::default(),
        );
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].text, "one two\nthree\n\nfour");
    }

    #[test]
    fn french_and_japanese_text() {
        let fr = "L'élève a répondu à la question très précisément. Où est passé le garçon ? "
            .repeat(80);
        let ja: String = (0..80)
            .map(|i| format!("これは{i}番目の文章です。東京は日本の首都です！本当ですか？"))
            .collect();
        let ja_run = "日本語".repeat(2000);
        let cfg = ChunkConfig {
            max_tokens: 70,
            overlap_tokens: 16,
        };
        let sections = [
            section(&["Français"], &fr),
            section(&["日本"], &ja),
            section(&["日本", "長い"], &ja_run),
        ];
        let chunks = chunk_sections(&sections, &cfg);
        assert_well_formed(&chunks, cfg.max_tokens);
        let ja_chunks: Vec<&Chunk> = chunks
            .iter()
            .filter(|c| c.heading_path == ["日本"])
            .collect();
        assert!(ja_chunks.len() > 2);
        for c in &ja_chunks {
            assert!(c.text.ends_with(['。', '！', '？']), "{:?}", c.text);
        }
        for pair in ja_chunks.windows(2) {
            let n = shared(&pair[0].text, &pair[1].text);
            assert!(n > 0, "no Japanese overlap");
            let before = &pair[0].text[..pair[0].text.len() - n];
            assert!(
                before.ends_with(['。', '！', '？']),
                "overlap starts mid-sentence: {:?}",
                pair[1].text
            );
        }
        let fr_all: String = chunks
            .iter()
            .filter(|c| c.heading_path == ["Français"])
            .map(|c| c.text.as_str())
            .collect();
        assert!(fr_all.contains("L'élève") && fr_all.contains("garçon"));
        let run: usize = chunks
            .iter()
            .filter(|c| c.heading_path.len() == 2)
            .map(|c| c.text.chars().count())
            .sum();
        assert!(run >= 6000);
    }

    #[test]
    fn overlap_tail_prefers_sentences_then_words() {
        let tail = |text: &str, budget: usize| {
            overlap_tail(text, &bpe().encode_ordinary(text), budget).map(|p| p.text)
        };
        // No spaces: a late sentence start beats a cut inside a sentence.
        let ja = format!(
            "{}。{}。終わりです。",
            "あ".repeat(60),
            "東京は日本の首都です".repeat(4)
        );
        assert_eq!(tail(&ja, 20).as_deref(), Some("終わりです。"));
        // Spaces but no early sentence start: cut at a word.
        let en =
            "Alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi.";
        let t = tail(en, 8).unwrap();
        assert!(
            en.ends_with(&t) && en[..en.len() - t.len()].ends_with(' '),
            "{t:?}"
        );
        assert!(count_tokens(&t) <= 8);
        // An early sentence start wins.
        let s = "First sentence is long enough here. Second one. Third one.";
        assert_eq!(tail(s, 6).as_deref(), Some("Second one. Third one."));
        assert_eq!(tail(s, 0), None);
    }

    #[test]
    fn random_text_respects_every_limit() {
        let alphabet: Vec<char> = "aaaabbbcd  \n\n.!?。！？\")日本éxyz1234567890"
            .chars()
            .collect();
        let mut seed = 0x1234_5678_9abc_def1u64;
        for round in 0..100 {
            let len = (seed % 2000) as usize;
            let text: String = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            let cfg = ChunkConfig {
                max_tokens: 5 + round % 60,
                overlap_tokens: round % 20,
            };
            let chunks = chunk_sections(&[section(&[], &text)], &cfg);
            assert_well_formed(&chunks, cfg.max_tokens);
            let kept: usize = chunks
                .iter()
                .map(|c| c.text.chars().filter(|c| !c.is_whitespace()).count())
                .sum();
            let input = text.chars().filter(|c| !c.is_whitespace()).count();
            assert!(kept >= input, "lost text: {kept} < {input}");
        }
    }

    #[test]
    fn sentence_splitting() {
        let got: Vec<&str> = sentences("Hi there. \"Quoted!\" Then 3.14 is pi?\nNew line。次")
            .into_iter()
            .map(|s| s.0)
            .collect();
        assert_eq!(
            got,
            vec![
                "Hi there.",
                "\"Quoted!\"",
                "Then 3.14 is pi?",
                "New line。",
                "次"
            ]
        );
    }
}
