//! Response envelopes and pagination shared by every resource.

use poem_openapi::types::{ParseFromJSON, ToJSON};
use poem_openapi::{Object, payload::Json};

use crate::error::ApiError;

/// Default and maximum page sizes.
pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 100;

/// `{"data": {...}}`
#[derive(Object)]
pub struct Data<T: ParseFromJSON + ToJSON> {
    pub data: T,
}

/// Pagination of a list.
#[derive(Object)]
pub struct Meta {
    /// Items matching the query, over every page.
    pub total: u64,
    /// Page size used.
    pub limit: u64,
    /// Items skipped.
    pub offset: u64,
}

/// `{"data": [...], "meta": {...}}`
#[derive(Object)]
pub struct List<T: ParseFromJSON + ToJSON> {
    pub data: Vec<T>,
    pub meta: Meta,
}

/// `{"success": true}`
#[derive(Object)]
pub struct Success {
    pub success: bool,
}

/// Wraps one object.
pub fn data<T: ParseFromJSON + ToJSON>(data: T) -> Json<Data<T>> {
    Json(Data { data })
}

/// Wraps a page of objects.
pub fn list<T: ParseFromJSON + ToJSON>(data: Vec<T>, total: u64, page: Page) -> Json<List<T>> {
    Json(List {
        data,
        meta: Meta {
            total,
            limit: page.limit,
            offset: page.offset,
        },
    })
}

/// The success body of a delete.
pub fn success() -> Json<Success> {
    Json(Success { success: true })
}

/// Validated `limit` and `offset`.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub limit: u64,
    pub offset: u64,
}

impl Page {
    /// Checks the query parameters: `limit` 1–100 (default 50), `offset` ≥ 0 (default 0).
    pub fn new(limit: Option<i64>, offset: Option<i64>) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT as i64);
        if !(1..=MAX_LIMIT as i64).contains(&limit) {
            return Err(ApiError::validation(format!(
                "`limit` must be between 1 and {MAX_LIMIT}"
            )));
        }
        let offset = offset.unwrap_or(0);
        if offset < 0 {
            return Err(ApiError::validation("`offset` must be 0 or more"));
        }
        Ok(Page {
            limit: limit as u64,
            offset: offset as u64,
        })
    }
}
