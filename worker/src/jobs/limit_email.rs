//! Emails the account owner that a widget limit of an agent started refusing visitors.

use otoq_core::email::Mailer;
use otoq_core::{Context, agents};
use otoq_entities::accounts;
use sea_orm::EntityTrait;
use uuid::Uuid;

/// What the owner is told about each limit.
fn explain(limit: &str) -> &'static str {
    match limit {
        "hourly" => {
            "opened as many new conversations this hour as its hourly share of your plan allows (OTOQ_WIDGET_HOURLY_SHARE_PERCENT)"
        }
        "daily" => {
            "opened as many new conversations today as its daily share of your plan allows (OTOQ_WIDGET_DAILY_SHARE_PERCENT)"
        }
        _ => "answered as many widget messages today as its daily_message_cap allows",
    }
}

pub async fn run(
    ctx: &Context,
    account_id: Uuid,
    agent_id: Uuid,
    limit: &str,
) -> anyhow::Result<()> {
    let Some(smtp) = &ctx.config.smtp else {
        tracing::warn!(%agent_id, limit, "a widget limit is refusing visitors; OTOQ_SMTP_URL is not set, no email sent");
        return Ok(());
    };
    let Some(account) = accounts::Entity::find_by_id(account_id)
        .one(&ctx.db)
        .await?
    else {
        return Ok(());
    };
    let agent = match agents::get(ctx, account_id, agent_id).await {
        Ok(a) => a,
        Err(otoq_core::Error::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let subject = format!("{} is turning visitors away", agent.name);
    let body = format!(
        "Your assistant \"{}\" has {} and is now refusing new visitors until the limit frees up.\n\n\
         If this is real traffic, raise the limit or your plan; if it is one visitor flooding the widget, \
         the per-address limits are already holding it back.\n\n{}\n",
        agent.name,
        explain(limit),
        ctx.config.public_url,
    );
    Mailer::new(smtp)?
        .send(&account.email, &subject, body)
        .await?;
    tracing::info!(%agent_id, limit, "limit email sent");
    Ok(())
}
