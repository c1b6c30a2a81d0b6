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
use crate::retrieval::intent::{self, AnswerType};
use crate::retrieval::terms::{self, terms};

/// Most words an extractive reply quotes.
const MAX_WORDS: usize = 90;

/// What being the passage's sentence closest in meaning to the question adds to a sentence's
/// score, when none of the question's words are in the passage.
const CLOSEST_BONUS: f32 = 0.6;

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
pub(crate) fn looks_like_code(s: &str) -> bool {
    let symbols = s.chars().filter(|c| "{};=<>|&$#()[]".contains(*c)).count();
    let words = s.split_whitespace().count().max(1);
    let braces = s.contains('{') || s.contains('}') || s.contains("();");
    symbols * 3 > words * 2 || (braces && symbols >= 3) || s.ends_with('{') || s.ends_with(';')
}

/// Whether a line is not an answer in itself: a heading (the passage's title or one of its
/// headings), a table's header row, a button or link label (a few words, no sentence, nothing
/// the question asks for).
fn is_label(s: &str, p: &Passage, kind: AnswerType) -> bool {
    let bare = s.trim().trim_end_matches([':', '.']).trim();
    if bare.eq_ignore_ascii_case(p.title.trim())
        || p.heading_path
            .iter()
            .any(|h| bare.eq_ignore_ascii_case(h.trim()))
    {
        return true;
    }
    let cells = s
        .split(['|', '\t'])
        .filter(|c| !c.trim().is_empty())
        .count();
    if cells >= 2
        && !s.chars().any(|c| c.is_ascii_digit())
        && s.split_whitespace().count() <= 3 * cells
    {
        // "Zone | Price | Delivery time": column names, no values.
        return true;
    }
    let n = s.split_whitespace().count();
    let ends = s.trim_end().ends_with(['.', '!', '?', ':', ';', '。']);
    let untyped = matches!(kind, AnswerType::YesNo | AnswerType::Other);
    n < 3 || (n <= 4 && !ends && (untyped || !intent::carries(kind, s)))
}

/// How well a sentence answers: the weighted share of the question's content terms it contains,
/// and whether it carries the kind of answer asked for.
fn sentence_score(sentence: &str, q: &[(String, f32)], kind: AnswerType) -> f32 {
    let total: f32 = q.iter().map(|(_, w)| w).sum();
    let st = terms(sentence);
    let hit: f32 = q
        .iter()
        .filter(|(t, _)| st.iter().any(|s| s == t))
        .map(|(_, w)| w)
        .sum();
    let coverage = if total > 0.0 { hit / total } else { 0.0 };
    let typed = !matches!(kind, AnswerType::YesNo | AnswerType::Other);
    // The kind of answer asked for outweighs words: "3 Lake Road, Keswick" answers "where is
    // the Keswick store" better than "Dogs are welcome in the Keswick store".
    let form = match (typed && intent::carries(kind, sentence), coverage > 0.0) {
        (true, true) => 1.0,
        (true, false) => 0.5,
        _ => 0.0,
    };
    // A question is not its own answer (an FAQ's question line).
    let asks = if sentence.trim_end().ends_with('?') {
        -0.5
    } else {
        0.0
    };
    coverage + form + asks
}

/// Whether a sentence is a bare "yes" / "no" (an FAQ's answer opening).
fn bare_yes_no(s: &str) -> bool {
    let w: Vec<String> = terms::words(s).collect();
    w.len() <= 2 && w.first().is_some_and(|f| YES_NO.contains(&f.as_str()))
}

const YES_NO: &[&str] = &[
    "yes", "no", "yep", "nope", "sí", "si", "oui", "non", "ja", "nein", "sim", "não", "nee",
];

/// A candidate sentence: passage, sentence number, score.
type Candidate = (usize, usize, f32);

/// Picks the sentences that answer `question` from `passages` (already judged good enough):
/// the best sentence for what the question asks (a duration, an amount, a time, a place, a
/// yes/no statement and its qualifier), with a neighbour when it needs one, and one more from
/// another page when it answers as well.
pub fn compose(question: &str, passages: &[&Passage], weight: impl Fn(&str) -> f32) -> Extract {
    let kind = intent::answer_type(question);
    let mut q: Vec<(String, f32)> = Vec::new();
    let mut content = terms::query_terms(question);
    if content.is_empty() {
        content = terms(question);
    }
    for t in content {
        if !q.iter().any(|(x, _)| *x == t) {
            let w = weight(&t);
            q.push((t, w));
        }
    }
    let split: Vec<Vec<String>> = passages
        .iter()
        .take(3)
        .map(|p| sentences(&p.text))
        .collect();
    // Every usable sentence of the first three passages; later passages pay a little for rank.
    let mut candidates: Vec<Candidate> = Vec::new();
    for (pi, sents) in split.iter().enumerate() {
        for (si, s) in sents.iter().enumerate() {
            if looks_like_code(s) || is_label(s, passages[pi], kind) {
                continue;
            }
            let mut score = sentence_score(s, &q, kind) - 0.08 * pi as f32;
            // The sentence closest in meaning to the question (its vectors know paraphrases and
            // other languages, which the words do not).
            // It counts as much as the words fail: fully for a question none of whose words
            // the passage has, not at all when it has them all.
            if passages[pi].closest_sentence.as_deref() == Some(s.as_str()) {
                score += CLOSEST_BONUS * (1.0 - passages[pi].coverage.clamp(0.0, 1.0));
            }
            // An FAQ's answer: the sentence after a question like the visitor's (past a bare
            // "Yes."/"No.") answers it, whatever its own words.
            let asked = match si {
                0 => None,
                1 => Some(0),
                _ if bare_yes_no(&sents[si - 1]) => Some(si - 2),
                _ => Some(si - 1),
            };
            if let Some(a) = asked.filter(|&a| sents[a].trim_end().ends_with('?')) {
                score += 1.1 * (sentence_score(&sents[a], &q, AnswerType::Other) + 0.5).max(0.0);
            }
            candidates.push((pi, si, score));
        }
    }
    candidates.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    let mut quotes: Vec<(usize, String)> = Vec::new();
    let mut words = 0;
    let Some(&(first_p, _, first_score)) = candidates.first() else {
        return Extract { quotes };
    };
    for &(pi, si, score) in &candidates {
        if !quotes.is_empty() {
            // A second page only when it answers about as well, and never the same page again.
            let same = quotes
                .iter()
                .any(|(qp, _)| passages[*qp].document_id == passages[pi].document_id);
            if same || score < 0.5 || score < first_score - 0.25 || words >= MAX_WORDS / 2 {
                continue;
            }
        }
        let text = around(&split[pi], si, passages[pi], kind, &mut words);
        if !text.is_empty() {
            quotes.push((pi, text));
        }
        if quotes.len() == 2 {
            break;
        }
    }
    // The best page's quote comes first.
    quotes.sort_by_key(|(pi, _)| (*pi != first_p) as u8);
    Extract { quotes }
}

/// The sentence `best` of `sents` with the neighbours it needs: a bare "Yes."/"No." before it,
/// the sentence before when it opens with a reference back, the one after when it is short, or
/// qualifies a yes/no answer, or carries the asked-for kind of answer the best one lacks.
fn around(
    sents: &[String],
    best: usize,
    p: &Passage,
    kind: AnswerType,
    words: &mut usize,
) -> String {
    let usable = |i: usize| !looks_like_code(&sents[i]) && !is_label(&sents[i], p, kind);
    let mut picked = vec![best];
    if best > 0 && bare_yes_no(&sents[best - 1]) {
        picked.insert(0, best - 1);
    }
    let starts_with_reference = sents[best].split_whitespace().next().is_some_and(|w| {
        matches!(
            w.to_lowercase().as_str(),
            "this" | "these" | "it" | "they" | "that"
        )
    });
    if starts_with_reference && best > 0 && !picked.contains(&(best - 1)) && usable(best - 1) {
        picked.insert(0, best - 1);
    }
    let next = best + 1;
    if next < sents.len() && usable(next) && !sents[next].trim_end().ends_with('?') {
        let short = sents[best].split_whitespace().count() < 14;
        let typed = !matches!(kind, AnswerType::YesNo | AnswerType::Other);
        let completes =
            typed && !intent::carries(kind, &sents[best]) && intent::carries(kind, &sents[next]);
        let qualifier = kind == AnswerType::YesNo && intent::qualifies(&sents[next]);
        if short || completes || qualifier {
            picked.push(next);
        }
    }
    let mut text = String::new();
    for i in picked {
        let n = sents[i].split_whitespace().count();
        if *words + n > MAX_WORDS && !text.is_empty() {
            break;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&sents[i]);
        *words += n;
    }
    text
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
            closest_sentence: None,
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
    fn picks_the_kind_of_answer_asked_for_on_the_same_page() {
        let p = passage(
            1,
            "Larchwood Keswick\n3 Lake Road, Keswick, Cumbria CA12 5BS\n\
             Dogs are welcome in the Keswick store, and there is a water bowl by the door.\n\
             Orders placed before 2 pm leave the warehouse the same day. The Keswick store closes at 17:30 on Saturdays.",
        );
        let e = compose("where is the keswick store", &[&p], |_| 1.0);
        assert!(e.quotes[0].1.starts_with("3 Lake Road"), "{e:?}");
        let e = compose(
            "what time does the keswick store close on saturday",
            &[&p],
            |_| 1.0,
        );
        assert!(e.quotes[0].1.contains("17:30"), "{e:?}");
        assert!(!e.quotes[0].1.contains("2 pm"), "{e:?}");
    }

    #[test]
    fn an_faq_answer_keeps_its_yes_and_its_qualifier() {
        let p = passage(
            1,
            "Do you have a student discount?\nYes. Students get 10% off full-price items with a valid ID.\n\
             The student discount cannot be combined with sale prices.\nDo you price match? No.",
        );
        let e = compose("do you have a student discount", &[&p], |_| 1.0);
        let q = &e.quotes[0].1;
        assert!(q.starts_with("Yes. Students get 10% off"), "{e:?}");
        assert!(q.contains("cannot be combined"), "{e:?}");
        assert!(!q.contains("student discount?"), "{e:?}");
    }

    #[test]
    fn never_quotes_a_heading_a_header_row_or_a_button() {
        let mut p = passage(
            1,
            "Shipping rates\nZone | Standard | Express\nShop now\nUK mainland | £4.95 | £9.95",
        );
        p.heading_path = vec!["Shipping rates".into()];
        let e = compose("how much is shipping", &[&p], |_| 1.0);
        assert_eq!(e.quotes[0].1, "UK mainland | £4.95 | £9.95", "{e:?}");
    }

    #[test]
    fn the_sentence_closest_in_meaning_answers_a_question_in_another_language() {
        let mut p = passage(
            1,
            "Orders placed before 2 pm leave the warehouse the same day.\n\
             Our Kendal store closes at 17:30 on Saturdays.\n\
             Parking is two minutes away.",
        );
        // No word of the question is on the page; its vectors found the closing time.
        p.coverage = 0.0;
        p.closest_sentence = Some("Our Kendal store closes at 17:30 on Saturdays.".into());
        let e = compose("¿A qué hora cierra la tienda el sábado?", &[&p], |_| 1.0);
        assert!(
            e.quotes[0].1.starts_with("Our Kendal store closes"),
            "{e:?}"
        );
        p.closest_sentence = None;
        let e = compose("¿A qué hora cierra la tienda el sábado?", &[&p], |_| 1.0);
        assert!(
            e.quotes[0].1.contains("2 pm"),
            "without vectors the first time wins: {e:?}"
        );
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
