//! The offline answerer: composes a reply from the best passages' own sentences, so nothing in
//! it can be invented.

use std::sync::LazyLock;

use futures::StreamExt;
use futures::stream::BoxStream;
use regex::Regex;

use super::language::templates;
use super::personality::Voice;
use super::{AnswerEvent, AnswerRequest, Answerer};
use crate::retrieval::Passage;
use crate::retrieval::terms::terms;

/// Most words an extractive reply quotes.
const MAX_WORDS: usize = 90;

/// A composed reply: the quoted sentences per passage used.
#[derive(Clone, Debug, PartialEq)]
pub struct Extract {
    /// `(index into the passages, quoted text)`, in reply order.
    pub quotes: Vec<(usize, String)>,
}

static SENTENCE_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"[.!?。！？][)"'»”]?\s+"#).expect("sentence regex"));

/// Splits text into sentences (paragraph and list breaks end one too).
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split('\n') {
        let para = para.trim().trim_start_matches(['-', '*', '•']).trim();
        if para.is_empty() {
            continue;
        }
        let mut start = 0;
        for m in SENTENCE_END.find_iter(para) {
            let next = para[m.end()..].chars().next();
            // "e.g. the" or "v1.2" do not end sentences: the next one starts upper-case or with a digit.
            if next.is_some_and(|c| c.is_lowercase()) {
                continue;
            }
            out.push(para[start..m.end()].trim().to_string());
            start = m.end();
        }
        if start < para.len() {
            out.push(para[start..].trim().to_string());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Whether a line reads as code rather than prose (quoting it would not answer anyone).
fn looks_like_code(s: &str) -> bool {
    let symbols = s.chars().filter(|c| "{};=<>|&$#()[]".contains(*c)).count();
    let words = s.split_whitespace().count().max(1);
    let braces = s.contains('{') || s.contains('}') || s.contains("();");
    symbols * 3 > words * 2 || (braces && symbols >= 3) || s.ends_with('{') || s.ends_with(';')
}

/// How well a sentence answers: the weighted share of the question's terms it contains.
fn sentence_score(sentence: &str, q: &[(String, f32)]) -> f32 {
    let total: f32 = q.iter().map(|(_, w)| w).sum();
    if total <= 0.0 {
        return 0.0;
    }
    let st = terms(sentence);
    let hit: f32 = q
        .iter()
        .filter(|(t, _)| st.iter().any(|s| s == t))
        .map(|(_, w)| w)
        .sum();
    hit / total
}

/// Picks the sentences that answer `question` from `passages` (already judged good enough):
/// the best sentence of the best passage with its neighbour for context, and one more from
/// another page when it answers as well.
pub fn compose(question: &str, passages: &[&Passage], weight: impl Fn(&str) -> f32) -> Extract {
    let mut q: Vec<(String, f32)> = Vec::new();
    for t in terms(question) {
        if !q.iter().any(|(x, _)| *x == t) {
            let w = weight(&t);
            q.push((t, w));
        }
    }
    let mut quotes = Vec::new();
    let mut words = 0;
    for (pi, p) in passages.iter().enumerate().take(3) {
        if pi > 0
            && (words >= MAX_WORDS / 2
                || passages[..pi]
                    .iter()
                    .any(|o| o.document_id == p.document_id))
        {
            continue;
        }
        let sents = sentences(&p.text);
        let prose: Vec<(usize, &String)> = sents
            .iter()
            .enumerate()
            .filter(|(_, s)| !looks_like_code(s) && s.split_whitespace().count() >= 3)
            .collect();
        let Some(&(best, _)) = prose.iter().max_by(|a, b| {
            sentence_score(a.1, &q)
                .total_cmp(&sentence_score(b.1, &q))
                .then(b.0.cmp(&a.0))
        }) else {
            continue;
        };
        let best_score = sentence_score(&sents[best], &q);
        if pi > 0 && best_score < 0.5 {
            continue;
        }
        let mut picked = vec![best];
        // A short answer sentence, or one that opens with a reference back, needs its neighbours.
        let short = sents[best].split_whitespace().count() < 14;
        if short && best + 1 < sents.len() && !looks_like_code(&sents[best + 1]) {
            picked.push(best + 1);
        }
        let starts_with_reference = sents[best].split_whitespace().next().is_some_and(|w| {
            matches!(
                w.to_lowercase().as_str(),
                "this" | "these" | "it" | "they" | "that"
            )
        });
        if starts_with_reference && best > 0 && !looks_like_code(&sents[best - 1]) {
            picked.insert(0, best - 1);
        }
        let mut text = String::new();
        for i in picked {
            let n = sents[i].split_whitespace().count();
            if words + n > MAX_WORDS && !text.is_empty() {
                break;
            }
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(&sents[i]);
            words += n;
        }
        if !text.is_empty() {
            quotes.push((pi, text));
        }
        if quotes.len() == 2 {
            break;
        }
    }
    Extract { quotes }
}

/// Answers by quoting the passages, with the personality's opening and closing phrases.
pub struct ExtractiveAnswerer;

impl Answerer for ExtractiveAnswerer {
    fn answer(&self, req: &AnswerRequest<'_>) -> BoxStream<'static, anyhow::Result<AnswerEvent>> {
        let e = compose(req.question, req.passages, req.weight);
        if e.quotes.is_empty() {
            return futures::stream::iter([Ok(AnswerEvent::Refused)]).boxed();
        }
        let lang = req.lang.lang;
        let mut parts: Vec<&str> = Vec::new();
        let opening = req.personality.opening(lang, req.seed);
        if !opening.is_empty() {
            parts.push(opening);
        }
        for (i, (_, quote)) in e.quotes.iter().enumerate() {
            if i > 0 {
                parts.push(templates(lang).also);
            }
            parts.push(quote);
        }
        let closing = req.personality.closing(lang, req.seed);
        if !closing.is_empty() {
            parts.push(closing);
        }
        let text = parts.join(" ");
        let cited = e.quotes.iter().map(|q| q.0).collect();
        let mut events: Vec<anyhow::Result<AnswerEvent>> = word_pieces(&text)
            .map(|w| Ok(AnswerEvent::Token(w.to_string())))
            .collect();
        events.push(Ok(AnswerEvent::Done { text, cited }));
        futures::stream::iter(events).boxed()
    }
}

/// Splits text into pieces that each start with the whitespace before a word.
pub fn word_pieces(text: &str) -> impl Iterator<Item = &str> {
    let mut starts: Vec<usize> = vec![0];
    let mut prev_space = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() && !prev_space && i > 0 {
            starts.push(i);
        }
        prev_space = c.is_whitespace();
    }
    starts.push(text.len());
    starts
        .windows(2)
        .map(move |w| &text[w[0]..w[1]])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn passage(doc: u128, text: &str) -> Passage {
        Passage {
            chunk_id: Uuid::new_v4(),
            source_id: Uuid::nil(),
            document_id: Uuid::from_u128(doc),
            title: "t".into(),
            url: None,
            heading_path: vec![],
            text: text.into(),
            similarity: None,
            coverage: 1.0,
            score: 1.0,
        }
    }

    #[test]
    fn word_pieces_rebuild_the_text() {
        let t = "Happy to help!  Items can be returned.\nBye";
        let pieces: Vec<&str> = word_pieces(t).collect();
        assert_eq!(pieces.concat(), t);
        assert!(pieces.len() >= 6);
    }

    #[test]
    fn splits_sentences_but_not_abbreviations() {
        let s = sentences("Hello there. This costs 1.5 dollars, e.g. a lot! Next line\n- item one");
        assert_eq!(
            s,
            vec![
                "Hello there.",
                "This costs 1.5 dollars, e.g. a lot!",
                "Next line",
                "item one"
            ]
        );
    }

    #[test]
    fn quotes_the_sentence_that_answers() {
        let p = passage(
            1,
            "We love our customers. Items can be returned within 30 days of delivery for a full refund. \
             Shipping is free over 50 euros. fn main() { println!(\"x\"); }",
        );
        let e = compose("How many days do I have to return an item?", &[&p], |_| 1.0);
        assert_eq!(e.quotes.len(), 1);
        assert!(
            e.quotes[0]
                .1
                .starts_with("Items can be returned within 30 days"),
            "{e:?}"
        );
        assert!(!e.quotes[0].1.contains("fn main"), "{e:?}");
    }

    #[test]
    fn adds_a_second_page_only_when_it_answers_too() {
        let a = passage(1, "Refunds are paid to the original card within five days.");
        let b = passage(2, "Our office is in Lisbon.");
        let c = passage(
            3,
            "Refunds to a card take five days; refunds to a gift card are instant.",
        );
        let e = compose(
            "How long do refunds take to reach my card?",
            &[&a, &b, &c],
            |_| 1.0,
        );
        assert_eq!(e.quotes.iter().map(|q| q.0).collect::<Vec<_>>(), vec![0, 2]);
    }
}
