//! Whether a reply's sentences are supported by the passages it was given — by what they
//! say, not by whether they carry `[n]` markers.
//!
//! A sentence's checkable claims — its numbers and its names — must each be found in a
//! passage, and most of its content words must be found in one passage (or, for a reply in
//! another language than the passages, the sentence must cite a passage with `[n]`). A
//! negation needs a negation in the passage. Sentences with no content (courtesy such as
//! "Sure!" or "Let me know if you have other questions.") are neutral.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::language;
use super::prompt;
use crate::retrieval::terms;

/// Least share of a sentence's content words that one passage must hold (calibrated on the
/// bakery and shop cases of `support_eval.rs`: below it invented details slip through).
pub const MIN_COVERAGE: f32 = 0.8;

/// What a sentence of a reply is, judged against the passages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Supported by these passages (0-based indexes, best first).
    Supported(Vec<usize>),
    /// No claims at all: courtesy, a lead-in.
    Neutral,
    /// Holds something no passage says.
    Unsupported(&'static str),
}

/// The passages' text, prepared once per reply.
pub struct Evidence {
    passages: Vec<Prepared>,
    /// Words that may appear without a passage holding them (the agent's name).
    allowed: HashSet<String>,
    /// Least content coverage ([`MIN_COVERAGE`] unless calibrating).
    min_coverage: f32,
}

struct Prepared {
    text: String,
    terms: HashSet<String>,
    numbers: HashSet<String>,
    ranges: HashSet<(String, String)>,
    negated: bool,
    lang: Option<language::Lang>,
    /// Each sentence's terms and numbers, and whether it is negated.
    sentences: Vec<(HashSet<String>, bool)>,
}

/// A sentence's terms and numbers (for finding the passage sentence that says the opposite).
fn keys(lower: &str) -> HashSet<String> {
    let mut k: HashSet<String> = terms::terms(lower)
        .into_iter()
        .filter(|t| !t.chars().all(|c| c.is_ascii_digit()))
        .collect();
    k.extend(numbers(lower));
    k
}

impl Evidence {
    /// Evidence from the passages' texts (headings included by the caller) and words the
    /// reply may use freely (the agent's name).
    pub fn new<S: AsRef<str>>(passages: &[S], allowed: &[&str]) -> Evidence {
        let passages = passages
            .iter()
            .map(|p| {
                let text = p.as_ref().to_string();
                let lower = text.to_lowercase();
                let (mut parts, rest) = split_sentences(&lower);
                parts.push(rest.to_string());
                let sentences = parts.iter().map(|s| (keys(s), has_negation(s))).collect();
                Prepared {
                    sentences,
                    terms: terms::terms(&text).into_iter().collect(),
                    numbers: numbers(&with_digits(&lower)).into_iter().collect(),
                    ranges: ranges(&lower).into_iter().collect(),
                    negated: has_negation(&lower),
                    lang: language::detect(&text),
                    text: lower,
                }
            })
            .collect();
        let allowed = allowed
            .iter()
            .flat_map(|a| terms::terms(a))
            .collect::<HashSet<_>>();
        Evidence {
            passages,
            allowed,
            min_coverage: MIN_COVERAGE,
        }
    }

    /// The same evidence judged with another least coverage (for calibration).
    pub fn with_min_coverage(mut self, min: f32) -> Evidence {
        self.min_coverage = min;
        self
    }

    /// Judges one sentence of a reply (it may carry `[n]` markers).
    pub fn judge(&self, sentence: &str) -> Verdict {
        let marked = prompt::citations(sentence, self.passages.len());
        let plain = prompt::strip_citations(sentence);
        let plain = plain.trim();
        if plain.contains(prompt::NO_ANSWER) {
            return Verdict::Unsupported("the reply says the passages do not hold the answer");
        }
        let lower = strip_courtesy(&plain.to_lowercase());
        let lang = language::detect(plain);
        // Numbers and names (capitalised words inside the sentence), each held by the one
        // passage that supports the sentence: a number from one passage and the words of
        // another ("30 days" of a rental next to "returns") prove nothing.
        let nums = numbers(&lower);
        let rngs = ranges(&lower);
        let names: Vec<String> = names(plain, lang)
            .into_iter()
            .filter(|n| !self.allowed.contains(&terms::stem(n)))
            .collect();
        let holds_claims = |p: &Prepared| {
            nums.iter().all(|n| holds_number(&p.numbers, n))
                && rngs.iter().all(|r| p.ranges.contains(r))
                && names
                    .iter()
                    .all(|n| p.terms.contains(&terms::stem(n)) || p.text.contains(n.as_str()))
        };
        let holders: Vec<usize> = (0..self.passages.len())
            .filter(|&i| holds_claims(&self.passages[i]))
            .collect();
        if holders.is_empty() {
            return Verdict::Unsupported("a number or name no passage holds with the others");
        }
        let content: Vec<String> = terms::terms(&lower)
            .into_iter()
            .filter(|t| !is_courtesy(t) && !t.chars().all(|c| c.is_ascii_digit()))
            .filter(|t| !self.allowed.contains(t))
            .collect();
        let claims = !nums.is_empty() || !names.is_empty();
        if content.is_empty() {
            return if claims {
                Verdict::Supported(vec![holders[0]])
            } else {
                Verdict::Neutral
            };
        }
        let negated = has_negation(&lower);
        if self.contradicted(&lower, &names, negated) {
            return Verdict::Unsupported("a passage says the opposite");
        }
        let mut best: Option<(usize, f32)> = None;
        for &i in &holders {
            let p = &self.passages[i];
            if negated && !p.negated {
                continue;
            }
            let found = content.iter().filter(|t| holds_term(&p.terms, t)).count();
            let coverage = found as f32 / content.len() as f32;
            if best.is_none_or(|(_, c)| coverage > c) {
                best = Some((i, coverage));
            }
        }
        match best {
            Some((i, c)) if c >= self.min_coverage => Verdict::Supported(vec![i]),
            // A reply in another language cannot share the passages' words: its markers
            // stand for them, never for its numbers and names.
            _ if !marked.is_empty()
                && lang.is_some()
                && marked.iter().all(|m| holders.contains(m))
                && marked.iter().all(|&m| self.passages[m].lang != lang)
                && (!negated || marked.iter().any(|&m| self.passages[m].negated)) =>
            {
                Verdict::Supported(marked)
            }
            _ if negated && best.is_none() => Verdict::Unsupported("a negation no passage makes"),
            _ => Verdict::Unsupported("content no passage holds"),
        }
    }

    /// Whether a passage sentence of the opposite polarity holds most of what the sentence
    /// says ("open on Mondays" against "closed on Mondays"), more than any sentence of the
    /// same polarity does; names and numbers weigh double.
    fn contradicted(&self, lower: &str, names: &[String], negated: bool) -> bool {
        let mine = keys(lower);
        let names: HashSet<String> = names.iter().map(|n| terms::stem(n)).collect();
        let weight = |k: &String| {
            if names.contains(k) || k.starts_with(|c: char| c.is_ascii_digit()) {
                2.0
            } else if is_polarity_word(k) || is_courtesy(k) {
                0.0
            } else {
                1.0
            }
        };
        let total: f32 = mine.iter().map(weight).sum();
        if total == 0.0 {
            return false;
        }
        let (mut same, mut opposite) = (0.0f32, 0.0f32);
        for (theirs, neg) in self.passages.iter().flat_map(|p| &p.sentences) {
            let c = mine
                .iter()
                .filter(|k| holds_term(theirs, k))
                .map(weight)
                .sum::<f32>()
                / total;
            if *neg == negated {
                same = same.max(c);
            } else {
                opposite = opposite.max(c);
            }
        }
        opposite >= self.min_coverage && opposite > same
    }

    /// Judges a whole reply: its supported passages, or `None` when any sentence is
    /// unsupported or none says anything.
    pub fn judge_reply(&self, reply: &str) -> Option<Vec<usize>> {
        let (sentences, rest) = split_sentences(reply);
        let mut cited = Vec::new();
        for s in sentences.iter().map(String::as_str).chain(
            Some(rest)
                .filter(|r| !r.trim().is_empty())
                .map(|r| r.trim()),
        ) {
            match self.judge(s) {
                Verdict::Supported(c) => cited.extend(c),
                Verdict::Neutral => {}
                Verdict::Unsupported(_) => return None,
            }
        }
        (!cited.is_empty()).then(|| dedup(cited))
    }
}

fn dedup(v: Vec<usize>) -> Vec<usize> {
    let mut out = Vec::new();
    for i in v {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

static SENTENCE_END: LazyLock<Regex> = LazyLock::new(|| {
    // A terminator (or a line break), the markers right after it, then white space.
    Regex::new(r"(?:[.!?。！？]+[)\x22'»”]*(?:\s*\[\d{1,2}(?:\s*[,;]\s*\d{1,2})*\])*\s+|\n+)")
        .expect("sentence regex")
});

/// The complete sentences of `text` (each with its markers, without the white space after
/// it) and the unfinished rest. A sentence is complete once white space follows its end.
pub fn split_sentences(text: &str) -> (Vec<String>, &str) {
    let (spans, rest) = sentence_spans(text);
    (spans.into_iter().map(|(s, _)| s).collect(), rest)
}

/// Like [`split_sentences`], with whether a line break followed each sentence.
pub fn sentence_spans(text: &str) -> (Vec<(String, bool)>, &str) {
    let mut out = Vec::new();
    let mut start = 0;
    for m in SENTENCE_END.find_iter(text) {
        let s = text[start..m.end()].trim();
        if !s.is_empty() {
            out.push((s.to_string(), m.as_str().contains('\n')));
        }
        start = m.end();
    }
    (out, &text[start..])
}

/// A number, with its `am`/`pm`.
const NUMBER_PATTERN: &str = r"\d+(?:[.,:]\d+)*(?:\s*(?:a\.?m\.?|p\.?m\.?)(?:\W|$))?";

static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(NUMBER_PATTERN).expect("number regex"));

/// A range of two numbers: "3–5", "7am to 3pm", "10 bis 18".
static RANGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"({NUMBER_PATTERN})\s*(?:–|—|-|to|bis|à)\s*({NUMBER_PATTERN})"
    ))
    .expect("range regex")
});

/// The ranges in lower-cased `text`, normalised: a reply's "3–4 days" is held only by a
/// passage with that range, not by one whose 3 and 4 stand apart ("2–3 days", "£4").
fn ranges(text: &str) -> Vec<(String, String)> {
    RANGE
        .captures_iter(text)
        .map(|c| (normalise_number(&c[1]), normalise_number(&c[2])))
        .collect()
}

/// The numbers in lower-cased `text`, normalised: "1,200" → "1200", "6.50" → "6.5",
/// "5 pm" → "17", "9:00" → "9".
fn numbers(text: &str) -> Vec<String> {
    NUMBER
        .find_iter(text)
        .map(|m| normalise_number(m.as_str()))
        .collect()
}

fn normalise_number(raw: &str) -> String {
    let pm = raw.contains('p');
    let digits: String = raw
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ':'))
        .collect();
    let digits = digits.trim_end_matches(['.', ',', ':']);
    // Thousands separators: "1,200", "1.200.000" ("6.500" is a decimal).
    static GROUPED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\d{1,3}(?:[.,]\d{3})+$").expect("grouped regex"));
    let mut n =
        if GROUPED.is_match(digits) && (digits.contains(',') || digits.matches('.').count() > 1) {
            digits.replace([',', '.'], "")
        } else {
            digits.replace(',', ".")
        };
    if let Some((h, m)) = n.split_once(':') {
        let h: u32 = h.parse().unwrap_or(0);
        let h = if pm && h < 12 { h + 12 } else { h };
        n = if m.trim_end_matches('0').is_empty() {
            h.to_string()
        } else {
            format!("{h}:{m}")
        };
    } else if n.contains('.') {
        n = n.trim_end_matches('0').trim_end_matches('.').to_string();
    } else if pm
        && let Ok(h) = n.parse::<u32>()
        && h < 12
    {
        n = (h + 12).to_string();
    }
    n
}

fn holds_number(have: &HashSet<String>, n: &str) -> bool {
    have.contains(n)
}

const NUMBER_WORDS: [&str; 21] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
];

/// Passages' small number words also count as digits ("three days" holds "3").
fn with_digits(text: &str) -> String {
    let mut out = text.to_string();
    for w in terms::words(text) {
        if let Some(n) = NUMBER_WORDS.iter().position(|x| *x == w) {
            out.push_str(&format!(" {n}"));
        }
        if w == "noon" || w == "midday" {
            out.push_str(" 12");
        }
    }
    out
}

/// Words written with a capital inside a sentence (not its first word): names of people,
/// places, products, days. German capitalises every noun, so there only mixed-case or
/// digit-bearing words count.
fn names(sentence: &str, lang: Option<language::Lang>) -> Vec<String> {
    let mut out = Vec::new();
    let mut first = true;
    for raw in sentence.split_whitespace() {
        let w = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let starts_clause = first;
        first = raw.ends_with(['.', ':', '!', '?']) || raw.starts_with('"');
        if w.is_empty() || starts_clause || w == "I" || w.starts_with("I'") {
            continue;
        }
        let upper = w.chars().next().is_some_and(char::is_uppercase);
        let mixed = w.chars().skip(1).any(char::is_uppercase);
        let german = lang == Some(language::Lang::De);
        if (upper && !german) || mixed {
            let lower = w.to_lowercase();
            if !terms::is_stopword(&lower) && !is_courtesy(&lower) {
                out.push(lower);
            }
        }
    }
    out
}

/// A passage term holds a sentence term when equal, or when one is a prefix of the other
/// of at least five letters ("deliver" / "delivery", "bake" / "bakery" do not).
fn holds_term(have: &HashSet<String>, t: &str) -> bool {
    if have.contains(t) {
        return true;
    }
    t.chars().count() >= 5
        && have
            .iter()
            .any(|h| h.chars().count() >= 5 && (h.starts_with(t) || t.starts_with(h.as_str())))
}

const NEGATIONS: &str = "not no never cannot can't don't doesn't didn't isn't aren't won't \
wasn't weren't without nor none nothing closed unavailable neither";

/// Words whose presence flips a sentence's sense rather than adding to its content.
fn is_polarity_word(term: &str) -> bool {
    matches!(term, "open" | "clos" | "closed" | "unavailabl" | "availabl")
}

fn has_negation(lower: &str) -> bool {
    static SET: LazyLock<HashSet<&'static str>> =
        LazyLock::new(|| NEGATIONS.split_whitespace().collect());
    lower
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .any(|w| SET.contains(w) || w.ends_with("n't"))
}

/// Phrases that say nothing about the business (removed before the words are counted).
const COURTESY_PHRASES: [&str; 14] = [
    "feel free to",
    "let me know",
    "let us know",
    "hope this helps",
    "hope that helps",
    "if you have any other questions",
    "if you have any more questions",
    "if you have any questions",
    "is there anything else",
    "happy to help",
    "glad to help",
    "you're welcome",
    "of course",
    "i'd be happy to",
];

fn strip_courtesy(lower: &str) -> String {
    let mut s = lower.replace('’', "'");
    for p in COURTESY_PHRASES {
        s = s.replace(p, " ");
    }
    s
}

/// Single words of courtesy and lead-ins.
const COURTESY: &str = "sure certainly absolutely great hello hi hey thank thanks welcome \
question answer help assist anything else today yes yeah okay ok glad happy sorry \
hope information info good here's here just also well indeed correct right exactly \
find found located locate situated cost costs priced price need needs take takes get \
were youre theyre youll well \
bien sûr claro supuesto natürlich gerne certo certamente bonjour hola hallo olá merci gracias \
danke obrigado obrigada oui sí ja sim volontiers plaisir encantado";

fn is_courtesy(term: &str) -> bool {
    static SET: LazyLock<HashSet<String>> = LazyLock::new(|| {
        COURTESY
            .split_whitespace()
            .flat_map(|w| [w.to_string(), terms::stem(w)])
            .collect()
    });
    SET.contains(term)
}

#[cfg(test)]
#[path = "support_tests.rs"]
mod tests;
