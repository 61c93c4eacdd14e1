//! `GET /health` (200 once the model is loaded, 503 before) and `GET /metrics`.

use crate::error::Result;
use crate::wire::{ErrorBody, Health, StoreHealth};
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
    let store = match state.config.workers.store.clone() {
        Some(location) => {
            let kind = location.kind().to_owned();
            let ping = tokio::task::spawn_blocking(move || location.ping())
                .await
                .map_err(|e| crate::Error::Internal(format!("the store check failed: {e}")))?;
            Some(StoreHealth {
                kind,
                reachable: ping.is_ok(),
                error: ping.err().map(|e| e.to_string()),
            })
        }
        None => None,
    };
    let degraded = store.as_ref().is_some_and(|s| !s.reachable);
    Ok(axum::Json(Health {
        status: if degraded { "degraded" } else { "ok" }.into(),
        store,
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
