//! Tests of `chunking`.

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
        .find(|&n| a.is_char_boundary(a.len() - n) && b.is_char_boundary(n) && a.ends_with(&b[..n]))
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
    let fr =
        "L'élève a répondu à la question très précisément. Où est passé le garçon ? ".repeat(80);
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
    let en = "Alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi.";
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
