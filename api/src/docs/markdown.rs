//! Renders the OpenAPI document as a Markdown reference, so the two never drift apart.

use serde_json::Value;
use std::fmt::Write;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn ref_name(r: &str) -> &str {
    r.rsplit('/').next().unwrap_or(r)
}

/// A short type label for a schema: `string (uuid)`, `array of Agent`, `Agent`, ...
fn type_label(s: &Value) -> String {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        return format!("`{}`", ref_name(r));
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array)
        && let Some(first) = all.first()
    {
        return type_label(first);
    }
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        let v: Vec<String> = values
            .iter()
            .filter_map(Value::as_str)
            .map(|v| format!("`{v}`"))
            .collect();
        return format!("one of {}", v.join(", "));
    }
    let ty = s.get("type").and_then(Value::as_str).unwrap_or("any");
    match ty {
        "array" => format!(
            "array of {}",
            s.get("items")
                .map(type_label)
                .unwrap_or_else(|| "any".into())
        ),
        _ => match s.get("format").and_then(Value::as_str) {
            Some(f) => format!("{ty} ({f})"),
            None => ty.to_string(),
        },
    }
}

fn constraints(s: &Value) -> String {
    let mut out = Vec::new();
    for (k, label) in [
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minimum", "min"),
        ("maximum", "max"),
        ("maxItems", "max items"),
    ] {
        if let Some(v) = s.get(k) {
            out.push(format!("{label} {v}"));
        }
    }
    if let Some(p) = s.get("pattern").and_then(Value::as_str) {
        out.push(format!("pattern `{p}`"));
    }
    out.join(", ")
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn schema_table(out: &mut String, schema: &Value) {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    out.push_str("| field | type | required | description |\n|---|---|---|---|\n");
    for (name, p) in props {
        let mut desc = p
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let c = constraints(p);
        if !c.is_empty() {
            desc = if desc.is_empty() {
                c
            } else {
                format!("{desc} ({c})")
            };
        }
        let _ = writeln!(
            out,
            "| `{name}` | {} | {} | {} |",
            cell(&type_label(p)),
            if required.contains(&name.as_str()) {
                "yes"
            } else {
                "no"
            },
            cell(&desc)
        );
    }
    out.push('\n');
}

fn operation(out: &mut String, method: &str, path: &str, op: &Value) {
    let summary = op.get("summary").and_then(Value::as_str).unwrap_or("");
    let _ = writeln!(out, "### {} `{path}`\n", method.to_ascii_uppercase());
    if !summary.is_empty() {
        let _ = writeln!(out, "**{summary}**\n");
    }
    if let Some(d) = op.get("description").and_then(Value::as_str) {
        let _ = writeln!(out, "{d}\n");
    }
    if op.get("security").is_some() {
        out.push_str("Requires `Authorization: Bearer otoq_...`.\n\n");
    }
    if let Some(params) = op.get("parameters").and_then(Value::as_array)
        && !params.is_empty()
    {
        out.push_str(
            "Parameters:\n\n| name | in | type | required | description |\n|---|---|---|---|---|\n",
        );
        for p in params {
            let schema = p.get("schema").cloned().unwrap_or(Value::Null);
            let mut desc = p
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let c = constraints(&schema);
            if !c.is_empty() {
                desc = if desc.is_empty() {
                    c
                } else {
                    format!("{desc} ({c})")
                };
            }
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                p.get("name").and_then(Value::as_str).unwrap_or(""),
                p.get("in").and_then(Value::as_str).unwrap_or(""),
                cell(&type_label(&schema)),
                if p.get("required").and_then(Value::as_bool).unwrap_or(false) {
                    "yes"
                } else {
                    "no"
                },
                cell(&desc)
            );
        }
        out.push('\n');
    }
    if let Some(body) = op.pointer("/requestBody/content")
        && let Some((ct, media)) = body.as_object().and_then(|o| o.iter().next())
    {
        let _ = writeln!(
            out,
            "Request body (`{ct}`): {}\n",
            type_label(media.get("schema").unwrap_or(&Value::Null))
        );
    }
    if let Some(responses) = op.get("responses").and_then(Value::as_object) {
        out.push_str("Responses:\n\n| status | description | body |\n|---|---|---|\n");
        for (status, r) in responses {
            let body = r
                .pointer("/content")
                .and_then(Value::as_object)
                .and_then(|c| c.values().next())
                .and_then(|m| m.get("schema"))
                .map(type_label)
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| {status} | {} | {body} |",
                cell(r.get("description").and_then(Value::as_str).unwrap_or(""))
            );
        }
        out.push('\n');
    }
}

/// Renders `spec` (an OpenAPI 3 document) as Markdown: every operation, then every schema.
pub fn to_markdown(spec: &Value) -> String {
    let mut out = String::new();
    let title = spec
        .pointer("/info/title")
        .and_then(Value::as_str)
        .unwrap_or("API");
    let version = spec
        .pointer("/info/version")
        .and_then(Value::as_str)
        .unwrap_or("");
    let _ = writeln!(out, "# {title} {version}\n");
    if let Some(d) = spec.pointer("/info/description").and_then(Value::as_str) {
        let _ = writeln!(out, "{d}\n");
    }
    if let Some(url) = spec.pointer("/servers/0/url").and_then(Value::as_str) {
        let _ = writeln!(out, "Base URL: `{url}`\n");
    }
    let paths = spec.get("paths").and_then(Value::as_object);
    let tags: Vec<(String, String)> = spec
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .map(|t| {
                    (
                        t.get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                        t.get("description")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    for (tag, desc) in &tags {
        let _ = writeln!(out, "## {tag}\n");
        if !desc.is_empty() {
            let _ = writeln!(out, "{desc}\n");
        }
        for (path, ops) in paths.into_iter().flatten() {
            for m in METHODS {
                if let Some(op) = ops.get(m)
                    && op
                        .get("tags")
                        .and_then(Value::as_array)
                        .is_some_and(|t| t.iter().any(|x| x == tag.as_str()))
                {
                    operation(&mut out, m, path, op);
                }
            }
        }
    }
    if let Some(schemas) = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        out.push_str("## Schemas\n\n");
        for (name, schema) in schemas {
            let _ = writeln!(out, "### `{name}`\n");
            if let Some(d) = schema.get("description").and_then(Value::as_str) {
                let _ = writeln!(out, "{d}\n");
            }
            if let Some(values) = schema.get("enum").and_then(Value::as_array) {
                let v: Vec<String> = values
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|v| format!("`{v}`"))
                    .collect();
                let _ = writeln!(out, "One of {}.\n", v.join(", "));
            }
            schema_table(&mut out, schema);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_operations_parameters_and_schemas() {
        let spec = json!({
            "info": {"title": "T", "version": "1"},
            "tags": [{"name": "Things"}],
            "paths": {"/things/{id}": {"get": {
                "tags": ["Things"], "summary": "Get a thing",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}
            }}},
            "components": {"schemas": {"Thing": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}}}
        });
        let md = to_markdown(&spec);
        assert!(md.contains("### GET `/things/{id}`"));
        assert!(md.contains("| `id` | path | string (uuid) | yes |"));
        assert!(md.contains("| 200 | ok | `Thing` |"));
        assert!(md.contains("### `Thing`"));
        assert!(md.contains("| `id` | string | yes |"));
    }
}
