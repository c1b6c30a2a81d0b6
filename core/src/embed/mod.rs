//! Embedders (placeholder: being written).
