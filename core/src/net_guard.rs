//! Outbound request guard (placeholder: being written).
