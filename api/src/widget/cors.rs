//! The `Origin` check of the widget's public routes and their CORS headers.

use otoq_entities::agents;
use poem::http::{HeaderValue, header};
use poem::{Request, Response};

/// Headers the widget sends besides the simple ones.
const ALLOW_HEADERS: &str = "Content-Type, X-Otoq-Visitor";
/// Response headers the widget may read.
const EXPOSE_HEADERS: &str = "Retry-After, X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, X-Otoq-Visitor";

/// The request's `Origin`, if it sent one.
pub fn origin(req: &Request) -> Option<String> {
    req.headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_end_matches('/').to_ascii_lowercase())
        .filter(|v| !v.is_empty() && v != "null")
}

/// The origin (`scheme://host[:port]`, lower case) of the deployment's public URL.
pub fn own_origin(public_url: &str) -> Option<String> {
    let url = url::Url::parse(public_url).ok()?;
    let origin = url.origin();
    origin
        .is_tuple()
        .then(|| origin.ascii_serialization().to_ascii_lowercase())
}

/// Whether the agent may be used from `origin`: with an empty `allowed_origins` from anywhere;
/// otherwise only with an `Origin` in the list or equal to the deployment's own (`own`, the
/// iframe variant's page). A request without `Origin` is refused: no other header (`Host`,
/// `Sec-Fetch-Site`) stands in for it.
pub fn allowed(agent: &agents::Model, origin: Option<&str>, own: Option<&str>) -> bool {
    let list: Vec<String> =
        serde_json::from_value(agent.allowed_origins.clone()).unwrap_or_default();
    if list.is_empty() {
        return true;
    }
    origin.is_some_and(|o| list.iter().any(|a| a == o) || own == Some(o))
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
