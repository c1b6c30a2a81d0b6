//! `/webhook`: the account's endpoint, its secret, a test event, the delivery log and replay.

use otoq_core::Context;
use otoq_core::webhooks::endpoint::{self, EndpointInput};
use otoq_entities::enums::{DeliveryStatus, EventName};
use otoq_entities::{webhook_attempts, webhook_deliveries, webhook_endpoints};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use crate::envelope::{self, Page};
use crate::error::ApiError;
use crate::security::ApiKey;
use crate::timestamp::Timestamp;

/// The account's webhook endpoint.
#[derive(Object)]
pub struct Endpoint {
    pub url: String,
    pub enabled: bool,
    /// Events delivered to it.
    pub events: Vec<EventName>,
    /// Why it is disabled (by you, a 410 Gone, or days of failed deliveries).
    pub disabled_reason: Option<String>,
    /// Since when every delivery has failed, if they do.
    pub failing_since: Option<Timestamp>,
    /// Until when the previous secret still signs (after a rotation).
    pub previous_secret_expires_at: Option<Timestamp>,
    /// Shown only when the endpoint is created and by `POST /webhook/rotate-secret`.
    pub secret: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn endpoint_view(
    m: webhook_endpoints::Model,
    secret: Option<String>,
) -> Result<Endpoint, ApiError> {
    let events: Vec<EventName> = serde_json::from_value(m.events).map_err(|e| {
        otoq_core::Error::Internal(anyhow::anyhow!(
            "endpoint {}: stored events: {e}",
            m.account_id
        ))
    })?;
    Ok(Endpoint {
        url: m.url,
        enabled: m.enabled,
        events,
        disabled_reason: m.disabled_reason,
        failing_since: m.failing_since.map(Into::into),
        previous_secret_expires_at: m
            .previous_secret_expires_at
            .filter(|t| *t > otoq_core::clock::now())
            .map(Into::into),
        secret,
        created_at: m.created_at.into(),
        updated_at: m.updated_at.into(),
    })
}

/// Where to deliver events.
#[derive(Object)]
pub struct PutEndpoint {
    /// An http(s) URL that is reachable from the internet (not a private address).
    #[oai(validator(
        max_length = 2048,
        pattern = r"^[Hh][Tt][Tt][Pp][Ss]?://(([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*\.?|(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3})(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?([/?#][!-~]*)?$"
    ))]
    pub url: String,
    /// Default true; setting it again re-enables a disabled endpoint.
    pub enabled: Option<bool>,
    /// Default `["lead.captured"]`.
    pub events: Option<Vec<EventName>>,
}

/// The endpoint was created (with its secret) or updated.
#[derive(ApiResponse)]
pub enum PutResponse {
    /// Created; `secret` is shown this once.
    #[oai(status = 201)]
    Created(Json<envelope::Data<Endpoint>>),
    #[oai(status = 200)]
    Updated(Json<envelope::Data<Endpoint>>),
}

/// One attempt of a delivery.
#[derive(Object)]
pub struct Attempt {
    pub attempted_at: Timestamp,
    pub url: String,
    /// The receiver's status code, when it answered.
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    /// The first bytes of the response.
    pub response: Option<String>,
    pub error: Option<String>,
}

impl From<webhook_attempts::Model> for Attempt {
    fn from(a: webhook_attempts::Model) -> Self {
        Attempt {
            attempted_at: a.attempted_at.into(),
            url: a.url,
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            response: a.response_excerpt,
            error: a.error,
        }
    }
}

/// An event on its way to the endpoint.
#[derive(Object)]
pub struct Delivery {
    pub id: Uuid,
    /// `evt_...`: the same on every attempt (the `X-Webhook-ID` header), for deduplication.
    pub event_id: String,
    pub event: EventName,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<Timestamp>,
    pub last_attempt_at: Option<Timestamp>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    /// Every attempt, oldest first (on single deliveries; omitted in lists).
    pub attempt_log: Option<Vec<Attempt>>,
}

fn delivery_view(
    d: webhook_deliveries::Model,
    log: Option<Vec<webhook_attempts::Model>>,
) -> Delivery {
    Delivery {
        id: d.id,
        event_id: d.event_id,
        event: d.event,
        status: d.status,
        attempts: d.attempts,
        next_attempt_at: d.next_attempt_at.map(Into::into),
        last_attempt_at: d.last_attempt_at.map(Into::into),
        last_status_code: d.last_status_code,
        last_error: d.last_error,
        created_at: d.created_at.into(),
        attempt_log: log.map(|l| l.into_iter().map(Into::into).collect()),
    }
}

/// The replay was scheduled.
#[derive(ApiResponse)]
pub enum Replayed {
    #[oai(status = 202)]
    Accepted(Json<envelope::Data<Delivery>>),
}

#[derive(Default)]
pub struct WebhookApi;

#[OpenApi(tag = "Tag::Webhooks")]
impl WebhookApi {
    /// Get the webhook endpoint
    #[oai(path = "/webhook", method = "get", operation_id = "getWebhook")]
    async fn get(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
    ) -> Result<Json<envelope::Data<Endpoint>>, ApiError> {
        Ok(envelope::data(endpoint_view(
            endpoint::get(&ctx, auth.0.account_id).await?,
            None,
        )?))
    }

    /// Set the webhook endpoint
    ///
    /// Creates it (201, with its `secret` — shown once) or updates it. Events are POSTed with
    /// `X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the body keyed with the secret>`,
    /// `X-Webhook-ID`, `X-Webhook-Timestamp`, and the Standard Webhooks headers `webhook-id`,
    /// `webhook-timestamp`, `webhook-signature`.
    #[oai(path = "/webhook", method = "put", operation_id = "putWebhook")]
    async fn put(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        body: Json<PutEndpoint>,
    ) -> Result<PutResponse, ApiError> {
        let input = EndpointInput {
            url: body.0.url,
            enabled: body.0.enabled,
            events: body.0.events,
        };
        let (m, secret) = endpoint::put(&ctx, auth.0.account_id, input).await?;
        Ok(match secret {
            Some(s) => PutResponse::Created(envelope::data(endpoint_view(m, Some(s))?)),
            None => PutResponse::Updated(envelope::data(endpoint_view(m, None)?)),
        })
    }

    /// Rotate the signing secret
    ///
    /// Returns the new secret; the previous one keeps signing for 24 hours (in
    /// `webhook-signature` and `X-Webhook-Signature-Previous`) so receivers can switch over.
    #[oai(
        path = "/webhook/rotate-secret",
        method = "post",
        operation_id = "rotateWebhookSecret"
    )]
    async fn rotate(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
    ) -> Result<Json<envelope::Data<Endpoint>>, ApiError> {
        let (m, secret) = endpoint::rotate(&ctx, auth.0.account_id).await?;
        Ok(envelope::data(endpoint_view(m, Some(secret))?))
    }

    /// Send a test event
    ///
    /// Delivers a signed `webhook.test` event now and returns its delivery with the attempt.
    #[oai(path = "/webhook/test", method = "post", operation_id = "testWebhook")]
    async fn test(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
    ) -> Result<Json<envelope::Data<Delivery>>, ApiError> {
        let d = endpoint::test(&ctx, auth.0.account_id).await?;
        let log = endpoint::attempts(&ctx, d.id).await?;
        Ok(envelope::data(delivery_view(d, Some(log))))
    }

    /// List deliveries
    ///
    /// Newest first; filter by status and event.
    #[oai(
        path = "/webhook/deliveries",
        method = "get",
        operation_id = "listWebhookDeliveries"
    )]
    async fn deliveries(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        status: Query<Option<DeliveryStatus>>,
        event: Query<Option<EventName>>,
        /// Page size, 1–100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// Items to skip.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
    ) -> Result<Json<envelope::List<Delivery>>, ApiError> {
        let page = Page::new(limit.0, offset.0)?;
        let (rows, total) = endpoint::deliveries(
            &ctx,
            auth.0.account_id,
            status.0,
            event.0,
            page.limit,
            page.offset,
        )
        .await?;
        Ok(envelope::list(
            rows.into_iter().map(|d| delivery_view(d, None)).collect(),
            total,
            page,
        ))
    }

    /// Get a delivery
    ///
    /// With every attempt: time, status code, latency, the first bytes of the response, error.
    #[oai(
        path = "/webhook/deliveries/:id",
        method = "get",
        operation_id = "getWebhookDelivery"
    )]
    async fn delivery(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        id: Path<Uuid>,
    ) -> Result<Json<envelope::Data<Delivery>>, ApiError> {
        let d = endpoint::delivery(&ctx, auth.0.account_id, id.0).await?;
        let log = endpoint::attempts(&ctx, d.id).await?;
        Ok(envelope::data(delivery_view(d, Some(log))))
    }

    /// Retry a delivery
    ///
    /// Sends it again now, with the same event id and body.
    #[oai(
        path = "/webhook/deliveries/:id/retry",
        method = "post",
        operation_id = "retryWebhookDelivery"
    )]
    async fn retry(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        id: Path<Uuid>,
    ) -> Result<Replayed, ApiError> {
        let d = endpoint::retry(&ctx, auth.0.account_id, id.0).await?;
        Ok(Replayed::Accepted(envelope::data(delivery_view(d, None))))
    }
}
