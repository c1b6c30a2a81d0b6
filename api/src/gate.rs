//! The gate in front of `/api/v1`: body size limit, authentication, plan check and rate
//! limiting, with the `X-RateLimit-*` headers on every response — errors included.

use bytes::Bytes;
use otoq_core::Context;
use otoq_core::api_keys::{self, AuthedKey};
use otoq_core::ratelimit::{Decision, unix_now};
use poem::http::{HeaderValue, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::error::{ParseParamError, ParsePathError, ParseRequestPayloadError};

use crate::contract::{Contract, humanize_param_reason};
use crate::error::{self, ApiError, ErrorCode};

/// Operations whose bodies may be as large as the upload limit (documents and long texts);
/// every other body is small JSON.
const LARGE_BODY_OPERATIONS: [&str; 2] = ["createSource", "uploadSource"];

/// Paths under `/api/v1` that need no key (the documentation).
const PUBLIC: [&str; 2] = ["/api/v1/openapi.json", "/api/v1/docs.md"];

/// Wraps the `/api/v1` routes.
pub struct Gate<E> {
    pub inner: E,
    pub ctx: Context,
    pub contract: Contract,
}

enum Caller {
    Key(AuthedKey),
    Anonymous { reason: &'static str },
}

/// The Bearer token of the request, if any (shared with the Shopify install route).
pub(crate) fn bearer(req: &Request) -> Result<Option<&str>, &'static str> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| "the Authorization header is not valid text")?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or("the Authorization header must be `Bearer <api key>`")?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err("the Authorization header must be `Bearer <api key>`");
    }
    Ok(Some(token.trim()))
}

fn client_ip(req: &Request) -> String {
    req.remote_addr()
        .as_socket_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn set_rate_headers(resp: &mut Response, d: &Decision) {
    let h = resp.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(d.limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(d.remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(d.reset_at));
}

impl<E: Endpoint> Gate<E> {
    async fn identify(&self, req: &Request) -> Result<Caller, ApiError> {
        let token = match bearer(req) {
            Ok(Some(t)) => t,
            Ok(None) => {
                return Ok(Caller::Anonymous {
                    reason: "missing API key: send `Authorization: Bearer otoq_...`",
                });
            }
            Err(reason) => return Ok(Caller::Anonymous { reason }),
        };
        if !api_keys::is_well_formed(token) {
            return Ok(Caller::Anonymous {
                reason: "malformed API key: keys look like otoq_ followed by 43 letters and digits",
            });
        }
        match api_keys::authenticate(&self.ctx.db, &self.ctx.keys, token).await? {
            Some(key) => Ok(Caller::Key(key)),
            None => Ok(Caller::Anonymous {
                reason: "invalid API key: it is unknown or has been revoked",
            }),
        }
    }

    async fn admit(&self, req: &mut Request) -> Result<Decision, (Option<Decision>, Response)> {
        let limits = &self.ctx.config.rate_limits;
        let caller = self
            .identify(req)
            .await
            .map_err(|e| (None, e.into_response()))?;
        let public = PUBLIC.contains(&req.original_uri().path());
        let (bucket, limit) = match &caller {
            // One budget per account: more keys do not multiply the limit.
            Caller::Key(k) if k.plan.has_api_access() => {
                (format!("account:{}", k.account_id), limits.for_plan(k.plan))
            }
            _ => (format!("ip:{}", client_ip(req)), limits.anonymous),
        };
        let decision = self.ctx.limiter.hit(&bucket, limit, limits.window).await;
        if !decision.allowed {
            return Err((
                Some(decision),
                ApiError::rate_limited(decision.retry_after(unix_now())).into_response(),
            ));
        }
        match caller {
            Caller::Key(k) if !k.plan.has_api_access() && !public => Err((
                Some(decision),
                ApiError::forbidden(format!(
                    "the {} plan does not include API access: upgrade to Pro or Enterprise",
                    k.plan
                ))
                .into_response(),
            )),
            Caller::Key(k) => {
                req.set_data(k);
                Ok(decision)
            }
            Caller::Anonymous { .. } if public => Ok(decision),
            Caller::Anonymous { reason } => Err((
                Some(decision),
                ApiError::unauthorized(reason).into_response(),
            )),
        }
    }

    /// Reads the body (at most the configured limit) so that a rejected body can be explained.
    async fn read_body(&self, req: &mut Request) -> Result<Bytes, Response> {
        let large = self
            .contract
            .operation_id(req.method().as_str(), req.original_uri().path())
            .is_some_and(|id| LARGE_BODY_OPERATIONS.contains(&id));
        let max = if large {
            self.ctx.config.max_upload_bytes
        } else {
            self.ctx.config.max_body_bytes
        };
        let too_large = || {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("the request body is over the {max}-byte limit"),
            )
            .into_response()
        };
        if let Some(len) = req.headers().get(header::CONTENT_LENGTH) {
            let len: u64 = len
                .to_str()
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(u64::MAX);
            if len > max as u64 {
                return Err(too_large());
            }
        }
        match req.take_body().into_bytes_limit(max).await {
            Ok(bytes) => {
                req.set_body(bytes.clone());
                Ok(bytes)
            }
            Err(poem::error::ReadBodyError::PayloadTooLarge) => Err(too_large()),
            Err(e) => Err(
                ApiError::validation(format!("cannot read the request body: {e}")).into_response(),
            ),
        }
    }

    /// Checks a JSON body against the operation's schema before poem-openapi parses it
    /// (which would coerce, say, a number into a string field).
    fn precheck(&self, req: &Request, method: &str, path: &str, raw: &[u8]) -> Option<String> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            });
        if !is_json {
            return None;
        }
        self.contract.explain_body(method, path, raw)
    }

    /// Maps an error of the inner routes, naming the offending field where poem-openapi did not.
    fn explain(&self, err: poem::Error, method: &str, path: &str, raw: &[u8]) -> Response {
        let invalid = |m: String| ApiError::validation(m).into_response();
        if err.is::<ParseRequestPayloadError>()
            && let Some(message) = self.contract.explain_body(method, path, raw)
        {
            return invalid(message);
        }
        if let Some(e) = err.downcast_ref::<ParsePathError>() {
            let name = self
                .contract
                .path_param_name(method, path, e.name)
                .unwrap_or_else(|| e.name.to_string());
            return invalid(format!(
                "invalid path parameter `{name}`: {}",
                humanize_param_reason(&e.reason)
            ));
        }
        if let Some(e) = err.downcast_ref::<ParseParamError>() {
            return invalid(format!(
                "invalid parameter `{}`: {}",
                e.name,
                humanize_param_reason(&e.reason)
            ));
        }
        error::to_response(err)
    }
}

impl<E: Endpoint> Endpoint for Gate<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let (decision, mut resp) = match self.admit(&mut req).await {
            Err((decision, resp)) => (decision, resp),
            Ok(decision) => {
                let method = req.method().as_str().to_string();
                let path = req.original_uri().path().to_string();
                let resp = match self.read_body(&mut req).await {
                    Err(resp) => resp,
                    Ok(raw) => match self.precheck(&req, &method, &path, &raw) {
                        Some(problem) => ApiError::validation(problem).into_response(),
                        None => match self.inner.call(req).await {
                            Ok(r) => r.into_response(),
                            Err(e) => self.explain(e, &method, &path, &raw),
                        },
                    },
                };
                (Some(decision), resp)
            }
        };
        if let Some(d) = decision {
            set_rate_headers(&mut resp, &d);
        }
        Ok(resp)
    }
}
