//! Rewriting a follow-up question ("and how much is it?") into one retrieval can answer.

use crate::retrieval::terms::{terms, words};

const ANAPHORA: &[&str] = &[
    "it", "its", "that", "this", "they", "them", "their", "those", "these", "there", "one", "ones",
    "same", "he", "she", "him", "her", "lo", "la", "ello", "eso", "esto", "le", "ça", "cela", "es",
    "das", "dies", "dann", "isso", "isto", "esso", "questo", "dat", "dit",
];

const CONTINUATIONS: &[&str] = &[
    "and",
    "also",
    "what about",
    "how about",
    "what if",
    "y",
    "et",
    "und",
    "e",
    "en",
];

/// The text to search with: the message itself, or — when it only makes sense after the
/// previous question (few own keywords and a reference back, or a continuation) — both.
pub fn retrieval_query(message: &str, previous_question: Option<&str>) -> String {
    let Some(prev) = previous_question.filter(|p| !p.trim().is_empty()) else {
        return message.to_string();
    };
    let own = terms(message).len();
    let lower = message.trim().to_lowercase();
    let refers_back = words(message).any(|w| ANAPHORA.contains(&w.as_str()));
    let continues = CONTINUATIONS
        .iter()
        .any(|c| lower.starts_with(&format!("{c} ")) || lower.starts_with(&format!("{c},")));
    if own <= 1 || (own <= 4 && (refers_back || continues)) {
        format!("{prev} {message}")
    } else {
        message.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_ups_borrow_the_previous_question() {
        let prev = Some("Do you sell the Trailblazer backpack?");
        assert_eq!(
            retrieval_query("How much does it cost?", prev),
            "Do you sell the Trailblazer backpack? How much does it cost?"
        );
        assert_eq!(
            retrieval_query("and in blue?", prev),
            "Do you sell the Trailblazer backpack? and in blue?"
        );
        assert_eq!(
            retrieval_query("What is your return policy for damaged items?", prev),
            "What is your return policy for damaged items?"
        );
        assert_eq!(
            retrieval_query("How much does it cost?", None),
            "How much does it cost?"
        );
    }
}
