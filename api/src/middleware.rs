//! The outermost layer: a request id on every response, every error as JSON, `Allow` on 405,
//! panics contained as 500, and one log line per request.

use std::time::Instant;

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use uuid::Uuid;

use crate::contract::Contract;
use crate::error;

/// Wraps the whole application.
pub struct Outer<E> {
    pub inner: E,
    pub contract: Contract,
}

fn request_id(req: &Request) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| Uuid::new_v4().to_string())
}

impl<E: Endpoint> Endpoint for Outer<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let started = Instant::now();
        let id = request_id(&req);
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let call = std::panic::AssertUnwindSafe(self.inner.call(req));
        let mut resp = match futures::FutureExt::catch_unwind(call).await {
            Ok(Ok(r)) => r.into_response(),
            Ok(Err(e)) => error::to_response(e),
            Err(_) => {
                tracing::error!(request_id = %id, %method, %path, "handler panicked");
                error::ApiError::internal().into_response()
            }
        };
        if resp.status() == StatusCode::METHOD_NOT_ALLOWED
            && let Some(allow) = self.contract.allowed(&path)
            && let Ok(v) = HeaderValue::from_str(&allow)
        {
            resp.headers_mut().insert(header::ALLOW, v);
        }
        if let Ok(v) = HeaderValue::from_str(&id) {
            resp.headers_mut().insert("x-request-id", v);
        }
        let status = resp.status().as_u16();
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::error!(request_id = %id, %method, %path, status, ms, "request");
        } else if method != Method::GET || status >= 400 {
            tracing::info!(request_id = %id, %method, %path, status, ms, "request");
        } else {
            tracing::debug!(request_id = %id, %method, %path, status, ms, "request");
        }
        Ok(resp)
    }
}
