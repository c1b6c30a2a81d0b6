//! The OpenAPI document — the one source of the JSON spec, the Markdown reference and `/docs`.

mod markdown;

use poem_openapi::{ExtraHeader, OpenApiService};

use crate::routes::{agents::AgentsApi, api_keys::ApiKeysApi};

pub use markdown::to_markdown;

/// The set of operation groups served under `/api/v1`.
pub type Apis = (AgentsApi, ApiKeysApi);

const DESCRIPTION: &str = "\
Programmatically manage your agents, conversations, leads and analytics. API access requires a Pro or \
Enterprise plan.\n\n\
**Authentication.** Send an API key as `Authorization: Bearer otoq_...`. Create keys with \
`otoq accounts create` or `POST /api-keys`. Never expose keys in client-side code.\n\n\
**Envelopes.** One object: `{\"data\": {...}}`. Lists: `{\"data\": [...], \"meta\": {\"total\", \"limit\", \"offset\"}}` \
(`limit` default 50, max 100). Deletes: `{\"success\": true}`.\n\n\
**Errors** are always `{\"error\": code, \"message\": text}`: 400 `validation_error`, 401 `unauthorized`, \
403 `forbidden`, 404 `not_found`, 405 `method_not_allowed` (with `Allow`), 413 `payload_too_large`, \
429 `rate_limited` (with `Retry-After`), 500 `internal_error`.\n\n\
**Rate limits.** Every response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` \
(unix seconds), and an `X-Request-Id`.";

/// The OpenAPI service with its server set to `{public_url}/api/v1`.
pub fn service(public_url: &str) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (AgentsApi, ApiKeysApi),
        "otoq API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(DESCRIPTION)
    .server(format!("{}/api/v1", public_url.trim_end_matches('/')))
    .extra_response_header::<u64, _>(
        ExtraHeader::new("X-RateLimit-Limit").description("Requests allowed per window"),
    )
    .extra_response_header::<u64, _>(
        ExtraHeader::new("X-RateLimit-Remaining").description("Requests left in this window"),
    )
    .extra_response_header::<u64, _>(
        ExtraHeader::new("X-RateLimit-Reset")
            .description("Unix time (seconds) when the window resets"),
    )
    .extra_response_header::<String, _>(
        ExtraHeader::new("X-Request-Id").description("Identifies the request in logs"),
    )
}

/// The spec as JSON text.
pub fn spec_json(public_url: &str) -> String {
    service(public_url).spec()
}

#[cfg(test)]
mod tests {
    fn patterns(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x) {
                        ("pattern", serde_json::Value::String(p)) => out.push(p.clone()),
                        _ => patterns(x, out),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| patterns(x, out)),
            _ => {}
        }
    }

    #[test]
    fn every_schema_pattern_compiles() {
        let spec: serde_json::Value = serde_json::from_str(&super::spec_json("http://x")).unwrap();
        let mut found = Vec::new();
        patterns(&spec, &mut found);
        assert!(found.len() >= 5, "{found:?}");
        for p in found {
            regex::Regex::new(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
        }
    }
}
