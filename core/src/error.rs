//! The one error type of core services; the API maps it to HTTP once.

/// What can go wrong in a core service, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input; `field` names what to fix.
    #[error("{message}")]
    Validation { field: String, message: String },
    /// No such resource in this account (or it belongs to another one: never say which).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A conflicting resource exists (for example an account with that email).
    #[error("{0}")]
    Conflict(String),
    /// The month's conversations of the plan are used up.
    #[error("{0}")]
    PlanLimit(String),
    /// Anything else: a bug or an unavailable dependency. Logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// A validation error naming `field`.
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Error::Validation {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(e: sea_orm::DbErr) -> Self {
        Error::Internal(e.into())
    }
}

/// Result of a core service.
pub type Result<T> = std::result::Result<T, Error>;
