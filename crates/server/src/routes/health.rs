//! `GET /health` (200 once the model is loaded, 503 before) and `GET /metrics`.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::json;
use crate::error::Result;
use crate::AppState;

pub async fn health(State(state): State<AppState>) -> Result<Response> {
    state.ready()?;
    Ok(json(json!({"status": "ok"})))
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let queued = state.loaded.get().map_or(0, |l| l.pool.queued());
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(queued),
    )
        .into_response()
}
