//! The grounded prompt sent to an LLM, and reading the citations of its reply.

use std::sync::LazyLock;

use regex::Regex;

use super::AnswerRequest;
use super::llm::ChatMessage;
use super::personality::Voice;

/// What the LLM must reply when the passages do not hold the answer.
pub const NO_ANSWER: &str = "NO_ANSWER";

/// Earlier turns passed along at most.
const HISTORY_TURNS: usize = 8;

/// The messages of a grounded chat-completions request.
pub fn build(req: &AnswerRequest<'_>) -> Vec<ChatMessage> {
    // Short and explicit, the rule right after the passages: small local models (what an
    // Ollama or llama.cpp user runs) follow that best (tried on SmolLM2-135M-Instruct, see
    // tests/suite/chat_llama.rs); the reply is checked against the passages anyway.
    let mut system = format!(
        "You are {}, the customer-support assistant of this business.\n",
        req.agent_name
    );
    if let Some(instructions) = req.instructions.filter(|i| !i.trim().is_empty()) {
        system.push_str(
            "Business instructions (follow them unless they conflict with the rules below):\n",
        );
        system.push_str(instructions.trim());
        system.push('\n');
    }
    system.push_str("\nPassages:\n");
    for (i, p) in req.passages.iter().enumerate() {
        let mut heading = p.title.clone();
        for h in &p.heading_path {
            if *h != p.title {
                heading.push_str(" › ");
                heading.push_str(h);
            }
        }
        system.push_str(&format!("[{}] {heading}", i + 1));
        if let Some(url) = &p.url {
            system.push_str(&format!(" ({url})"));
        }
        system.push('\n');
        system.push_str(p.text.trim());
        system.push_str("\n\n");
    }
    system.push_str(&format!(
        "Answer the visitor's question in one short sentence, using only the facts in the \
         passages above. Repeat the exact words, numbers and times of the passages. If the \
         passages do not answer the question, reply {NO_ANSWER}.\n\
         Tone: {}\n",
        req.personality.style_instruction()
    ));
    if req.lang.forced {
        system.push_str(&format!("Language: always reply in {}.\n", req.lang.name));
    } else {
        system.push_str(
            "Language: reply in the language of the visitor's last message (currently looks like ",
        );
        system.push_str(&req.lang.name);
        system.push_str(").\n");
    }
    let mut messages = vec![ChatMessage::new("system", system)];
    let skip = req.history.len().saturating_sub(HISTORY_TURNS);
    for t in &req.history[skip..] {
        messages.push(ChatMessage::new(t.role, t.content.clone()));
    }
    messages.push(ChatMessage::new("user", req.question));
    messages
}

static CITATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\s*\[(\d{1,2}(?:\s*[,;]\s*\d{1,2})*)\]").expect("citation regex")
});

/// The passages a reply cites (0-based, in order of first citation), ignoring numbers that
/// name no passage.
pub fn citations(text: &str, passages: usize) -> Vec<usize> {
    let mut out = Vec::new();
    for cap in CITATION.captures_iter(text) {
        for n in cap[1].split([',', ';']) {
            if let Ok(n) = n.trim().parse::<usize>()
                && (1..=passages).contains(&n)
                && !out.contains(&(n - 1))
            {
                out.push(n - 1);
            }
        }
    }
    out
}

/// The reply without its citation markers (the sources are listed separately).
pub fn strip_citations(text: &str) -> String {
    CITATION.replace_all(text, "").to_string()
}

/// Whether the LLM said the passages do not hold the answer.
pub fn is_no_answer(text: &str) -> bool {
    text.contains(NO_ANSWER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::language::Lang;
    use crate::answer::personality::Personality;
    use crate::answer::{LangChoice, Turn};
    use crate::retrieval::Passage;

    #[test]
    fn prompt_carries_tone_language_instructions_passages_and_history() {
        let p = Passage {
            chunk_id: uuid::Uuid::nil(),
            source_id: uuid::Uuid::nil(),
            document_id: uuid::Uuid::nil(),
            title: "Returns".into(),
            url: Some("https://shop.example/returns".into()),
            heading_path: vec!["Returns".into(), "Deadlines".into()],
            text: "Return within 30 days.".into(),
            similarity: Some(0.8),
            coverage: 1.0,
            closest_sentence: None,
            score: 0.8,
        };
        let lang = LangChoice::pick(None, "¿Cuántos días tengo para devolver un artículo?", None);
        assert_eq!(lang.lang, Lang::Es);
        let history = vec![
            Turn {
                role: "user",
                content: "hola".into(),
            },
            Turn {
                role: "assistant",
                content: "¡Hola!".into(),
            },
        ];
        let weight = |_: &str| 1.0;
        let req = AnswerRequest {
            agent_name: "Shopbot",
            personality: Personality::Formal,
            instructions: Some("Mention the loyalty card."),
            lang: &lang,
            question: "¿Cuántos días?",
            passages: &[&p],
            history: &history,
            weight: &weight,
            seed: 1,
        };
        let m = build(&req);
        assert_eq!(m.len(), 4);
        let system = &m[0].content;
        assert!(system.contains("Spanish"));
        assert!(system.contains(Personality::Formal.style_instruction()));
        assert!(system.contains("Mention the loyalty card."));
        assert!(system.contains("[1] Returns › Deadlines (https://shop.example/returns)"));
        assert!(system.contains("Return within 30 days."));
        assert_eq!(m[3].content, "¿Cuántos días?");
        assert_eq!(m[1].role, "user");
    }

    #[test]
    fn reads_and_strips_citations() {
        let t = "Returns take 30 days [1]. Refunds go to your card [2, 3][9].";
        assert_eq!(citations(t, 3), vec![0, 1, 2]);
        assert_eq!(
            strip_citations(t),
            "Returns take 30 days. Refunds go to your card."
        );
        assert!(citations("No brackets here.", 3).is_empty());
        assert!(citations("Out of range [7].", 3).is_empty());
    }
}
