//! `GET /health` (200 once the model is loaded, 503 before) and `GET /metrics`.

use crate::error::Result;
use crate::wire::{ErrorBody, Health};
use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Whether the model is loaded and the server takes requests.
#[utoipa::path(
    get,
    path = "/health",
    security(()),
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The model is still loading", body = ErrorBody)
    )
)]
pub async fn health(State(state): State<AppState>) -> Result<Response> {
    state.ready()?;
    Ok(axum::Json(Health {
        status: "ok".into(),
    })
    .into_response())
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let queued = state.loaded.get().map_or(0, |l| l.pool.queued());
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(queued),
    )
        .into_response()
}
