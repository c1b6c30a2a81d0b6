//! The public routes' handlers: config, visitors, chat, leads, handoff and a visitor's
//! conversation. Each answers only what the widget shows — never account data.

// Early returns carry the finished error response; they are rare and short-lived.
#![allow(clippy::result_large_err)]

use otoq_core::Context;
use otoq_core::chat::{self, ChatInput};
use otoq_core::leads::contact::{Contact, normalize_email, normalize_phone};
use otoq_entities::enums::LeadSource;
use otoq_entities::{accounts, agents, conversations};
use poem::http::StatusCode;
use poem::web::Json;
use poem::{IntoResponse, Request, Response};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use super::body::Body;
use super::{fail, limits, too_many, visitor};
use crate::error::{ApiError, ErrorCode};
use crate::routes::chat::{ChatResponse, timing};

/// One public request: the app, the request, its agent and its body.
pub struct Call<'a> {
    pub ctx: &'a Context,
    pub req: &'a Request,
    pub agent: &'a agents::Model,
    pub raw: &'a [u8],
    /// The client's address (see `client_ip`).
    pub ip: &'a str,
    /// A renewed visitor token to answer in `X-Otoq-Visitor` (see `visitor`).
    pub renewed: std::sync::OnceLock<String>,
}

fn invalid(message: String) -> Response {
    fail(ErrorCode::ValidationError, message)
}

fn core_error(e: otoq_core::Error) -> Response {
    ApiError::from(e).into_response()
}

fn data(status: StatusCode, value: Value) -> Response {
    let mut resp = Json(json!({ "data": value })).into_response();
    resp.set_status(status);
    resp
}

/// `GET config`: what the widget needs to draw itself.
pub fn config(c: &Call<'_>) -> Response {
    data(StatusCode::OK, config_value(c.agent))
}

/// The widget's config of agent `a` (also inlined in the iframe variant's page).
pub fn config_value(a: &agents::Model) -> Value {
    {
        json!({
            "public_id": a.public_id,
            "name": a.name,
            "primary_color": a.primary_color,
            "welcome_message": a.welcome_message,
            "lead_form": {
                "fields": otoq_core::agents::lead_form_fields(a),
                "trigger": a.lead_form_trigger,
                "after_messages": a.lead_form_after_messages,
            },
        })
    }
}

/// `POST visitors`: a new visitor token.
pub async fn visitors(c: &Call<'_>) -> Response {
    if let Err(refused) = limits::new_visitor(c.ctx, c.ip).await {
        return refused;
    }
    match visitor::issue(c.ctx, &c.agent.public_id, c.ip).await {
        Ok((_, token)) => data(StatusCode::CREATED, json!({ "visitor_token": token })),
        Err(e) => core_error(otoq_core::Error::Internal(e)),
    }
}

/// The visitor the request's token names, counted against the per-visitor limit.
async fn visitor_of(c: &Call<'_>) -> Result<Uuid, Response> {
    let token = c
        .req
        .headers()
        .get(visitor::HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim();
    let unknown = || {
        fail(
            ErrorCode::InvalidVisitor,
            format!(
                "missing or unknown visitor token in X-Otoq-Visitor: get one with POST /widget/v1/{}/visitors",
                c.agent.public_id
            ),
        )
    };
    if token.is_empty() {
        return Err(unknown());
    }
    let id = match visitor::verify(c.ctx, &c.agent.public_id, token, c.ip).await {
        Ok(visitor::Verified::Visitor { id, renewed }) => {
            if let Some(token) = renewed {
                let _ = c.renewed.set(token);
            }
            id
        }
        Ok(visitor::Verified::Invalid) => return Err(unknown()),
        Ok(visitor::Verified::OtherAddress) => {
            return Err(fail(
                ErrorCode::InvalidVisitor,
                format!(
                    "this visitor token was issued to another network address: get a new one with POST /widget/v1/{}/visitors",
                    c.agent.public_id
                ),
            ));
        }
        Err(e) => return Err(core_error(otoq_core::Error::Internal(e))),
    };
    let limits = &c.ctx.config.rate_limits;
    let d = c
        .ctx
        .limiter
        .hit(
            &format!("widget-visitor:{id}"),
            limits.widget_visitor,
            limits.window,
        )
        .await;
    if !d.allowed {
        return Err(too_many(
            &d,
            ErrorCode::RateLimited,
            "You are sending messages too fast. Please wait a moment.",
        ));
    }
    Ok(id)
}

/// The visitor's conversation with this agent (another's is a 404, never a hint).
async fn own_conversation(
    c: &Call<'_>,
    visitor: Uuid,
    id: Uuid,
) -> Result<conversations::Model, Response> {
    let conv = otoq_core::conversations::get(&c.ctx.db, c.agent.account_id, id)
        .await
        .map_err(core_error)?;
    if conv.agent_id != c.agent.id || conv.visitor_id.as_deref() != Some(&visitor.to_string()) {
        return Err(core_error(otoq_core::Error::NotFound("conversation")));
    }
    Ok(conv)
}

fn parse(c: &Call<'_>, known: &[&str]) -> Result<Body, Response> {
    Body::parse(c.raw, known).map_err(invalid)
}

/// `POST chat`: `{message, conversation_id?, stream?}` → Server-Sent Events (or JSON).
pub async fn chat(c: &Call<'_>) -> Response {
    match chat_inner(c).await {
        Ok(r) | Err(r) => r,
    }
}

async fn chat_inner(c: &Call<'_>) -> Result<Response, Response> {
    let visitor = visitor_of(c).await?;
    let b = parse(c, &["message", "conversation_id", "stream"])?;
    let message = b.required_text("message", 4000).map_err(invalid)?;
    let conversation_id = b.uuid("conversation_id").map_err(invalid)?;
    let stream = b.bool("stream").map_err(invalid)?.unwrap_or(true);
    if let Some(id) = conversation_id {
        own_conversation(c, visitor, id).await?;
    }
    limits::message(c.ctx, c.agent).await?;
    let account = accounts::Entity::find_by_id(c.agent.account_id)
        .one(&c.ctx.db)
        .await
        .map_err(|e| core_error(e.into()))?
        .ok_or_else(|| core_error(otoq_core::Error::NotFound("agent")))?;
    let plan = account.plan;
    if conversation_id.is_none() {
        limits::new_conversation(c.ctx, c.agent, plan, c.ip).await?;
    }
    let input = ChatInput {
        agent_id: c.agent.id,
        message,
        conversation_id,
        visitor_id: Some(visitor.to_string()),
    };
    // The plan's name is the owner's business: a visitor hears only that the month is used up.
    let public = |e: otoq_core::Error| match e {
        otoq_core::Error::PlanLimit(_) => ApiError::new(
            ErrorCode::PlanLimitReached,
            format!(
                "This assistant has used up its {} conversations for this month; existing \
                 conversations continue. Please come back later.",
                plan.monthly_conversations().unwrap_or(0)
            ),
        )
        .into_response(),
        other => core_error(other),
    };
    let resp = if stream {
        let events = chat::chat(c.ctx, c.agent.account_id, plan, input)
            .await
            .map_err(public)?;
        ChatResponse::Stream(events)
    } else {
        let reply = chat::chat_once(c.ctx, c.agent.account_id, plan, input)
            .await
            .map_err(public)?;
        let t = timing(&reply);
        ChatResponse::Json(Box::new(reply.into()), t)
    };
    Ok(resp.into_public_response())
}

/// `POST leads`: the lead form, `{conversation_id?, name?, email?, phone?, company?}`.
pub async fn leads(c: &Call<'_>) -> Response {
    match leads_inner(c).await {
        Ok(r) | Err(r) => r,
    }
}

async fn leads_inner(c: &Call<'_>) -> Result<Response, Response> {
    let visitor = visitor_of(c).await?;
    let b = parse(c, &["conversation_id", "name", "email", "phone", "company"])?;
    let fields = otoq_core::agents::lead_form_fields(c.agent);
    for f in ["name", "email", "phone", "company"] {
        if b.has(f) && !fields.iter().any(|x| x == f) {
            return Err(invalid(format!(
                "`{f}` is not a field of this agent's lead form"
            )));
        }
    }
    let conversation_id = b.uuid("conversation_id").map_err(invalid)?;
    if let Some(id) = conversation_id {
        own_conversation(c, visitor, id).await?;
    }
    let email = match b.text("email", 254).map_err(invalid)? {
        Some(e) => Some(normalize_email(&e).map_err(|m| invalid(format!("`email`: {m}")))?),
        None => None,
    };
    let phone = match b.text("phone", 30).map_err(invalid)? {
        Some(p) => Some(normalize_phone(&p, None).map_err(|m| invalid(format!("`phone`: {m}")))?),
        None => None,
    };
    let contact = Contact {
        name: b.text("name", 200).map_err(invalid)?,
        email,
        phone,
        company: b.text("company", 200).map_err(invalid)?,
    };
    if !contact.is_reachable() {
        let field = if fields.iter().any(|f| f == "email") {
            "email"
        } else {
            "phone"
        };
        return Err(invalid(format!(
            "`{field}` is required: leave an email or a phone number"
        )));
    }
    let (_, new) = otoq_core::leads::store::capture(
        c.ctx,
        c.agent.account_id,
        c.agent.id,
        conversation_id,
        contact,
        LeadSource::Form,
    )
    .await
    .map_err(core_error)?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(data(status, json!({ "saved": true })))
}

/// `POST handoff`: `{conversation_id}` → the conversation waits for a person.
pub async fn handoff(c: &Call<'_>) -> Response {
    match handoff_inner(c).await {
        Ok(r) | Err(r) => r,
    }
}

async fn handoff_inner(c: &Call<'_>) -> Result<Response, Response> {
    let visitor = visitor_of(c).await?;
    let b = parse(c, &["conversation_id"])?;
    let id = b
        .uuid("conversation_id")
        .map_err(invalid)?
        .ok_or_else(|| invalid("`conversation_id` is required".into()))?;
    own_conversation(c, visitor, id).await?;
    let conv = otoq_core::conversations::request_handoff(c.ctx, c.agent.account_id, id)
        .await
        .map_err(core_error)?;
    let last = otoq_core::conversations::recent_messages(&c.ctx.db, id, 1)
        .await
        .map_err(core_error)?;
    Ok(data(
        StatusCode::OK,
        json!({
            "conversation_id": conv.id,
            "status": conv.status,
            "message": last.first().map(|m| m.content.clone()),
        }),
    ))
}

/// `GET conversations/{id}`: the visitor's own conversation, to show again after a reload.
pub async fn conversation(c: &Call<'_>, id: &str) -> Response {
    match conversation_inner(c, id).await {
        Ok(r) | Err(r) => r,
    }
}

async fn conversation_inner(c: &Call<'_>, id: &str) -> Result<Response, Response> {
    let visitor = visitor_of(c).await?;
    let id = Uuid::parse_str(id)
        .map_err(|_| invalid("invalid path parameter `conversation_id`: must be a UUID".into()))?;
    let conv = own_conversation(c, visitor, id).await?;
    let messages = otoq_core::conversations::messages(&c.ctx.db, id)
        .await
        .map_err(core_error)?;
    let messages: Vec<Value> = messages
        .into_iter()
        .map(|m| {
            let sources: Vec<Value> = m
                .sources
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|s| json!({ "title": s["title"], "url": s["url"] }))
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "role": m.role,
                "content": m.content,
                "sources": sources,
                "handoff_offered": m.handoff_offered,
            })
        })
        .collect();
    Ok(data(
        StatusCode::OK,
        json!({ "conversation_id": conv.id, "status": conv.status, "messages": messages }),
    ))
}
