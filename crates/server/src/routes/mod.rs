//! The routes, one file each, and what they share: authorisation, bounded body reading,
//! cancellation when a client goes away, and the request metrics layer.

pub(crate) mod chat;
pub(crate) mod completions;
pub(crate) mod embeddings;
pub(crate) mod health;
pub(crate) mod models;
mod page;
mod respond;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use samtal_generation::CancelToken;

use crate::error::{Error, Result};
use crate::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/health", get(health::health))
        .route("/metrics", get(health::metrics))
        .route("/v1/models", get(models::list))
        .route("/v1/models/{id}", get(models::one))
        .route("/v1/chat/completions", post(chat::completions))
        .route("/v1/completions", post(completions::completions))
        .route("/v1/embeddings", post(embeddings::embeddings))
        .route("/openapi.json", get(crate::openapi::serve))
        .fallback(|req: Request| async move { Error::NotFound(req.uri().path().to_owned()) })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Counts each request by route and status, and adds CORS headers when configured.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let mut resp = next.run(req).await;
    state.metrics.record_request(&route, resp.status().as_u16());
    if let Some(origin) = &state.config.cors_origin {
        if let Ok(v) = HeaderValue::from_str(origin) {
            resp.headers_mut()
                .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
    }
    resp
}

/// Checks `Authorization: Bearer KEY` when the server has a key, comparing in constant time.
pub fn authorize(state: &AppState, headers: &HeaderMap) -> Result<()> {
    let Some(key) = &state.config.api_key else {
        return Ok(());
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let (a, b) = (given.as_bytes(), key.as_bytes());
    let same = a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
    if same {
        Ok(())
    } else {
        Err(Error::Unauthorized)
    }
}

/// The request body, within the size limit and the time limit (a slow sender is cut off).
pub async fn read_body(state: &AppState, req: Request) -> Result<axum::body::Bytes> {
    let limits = &state.config.limits;
    let read = axum::body::to_bytes(req.into_body(), limits.max_body_bytes);
    match tokio::time::timeout(limits.body_timeout, read).await {
        Err(_) => Err(Error::Timeout),
        Ok(Ok(b)) => Ok(b),
        Ok(Err(e)) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.to_string().contains("length limit"))
                || e.to_string().contains("length limit");
            if too_large {
                Err(Error::TooLarge {
                    limit: limits.max_body_bytes,
                })
            } else {
                Err(Error::bad(
                    format!("cannot read the request body: {e}"),
                    None,
                ))
            }
        }
    }
}

/// A request's grammar, compiled once here so that a schema the engine cannot use is a 400
/// naming `response_format` before the request is queued.
pub fn checked_grammar(
    loaded: &crate::Loaded,
    grammar: Option<samtal_generation::Grammar>,
) -> Result<Option<samtal_generation::Grammar>> {
    if let Some(g) = &grammar {
        let compiled = loaded.pipeline.grammars().and_then(|e| e.compile(g));
        if let Err(e) = compiled {
            return Err(Error::bad(
                format!("response_format: {e}"),
                Some("response_format"),
            ));
        }
    }
    Ok(grammar)
}

/// A request's tools, with the grammar of their calls compiled once here, so that an argument
/// schema the engine cannot use is a 400 naming `tools` before the request is queued.
pub fn checked_tools(
    loaded: &crate::Loaded,
    tools: Option<samtal_chat::Tools>,
) -> Result<Option<samtal_chat::Tools>> {
    if let Some(t) = &tools {
        let p = &loaded.pipeline;
        let format = samtal_chat::ToolFormat::detect(p.chat_template());
        let compiled = p
            .grammars()
            .map_err(samtal_chat::Error::from)
            .and_then(|g| format.constraint(t, g, &p.tokenizer));
        if let Err(e) = compiled {
            return Err(Error::bad(format!("tools: {e}"), Some("tools")));
        }
    }
    Ok(tools)
}

/// Cancels a generation when dropped: a handler whose client went away is dropped, and so is a
/// stream whose client stopped reading.
pub struct CancelOnDrop(pub CancelToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}
