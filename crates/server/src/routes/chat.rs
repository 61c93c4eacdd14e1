//! `POST /v1/chat/completions`.

use axum::extract::{Request, State};
use axum::response::Response;

use super::respond::{run, Kind};
use super::{authorize, read_body};
use crate::error::Result;
use crate::wire::{messages, params, parse, ChatRequest};
use crate::worker::Job;
use crate::AppState;

pub async fn completions(State(state): State<AppState>, req: Request) -> Result<Response> {
    authorize(&state, req.headers())?;
    let loaded = state.ready()?;
    let body = read_body(&state, req).await?;
    let r: ChatRequest = parse(&body)?;
    let limits = &state.config.limits;
    let (history, user) = messages(&r, limits)?;
    let mut base = samtal_chat::chat_params(&loaded.pipeline.defaults);
    base.max_new_tokens = limits.max_tokens.min(1024);
    let params = params(&r.sampling, &base, limits)?;
    let include_usage = r
        .sampling
        .stream_options
        .as_ref()
        .is_some_and(|o| o.include_usage);
    let job = Job::Chat {
        history,
        user,
        params,
    };
    run(&state, Kind::Chat, job, r.sampling.stream, include_usage).await
}
