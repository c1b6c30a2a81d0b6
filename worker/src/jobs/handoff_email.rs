//! Emails the account owner that a visitor asked for a person, with the transcript.

use chrono::Utc;
use otoq_core::email::{Mailer, handoff_email};
use otoq_core::{Context, agents, conversations};
use otoq_entities::accounts;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use uuid::Uuid;

pub async fn run(ctx: &Context, account_id: Uuid, conversation_id: Uuid) -> anyhow::Result<()> {
    let conv = match conversations::get(&ctx.db, account_id, conversation_id).await {
        Ok(c) => c,
        // Deleted with its agent meanwhile: nothing to tell.
        Err(otoq_core::Error::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if conv.handoff_notified_at.is_some() {
        return Ok(());
    }
    let Some(smtp) = &ctx.config.smtp else {
        tracing::warn!(%conversation_id, "handoff requested but OTOQ_SMTP_URL is not set; no email sent");
        return Ok(());
    };
    let Some(account) = accounts::Entity::find_by_id(account_id)
        .one(&ctx.db)
        .await?
    else {
        return Ok(());
    };
    let agent = match agents::get(ctx, account_id, conv.agent_id).await {
        Ok(a) => a,
        Err(otoq_core::Error::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let transcript = conversations::messages(&ctx.db, conv.id).await?;
    let (subject, body) = handoff_email(&agent, &conv, &transcript, &ctx.config.public_url);
    Mailer::new(smtp)?
        .send(&account.email, &subject, body)
        .await?;
    let mut m: otoq_entities::conversations::ActiveModel = conv.into();
    m.handoff_notified_at = Set(Some(Utc::now()));
    m.update(&ctx.db).await?;
    tracing::info!(%conversation_id, "handoff email sent");
    Ok(())
}
