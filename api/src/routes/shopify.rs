//! `/shopify/install`, `/shopify/callback` and `/shopify/webhooks`: the Shopify app's routes,
//! outside `/api/v1`. Every failure is a clear JSON error (or a page, for a browser).

use otoq_core::Context;
use otoq_core::api_keys;
use otoq_core::shopify::webhooks::{self, Delivery};
use otoq_core::shopify::{ShopifyError, oauth};
use poem::http::{StatusCode, header};
use poem::web::Data;
use poem::{Body, IntoResponse, Request, Response, handler};
use serde_json::json;
use uuid::Uuid;

use crate::error::{ApiError, ErrorCode};

fn code_of(e: &ShopifyError) -> ErrorCode {
    match e {
        ShopifyError::NotConfigured(_) => ErrorCode::NotConfigured,
        ShopifyError::Invalid(_) => ErrorCode::ValidationError,
        ShopifyError::Forged(_) => ErrorCode::Unauthorized,
        ShopifyError::NotFound(_) => ErrorCode::NotFound,
        ShopifyError::Upstream(_) => ErrorCode::ShopifyError,
        ShopifyError::Internal(_) => ErrorCode::Unavailable,
    }
}

fn message_of(e: &ShopifyError) -> String {
    match e {
        ShopifyError::Internal(err) => {
            tracing::error!(error = %format!("{err:#}"), "Shopify request failed");
            "the server could not complete the request: try again in a moment".into()
        }
        other => other.to_string(),
    }
}

/// The error as JSON.
fn error_json(e: ShopifyError) -> Response {
    ApiError::new(code_of(&e), message_of(&e)).into_response()
}

fn wants_html(req: &Request) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\"><h1>{t}</h1><p>{x}</p></body></html>",
        t = escape(title),
        x = escape(text)
    );
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(html)
}

fn query_pairs(req: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn one<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `GET /shopify/install?shop=…&agent_id=…` (Bearer API key of the agent's owner): 302 to
/// the shop's authorize page.
#[handler]
pub async fn install(req: &Request, ctx: Data<&Context>) -> Response {
    let token = match crate::gate::bearer(req) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return ApiError::unauthorized(
                "missing API key: send `Authorization: Bearer otoq_...`",
            )
            .into_response();
        }
        Err(reason) => return ApiError::unauthorized(reason).into_response(),
    };
    let key = match api_keys::authenticate(&ctx.db, &ctx.keys, token).await {
        Ok(Some(k)) => k,
        Ok(None) => {
            return ApiError::unauthorized(
                "invalid API key: it is malformed, unknown or has been revoked",
            )
            .into_response();
        }
        Err(e) => return error_json(ShopifyError::from(e)),
    };
    let pairs = query_pairs(req);
    let Some(shop) = one(&pairs, "shop").filter(|s| !s.is_empty()) else {
        return error_json(ShopifyError::Invalid(
            "the `shop` parameter is missing".into(),
        ));
    };
    let Some(agent_id) = one(&pairs, "agent_id") else {
        return error_json(ShopifyError::Invalid(
            "the `agent_id` parameter is missing".into(),
        ));
    };
    let Ok(agent_id) = Uuid::parse_str(agent_id) else {
        return error_json(ShopifyError::Invalid("`agent_id` must be a UUID".into()));
    };
    match oauth::begin(&ctx, key.account_id, agent_id, shop).await {
        Ok(url) => Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, url)
            .finish(),
        Err(e) => error_json(e),
    }
}

/// `GET /shopify/callback`: Shopify's redirect after the merchant approved the app.
#[handler]
pub async fn callback(req: &Request, ctx: Data<&Context>) -> Response {
    let html = wants_html(req);
    match oauth::complete(&ctx, &query_pairs(req)).await {
        Ok(done) if html => page(
            StatusCode::OK,
            "otoq is installed",
            &format!(
                "{} is connected: its catalog is being synced into the agent's knowledge. You can close this page.",
                done.shop
            ),
        ),
        Ok(done) => (
            StatusCode::OK,
            poem::web::Json(json!({ "data": {
                "shop": done.shop,
                "agent_id": done.agent_id,
                "source_id": done.source_id,
            }})),
        )
            .into_response(),
        Err(e) if html => page(
            code_of(&e).status(),
            "The installation failed",
            &message_of(&e),
        ),
        Err(e) => error_json(e),
    }
}

/// `POST /shopify/webhooks`: product changes, uninstalls and the compliance topics.
#[handler]
pub async fn receive(req: &Request, body: Body, ctx: Data<&Context>) -> Response {
    let max = ctx.config.max_body_bytes;
    let body = match body.into_bytes_limit(max).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("the request body is over the {max}-byte limit"),
            )
            .into_response();
        }
    };
    let h = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let delivery = Delivery {
        hmac: h("x-shopify-hmac-sha256"),
        topic: h("x-shopify-topic"),
        shop: h("x-shopify-shop-domain"),
        webhook_id: h("x-shopify-webhook-id"),
    };
    match webhooks::receive(&ctx, delivery, &body).await {
        Ok(outcome) => (
            StatusCode::OK,
            poem::web::Json(
                json!({ "received": true, "outcome": format!("{outcome:?}").to_lowercase() }),
            ),
        )
            .into_response(),
        Err(e) => error_json(e),
    }
}
