//! `GET /health` (the process is up) and `GET /ready` (database, queue and Redis answer).

use otoq_core::Context;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};
use serde_json::json;

/// Liveness: answers while the process runs.
#[handler]
pub fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: 200 when every dependency answers, else 503 with the failing one.
#[handler]
pub async fn ready(ctx: Data<&Context>) -> Response {
    match ctx.ready().await {
        Ok(()) => Json(json!({ "status": "ready" })).into_response(),
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "not ready");
            crate::error::ApiError::new(
                crate::error::ErrorCode::Unavailable,
                format!("not ready: {e}"),
            )
            .into_response()
        }
    }
}
