//! The Admin GraphQL API of one shop, honouring Shopify's throttling: a `THROTTLED` error (or
//! a bucket too empty for the next query) waits for the bucket to refill at its restore rate,
//! and an HTTP 429 waits `Retry-After`. A 401 refreshes the access token once before giving up.

use std::time::Duration;

use serde_json::{Value, json};

use super::ShopifyError;

/// Longest single wait for the throttle.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// Attempts of one query before giving up.
const MAX_ATTEMPTS: u32 = 8;

/// A client of one shop's Admin GraphQL endpoint.
pub struct Admin {
    client: reqwest::Client,
    url: String,
    token: String,
    shop: String,
    /// Points the last response said were left, and how fast they come back.
    bucket: Option<(f64, f64)>,
    /// The shop's row, to refresh its token once when the API refuses it.
    refresh: Option<(crate::Context, otoq_entities::shopify_shops::Model)>,
}

/// Seconds to wait for `needed` points given the bucket's `available` points and `rate` per second.
fn refill_wait(needed: f64, available: f64, rate: f64) -> Duration {
    if available >= needed || rate <= 0.0 {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(((needed - available) / rate).min(MAX_WAIT.as_secs_f64()))
}

fn retry_after(resp: &reqwest::Response) -> Duration {
    let secs = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(1.0);
    Duration::from_secs_f64(secs.clamp(0.0, MAX_WAIT.as_secs_f64()))
}

impl Admin {
    /// A client for `shop` with its access token.
    pub fn new(ctx: &crate::Context, shop: &str, token: String) -> Result<Self, ShopifyError> {
        let cfg = super::config(ctx)?;
        Ok(Admin {
            client: super::tokens::client(ctx),
            url: cfg.graphql_url(shop),
            token,
            shop: shop.to_string(),
            bucket: None,
            refresh: None,
        })
    }

    /// A client for the installed `shop` with its access token, refreshed once on a 401.
    pub fn for_shop(
        ctx: &crate::Context,
        shop: &otoq_entities::shopify_shops::Model,
        token: String,
    ) -> Result<Self, ShopifyError> {
        let mut admin = Admin::new(ctx, &shop.shop, token)?;
        admin.refresh = Some((ctx.clone(), shop.clone()));
        Ok(admin)
    }

    /// Runs `query` with `variables`, waiting out throttling; returns its `data`.
    pub async fn query(&mut self, query: &str, variables: Value) -> Result<Value, ShopifyError> {
        let body = json!({ "query": query, "variables": variables });
        let mut attempt = 0;
        loop {
            attempt += 1;
            if attempt > MAX_ATTEMPTS {
                return Err(ShopifyError::Upstream(format!(
                    "{} kept throttling the catalog requests; the sync will be retried",
                    self.shop
                )));
            }
            let resp = self
                .client
                .post(&self.url)
                .header("x-shopify-access-token", &self.token)
                .json(&body)
                .send()
                .await
                .map_err(|e| {
                    ShopifyError::Upstream(format!("could not reach {}: {e}", self.shop))
                })?;
            let status = resp.status().as_u16();
            if status == 429 {
                let wait = retry_after(&resp);
                tracing::debug!(shop = %self.shop, ?wait, "Shopify answered 429");
                tokio::time::sleep(wait).await;
                continue;
            }
            if status == 401
                && let Some((ctx, shop)) = self.refresh.take()
            {
                // The token may have been revoked or rotated early: one refresh, then retry.
                tracing::info!(shop = %self.shop, "Shopify refused the access token; refreshing it");
                self.token = match super::tokens::refresh_now(&ctx, &shop).await {
                    Ok(t) => t,
                    Err(ShopifyError::Internal(e)) => return Err(ShopifyError::Internal(e)),
                    Err(e) => {
                        return Err(ShopifyError::Invalid(format!(
                            "{} refused the access token (HTTP 401) and refreshing it failed ({e}): \
                             install the app again",
                            self.shop
                        )));
                    }
                };
                continue;
            }
            if status == 401 || status == 403 {
                return Err(ShopifyError::Invalid(format!(
                    "{} refused the access token (HTTP {status}): install the app again",
                    self.shop
                )));
            }
            if matches!(status, 500 | 502 | 503 | 504) {
                // Shopify's transient failures: back off a little and try again.
                let wait = Duration::from_millis(500 * u64::from(attempt));
                tracing::debug!(shop = %self.shop, status, ?wait, "Shopify failed a query");
                tokio::time::sleep(wait).await;
                continue;
            }
            if !(200..300).contains(&status) {
                return Err(ShopifyError::Upstream(format!(
                    "{} answered HTTP {status} to a catalog request",
                    self.shop
                )));
            }
            let value: Value = resp.json().await.map_err(|e| {
                ShopifyError::Upstream(format!("{} sent an unreadable response: {e}", self.shop))
            })?;
            let cost = &value["extensions"]["cost"];
            let throttle = &cost["throttleStatus"];
            let available = throttle["currentlyAvailable"].as_f64();
            let rate = throttle["restoreRate"].as_f64();
            if let (Some(a), Some(r)) = (available, rate) {
                self.bucket = Some((a, r));
            }
            let errors = value["errors"].as_array().cloned().unwrap_or_default();
            let throttled = errors
                .iter()
                .any(|e| e["extensions"]["code"] == "THROTTLED");
            if throttled {
                let needed = cost["requestedQueryCost"].as_f64().unwrap_or(100.0);
                let wait = refill_wait(needed, available.unwrap_or(0.0), rate.unwrap_or(50.0))
                    .max(Duration::from_millis(100));
                tracing::debug!(shop = %self.shop, ?wait, "Shopify throttled a query");
                tokio::time::sleep(wait).await;
                continue;
            }
            if let Some(first) = errors.first() {
                return Err(ShopifyError::Upstream(format!(
                    "{} answered a catalog query with an error: {}",
                    self.shop,
                    first["message"].as_str().unwrap_or("unknown error")
                )));
            }
            // Pace the next query so that it does not hit the throttle.
            if let (Some(requested), Some((a, r))) =
                (cost["requestedQueryCost"].as_f64(), self.bucket)
            {
                let wait = refill_wait(requested, a, r);
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
            }
            return Ok(value["data"].clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_the_missing_points() {
        assert_eq!(refill_wait(100.0, 200.0, 50.0), Duration::ZERO);
        assert_eq!(refill_wait(100.0, 50.0, 50.0), Duration::from_secs(1));
        assert_eq!(refill_wait(10_000.0, 0.0, 1.0), MAX_WAIT);
    }
}
