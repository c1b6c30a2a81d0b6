//! What one visitor (or one address) may open through the widget: visitor tokens per client IP
//! and hour, new conversations per client IP and hour and per agent and hour and day (shares of
//! the plan's monthly conversations), and the agent's daily message cap. When a limit of the
//! agent itself starts refusing visitors, the owner is emailed once per period.

use std::time::Duration;

use otoq_core::Context;
use otoq_core::jobs::Job;
use otoq_core::plans::Plan;
use otoq_entities::agents;
use poem::Response;

use super::too_many;
use crate::error::ErrorCode;

const HOUR: Duration = Duration::from_secs(3_600);
const DAY: Duration = Duration::from_secs(86_400);

/// Counts a new visitor token for `ip`.
pub async fn new_visitor(ctx: &Context, ip: &str) -> Result<(), Response> {
    let limit = ctx.config.widget.visitors_per_ip_hour;
    let d = ctx
        .limiter
        .hit(&format!("widget-visitors-ip:{ip}"), limit, HOUR)
        .await;
    if !d.allowed {
        return Err(too_many(
            &d,
            ErrorCode::RateLimited,
            "Too many new visitors from this address. Please try again later.",
        ));
    }
    Ok(())
}

/// Counts a new conversation of `agent` opened from `ip`.
pub async fn new_conversation(
    ctx: &Context,
    agent: &agents::Model,
    plan: Plan,
    ip: &str,
) -> Result<(), Response> {
    let w = &ctx.config.widget;
    let d = ctx
        .limiter
        .hit(
            &format!("widget-conv-ip:{ip}"),
            w.conversations_per_ip_hour,
            HOUR,
        )
        .await;
    if !d.allowed {
        return Err(too_many(
            &d,
            ErrorCode::RateLimited,
            "Too many new conversations from this address. Please try again later.",
        ));
    }
    let monthly = plan.monthly_conversations();
    if let Some(limit) = w.per_agent_hour(monthly) {
        let d = ctx
            .limiter
            .hit(&format!("widget-conv-hour:{}", agent.id), limit, HOUR)
            .await;
        if !d.allowed {
            alert(ctx, agent, "hourly", HOUR).await;
            return Err(too_many(
                &d,
                ErrorCode::RateLimited,
                "This assistant is very busy right now. Please try again later.",
            ));
        }
    }
    if let Some(limit) = w.per_agent_day(monthly) {
        let d = ctx
            .limiter
            .hit(&format!("widget-conv-day:{}", agent.id), limit, DAY)
            .await;
        if !d.allowed {
            alert(ctx, agent, "daily", DAY).await;
            return Err(too_many(
                &d,
                ErrorCode::DailyLimitReached,
                "This assistant has started all the conversations it can today. Please come back later.",
            ));
        }
    }
    Ok(())
}

/// Counts a widget message against the agent's `daily_message_cap`.
pub async fn message(ctx: &Context, agent: &agents::Model) -> Result<(), Response> {
    let cap = agent.daily_message_cap.max(1) as u64;
    let d = ctx
        .limiter
        .hit(&format!("widget-day:{}", agent.id), cap, DAY)
        .await;
    if !d.allowed {
        alert(ctx, agent, "messages", DAY).await;
        return Err(too_many(
            &d,
            ErrorCode::DailyLimitReached,
            "This assistant has answered all the messages it can today. Please come back later.",
        ));
    }
    Ok(())
}

/// Emails the owner that `limit` refuses visitors, the first time in each `period`.
async fn alert(ctx: &Context, agent: &agents::Model, limit: &str, period: Duration) {
    let first = ctx
        .limiter
        .hit(&format!("widget-alert:{}:{limit}", agent.id), 1, period)
        .await;
    if !first.allowed {
        return;
    }
    let job = Job::LimitEmail {
        account_id: agent.account_id,
        agent_id: agent.id,
        limit: limit.to_string(),
    };
    if let Err(e) = ctx.queue.enqueue(&job).await {
        tracing::warn!(agent_id = %agent.id, error = %e, "cannot enqueue the limit email");
    }
}
