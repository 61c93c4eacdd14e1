//! Errors in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`, mapped to statuses
//! in one exhaustive match. Internal failures are logged to stderr and answered with a generic
//! message: nothing about files, paths or internals reaches a client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use samtal_chat::Fault;

use crate::wire::{ErrorBody, ErrorObject};

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request is malformed or a field is out of range (400).
    #[error("{message}")]
    BadRequest {
        message: String,
        param: Option<String>,
    },
    #[error("missing or invalid API key")]
    Unauthorized,
    #[error("no route {0}")]
    NotFound(String),
    #[error("model {0:?} does not exist")]
    UnknownModel(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("request body larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the request body did not arrive in time")]
    Timeout,
    #[error("the server is busy: {queued} requests are waiting; retry later")]
    Busy { queued: usize },
    #[error("the server is shutting down or the model is not loaded")]
    Unavailable,
    /// A chat session failed: the request's doing (400) or the system's (500, logged), as
    /// the session's error says.
    #[error(transparent)]
    Chat(#[from] samtal_chat::Error),
    /// Generation failed, likewise.
    #[error(transparent)]
    Generation(#[from] samtal_generation::Error),
    /// Anything else: logged, and answered with a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn bad(message: impl Into<String>, param: Option<&str>) -> Self {
        Self::BadRequest {
            message: message.into(),
            param: param.map(str::to_owned),
        }
    }

    /// Whether the error is the server's doing: logged, and answered with a generic message.
    fn fault(&self) -> Fault {
        match self {
            Error::Chat(e) => e.fault(),
            Error::Generation(e) => e.fault(),
            Error::Internal(_) => Fault::Internal,
            Error::BadRequest { .. }
            | Error::Unauthorized
            | Error::NotFound(_)
            | Error::UnknownModel(_)
            | Error::MethodNotAllowed
            | Error::TooLarge { .. }
            | Error::Timeout
            | Error::Busy { .. }
            | Error::Unavailable => Fault::Request,
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, Option<&'static str>) {
        let bad = (StatusCode::BAD_REQUEST, "invalid_request_error", None);
        let internal = (StatusCode::INTERNAL_SERVER_ERROR, "server_error", None);
        match self {
            Error::BadRequest { .. } => bad,
            Error::Chat(_) | Error::Generation(_) => match self.fault() {
                Fault::Request => bad,
                Fault::Internal => internal,
                Fault::Conflict => (
                    StatusCode::CONFLICT,
                    "invalid_request_error",
                    Some("conversation_conflict"),
                ),
                Fault::Unavailable => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "server_error",
                    Some("store_unavailable"),
                ),
            },
            Error::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "invalid_request_error",
                Some("invalid_api_key"),
            ),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "invalid_request_error", None),
            Error::UnknownModel(_) => (
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                Some("model_not_found"),
            ),
            Error::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "invalid_request_error",
                None,
            ),
            Error::TooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "invalid_request_error", None)
            }
            Error::Timeout => (StatusCode::REQUEST_TIMEOUT, "invalid_request_error", None),
            Error::Busy { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                Some("rate_limit_exceeded"),
            ),
            Error::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "server_error", None),
            Error::Internal(_) => internal,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    /// The request field the error is about, by its name on the API.
    fn param(&self) -> Option<String> {
        let on_the_api = |name: &str| {
            samtal_generation::settings::find(name)
                .map_or(name, |s| s.http)
                .to_owned()
        };
        match self {
            Error::BadRequest { param, .. } => param.clone(),
            Error::Chat(e) => e.param().map(on_the_api),
            Error::Generation(e) => e.setting().map(on_the_api),
            _ => None,
        }
    }

    /// The error body (also sent inside a stream). An internal error is logged here, with its
    /// sources, and answered with a generic message.
    pub fn body(&self) -> ErrorBody {
        let (_, kind, code) = self.parts();
        let message = match self.fault() {
            Fault::Internal => {
                let mut why = self.to_string();
                let mut source = std::error::Error::source(self);
                while let Some(s) = source {
                    why = format!("{why}: {s}");
                    source = s.source();
                }
                eprintln!("samtal serve: internal error: {why}");
                "the server failed to handle the request".to_owned()
            }
            // Not a bug: the message says what to do (retry, or wait for the store).
            Fault::Request | Fault::Conflict | Fault::Unavailable => self.to_string(),
        };
        ErrorBody {
            error: ErrorObject {
                message,
                kind: kind.to_owned(),
                param: self.param(),
                code: code.map(str::to_owned),
            },
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut resp = (status, axum::Json(self.body())).into_response();
        if let Error::Busy { .. } = self {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let Error::Unauthorized = self {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;
