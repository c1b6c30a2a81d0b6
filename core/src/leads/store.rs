//! Capturing leads (from forms, the API and chat), one per conversation and email, scored with
//! reasons; the `lead.captured` event is written in the same transaction.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::contact::Contact;
use super::score::{Signals, score};
use crate::Context;
use crate::error::{Error, Result};
use crate::webhooks::outbox::{self, LEAD_CAPTURED, LeadPayload};
use otoq_entities::enums::{LeadSource, Role, Sentiment};
use otoq_entities::leads;

/// Filters of a lead listing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Filter {
    pub agent_id: Option<Uuid>,
    pub since: Option<DateTime<Utc>>,
    pub min_score: Option<i32>,
}

/// What is known about a visitor when a lead is captured.
pub struct Capture<'a> {
    pub account_id: Uuid,
    pub agent_id: Uuid,
    pub conversation_id: Option<Uuid>,
    pub contact: Contact,
    pub source: LeadSource,
    pub visitor_messages: &'a [String],
    pub sentiment: Option<Sentiment>,
}

/// The lead this capture updates: same conversation and email (or the conversation's lead
/// without an email, which the email now completes).
async fn existing<C: ConnectionTrait>(conn: &C, c: &Capture<'_>) -> Result<Option<leads::Model>> {
    let Some(conv) = c.conversation_id else {
        return Ok(None);
    };
    let in_conv = leads::Entity::find()
        .filter(leads::Column::AccountId.eq(c.account_id))
        .filter(leads::Column::ConversationId.eq(conv))
        .order_by_desc(leads::Column::CreatedAt)
        .all(conn)
        .await?;
    Ok(match &c.contact.email {
        Some(email) => in_conv
            .iter()
            .find(|l| l.email.as_deref() == Some(email))
            .or_else(|| in_conv.iter().find(|l| l.email.is_none()))
            .cloned(),
        None => in_conv.into_iter().next(),
    })
}

/// Creates or completes the lead inside `conn` (the caller's transaction); a new lead also
/// writes its `lead.captured` event. Returns the lead and whether it is new.
pub async fn capture_in<C: ConnectionTrait>(
    conn: &C,
    c: Capture<'_>,
) -> Result<(leads::Model, bool)> {
    let now = crate::clock::now();
    if let Some(found) = existing(conn, &c).await? {
        let mut contact = Contact {
            name: found.name.clone(),
            email: found.email.clone(),
            phone: found.phone.clone(),
            company: found.company.clone(),
        };
        contact.merge(c.contact.clone());
        let (points, reasons) = score(&Signals {
            contact: &contact,
            visitor_messages: c.visitor_messages,
            sentiment: c.sentiment.map(Sentiment::as_str),
        });
        let mut m: leads::ActiveModel = found.into();
        m.name = Set(contact.name);
        m.email = Set(contact.email);
        m.phone = Set(contact.phone);
        m.company = Set(contact.company);
        m.score = Set(points as i32);
        m.score_reasons = Set(serde_json::to_value(reasons).map_err(anyhow::Error::from)?);
        m.updated_at = Set(now);
        return Ok((m.update(conn).await?, false));
    }
    let (points, reasons) = score(&Signals {
        contact: &c.contact,
        visitor_messages: c.visitor_messages,
        sentiment: c.sentiment.map(Sentiment::as_str),
    });
    let lead = leads::ActiveModel {
        id: Set(Uuid::new_v4()),
        account_id: Set(c.account_id),
        agent_id: Set(c.agent_id),
        conversation_id: Set(c.conversation_id),
        name: Set(c.contact.name),
        email: Set(c.contact.email),
        phone: Set(c.contact.phone),
        company: Set(c.contact.company),
        source: Set(c.source),
        score: Set(points as i32),
        score_reasons: Set(serde_json::to_value(reasons).map_err(anyhow::Error::from)?),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    let body = outbox::body(LEAD_CAPTURED, now, LeadPayload::from(&lead));
    outbox::record(conn, lead.account_id, LEAD_CAPTURED, body, false).await?;
    Ok((lead, true))
}

/// Captures a lead given through a form or the API: the agent (and conversation) must be the
/// account's; returns the lead and whether it is new.
pub async fn capture(
    ctx: &Context,
    account_id: Uuid,
    agent_id: Uuid,
    conversation_id: Option<Uuid>,
    contact: Contact,
    source: LeadSource,
) -> Result<(leads::Model, bool)> {
    crate::agents::get(ctx, account_id, agent_id).await?;
    if !contact.is_reachable() {
        return Err(Error::validation(
            "email",
            "a lead needs an `email` or a `phone`",
        ));
    }
    let mut visitor = Vec::new();
    let mut sentiment = None;
    if let Some(conv_id) = conversation_id {
        let conv = crate::conversations::get(&ctx.db, account_id, conv_id).await?;
        if conv.agent_id != agent_id {
            return Err(Error::NotFound("conversation"));
        }
        sentiment = Some(conv.sentiment);
        visitor = crate::conversations::messages(&ctx.db, conv_id)
            .await?
            .into_iter()
            .filter(|m| m.role == Role::User)
            .map(|m| m.content)
            .collect();
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    let out = capture_in(
        &txn,
        Capture {
            account_id,
            agent_id,
            conversation_id,
            contact,
            source,
            visitor_messages: &visitor,
            sentiment,
        },
    )
    .await?;
    txn.commit().await?;
    if out.1 {
        ctx.queue.notify().await;
    }
    Ok(out)
}

/// The account's leads, newest first, with the total.
pub async fn list(
    db: &DatabaseConnection,
    account_id: Uuid,
    f: Filter,
    limit: u64,
    offset: u64,
) -> Result<(Vec<leads::Model>, u64)> {
    let mut q = leads::Entity::find().filter(leads::Column::AccountId.eq(account_id));
    if let Some(a) = f.agent_id {
        q = q.filter(leads::Column::AgentId.eq(a));
    }
    if let Some(s) = f.since {
        q = q.filter(leads::Column::CreatedAt.gte(s));
    }
    if let Some(m) = f.min_score {
        q = q.filter(leads::Column::Score.gte(m));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(leads::Column::CreatedAt)
        .order_by_desc(leads::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(db)
        .await?;
    Ok((rows, total))
}

/// One lead of the account.
pub async fn get(db: &DatabaseConnection, account_id: Uuid, id: Uuid) -> Result<leads::Model> {
    leads::Entity::find_by_id(id)
        .filter(leads::Column::AccountId.eq(account_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("lead"))
}

/// The leads captured in conversation `conversation_id` of the account, newest first.
pub async fn of_conversation(
    db: &DatabaseConnection,
    account_id: Uuid,
    conversation_id: Uuid,
) -> Result<Vec<leads::Model>> {
    Ok(leads::Entity::find()
        .filter(leads::Column::AccountId.eq(account_id))
        .filter(leads::Column::ConversationId.eq(conversation_id))
        .order_by_desc(leads::Column::CreatedAt)
        .all(db)
        .await?)
}
