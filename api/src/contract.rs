//! What the OpenAPI document promises about each route, used at run time to answer `Allow`
//! on a 405 and to explain a rejected request in terms of the field that is wrong.

use std::sync::Arc;

use regex::Regex;
use serde_json::{Map, Value};

/// One operation: its path parameters and (resolved) request body schema.
struct Operation {
    method: String,
    /// Its `operationId`.
    id: String,
    path_params: Vec<String>,
    body: Option<Value>,
}

struct PathEntry {
    re: Regex,
    ops: Vec<Operation>,
}

/// The routes of the spec, matched by concrete request paths.
#[derive(Clone)]
pub struct Contract {
    paths: Arc<Vec<PathEntry>>,
    schemas: Arc<Map<String, Value>>,
}

impl Contract {
    /// Indexes `spec`, whose paths are relative to `prefix`.
    pub fn from_spec(spec: &Value, prefix: &str) -> Self {
        let schemas = spec
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let param = Regex::new(r"\\\{[^}]+\\\}").expect("static regex");
        let mut paths = Vec::new();
        for (path, ops) in spec
            .get("paths")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let pattern = param
                .replace_all(&regex::escape(&format!("{prefix}{path}")), "[^/]+")
                .into_owned();
            let Ok(re) = Regex::new(&format!("^{pattern}/?$")) else {
                continue;
            };
            let ops = ops
                .as_object()
                .into_iter()
                .flatten()
                .map(|(method, op)| Operation {
                    method: method.to_ascii_uppercase(),
                    id: op["operationId"].as_str().unwrap_or_default().to_string(),
                    path_params: op
                        .get("parameters")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter(|p| p["in"] == "path")
                        .filter_map(|p| p["name"].as_str().map(str::to_string))
                        .collect(),
                    body: op
                        .pointer("/requestBody/content")
                        .and_then(Value::as_object)
                        .and_then(|c| c.iter().find(|(ct, _)| ct.starts_with("application/json")))
                        .and_then(|(_, media)| media.get("schema").cloned()),
                })
                .collect();
            paths.push(PathEntry { re, ops });
        }
        Contract {
            paths: Arc::new(paths),
            schemas: Arc::new(schemas),
        }
    }

    /// The methods `path` accepts, if it is a known route.
    pub fn allowed(&self, path: &str) -> Option<String> {
        let entry = self.paths.iter().find(|e| e.re.is_match(path))?;
        let mut methods: Vec<&str> = entry.ops.iter().map(|o| o.method.as_str()).collect();
        if methods.contains(&"GET") {
            methods.push("HEAD");
        }
        Some(methods.join(", "))
    }

    fn operation(&self, method: &str, path: &str) -> Option<&Operation> {
        self.paths
            .iter()
            .find(|e| e.re.is_match(path))
            .and_then(|e| e.ops.iter().find(|o| o.method.eq_ignore_ascii_case(method)))
    }

    /// The `operationId` of `method path`, if it is a known operation.
    pub fn operation_id(&self, method: &str, path: &str) -> Option<&str> {
        self.operation(method, path).map(|o| o.id.as_str())
    }

    /// The real name of poem-openapi's positional path parameter `param{N}`.
    pub fn path_param_name(&self, method: &str, path: &str, positional: &str) -> Option<String> {
        let index: usize = positional.strip_prefix("param")?.parse().ok()?;
        self.operation(method, path)?
            .path_params
            .get(index)
            .cloned()
    }

    /// Why `raw` is not a valid body for `method path`, naming the field; `None` when the
    /// schema finds nothing wrong.
    pub fn explain_body(&self, method: &str, path: &str, raw: &[u8]) -> Option<String> {
        let schema = self.operation(method, path)?.body.as_ref()?;
        if raw.iter().all(u8::is_ascii_whitespace) {
            return Some("the request body is empty: send a JSON object".into());
        }
        let value: Value = match serde_json::from_slice(raw) {
            Ok(v) => v,
            Err(e) => return Some(format!("the request body is not valid JSON: {e}")),
        };
        self.check("", &value, schema, true)
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            return self
                .schemas
                .get(r.rsplit('/').next().unwrap_or(r))
                .map(|s| self.resolve(s))
                .unwrap_or(schema);
        }
        if let Some(first) = schema
            .get("allOf")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            return self.resolve(first);
        }
        schema
    }

    /// A discriminated union: the discriminator picks the member the value must match.
    fn check_union(&self, field: &str, value: &Value, discriminator: &Value) -> Option<String> {
        let Some(obj) = value.as_object() else {
            let name = if field.is_empty() {
                "the request body".to_string()
            } else {
                format!("`{field}`")
            };
            return Some(format!("{name} must be a JSON object"));
        };
        let prop = discriminator
            .get("propertyName")
            .and_then(Value::as_str)
            .unwrap_or("type");
        let mapping = discriminator.get("mapping").and_then(Value::as_object);
        let names: Vec<&str> = mapping
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let Some(tag) = obj.get(prop).and_then(Value::as_str) else {
            return Some(format!("`{prop}` is required: one of {}", names.join(", ")));
        };
        let Some(target) = mapping.and_then(|m| m.get(tag)).and_then(Value::as_str) else {
            return Some(format!("`{prop}` must be one of {}", names.join(", ")));
        };
        let member = serde_json::json!({ "$ref": target });
        self.check(field, value, &member, true)
    }

    fn check(&self, field: &str, value: &Value, schema: &Value, required: bool) -> Option<String> {
        let schema = self.resolve(schema);
        let name = if field.is_empty() {
            "the request body".to_string()
        } else {
            format!("`{field}`")
        };
        if value.is_null() {
            let nullable = !required
                || schema
                    .get("nullable")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
            return (!nullable).then(|| format!("{name} must not be null"));
        }
        if let Some(d) = schema.get("discriminator") {
            return self.check_union(field, value, d);
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            if !values.contains(value) {
                let list: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
                return Some(format!("{name} must be one of {}", list.join(", ")));
            }
            return None;
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("object") => {
                let Some(obj) = value.as_object() else {
                    return Some(format!("{name} must be a JSON object"));
                };
                let props = schema.get("properties").and_then(Value::as_object);
                let required: Vec<&str> = schema
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let child = |k: &str| {
                    if field.is_empty() {
                        k.to_string()
                    } else {
                        format!("{field}.{k}")
                    }
                };
                if let Some(props) = props {
                    if let Some(unknown) = obj.keys().find(|k| !props.contains_key(*k)) {
                        let known: Vec<&str> = props.keys().map(String::as_str).collect();
                        return Some(format!(
                            "unknown field `{}`: allowed fields are {}",
                            child(unknown),
                            known.join(", ")
                        ));
                    }
                    if let Some(missing) = required.iter().find(|r| !obj.contains_key(**r)) {
                        return Some(format!("`{}` is required", child(missing)));
                    }
                    for (k, v) in obj {
                        if let Some(msg) =
                            self.check(&child(k), v, &props[k], required.contains(&k.as_str()))
                        {
                            return Some(msg);
                        }
                    }
                }
                None
            }
            Some("array") => {
                let Some(items) = value.as_array() else {
                    return Some(format!("{name} must be an array"));
                };
                if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                    && items.len() as u64 > max
                {
                    return Some(format!("{name} holds at most {max} items"));
                }
                let item_schema = schema.get("items").cloned().unwrap_or(Value::Null);
                items
                    .iter()
                    .enumerate()
                    .find_map(|(i, v)| self.check(&format!("{field}[{i}]"), v, &item_schema, true))
            }
            Some("string") => {
                let Some(s) = value.as_str() else {
                    return Some(format!("{name} must be a string"));
                };
                string_problem(&name, s, schema)
            }
            Some("integer") => match value.as_i64() {
                None => Some(format!("{name} must be an integer")),
                Some(n) => number_problem(&name, n as f64, schema),
            },
            Some("number") => match value.as_f64() {
                None => Some(format!("{name} must be a number")),
                Some(n) => number_problem(&name, n, schema),
            },
            Some("boolean") => {
                (!value.is_boolean()).then(|| format!("{name} must be true or false"))
            }
            _ => None,
        }
    }
}

fn string_problem(name: &str, s: &str, schema: &Value) -> Option<String> {
    let chars = s.chars().count() as u64;
    let min = schema.get("minLength").and_then(Value::as_u64);
    let max = schema.get("maxLength").and_then(Value::as_u64);
    if min.is_some_and(|m| chars < m) || max.is_some_and(|m| chars > m) {
        return Some(match (min, max) {
            (Some(a), Some(b)) => format!("{name} must be {a} to {b} characters"),
            (Some(a), None) => format!("{name} must be at least {a} characters"),
            (None, Some(b)) => format!("{name} must be at most {b} characters"),
            (None, None) => unreachable!(),
        });
    }
    if s.contains('\0') {
        return Some(format!("{name} must not contain NUL characters"));
    }
    if let Some(p) = schema.get("pattern").and_then(Value::as_str)
        && Regex::new(p).is_ok_and(|re| !re.is_match(s))
    {
        return Some(match schema.get("description").and_then(Value::as_str) {
            Some(d) => format!(
                "{name} has the wrong format: expected {}",
                d.replace('\n', " ")
            ),
            None => format!("{name} has the wrong format: it must match {p}"),
        });
    }
    if schema.get("format").and_then(Value::as_str) == Some("uuid")
        && uuid::Uuid::parse_str(s).is_err()
    {
        return Some(format!("{name} must be a UUID"));
    }
    None
}

fn number_problem(name: &str, n: f64, schema: &Value) -> Option<String> {
    if n < 0.0
        && schema
            .get("format")
            .and_then(Value::as_str)
            .is_some_and(|f| f.starts_with("uint"))
    {
        return Some(format!("{name} must be 0 or more"));
    }
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
        && n < min
    {
        return Some(format!("{name} must be at least {min}"));
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
        && n > max
    {
        return Some(format!("{name} must be at most {max}"));
    }
    None
}

/// Rewrites poem-openapi's parameter parse reasons into plain words.
pub fn humanize_param_reason(reason: &str) -> String {
    let number = |key: &str| {
        reason
            .find(key)
            .map(|i| &reason[i + key.len()..])
            .and_then(|r| r.split([',', ')']).next())
            .map(str::trim)
    };
    if let Some(n) = number("minimum(") {
        return format!("must be at least {n}");
    }
    if let Some(n) = number("maximum(") {
        return format!("must be at most {n}");
    }
    if reason.contains("integer") || reason.contains("invalid digit") {
        return "must be an integer".into();
    }
    if reason.contains("uuid") {
        return "must be a UUID".into();
    }
    reason.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contract() -> Contract {
        let spec = json!({
            "paths": {"/things/{id}": {
                "get": {"parameters": [{"name": "id", "in": "path"}]},
                "patch": {"parameters": [{"name": "id", "in": "path"}],
                          "requestBody": {"content": {"application/json; charset=utf-8": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}
            }},
            "components": {"schemas": {
                "Kind": {"type": "string", "enum": ["a", "b"]},
                "Thing": {"type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 3},
                    "kind": {"$ref": "#/components/schemas/Kind"},
                    "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}},
                    "on": {"type": "boolean"}
                }}
            }}
        });
        Contract::from_spec(&spec, "/v1")
    }

    #[test]
    fn allow_lists_methods_of_the_route() {
        assert_eq!(
            contract().allowed("/v1/things/42").as_deref(),
            Some("GET, PATCH, HEAD")
        );
        assert_eq!(contract().allowed("/v1/other"), None);
    }

    #[test]
    fn body_explanations_name_the_field() {
        let c = contract();
        let ex = |b: &str| {
            c.explain_body("PATCH", "/v1/things/1", b.as_bytes())
                .unwrap_or_default()
        };
        assert!(ex("{").contains("not valid JSON"));
        assert!(ex("").contains("empty"));
        assert!(ex("[]").contains("JSON object"));
        assert!(ex("{}").contains("`name` is required"));
        assert!(ex(r#"{"name": 1}"#).contains("`name` must be a string"));
        assert!(ex(r#"{"name": "abcd"}"#).contains("`name` must be 1 to 3"));
        assert!(ex(r#"{"name": "a", "kind": "z"}"#).contains("`kind` must be one of a, b"));
        assert!(
            ex(r#"{"name": "a", "tags": ["ok", "NO"]}"#).contains("`tags[1]` has the wrong format")
        );
        assert!(ex(r#"{"name": "a", "on": "yes"}"#).contains("`on` must be true or false"));
        assert!(ex(r#"{"name": "a", "zzz": 1}"#).contains("unknown field `zzz`"));
        assert!(ex(r#"{"name": null}"#).contains("`name` must not be null"));
        assert_eq!(
            c.explain_body("PATCH", "/v1/things/1", br#"{"name": "a", "kind": null}"#),
            None
        );
    }

    #[test]
    fn positional_path_params_get_their_names() {
        assert_eq!(
            contract()
                .path_param_name("GET", "/v1/things/x", "param0")
                .as_deref(),
            Some("id")
        );
    }

    #[test]
    fn param_reasons_read_as_words() {
        assert_eq!(
            humanize_param_reason("verification failed. minimum(1, exclusive: false)"),
            "must be at least 1"
        );
        assert_eq!(
            humanize_param_reason(
                "failed to parse \"integer(int64)\": invalid digit found in string"
            ),
            "must be an integer"
        );
    }
}
