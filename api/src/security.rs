//! The Bearer scheme of the spec. The gate has already authenticated the request; the
//! scheme hands its result to the operation.

use otoq_core::api_keys::AuthedKey;
use poem::Request;
use poem_openapi::{SecurityScheme, auth::Bearer};

/// An API key `otoq_...` sent as `Authorization: Bearer <key>`.
#[derive(SecurityScheme)]
#[oai(
    ty = "bearer",
    key_name = "Authorization",
    bearer_format = "otoq_...",
    checker = "authed"
)]
pub struct ApiKey(pub AuthedKey);

async fn authed(req: &Request, _bearer: Bearer) -> Option<AuthedKey> {
    req.data::<AuthedKey>().cloned()
}
