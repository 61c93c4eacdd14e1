//! `GET /v1/models`, `GET /v1/models/{id}`.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use super::{authorize, json};
use crate::error::{Error, Result};
use crate::AppState;

fn model(state: &AppState) -> serde_json::Value {
    json!({"id": state.config.model_id, "object": "model", "created": 0, "owned_by": "samtal"})
}

pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    authorize(&state, &headers)?;
    state.ready()?;
    Ok(json(json!({"object": "list", "data": [model(&state)]})))
}

pub async fn one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response> {
    authorize(&state, &headers)?;
    state.ready()?;
    if id != state.config.model_id {
        return Err(Error::UnknownModel(id));
    }
    Ok(json(model(&state)))
}
