//! `GET /v1/models`, `GET /v1/models/{id}`.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::response::Response;

use super::authorize;
use crate::error::{Error, Result};
use crate::wire::{ErrorBody, ModelCard, ModelList};
use crate::AppState;

fn model(state: &AppState) -> ModelCard {
    ModelCard {
        id: state.config.model_id.clone(),
        object: "model".into(),
        created: 0,
        owned_by: "samtal".into(),
    }
}

/// The model this server serves.
#[utoipa::path(
    get,
    path = "/v1/models",
    responses(
        (status = 200, description = "The served model", body = ModelList),
        (status = 401, description = "Missing or wrong API key", body = ErrorBody),
        (status = 503, description = "The model is still loading", body = ErrorBody)
    )
)]
pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    authorize(&state, &headers)?;
    state.ready()?;
    let mut data = vec![model(&state)];
    if let Some(e) = &state.embedder {
        data.push(ModelCard {
            id: e.id.clone(),
            object: "model".into(),
            created: 0,
            owned_by: "samtal".into(),
        });
    }
    let list = ModelList {
        object: "list".into(),
        data,
    };
    Ok(axum::Json(list).into_response())
}

/// One model by id.
#[utoipa::path(
    get,
    path = "/v1/models/{id}",
    params(("id" = String, Path, description = "The model's id")),
    responses(
        (status = 200, description = "The model", body = ModelCard),
        (status = 401, description = "Missing or wrong API key", body = ErrorBody),
        (status = 404, description = "No such model", body = ErrorBody),
        (status = 503, description = "The model is still loading", body = ErrorBody)
    )
)]
pub async fn one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response> {
    authorize(&state, &headers)?;
    state.ready()?;
    if let Some(e) = state.embedder.as_ref().filter(|e| e.id == id) {
        let card = ModelCard {
            id: e.id.clone(),
            object: "model".into(),
            created: 0,
            owned_by: "samtal".into(),
        };
        return Ok(axum::Json(card).into_response());
    }
    if id != state.config.model_id {
        return Err(Error::UnknownModel(id));
    }
    Ok(axum::Json(model(&state)).into_response())
}
