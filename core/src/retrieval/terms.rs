//! Keyword terms: lower-cased words without stopwords, lightly stemmed, so "returns",
//! "returning" and "returned" meet, as do a question's words and a passage's.

use std::collections::HashSet;
use std::sync::LazyLock;

const STOPWORDS: &str = "a about above after again against all am an and any are aren't as at be because been \
before being below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down \
during each few for from further had hadn't has hasn't have haven't having he her here hers herself him himself his \
how i i'm if in into is isn't it it's its itself let's me more most my myself no nor not of off on once only or other \
ought our ours ourselves out over own same she should shouldn't so some such than that that's the their theirs them \
themselves then there there's these they this those through to too under until up very was wasn't we were weren't \
what what's when where which while who whom why with won't would wouldn't you your yours yourself yourselves \
please many much \
el la los las un una de del y o que en es por para con se su sus al lo como le les des du et ou est une pour dans \
qui sur pas der die das und ein eine ist zu den von mit nicht im auf für o os um uma do da dos das em é il di che \
per non het een van en ik je";

static STOP: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| STOPWORDS.split_whitespace().collect());

/// True for words too common to say anything about a question.
pub fn is_stopword(word: &str) -> bool {
    STOP.contains(word)
}

/// The words of `text`, lower-cased (letters and digits; `_`, `-` and `'` split words,
/// except that an apostrophe inside a word is kept for the stopword check).
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| !w.is_empty() && w.len() <= 40)
}

/// The search terms of `text`: words minus stopwords, stemmed.
pub fn terms(text: &str) -> Vec<String> {
    words(text)
        .filter(|w| !is_stopword(w))
        .map(|w| stem(&w.replace('\'', "")))
        .filter(|w| !w.is_empty())
        .collect()
}

/// A light English stemmer: plural and verb endings and a final "e" (aggressive stemming
/// hurts precision on technical text more than it helps recall).
pub fn stem(word: &str) -> String {
    if !word.is_ascii() {
        return word.to_string();
    }
    let w = word;
    let n = w.len();
    let has_vowel = |s: &str| s.bytes().any(|b| b"aeiouy".contains(&b));
    let mut out = if n <= 3 {
        w.to_string()
    } else if w.ends_with("ies") || w.ends_with("ied") {
        format!("{}y", &w[..n - 3])
    } else if w.ends_with("sses") {
        w[..n - 2].to_string()
    } else if w.ends_with("ing") && n > 5 && has_vowel(&w[..n - 3]) {
        undouble(&w[..n - 3])
    } else if w.ends_with("ed") && !w.ends_with("eed") && n > 4 && has_vowel(&w[..n - 2]) {
        undouble(&w[..n - 2])
    } else if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w[..n - 1].to_string()
    } else {
        w.to_string()
    };
    if out.len() > 3 && out.ends_with('e') {
        out.pop();
    }
    out
}

/// "stopp" → "stop", "runn" → "run"; "call", "pass" and "add" stay.
fn undouble(base: &str) -> String {
    let b = base.as_bytes();
    let n = b.len();
    if n >= 4 && b[n - 1] == b[n - 2] && !matches!(b[n - 1], b'l' | b's' | b'z') {
        return base[..n - 1].to_string();
    }
    base.to_string()
}

/// The key questions are grouped by in knowledge gaps: sorted distinct terms.
pub fn gap_key(question: &str) -> String {
    let mut t = terms(question);
    t.sort();
    t.dedup();
    t.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_meet() {
        assert_eq!(stem("returns"), "return");
        assert_eq!(stem("returned"), "return");
        assert_eq!(stem("returning"), "return");
        assert_eq!(stem("policies"), "policy");
        assert_eq!(stem("stopping"), "stop");
        assert_eq!(stem("class"), "class");
        assert_eq!(stem("status"), "status");
        assert_eq!(stem("is"), "is");
        assert_eq!(stem("damaged"), stem("damage"));
        assert_eq!(stem("closing"), stem("close"));
        assert_eq!(stem("uses"), stem("use"));
        assert_eq!(stem("applied"), stem("apply"));
        assert_eq!(stem("added"), stem("add"));
        assert_eq!(stem("embedded"), "embed");
        assert_eq!(stem("string"), "string");
    }

    #[test]
    fn terms_drop_stopwords() {
        assert_eq!(
            terms("What is your return policy for damaged items?"),
            vec!["return", "policy", "damag", "item"]
        );
        assert_eq!(
            terms("#[must_use] attribute"),
            vec!["must", "use", "attribut"]
        );
    }

    #[test]
    fn gap_keys_group_rephrasings() {
        assert_eq!(
            gap_key("Do you ship to Canada?"),
            gap_key("Canada: do you ship there?")
        );
        assert_ne!(
            gap_key("Do you ship to Canada?"),
            gap_key("Do you ship to Mexico?")
        );
    }
}
