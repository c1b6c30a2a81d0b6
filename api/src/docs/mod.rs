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
    spec_value(public_url).to_string()
}

/// The spec as a JSON value, completed where poem-openapi says less than the server does:
/// every optional property is `nullable` (the server accepts `null` for any field that may be
/// left out, and answers `null` for unset ones), and request bodies refuse unknown fields
/// (`additionalProperties: false`, as `deny_unknown_fields` enforces).
pub fn spec_value(public_url: &str) -> serde_json::Value {
    let mut spec: serde_json::Value =
        serde_json::from_str(&service(public_url).spec()).expect("poem-openapi emits JSON");
    let bodies = request_body_schemas(&spec);
    if let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(|s| s.as_object_mut())
    {
        for (name, schema) in schemas.iter_mut() {
            mark_optional_nullable(schema);
            if bodies.contains(name)
                && let Some(o) = schema.as_object_mut()
            {
                o.insert(
                    "additionalProperties".into(),
                    serde_json::Value::Bool(false),
                );
            }
        }
    }
    spec
}

/// Names of the component schemas used as request bodies.
fn request_body_schemas(spec: &serde_json::Value) -> Vec<String> {
    let mut names = Vec::new();
    let paths = spec.get("paths").and_then(|p| p.as_object());
    for op in paths
        .into_iter()
        .flat_map(|p| p.values())
        .filter_map(|o| o.as_object())
        .flat_map(|o| o.values())
    {
        let content = op
            .pointer("/requestBody/content")
            .and_then(|c| c.as_object());
        for media in content.into_iter().flat_map(|c| c.values()) {
            if let Some(r) = media.pointer("/schema/$ref").and_then(|r| r.as_str()) {
                names.push(r.rsplit('/').next().unwrap_or(r).to_string());
            }
        }
    }
    names
}

fn mark_optional_nullable(schema: &mut serde_json::Value) {
    let required: Vec<String> = schema
        .get("required")
        .and_then(|r| r.as_array())
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let Some(props) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) else {
        return;
    };
    for (name, prop) in props.iter_mut() {
        if required.contains(name) {
            continue;
        }
        if prop.get("$ref").is_some() {
            // OpenAPI 3.0 ignores siblings of $ref: wrap it.
            let r = prop.take();
            *prop = serde_json::json!({ "allOf": [r], "nullable": true });
        } else if let Some(o) = prop.as_object_mut() {
            o.insert("nullable".into(), serde_json::Value::Bool(true));
        }
    }
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
