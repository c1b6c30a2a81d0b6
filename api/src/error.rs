//! The API's one error type, `ApiError`, and its codes: every route (API, widget, Shopify)
//! answers its errors through it, so `{"error", "message"}` and the status are decided here once.

use poem::http::{HeaderValue, StatusCode, header};
use poem::{IntoResponse, Response};
use poem_openapi::error::{
    AuthorizationError, ContentTypeError, ParseMultipartError, ParseParamError, ParsePathError,
    ParseRequestPayloadError,
};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaResponses, Registry};
use poem_openapi::{ApiResponse, Enum, Object};

/// Every machine-readable error code otoq answers; each has one HTTP status.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: invalid body or parameters; the message names the field.
    ValidationError,
    /// 401: missing or invalid API key (or Shopify signature).
    Unauthorized,
    /// 401: missing, unknown or expired visitor token (widget).
    InvalidVisitor,
    /// 403: the plan does not allow it.
    Forbidden,
    /// 403: the widget was asked from an origin the agent does not allow.
    OriginNotAllowed,
    /// 403: the agent is switched off.
    AgentUnavailable,
    /// 404: no such resource in this account, or no such route.
    NotFound,
    /// 405: the route does not take that method.
    MethodNotAllowed,
    /// 409: conflicts with an existing resource.
    Conflict,
    /// 408: the request's headers did not arrive in time (answered by the connection layer).
    Timeout,
    /// 413: the body is over the limit.
    PayloadTooLarge,
    /// 429: too many requests; see `Retry-After`.
    RateLimited,
    /// 429: the month's conversations of the plan are used up.
    PlanLimitReached,
    /// 429: the agent's daily message cap is reached.
    DailyLimitReached,
    /// 500: a server error.
    InternalError,
    /// 502: Shopify answered with an error.
    ShopifyError,
    /// 503: a dependency (or the Shopify app) is not available.
    Unavailable,
    /// 503: the Shopify app is not configured on this deployment.
    NotConfigured,
    /// 503: the server has too many open connections (answered by the connection layer).
    ServerBusy,
}

impl ErrorCode {
    /// The HTTP status of this code.
    pub fn status(self) -> StatusCode {
        use ErrorCode::*;
        match self {
            ValidationError => StatusCode::BAD_REQUEST,
            Unauthorized | InvalidVisitor => StatusCode::UNAUTHORIZED,
            Forbidden | OriginNotAllowed | AgentUnavailable => StatusCode::FORBIDDEN,
            NotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Conflict => StatusCode::CONFLICT,
            Timeout => StatusCode::REQUEST_TIMEOUT,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            RateLimited | PlanLimitReached | DailyLimitReached => StatusCode::TOO_MANY_REQUESTS,
            InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            ShopifyError => StatusCode::BAD_GATEWAY,
            Unavailable | NotConfigured | ServerBusy => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The code as it appears in the `error` field (the snake_case name the spec shows).
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            ValidationError => "validation_error",
            Unauthorized => "unauthorized",
            InvalidVisitor => "invalid_visitor",
            Forbidden => "forbidden",
            OriginNotAllowed => "origin_not_allowed",
            AgentUnavailable => "agent_unavailable",
            NotFound => "not_found",
            MethodNotAllowed => "method_not_allowed",
            Conflict => "conflict",
            Timeout => "timeout",
            PayloadTooLarge => "payload_too_large",
            RateLimited => "rate_limited",
            PlanLimitReached => "plan_limit_reached",
            DailyLimitReached => "daily_limit_reached",
            InternalError => "internal_error",
            ShopifyError => "shopify_error",
            Unavailable => "unavailable",
            NotConfigured => "not_configured",
            ServerBusy => "server_busy",
        }
    }
}

/// The body of every error response.
#[derive(Object, Debug, Clone)]
#[oai(example)]
pub struct ErrorBody {
    /// Machine-readable code.
    pub error: ErrorCode,
    /// What went wrong, for a person; names the offending field when there is one.
    pub message: String,
}

impl poem_openapi::types::Example for ErrorBody {
    fn example() -> Self {
        ErrorBody {
            error: ErrorCode::NotFound,
            message: "agent not found".into(),
        }
    }
}

/// An error of any route: a code, a message for a person and, for 429, when to retry.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub retry_after: Option<u64>,
}

/// What operations document for their errors (the statuses `ApiError` answers on `/api/v1`).
#[derive(ApiResponse)]
#[allow(dead_code)] // never built: it only lends its description to `ApiError`'s spec.
enum Documented {
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

impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        Documented::meta()
    }

    fn register(registry: &mut Registry) {
        Documented::register(registry)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.code.as_str(), "message": self.message });
        let mut resp = Response::builder()
            .status(self.code.status())
            .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
            .body(body.to_string());
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

impl From<ApiError> for poem::Error {
    fn from(e: ApiError) -> poem::Error {
        let message = e.message.clone();
        let mut err = poem::Error::from_response(e.into_response());
        err.set_error_message(message);
        err
    }
}

impl ApiError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400 `validation_error`.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationError, message)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    /// 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// 429 `rate_limited`.
    pub fn rate_limited(retry_after: u64) -> Self {
        Self::new(
            ErrorCode::RateLimited,
            "Too many requests. Please slow down.",
        )
        .retry_after(retry_after)
    }

    /// 500 `internal_error`; the cause is logged, never shown.
    pub fn internal() -> Self {
        Self::new(
            ErrorCode::InternalError,
            "Something went wrong on our side. Retry, or contact support with the X-Request-Id.",
        )
    }

    /// The same error, telling the client to retry after `secs` seconds.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }
}

/// `message`, prefixed with `` `field`: `` unless it already names the field.
fn naming(field: &str, message: String) -> String {
    if field.is_empty() || message.contains(field) {
        message
    } else {
        format!("`{field}`: {message}")
    }
}

impl From<otoq_core::Error> for ApiError {
    fn from(e: otoq_core::Error) -> Self {
        match e {
            otoq_core::Error::Validation { field, message } => {
                ApiError::validation(naming(&field, message))
            }
            otoq_core::Error::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            otoq_core::Error::Conflict(m) => ApiError::new(ErrorCode::Conflict, m),
            otoq_core::Error::PlanLimit(m) => ApiError::new(ErrorCode::PlanLimitReached, m),
            otoq_core::Error::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "internal error");
                ApiError::internal()
            }
        }
    }
}

/// Turns any error poem or poem-openapi raised into the documented JSON error.
pub fn to_response(err: poem::Error) -> Response {
    // An ApiError returned by an operation arrives here already rendered.
    if err.is_from_response() {
        return err.into_response();
    }
    from_poem(err).into_response()
}

/// The `ApiError` of an error poem or poem-openapi raised.
fn from_poem(err: poem::Error) -> ApiError {
    use ErrorCode::*;
    let invalid = ApiError::validation;
    if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
        return invalid(payload_message(&e.reason));
    }
    if let Some(e) = err.downcast_ref::<ParseParamError>() {
        return invalid(format!("invalid parameter `{}`: {}", e.name, e.reason));
    }
    if let Some(e) = err.downcast_ref::<ParsePathError>() {
        return invalid(format!("invalid path `{}`: {}", e.name, e.reason));
    }
    if let Some(e) = err.downcast_ref::<ParseMultipartError>() {
        return invalid(format!("invalid multipart body: {}", e.reason));
    }
    if let Some(e) = err.downcast_ref::<ContentTypeError>() {
        return invalid(match e {
            ContentTypeError::NotSupported { content_type } => {
                format!(
                    "Content-Type {content_type:?} is not supported here: send application/json"
                )
            }
            ContentTypeError::ExpectContentType => {
                "the request has a body but no Content-Type: send application/json".into()
            }
        });
    }
    if err.is::<AuthorizationError>() {
        return ApiError::unauthorized("missing or invalid API key");
    }
    let status = err.status();
    match status {
        StatusCode::NOT_FOUND => ApiError::new(NotFound, "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::new(MethodNotAllowed, "this route does not accept that method")
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(PayloadTooLarge, "the request body is over the size limit")
        }
        StatusCode::UNAUTHORIZED => ApiError::unauthorized("missing or invalid API key"),
        s if s.is_client_error() => {
            ApiError::validation(format!("invalid request: {}", first_line(&err.to_string())))
        }
        _ => {
            tracing::error!(error = %err, "unhandled error");
            ApiError::internal()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_renders_its_status_and_name() {
        let e = ApiError::new(ErrorCode::PlanLimitReached, "used up").retry_after(3);
        let resp = e.into_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "3");
        // The name in bodies is the name the spec shows.
        use poem_openapi::types::ToJSON;
        for code in [
            ErrorCode::OriginNotAllowed,
            ErrorCode::PlanLimitReached,
            ErrorCode::ShopifyError,
        ] {
            assert_eq!(code.to_json(), Some(serde_json::json!(code.as_str())));
        }
    }

    #[test]
    fn validation_names_its_field() {
        let e: ApiError = otoq_core::Error::validation("name", "must not be blank").into();
        assert_eq!(e.message, "`name`: must not be blank");
        let e: ApiError = otoq_core::Error::validation("name", "`name` is too long").into();
        assert_eq!(e.message, "`name` is too long");
    }
}
