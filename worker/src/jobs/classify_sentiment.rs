//! Judges a conversation's sentiment with the LLM; the lexicon's judgement stays on failure.
//!
//! Only visitor text the LLM may see is sent: the message that reached it and the
//! conversation's other visitor messages that were not refused below the answerability gate.

use otoq_core::answer::llm::ChatMessage;
use otoq_core::answer::sentiment::{ParseLabel, Sentiment};
use otoq_core::{Context, conversations};
use otoq_entities::enums::Role;
use sea_orm::{ActiveModelTrait, Set};
use uuid::Uuid;

const PROMPT: &str = "You classify the overall sentiment of a website visitor in a customer-support \
chat, from the visitor's messages below (the latest matter most). Answer with exactly one word: \
positive, neutral or negative.";

/// The label in a reply: the whole reply, or its first word ("Negative. The visitor…").
fn label(reply: &str) -> Option<Sentiment> {
    Sentiment::parse(reply).or_else(|| reply.split_whitespace().next().and_then(Sentiment::parse))
}

pub async fn run(
    ctx: &Context,
    account_id: Uuid,
    conversation_id: Uuid,
    message_id: Option<Uuid>,
) -> anyhow::Result<()> {
    let Some(llm) = &ctx.llm else { return Ok(()) };
    let conv = match conversations::get(&ctx.db, account_id, conversation_id).await {
        Ok(c) => c,
        Err(otoq_core::Error::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let visitor: Vec<String> = conversations::recent_messages(&ctx.db, conv.id, 30)
        .await?
        .into_iter()
        .filter(|m| m.role == Role::User)
        .filter(|m| Some(m.id) == message_id || m.answered != Some(false))
        .map(|m| format!("- {}", m.content.trim()))
        .collect();
    if visitor.is_empty() || message_id.is_none() {
        return Ok(());
    }
    let reply = llm
        .complete(
            &[
                ChatMessage::new("system", PROMPT),
                ChatMessage::new("user", visitor.join("\n")),
            ],
            5,
        )
        .await?;
    let Some(sentiment) = label(&reply) else {
        tracing::debug!(%conversation_id, reply, "LLM sentiment not understood; keeping the lexicon's");
        return Ok(());
    };
    // The LLM saw fewer messages than the lexicon did: "neutral" does not undo its judgement.
    if sentiment == Sentiment::Neutral && conv.sentiment != Sentiment::Neutral {
        return Ok(());
    }
    let mut m: otoq_entities::conversations::ActiveModel = conv.into();
    m.sentiment = Set(sentiment);
    m.update(&ctx.db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_label_or_nothing() {
        assert_eq!(label(" Negative."), Some(Sentiment::Negative));
        assert_eq!(
            label("positive, the visitor is happy"),
            Some(Sentiment::Positive)
        );
        assert_eq!(label("The sentiment is positive"), None);
        assert_eq!(label("I think"), None);
    }
}
