//! Judges a conversation's sentiment with the LLM; the lexicon's judgement stays on failure.

use otoq_core::answer::llm::ChatMessage;
use otoq_core::answer::sentiment::{ParseLabel, Sentiment};
use otoq_core::{Context, conversations};
use otoq_entities::enums::Role;
use sea_orm::{ActiveModelTrait, Set};
use uuid::Uuid;

const PROMPT: &str = "You classify the overall sentiment of a website visitor in a customer-support \
chat, from the visitor's messages below (the latest matter most). Answer with exactly one word: \
positive, neutral or negative.";

pub async fn run(ctx: &Context, account_id: Uuid, conversation_id: Uuid) -> anyhow::Result<()> {
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
        .map(|m| format!("- {}", m.content.trim()))
        .collect();
    if visitor.is_empty() {
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
    let Some(sentiment) = Sentiment::parse(&reply) else {
        tracing::debug!(%conversation_id, reply, "LLM sentiment not understood; keeping the lexicon's");
        return Ok(());
    };
    let mut m: otoq_entities::conversations::ActiveModel = conv.into();
    m.sentiment = Set(sentiment);
    m.update(&ctx.db).await?;
    Ok(())
}
