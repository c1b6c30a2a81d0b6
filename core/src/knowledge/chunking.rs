//! Token-bounded chunking (placeholder: being written).
