//! The OpenAPI document — the one source of the JSON spec, the Markdown reference and `/docs`.

mod markdown;

use poem_openapi::{ExtraHeader, LicenseObject, OpenApiService};

use crate::routes::{
    agents::AgentsApi, analytics::AnalyticsApi, api_keys::ApiKeysApi, chat::ChatApi,
    conversations::ConversationsApi, leads::LeadsApi, sources::SourcesApi, webhook::WebhookApi,
};

pub use markdown::to_markdown;

/// The set of operation groups served under `/api/v1`.
pub type Apis = (
    AgentsApi,
    SourcesApi,
    ChatApi,
    ConversationsApi,
    AnalyticsApi,
    LeadsApi,
    WebhookApi,
    ApiKeysApi,
);

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
(unix seconds), and an `X-Request-Id`. The budget is per account: all its keys share it.";

/// The OpenAPI service with its server set to `{public_url}/api/v1`.
pub fn service(public_url: &str) -> OpenApiService<Apis, ()> {
    OpenApiService::new(Apis::default(), "otoq API", env!("CARGO_PKG_VERSION"))
        .description(DESCRIPTION)
        .license(
            LicenseObject::new("Apache-2.0").url("https://www.apache.org/licenses/LICENSE-2.0"),
        )
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
    flatten_union_members(&mut spec);
    let bodies = request_body_schemas(&spec);
    close_inline_bodies(&mut spec);
    if let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(|s| s.as_object_mut())
    {
        // The type of each component, for the `type` a nullable reference must carry beside it.
        let types: std::collections::HashMap<String, serde_json::Value> = schemas
            .iter()
            .filter_map(|(name, s)| {
                Some((
                    format!("#/components/schemas/{name}"),
                    s.get("type")?.clone(),
                ))
            })
            .collect();
        for (name, schema) in schemas.iter_mut() {
            mark_optional_nullable(schema, &types);
            if bodies.contains(name)
                && schema.get("properties").is_some()
                && let Some(o) = schema.as_object_mut()
            {
                o.insert(
                    "additionalProperties".into(),
                    serde_json::Value::Bool(false),
                );
            }
        }
    }
    drop_null_example_fields(&mut spec);
    drop_unused_components(&mut spec);
    spec
}

/// Examples show what they set: a `null` field says nothing, and beside an enum reference it is
/// not even a valid value of the schema.
fn drop_null_example_fields(spec: &mut serde_json::Value) {
    let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(|s| s.as_object_mut())
    else {
        return;
    };
    for schema in schemas.values_mut() {
        if let Some(example) = schema.get_mut("example").and_then(|e| e.as_object_mut()) {
            example.retain(|_, v| !v.is_null());
        }
    }
}

/// Removes the schemas nothing refers to (such as union members `flatten_union_members` copied).
fn drop_unused_components(spec: &mut serde_json::Value) {
    fn refs(v: &serde_json::Value, out: &mut std::collections::HashSet<String>) {
        match v {
            serde_json::Value::Object(o) => {
                if let Some(r) = o.get("$ref").and_then(|r| r.as_str()) {
                    out.insert(r.to_string());
                }
                o.values().for_each(|v| refs(v, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut used = std::collections::HashSet::new();
    if let Some(o) = spec.as_object() {
        for (_, v) in o.iter().filter(|(k, _)| *k != "components") {
            refs(v, &mut used);
        }
    }
    let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(|s| s.as_object_mut())
    else {
        return;
    };
    // What the used schemas refer to is used too, to the end of the chain.
    let mut todo: Vec<String> = used.iter().cloned().collect();
    while let Some(r) = todo.pop() {
        let Some(schema) = r
            .strip_prefix("#/components/schemas/")
            .and_then(|n| schemas.get(n))
        else {
            continue;
        };
        let mut found = std::collections::HashSet::new();
        refs(schema, &mut found);
        for f in found {
            if used.insert(f.clone()) {
                todo.push(f);
            }
        }
    }
    schemas.retain(|name, _| used.contains(&format!("#/components/schemas/{name}")));
}

/// poem-openapi describes each member of a discriminated union as `allOf: [{type: enum}, $ref]`.
/// Merges the two into one object schema, so `additionalProperties: false` can apply to it.
fn flatten_union_members(spec: &mut serde_json::Value) {
    let Some(schemas) = spec
        .pointer("/components/schemas")
        .and_then(|s| s.as_object())
        .cloned()
    else {
        return;
    };
    let resolve = |v: &serde_json::Value| -> serde_json::Value {
        match v.get("$ref").and_then(|r| r.as_str()) {
            Some(r) => schemas
                .get(r.rsplit('/').next().unwrap_or(r))
                .cloned()
                .unwrap_or_default(),
            None => v.clone(),
        }
    };
    let mut flattened = Vec::new();
    for (name, schema) in &schemas {
        let Some(parts) = schema.get("allOf").and_then(|a| a.as_array()) else {
            continue;
        };
        let mut props = serde_json::Map::new();
        let mut required: Vec<serde_json::Value> = Vec::new();
        for part in parts.iter().map(&resolve) {
            if let Some(p) = part.get("properties").and_then(|p| p.as_object()) {
                props.extend(p.clone());
            }
            for r in part
                .get("required")
                .and_then(|r| r.as_array())
                .into_iter()
                .flatten()
            {
                if !required.contains(r) {
                    required.push(r.clone());
                }
            }
        }
        let mut merged =
            serde_json::json!({ "type": "object", "properties": props, "required": required });
        let described = parts
            .last()
            .map(&resolve)
            .and_then(|p| p.get("description").cloned());
        if let Some(d) = schema.get("description").cloned().or(described) {
            merged["description"] = d;
        }
        flattened.push((name.clone(), merged));
    }
    let Some(target) = spec
        .pointer_mut("/components/schemas")
        .and_then(|s| s.as_object_mut())
    else {
        return;
    };
    for (name, merged) in flattened {
        target.insert(name, merged);
    }
}

/// Request bodies described inline (multipart forms) refuse unknown fields too.
fn close_inline_bodies(spec: &mut serde_json::Value) {
    let Some(paths) = spec.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    for op in paths
        .values_mut()
        .filter_map(|o| o.as_object_mut())
        .flat_map(|o| o.values_mut())
    {
        let Some(content) = op
            .pointer_mut("/requestBody/content")
            .and_then(|c| c.as_object_mut())
        else {
            continue;
        };
        for media in content.values_mut() {
            if let Some(schema) = media.get_mut("schema").and_then(|s| s.as_object_mut())
                && schema.contains_key("properties")
            {
                schema.insert(
                    "additionalProperties".into(),
                    serde_json::Value::Bool(false),
                );
            }
        }
    }
}

/// Names of the component schemas a request body can contain: the bodies themselves and every
/// schema they reach through `$ref` (union members, nested objects, array items).
fn request_body_schemas(spec: &serde_json::Value) -> Vec<String> {
    fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x.as_str()) {
                        ("$ref", Some(r)) => {
                            out.push(r.rsplit('/').next().unwrap_or(r).to_string())
                        }
                        _ => refs(x, out),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut pending = Vec::new();
    let paths = spec.get("paths").and_then(|p| p.as_object());
    for op in paths
        .into_iter()
        .flat_map(|p| p.values())
        .filter_map(|o| o.as_object())
        .flat_map(|o| o.values())
    {
        if let Some(body) = op.get("requestBody") {
            refs(body, &mut pending);
        }
    }
    let mut names: Vec<String> = Vec::new();
    while let Some(name) = pending.pop() {
        if names.contains(&name) {
            continue;
        }
        if let Some(schema) = spec.pointer(&format!("/components/schemas/{name}")) {
            refs(schema, &mut pending);
        }
        names.push(name);
    }
    names
}

fn mark_optional_nullable(
    schema: &mut serde_json::Value,
    types: &std::collections::HashMap<String, serde_json::Value>,
) {
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
            // OpenAPI 3.0 ignores siblings of $ref: wrap it; `nullable` needs a `type` beside it.
            let r = prop.take();
            let ty = r
                .get("$ref")
                .and_then(|t| t.as_str())
                .and_then(|t| types.get(t))
                .cloned();
            *prop = serde_json::json!({ "allOf": [r], "nullable": true });
            if let (Some(ty), Some(o)) = (ty, prop.as_object_mut()) {
                o.insert("type".into(), ty);
            }
        } else if let Some(o) = prop.as_object_mut() {
            o.insert("nullable".into(), serde_json::Value::Bool(true));
            // A described reference comes as `allOf: [$ref, {description}]`: give it the type too.
            let ty = o
                .get("allOf")
                .and_then(|a| a.get(0))
                .and_then(|r| r.get("$ref"))
                .and_then(|t| t.as_str())
                .and_then(|t| types.get(t))
                .cloned();
            if let (Some(ty), false) = (ty, o.contains_key("type")) {
                o.insert("type".into(), ty);
            }
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
