//! The API's free-text types (checked by `otoq_core::text::check`, the one validator): `Text<MAX>` (no NUL, at most MAX characters) and
//! `NonBlankText<MAX>` (the same, and not blank), documented in the spec as strings with those
//! limits and checked once when a body is parsed.

use std::borrow::Cow;
use std::ops::Deref;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

/// Text with no NUL character.
const NO_NUL: &str = r"^[^\x00]*$";
/// Text with no NUL character and at least one that is not white space.
const NON_BLANK: &str = r"^[^\x00]*[^\x00\s][^\x00]*$";

/// A string of at most `MAX` characters with no NUL; with `BLANK = false` also not blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked<const MAX: usize, const BLANK: bool>(String);

/// Text of at most `MAX` characters, without NUL.
pub type Text<const MAX: usize> = Checked<MAX, true>;
/// Text of 1 to `MAX` characters, without NUL, not only white space.
pub type NonBlankText<const MAX: usize> = Checked<MAX, false>;

impl<const MAX: usize, const BLANK: bool> Checked<MAX, BLANK> {
    /// Checks `s`; the reason names no field (the caller's error does).
    pub fn new(s: impl Into<String>) -> Result<Self, String> {
        let s = s.into();
        otoq_core::text::check(&s, MAX, BLANK).map_err(|p| p.describe(MAX))?;
        Ok(Checked(s))
    }

    /// A text written in the code (an example); panics if it breaks the rule.
    pub fn literal(s: &'static str) -> Self {
        Self::new(s).expect("a valid literal")
    }

    /// The text.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<const MAX: usize, const BLANK: bool> Deref for Checked<MAX, BLANK> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize, const BLANK: bool> From<Checked<MAX, BLANK>> for String {
    fn from(t: Checked<MAX, BLANK>) -> String {
        t.0
    }
}

impl<const MAX: usize, const BLANK: bool> Type for Checked<MAX, BLANK> {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        "string".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            min_length: (!BLANK).then_some(1),
            max_length: Some(MAX),
            pattern: Some(if BLANK { NO_NUL } else { NON_BLANK }.into()),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl<const MAX: usize, const BLANK: bool> ParseFromJSON for Checked<MAX, BLANK> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(s) => Checked::new(s).map_err(ParseError::custom),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl<const MAX: usize, const BLANK: bool> ToJSON for Checked<MAX, BLANK> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_length_nul_and_blank() {
        assert!(NonBlankText::<3>::new("abc").is_ok());
        assert!(
            NonBlankText::<3>::new("abcd")
                .unwrap_err()
                .contains("at most 3")
        );
        assert!(NonBlankText::<3>::new("  ").unwrap_err().contains("blank"));
        assert!(Text::<3>::new("").is_ok());
        assert!(Text::<3>::new("a\0").unwrap_err().contains("NUL"));
    }
}
