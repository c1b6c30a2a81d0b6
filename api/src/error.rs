//! The API's one error type, mapped once to `{"error", "message"}` responses.

use poem::http::{StatusCode, header};
use poem::{IntoResponse, Response};
use poem_openapi::error::{
    AuthorizationError, ContentTypeError, ParseMultipartError, ParseParamError, ParsePathError,
    ParseRequestPayloadError,
};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

/// The body of every error response.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct ErrorBody {
    /// Machine-readable code: validation_error, unauthorized, forbidden, not_found,
    /// method_not_allowed, payload_too_large, rate_limited, plan_limit_reached, conflict, internal_error.
    pub error: String,
    /// What went wrong, for a person; names the offending field when there is one.
    pub message: String,
}

impl poem_openapi::types::Example for ErrorBody {
    fn example() -> Self {
        ErrorBody {
            error: "not_found".into(),
            message: "agent not found".into(),
        }
    }
}

/// Every error an operation can answer, as documented in the spec.
#[derive(ApiResponse, Debug)]
pub enum ApiError {
    /// Invalid request body or parameters; the message names the field.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Missing, malformed, unknown, revoked or expired API key.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The plan does not include API access (Pro and Enterprise do).
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such resource in this account.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The resource conflicts with an existing one.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The request body is over the configured limit.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// Too many requests; retry after `Retry-After` seconds.
    #[oai(status = 429)]
    RateLimited(Json<ErrorBody>, #[oai(header = "Retry-After")] Option<u64>),
    /// A server error; retry or contact support with the `X-Request-Id`.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
}

fn body(code: &str, message: impl Into<String>) -> Json<ErrorBody> {
    Json(ErrorBody {
        error: code.into(),
        message: message.into(),
    })
}

impl ApiError {
    /// 400 `validation_error`.
    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::BadRequest(body("validation_error", message))
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::Unauthorized(body("unauthorized", message))
    }

    /// 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::Forbidden(body("forbidden", message))
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::NotFound(body("not_found", message))
    }

    /// 429 `rate_limited`.
    pub fn rate_limited(retry_after: u64) -> Self {
        ApiError::RateLimited(
            body("rate_limited", "Too many requests. Please slow down."),
            Some(retry_after),
        )
    }

    /// 500 `internal_error`; the cause is logged, never shown.
    pub fn internal() -> Self {
        ApiError::Internal(body(
            "internal_error",
            "Something went wrong on our side. Retry, or contact support with the X-Request-Id.",
        ))
    }
}

impl From<otoq_core::Error> for ApiError {
    fn from(e: otoq_core::Error) -> Self {
        match e {
            otoq_core::Error::Validation { message, .. } => ApiError::validation(message),
            otoq_core::Error::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            otoq_core::Error::Conflict(m) => ApiError::Conflict(body("conflict", m)),
            otoq_core::Error::PlanLimit(m) => {
                ApiError::RateLimited(body("plan_limit_reached", m), None)
            }
            otoq_core::Error::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "internal error");
                ApiError::internal()
            }
        }
    }
}

/// A JSON error response with `status`, for errors raised outside operations.
pub fn json_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "error": code, "message": message.into() });
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(body.to_string())
}

/// Turns any error poem or poem-openapi raised into the documented JSON error.
pub fn to_response(err: poem::Error) -> Response {
    // An ApiError returned by an operation arrives here already rendered.
    if err.is_from_response() {
        return err.into_response();
    }
    if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
        return json_error(
            StatusCode::BAD_REQUEST,
            "validation_error",
            payload_message(&e.reason),
        );
    }
    if let Some(e) = err.downcast_ref::<ParseParamError>() {
        return json_error(
            StatusCode::BAD_REQUEST,
            "validation_error",
            format!("invalid parameter `{}`: {}", e.name, e.reason),
        );
    }
    if let Some(e) = err.downcast_ref::<ParsePathError>() {
        return json_error(
            StatusCode::BAD_REQUEST,
            "validation_error",
            format!("invalid path `{}`: {}", e.name, e.reason),
        );
    }
    if let Some(e) = err.downcast_ref::<ParseMultipartError>() {
        return json_error(
            StatusCode::BAD_REQUEST,
            "validation_error",
            format!("invalid multipart body: {}", e.reason),
        );
    }
    if let Some(e) = err.downcast_ref::<ContentTypeError>() {
        let message = match e {
            ContentTypeError::NotSupported { content_type } => {
                format!(
                    "Content-Type {content_type:?} is not supported here: send application/json"
                )
            }
            ContentTypeError::ExpectContentType => {
                "the request has a body but no Content-Type: send application/json".into()
            }
        };
        return json_error(StatusCode::BAD_REQUEST, "validation_error", message);
    }
    if err.is::<AuthorizationError>() {
        return json_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or invalid API key",
        );
    }
    let status = err.status();
    match status {
        StatusCode::NOT_FOUND => json_error(status, "not_found", "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => json_error(
            status,
            "method_not_allowed",
            "this route does not accept that method",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => json_error(
            status,
            "payload_too_large",
            "the request body is over the size limit",
        ),
        StatusCode::UNAUTHORIZED => {
            json_error(status, "unauthorized", "missing or invalid API key")
        }
        s if s.is_client_error() => json_error(
            StatusCode::BAD_REQUEST,
            "validation_error",
            format!("invalid request: {}", first_line(&err.to_string())),
        ),
        _ => {
            tracing::error!(error = %err, "unhandled error");
            ApiError::internal().into_response()
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// Rewrites poem-openapi's payload parse reasons into a sentence naming the field.
fn payload_message(reason: &str) -> String {
    // Reasons look like: `failed to parse "NewAgentRequest": unknown field `foo`.` or
    // `failed parse "string": ... (occurred while parsing "NewAgentRequest") ... field `name``.
    let reason = reason.trim();
    if reason.is_empty() {
        return "the request body is not valid JSON".into();
    }
    let cleaned = reason
        .replace("failed to parse \"", "")
        .replace("failed to parse ", "")
        .replace("\": ", ": ");
    format!("invalid request body: {cleaned}")
}

impl IntoResponse for ErrorBody {
    fn into_response(self) -> Response {
        json_error(StatusCode::BAD_REQUEST, &self.error, self.message)
    }
}
