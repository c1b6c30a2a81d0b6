//! The `Origin` check of the widget's public routes and their CORS headers.

use otoq_entities::agents;
use poem::http::{HeaderValue, header};
use poem::{Request, Response};

/// Headers the widget sends besides the simple ones.
const ALLOW_HEADERS: &str = "Content-Type, X-Otoq-Visitor";
/// Response headers the widget may read.
const EXPOSE_HEADERS: &str =
    "Retry-After, X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset";

/// The request's `Origin`, if it sent one.
pub fn origin(req: &Request) -> Option<String> {
    req.headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_end_matches('/').to_ascii_lowercase())
        .filter(|v| !v.is_empty() && v != "null")
}

/// Whether the origin is this deployment's own (the iframe variant of the widget).
fn same_origin(req: &Request, origin: &str) -> bool {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    let origin_host = origin.split_once("://").map(|(_, h)| h);
    host.is_some() && origin_host == host.as_deref()
}

/// Whether a browser says the request came from this deployment's own page.
fn fetched_same_origin(req: &Request) -> bool {
    req.headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"same-origin")
}

/// Whether the agent may be used from `origin`: its `allowed_origins` (empty allows every
/// origin), or the deployment's own pages (the iframe variant). Without an `Origin` and not
/// from the deployment's own pages, only agents open to every origin answer.
pub fn allowed(req: &Request, agent: &agents::Model, origin: Option<&str>) -> bool {
    let list: Vec<String> =
        serde_json::from_value(agent.allowed_origins.clone()).unwrap_or_default();
    if list.is_empty() {
        return true;
    }
    match origin {
        // Browsers leave `Origin` out of same-origin GETs; `Sec-Fetch-Site` still says where from.
        None => fetched_same_origin(req),
        Some(o) => list.iter().any(|a| a == o) || same_origin(req, o),
    }
}

/// Adds the CORS headers of a response to `origin` (`*` when the request named none).
pub fn decorate(resp: &mut Response, origin: Option<&str>) {
    let h = resp.headers_mut();
    let value = origin
        .and_then(|o| HeaderValue::from_str(o).ok())
        .unwrap_or(HeaderValue::from_static("*"));
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
}

/// The answer to an allowed preflight request.
pub fn preflight(origin: Option<&str>) -> Response {
    let mut resp = Response::builder()
        .status(poem::http::StatusCode::NO_CONTENT)
        .header(header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS")
        .header(header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS)
        .header(header::ACCESS_CONTROL_MAX_AGE, "600")
        .finish();
    decorate(&mut resp, origin);
    resp
}
