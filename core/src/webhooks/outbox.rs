//! The outbox: an event's exact body and its delivery, written in the caller's transaction.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use serde::Serialize;
use uuid::Uuid;

use super::signing::new_event_id;
use crate::error::Result;
use crate::jobs::Job;
use crate::queue::Queue;
use otoq_entities::enums::{DeliveryStatus, EventName, LeadSource};
use otoq_entities::{leads, webhook_deliveries, webhook_endpoints, webhook_events};

/// A lead was captured.
pub const LEAD_CAPTURED: EventName = EventName::LeadCaptured;
/// Sent by `POST /webhook/test`.
pub const TEST_EVENT: EventName = EventName::WebhookTest;

/// An RFC 3339 UTC time with milliseconds, as the reference writes them.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The body of every event, fields in the reference's order.
#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    event: &'a str,
    timestamp: String,
    data: T,
}

/// A lead as the reference's `lead.captured` payload carries it.
#[derive(Serialize)]
pub struct LeadPayload<'a> {
    pub id: Uuid,
    pub agent_id: Uuid,
    pub conversation_id: Option<Uuid>,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub company: Option<&'a str>,
    pub source: LeadSource,
    pub score: i32,
    pub created_at: String,
}

impl<'a> From<&'a leads::Model> for LeadPayload<'a> {
    fn from(l: &'a leads::Model) -> Self {
        LeadPayload {
            id: l.id,
            agent_id: l.agent_id,
            conversation_id: l.conversation_id,
            name: l.name.as_deref(),
            email: l.email.as_deref(),
            phone: l.phone.as_deref(),
            company: l.company.as_deref(),
            source: l.source,
            score: l.score,
            created_at: timestamp(l.created_at),
        }
    }
}

/// The serialised body of `event` carrying `data`.
pub fn body<T: Serialize>(event: EventName, at: DateTime<Utc>, data: T) -> String {
    serde_json::to_string(&Envelope {
        event: event.as_str(),
        timestamp: timestamp(at),
        data,
    })
    .expect("event bodies serialise")
}

/// Whether `endpoint` wants `event`.
pub fn subscribed(endpoint: &webhook_endpoints::Model, event: EventName) -> bool {
    endpoint.enabled
        && endpoint
            .events
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e.as_str() == Some(event.as_str())))
}

/// Records `event` for the account and, when its endpoint wants it, a delivery and its job —
/// all through `conn` (the caller's transaction). Returns the delivery id, if any.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    account_id: Uuid,
    event: EventName,
    payload: String,
    force: bool,
) -> Result<Option<(String, Uuid)>> {
    let endpoint = webhook_endpoints::Entity::find_by_id(account_id)
        .one(conn)
        .await?;
    let Some(endpoint) = endpoint else {
        return Ok(None);
    };
    if !force && !subscribed(&endpoint, event) {
        return Ok(None);
    }
    let now = crate::clock::now();
    let id = new_event_id();
    webhook_events::Entity::insert(webhook_events::ActiveModel {
        id: Set(id.clone()),
        account_id: Set(account_id),
        event: Set(event),
        payload: Set(payload),
        created_at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    let delivery_id = Uuid::new_v4();
    webhook_deliveries::Entity::insert(webhook_deliveries::ActiveModel {
        id: Set(delivery_id),
        account_id: Set(account_id),
        event_id: Set(id.clone()),
        event: Set(event),
        status: Set(DeliveryStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(Some(now)),
        lease_until: Set(None),
        first_attempt_at: Set(None),
        last_attempt_at: Set(None),
        last_status_code: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    Queue::enqueue_in(conn, &Job::DeliverWebhook { delivery_id }).await?;
    Ok(Some((id, delivery_id)))
}
