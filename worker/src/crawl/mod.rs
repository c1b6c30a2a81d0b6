//! Website crawling (placeholder: being written).
