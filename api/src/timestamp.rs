//! Timestamps as the reference writes them: RFC 3339, UTC, milliseconds, `Z` (`2026-02-15T12:00:00.000Z`).

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type,
};
use serde_json::Value;

/// A UTC instant, written `2026-02-15T12:00:00.000Z`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub DateTime<Utc>);

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Timestamp(t)
    }
}

impl Timestamp {
    /// The reference's textual form.
    pub fn format(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// RFC 3339 (`Z` or `±hh:mm`), and also the `±hhmm` offset some generated clients send
    /// (`2026-12-02T16:42:27.734013+0000`).
    fn parse(s: &str) -> ParseResult<Self> {
        DateTime::parse_from_rfc3339(s)
            .or_else(|e| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z").map_err(|_| e))
            .map(|t| Timestamp(t.with_timezone(&Utc)))
            .map_err(|_| {
                ParseError::custom("expected an RFC 3339 timestamp such as 2026-02-15T12:00:00Z")
            })
    }
}

impl Type for Timestamp {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string_date-time".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "date-time")))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ToJSON for Timestamp {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.format()))
    }
}

impl ParseFromJSON for Timestamp {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(s) => Self::parse(&s),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ParseFromParameter for Timestamp {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Self::parse(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn writes_the_reference_format() {
        let t = Timestamp(Utc.with_ymd_and_hms(2026, 2, 15, 12, 0, 0).unwrap());
        assert_eq!(
            t.to_json(),
            Some(Value::String("2026-02-15T12:00:00.000Z".into()))
        );
        assert_eq!(
            Timestamp::parse_from_parameter("2026-02-15T13:00:00+01:00").unwrap(),
            t
        );
        assert!(Timestamp::parse_from_parameter("yesterday").is_err());
    }

    #[test]
    fn reads_offsets_without_a_colon() {
        let t = Timestamp(Utc.with_ymd_and_hms(2026, 2, 15, 12, 0, 0).unwrap());
        for s in [
            "2026-02-15T12:00:00Z",
            "2026-02-15T12:00:00.000+00:00",
            "2026-02-15T12:00:00.000000+0000",
            "2026-02-15T13:00:00+0100",
            "2026-02-15T10:30:00-0130",
        ] {
            assert_eq!(Timestamp::parse_from_parameter(s).unwrap(), t, "{s}");
        }
        for s in ["2026-02-15T12:00:00", "2026-02-15T12:00:00+01"] {
            assert!(Timestamp::parse_from_parameter(s).is_err(), "{s}");
        }
    }
}
