//! One delivery attempt: claim the delivery, sign and POST the stored body, log the attempt,
//! and schedule what comes next (success, a retry, the daily retries, or failure).

use std::time::Instant;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, FromQueryResult, Set};
use uuid::Uuid;

use super::schedule;
use super::signing::{github_signature, standard_signature};
use crate::Context;
use crate::db::statement;
use crate::error::Result;
use crate::jobs::Job;
use crate::net_guard::Guard;
use crate::queue::Queue;
use otoq_entities::enums::DeliveryStatus;
use otoq_entities::{webhook_attempts, webhook_deliveries, webhook_endpoints};

/// Response bytes kept in the log.
const EXCERPT_BYTES: usize = 1024;
/// Continuous failure after which the endpoint is disabled.
const DISABLE_AFTER: chrono::Duration = chrono::Duration::days(5);

/// What one attempt ended with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptResult {
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub delivered: bool,
}

/// The headers of one signed request.
pub fn signed_headers(
    secrets: &[String],
    event_id: &str,
    at: DateTime<Utc>,
    body: &[u8],
) -> anyhow::Result<Vec<(&'static str, String)>> {
    let ts = at.timestamp();
    let mut headers = vec![
        ("content-type", "application/json".to_string()),
        ("x-webhook-id", event_id.to_string()),
        ("x-webhook-timestamp", ts.to_string()),
        ("webhook-id", event_id.to_string()),
        ("webhook-timestamp", ts.to_string()),
    ];
    if let Some(current) = secrets.first() {
        headers.push(("x-webhook-signature", github_signature(current, body)));
    }
    if let Some(previous) = secrets.get(1) {
        headers.push((
            "x-webhook-signature-previous",
            github_signature(previous, body),
        ));
    }
    let mut standard = Vec::new();
    for s in secrets {
        standard.push(standard_signature(s, event_id, ts, body)?);
    }
    headers.push(("webhook-signature", standard.join(" ")));
    Ok(headers)
}

/// The endpoint's signing secrets: the current one, then the previous one during its window.
pub async fn secrets(ctx: &Context, e: &webhook_endpoints::Model) -> anyhow::Result<Vec<String>> {
    let sb = ctx.secret_box().await?;
    let mut out = vec![sb.open(&e.secret_enc)?];
    if let (Some(prev), Some(until)) = (&e.previous_secret_enc, e.previous_secret_expires_at)
        && until > crate::clock::now()
    {
        out.push(sb.open(prev)?);
    }
    Ok(out)
}

/// How long a claimed delivery stays with its worker before another may take it: the job's
/// lease plus the receiver's time to answer.
fn lease(ctx: &Context) -> chrono::Duration {
    chrono::Duration::from_std(ctx.config.queue.lease + ctx.config.webhook_timeout)
        .unwrap_or(chrono::Duration::seconds(75))
}

/// Whether a delivery could be taken.
enum Claim {
    /// Taken: the delivery as it is now held by this worker, and its event's body (`None` when
    /// the event is gone).
    Taken(Box<webhook_deliveries::Model>, Option<String>),
    /// Not due yet, or finished.
    NotDue,
    /// Another worker holds it (or held it and died: its lease has not expired yet).
    Held,
}

/// Takes the delivery if it is due and nobody else holds it.
async fn claim(ctx: &Context, id: Uuid) -> Result<Claim> {
    let now = crate::clock::now();
    // Take it and read it, with its event's body, in one statement (RETURNING works on
    // Postgres and SQLite).
    let taken = ctx
        .db
        .query_one_raw(statement(
            &ctx.db,
            "UPDATE webhook_deliveries SET status = 'delivering', lease_until = {}, updated_at = {} \
             WHERE id = {} AND ((status = 'pending' AND next_attempt_at <= {}) \
             OR (status = 'delivering' AND lease_until < {})) \
             RETURNING *, (SELECT payload FROM webhook_events \
             WHERE webhook_events.id = webhook_deliveries.event_id) AS event_payload",
            [
                (now + lease(ctx)).into(),
                now.into(),
                id.into(),
                now.into(),
                now.into(),
            ],
        ))
        .await?;
    if let Some(row) = taken {
        let d = webhook_deliveries::Model::from_query_result(&row, "")?;
        let payload: Option<String> = row.try_get("", "event_payload")?;
        return Ok(Claim::Taken(Box::new(d), payload));
    }
    let held = webhook_deliveries::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .is_some_and(|d| d.status == DeliveryStatus::Delivering);
    Ok(if held { Claim::Held } else { Claim::NotDue })
}

async fn read_excerpt(resp: reqwest::Response) -> String {
    let mut out = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        out.extend_from_slice(&chunk);
        if out.len() >= EXCERPT_BYTES {
            out.truncate(EXCERPT_BYTES);
            break;
        }
    }
    String::from_utf8_lossy(&out).to_string()
}

/// Makes one attempt at delivery `id` if it is due; `Ok(None)` when it was not (not due, or
/// finished). A delivery held by another worker is an error, so the job is retried and takes
/// it over once that worker's lease runs out (it may have died mid-delivery).
pub async fn attempt(ctx: &Context, id: Uuid) -> Result<Option<AttemptResult>> {
    let (d, payload) = match claim(ctx, id).await? {
        Claim::Taken(d, payload) => (*d, payload),
        Claim::NotDue => return Ok(None),
        Claim::Held => {
            return Err(crate::Error::Internal(anyhow::anyhow!(
                "delivery {id} is held by another worker; trying again later"
            )));
        }
    };
    let endpoint = webhook_endpoints::Entity::find_by_id(d.account_id)
        .one(&ctx.db)
        .await?;
    let now = crate::clock::now();
    let (Some(payload), Some(endpoint)) = (payload, endpoint) else {
        finish(
            &ctx.db,
            &d,
            DeliveryStatus::Failed,
            None,
            Some("no webhook endpoint is configured".into()),
            None,
            now,
        )
        .await?;
        return Ok(Some(AttemptResult {
            status_code: None,
            error: Some("no endpoint".into()),
            delivered: false,
        }));
    };
    if !endpoint.enabled {
        let why = endpoint
            .disabled_reason
            .clone()
            .unwrap_or_else(|| "the endpoint is disabled".into());
        finish(
            &ctx.db,
            &d,
            DeliveryStatus::Failed,
            None,
            Some(why.clone()),
            None,
            now,
        )
        .await?;
        return Ok(Some(AttemptResult {
            status_code: None,
            error: Some(why),
            delivered: false,
        }));
    }
    let started = Instant::now();
    let (status, excerpt, error, retry_after) = send(ctx, &endpoint, &d.event_id, &payload).await;
    let latency = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
    let attempt = webhook_attempts::ActiveModel {
        id: Set(Uuid::new_v4()),
        delivery_id: Set(d.id),
        account_id: Set(d.account_id),
        attempted_at: Set(now),
        url: Set(endpoint.url.clone()),
        status_code: Set(status.map(i32::from)),
        latency_ms: Set(latency),
        response_excerpt: Set(excerpt),
        error: Set(error.clone()),
    };
    let delivered = status.is_some_and(|s| (200..300).contains(&s));
    let result = AttemptResult {
        status_code: status,
        error: error.clone(),
        delivered,
    };
    let error = if delivered {
        None
    } else {
        error.or_else(|| status.map(|s| format!("the receiver answered {s}")))
    };
    // What the attempt changes: the delivery's state, its next attempt, and the endpoint.
    let (state, next, endpoint_change) = if delivered {
        let recovered = endpoint.failing_since.is_some();
        (
            DeliveryStatus::Succeeded,
            None,
            recovered.then_some(EndpointChange::Recovered),
        )
    } else if status == Some(410) {
        (DeliveryStatus::Failed, None, Some(EndpointChange::Gone))
    } else {
        let first = d.first_attempt_at.unwrap_or(now);
        let give_up = chrono::Duration::days(ctx.config.webhook_retry_days as i64);
        let jitter: f64 = rand::random();
        let next = match retry_after {
            Some(wait) if now + wait - first <= give_up => Some(now + wait),
            _ => schedule::next_attempt((d.attempts + 1) as u32, first, now, give_up, jitter),
        };
        let change = match endpoint.failing_since {
            Some(since) if now - since > DISABLE_AFTER => Some(EndpointChange::FailingTooLong),
            Some(_) => None,
            None => Some(EndpointChange::Failing(now)),
        };
        (
            if next.is_some() {
                DeliveryStatus::Pending
            } else {
                DeliveryStatus::Failed
            },
            next,
            change,
        )
    };
    // Two plain statements rather than a transaction (BEGIN and COMMIT would double the round
    // trips of the hot path): a crash between them leaves the delivery leased, and it is
    // attempted again once the lease runs out (at-least-once, deduplicated by the event id).
    attempt.insert(&ctx.db).await?;
    finish(&ctx.db, &d, state, status, error, next, now).await?;
    if let Some(change) = endpoint_change {
        set_endpoint(&ctx.db, &endpoint, |m| change.apply(m)).await?;
    }
    Ok(Some(result))
}

/// How an attempt changes its endpoint.
#[derive(Clone, Copy)]
enum EndpointChange {
    /// It answered 2xx after failing.
    Recovered,
    /// It started failing at this time.
    Failing(DateTime<Utc>),
    /// It has failed for longer than [`DISABLE_AFTER`]: disable it.
    FailingTooLong,
    /// It answered 410 Gone: disable it.
    Gone,
}

impl EndpointChange {
    fn apply(self, m: &mut webhook_endpoints::ActiveModel) {
        match self {
            EndpointChange::Recovered => m.failing_since = Set(None),
            EndpointChange::Failing(at) => m.failing_since = Set(Some(at)),
            EndpointChange::FailingTooLong => {
                m.enabled = Set(false);
                m.disabled_reason = Set(Some(format!(
                    "every delivery failed for {} days; fix the receiver and re-enable it with PUT /webhook",
                    DISABLE_AFTER.num_days()
                )));
            }
            EndpointChange::Gone => {
                m.enabled = Set(false);
                m.disabled_reason = Set(Some(
                    "the receiver answered 410 Gone; re-enable it with PUT /webhook".into(),
                ));
            }
        }
    }
}

/// POSTs the event; returns the status, the first bytes of the response, an error, and a
/// Retry-After wait when the receiver asked for one.
async fn send(
    ctx: &Context,
    endpoint: &webhook_endpoints::Model,
    event_id: &str,
    payload: &str,
) -> (
    Option<u16>,
    Option<String>,
    Option<String>,
    Option<chrono::Duration>,
) {
    let guard = Guard {
        allow_private: ctx.config.allow_private_networks,
    };
    let url = match url::Url::parse(&endpoint.url) {
        Ok(u) => u,
        Err(e) => {
            return (
                None,
                None,
                Some(format!("the endpoint URL is invalid: {e}")),
                None,
            );
        }
    };
    // Literal IPs never reach the resolver: check them (and the scheme) here, every time.
    if let Err(e) = guard.check_url_syntax(&url) {
        return (None, None, Some(e.to_string()), None);
    }
    let secrets = match secrets(ctx, endpoint).await {
        Ok(s) => s,
        Err(e) => {
            return (
                None,
                None,
                Some(format!("cannot read the signing secret: {e:#}")),
                None,
            );
        }
    };
    let headers = match signed_headers(&secrets, event_id, crate::clock::now(), payload.as_bytes())
    {
        Ok(h) => h,
        Err(e) => return (None, None, Some(format!("cannot sign: {e:#}")), None),
    };
    let mut req = ctx
        .webhook_client()
        .post(url.clone())
        .body(payload.to_string());
    for (name, value) in headers {
        req = req.header(name, value);
    }
    match req.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let retry_after = matches!(status, 429 | 502 | 503 | 504)
                .then(|| {
                    schedule::retry_after(
                        resp.headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok()),
                        crate::clock::now(),
                    )
                })
                .flatten();
            let excerpt = read_excerpt(resp).await;
            let error = (300..400)
                .contains(&status)
                .then(|| format!("the receiver answered {status} (redirects are not followed)"));
            (Some(status), Some(excerpt), error, retry_after)
        }
        Err(e) => (
            None,
            None,
            Some(crate::net_guard::request_error(&url, &e).to_string()),
            None,
        ),
    }
}

async fn set_endpoint<C: ConnectionTrait>(
    conn: &C,
    e: &webhook_endpoints::Model,
    change: impl FnOnce(&mut webhook_endpoints::ActiveModel),
) -> Result<()> {
    let mut m: webhook_endpoints::ActiveModel = e.clone().into();
    change(&mut m);
    m.updated_at = Set(crate::clock::now());
    m.update(conn).await?;
    Ok(())
}

/// Records the delivery's state after an attempt and schedules the next one.
#[allow(clippy::too_many_arguments)]
async fn finish<C: ConnectionTrait>(
    conn: &C,
    d: &webhook_deliveries::Model,
    status: DeliveryStatus,
    code: Option<u16>,
    error: Option<String>,
    next: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut m: webhook_deliveries::ActiveModel = d.clone().into();
    m.status = Set(status);
    m.attempts = Set(d.attempts + 1);
    m.first_attempt_at = Set(Some(d.first_attempt_at.unwrap_or(now)));
    m.last_attempt_at = Set(Some(now));
    m.last_status_code = Set(code.map(i32::from));
    m.last_error = Set(error);
    m.next_attempt_at = Set(next);
    m.lease_until = Set(None);
    m.updated_at = Set(now);
    m.update(conn).await?;
    if let Some(at) = next {
        Queue::enqueue_at(
            conn,
            &Job::DeliverWebhook { delivery_id: d.id },
            at.timestamp_millis(),
        )
        .await?;
    }
    Ok(())
}

/// Re-enqueues deliveries whose job was lost (due for a while, or leased by a worker that died).
pub async fn sweep(ctx: &Context) -> Result<usize> {
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
    let now = crate::clock::now();
    let stale = now - chrono::Duration::minutes(2);
    let due: Vec<Uuid> = webhook_deliveries::Entity::find()
        .select_only()
        .column(webhook_deliveries::Column::Id)
        .filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(webhook_deliveries::Column::Status.eq(DeliveryStatus::Pending))
                        .add(webhook_deliveries::Column::NextAttemptAt.lte(stale)),
                )
                .add(
                    sea_orm::Condition::all()
                        .add(webhook_deliveries::Column::Status.eq(DeliveryStatus::Delivering))
                        .add(webhook_deliveries::Column::LeaseUntil.lt(now)),
                ),
        )
        .limit(1000)
        .into_tuple()
        .all(&ctx.db)
        .await?;
    let jobs: Vec<Job> = due
        .iter()
        .map(|&delivery_id| Job::DeliverWebhook { delivery_id })
        .collect();
    if !jobs.is_empty() {
        ctx.queue.enqueue_many(&jobs).await?;
    }
    Ok(jobs.len())
}
