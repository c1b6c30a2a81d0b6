//! Reading the small JSON bodies of the widget's public routes, naming the field at fault.

use serde_json::{Map, Value};
use uuid::Uuid;

/// Largest body a public route reads.
pub const MAX_BODY: usize = 16 * 1024;

/// A JSON object body whose fields are read one by one; unknown fields are refused.
pub struct Body {
    map: Map<String, Value>,
}

impl Body {
    /// Parses `raw` as a JSON object whose keys are all in `known`.
    pub fn parse(raw: &[u8], known: &[&str]) -> Result<Body, String> {
        let value: Value = if raw.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Map::new())
        } else {
            serde_json::from_slice(raw)
                .map_err(|e| format!("the request body is not valid JSON: {e}"))?
        };
        let Value::Object(map) = value else {
            return Err("the request body must be a JSON object".into());
        };
        if let Some(k) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(format!(
                "unknown field `{k}`: expected {}",
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(Body { map })
    }

    /// Whether `field` was sent and is not `null`.
    pub fn has(&self, field: &str) -> bool {
        self.map.get(field).is_some_and(|v| !v.is_null())
    }

    /// An optional text of at most `max` characters, trimmed; empty counts as absent.
    pub fn text(&self, field: &str, max: usize) -> Result<Option<String>, String> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => {
                otoq_core::text::check(s, max, true)
                    .map_err(|p| format!("`{field}` {}", p.describe(max)))?;
                let t = s.trim();
                Ok((!t.is_empty()).then(|| t.to_string()))
            }
            Some(_) => Err(format!("`{field}` must be a string")),
        }
    }

    /// A required text (1 to `max` characters, not blank).
    pub fn required_text(&self, field: &str, max: usize) -> Result<String, String> {
        self.text(field, max)?
            .ok_or_else(|| format!("`{field}` is required and must not be empty"))
    }

    /// An optional UUID.
    pub fn uuid(&self, field: &str) -> Result<Option<Uuid>, String> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Uuid::parse_str(s)
                .map(Some)
                .map_err(|_| format!("`{field}` must be a UUID")),
            Some(_) => Err(format!("`{field}` must be a UUID string")),
        }
    }

    /// An optional boolean.
    pub fn bool(&self, field: &str) -> Result<Option<bool>, String> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(format!("`{field}` must be true or false")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_field() {
        let b = Body::parse(
            br#"{"message": 3, "conversation_id": "x"}"#,
            &["message", "conversation_id"],
        )
        .unwrap();
        assert!(b.text("message", 10).unwrap_err().contains("`message`"));
        assert!(
            b.uuid("conversation_id")
                .unwrap_err()
                .contains("`conversation_id`")
        );
        let e = Body::parse(br#"{"api_key": "x"}"#, &["message"])
            .err()
            .unwrap();
        assert!(e.contains("`api_key`"));
        assert!(Body::parse(b"[1]", &[]).is_err());
        let b = Body::parse(b"", &["message"]).unwrap();
        assert!(
            b.required_text("message", 10)
                .unwrap_err()
                .contains("required")
        );
    }
}
