//! Errors in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`, mapped to statuses
//! in one exhaustive match. Internal failures are logged to stderr and answered with a generic
//! message: nothing about files, paths or internals reaches a client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

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
    /// Well-formed JSON with a semantic problem the server cannot honour (422).
    #[error("{message}")]
    Unprocessable {
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

    fn parts(&self) -> (StatusCode, &'static str, Option<&'static str>) {
        match self {
            Error::BadRequest { .. } => (StatusCode::BAD_REQUEST, "invalid_request_error", None),
            Error::Unprocessable { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request_error",
                None,
            ),
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
            Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "server_error", None),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    /// The error object, as a JSON value (also sent inside a stream).
    pub fn body(&self) -> serde_json::Value {
        let (_, kind, code) = self.parts();
        let message = match self {
            Error::Internal(why) => {
                eprintln!("samtal serve: internal error: {why}");
                "the server failed to handle the request".to_owned()
            }
            other => other.to_string(),
        };
        let param = match self {
            Error::BadRequest { param, .. } | Error::Unprocessable { param, .. } => param.clone(),
            _ => None,
        };
        json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
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
