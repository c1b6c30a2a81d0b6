//! The widget: `/widget.js` and the public routes it talks to, `/widget/v1/{public_id}/...`.
//!
//! The public routes take no API key (a request carrying one is refused), answer only for an
//! agent's allowed origins (CORS and the `Origin` check), identify visitors by tokens the
//! server issued, and are rate limited per client IP, per visitor and per agent and day.

mod body;
mod cors;
mod handlers;
mod limits;
pub mod script;
mod visitor;

use otoq_core::Context;
use otoq_core::ratelimit::{Decision, unix_now};
use poem::http::{Method, header};
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::error::{ApiError, ErrorCode};

/// The public routes under `/widget/v1`.
pub struct PublicRoutes {
    pub ctx: Context,
}

/// A public route's error response.
pub(crate) fn fail(code: ErrorCode, message: impl Into<String>) -> Response {
    ApiError::new(code, message).into_response()
}

/// 429 with `Retry-After` for a refused rate-limit decision.
pub(crate) fn too_many(d: &Decision, code: ErrorCode, message: &str) -> Response {
    let mut resp = ApiError::new(code, message)
        .retry_after(d.retry_after(unix_now()))
        .into_response();
    let h = resp.headers_mut();
    h.insert("x-ratelimit-limit", d.limit.into());
    h.insert("x-ratelimit-remaining", d.remaining.into());
    h.insert("x-ratelimit-reset", d.reset_at.into());
    resp
}

/// The client's IP: the peer address, or behind a trusted proxy the address it appended last to
/// `X-Forwarded-For` (earlier entries are the client's to invent).
fn client_ip(req: &Request, trust_forwarded_for: bool) -> String {
    let forwarded = trust_forwarded_for
        .then(|| {
            req.headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .rfind(|v| !v.is_empty())
                .and_then(|v| v.parse::<std::net::IpAddr>().ok())
        })
        .flatten();
    match forwarded {
        Some(ip) => ip.to_string(),
        None => req
            .remote_addr()
            .as_socket_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|| "unknown".into()),
    }
}

impl PublicRoutes {
    async fn route(&self, mut req: Request, origin: Option<&str>) -> Response {
        let ctx = &self.ctx;
        let path = req.uri().path().trim_start_matches('/').to_string();
        let parts: Vec<&str> = path.split('/').collect();
        let (public_id, action) = match parts.as_slice() {
            [p, rest @ ..] if !p.is_empty() && !rest.is_empty() => (*p, rest),
            _ => return fail(ErrorCode::NotFound, "no such route"),
        };
        if req.headers().contains_key(header::AUTHORIZATION) {
            return fail(
                ErrorCode::ValidationError,
                "the widget's public routes take no API key: never put an API key in a web page",
            );
        }
        let limits = &ctx.config.rate_limits;
        let client = client_ip(&req, limits.trust_forwarded_for);
        let ip = ctx
            .limiter
            .hit(
                &format!("widget-ip:{client}"),
                limits.widget_ip,
                limits.window,
            )
            .await;
        if !ip.allowed {
            return too_many(
                &ip,
                ErrorCode::RateLimited,
                "Too many requests from this address. Please slow down.",
            );
        }
        if public_id.len() > 64 {
            return fail(ErrorCode::NotFound, "agent not found");
        }
        let agent = match otoq_core::agents::by_public_id(ctx, public_id).await {
            Ok(a) => a,
            Err(e) => return ApiError::from(e).into_response(),
        };
        let is_frame = action == ["frame"] && req.method() == Method::GET;
        let own = cors::own_origin(&ctx.config.public_url);
        if !is_frame && !cors::allowed(&agent, origin, own.as_deref()) {
            return fail(ErrorCode::OriginNotAllowed,
                match origin {
                    Some(o) => format!("this assistant is not enabled on {o}: add the origin to the agent's allowed_origins"),
                    None => "this assistant only answers requests from its allowed origins (an Origin header is required)".into(),
                },
            );
        }
        if req.method() == Method::OPTIONS {
            return cors::preflight(origin);
        }
        if is_frame {
            return script::frame(&agent);
        }
        if !agent.is_active {
            return fail(
                ErrorCode::AgentUnavailable,
                "This assistant is unavailable right now. Please try again later.",
            );
        }
        let raw = if req.method() == Method::POST {
            match req.take_body().into_bytes_limit(body::MAX_BODY).await {
                Ok(b) => b,
                Err(poem::error::ReadBodyError::PayloadTooLarge) => {
                    return fail(
                        ErrorCode::PayloadTooLarge,
                        format!("the request body is over the {}-byte limit", body::MAX_BODY),
                    );
                }
                Err(e) => {
                    return fail(
                        ErrorCode::ValidationError,
                        format!("cannot read the request body: {e}"),
                    );
                }
            }
        } else {
            bytes::Bytes::new()
        };
        let call = handlers::Call {
            ctx,
            req: &req,
            agent: &agent,
            raw: &raw,
            ip: &client,
            renewed: std::sync::OnceLock::new(),
        };
        let method = req.method().clone();
        let found = match (method, action) {
            (Method::GET, ["config"]) => Some(handlers::config(&call)),
            (Method::POST, ["visitors"]) => Some(handlers::visitors(&call).await),
            (Method::POST, ["chat"]) => Some(handlers::chat(&call).await),
            (Method::POST, ["leads"]) => Some(handlers::leads(&call).await),
            (Method::POST, ["handoff"]) => Some(handlers::handoff(&call).await),
            (Method::GET, ["conversations", id]) => Some(handlers::conversation(&call, id).await),
            _ => None,
        };
        let mut resp = found.unwrap_or_else(|| {
            let known = matches!(
                action,
                ["config" | "visitors" | "chat" | "leads" | "handoff" | "frame"]
                    | ["conversations", _]
            );
            if known {
                fail(
                    ErrorCode::MethodNotAllowed,
                    "this route does not accept that method",
                )
            } else {
                fail(ErrorCode::NotFound, "no such route")
            }
        });
        if let Some(token) = call.renewed.get()
            && let Ok(v) = header::HeaderValue::from_str(token)
        {
            resp.headers_mut().insert(visitor::HEADER, v);
        }
        resp
    }
}

impl Endpoint for PublicRoutes {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let origin = cors::origin(&req);
        let mut resp = self.route(req, origin.as_deref()).await;
        cors::decorate(&mut resp, origin.as_deref());
        Ok(resp)
    }
}
