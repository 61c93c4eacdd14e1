//! `POST /v1/completions`: a raw continuation of a prompt.

use axum::extract::{Request, State};
use axum::response::Response;

use super::respond::{run, Kind};
use super::{authorize, checked_grammar, read_body};
use crate::error::{Error, Result};
use crate::wire::{params, parse, response_format, CompletionRequest, Prompt};
use crate::wire::{Completion, ErrorBody};
use crate::worker::Job;
use crate::AppState;

/// A raw continuation of a prompt.
#[utoipa::path(
    post,
    path = "/v1/completions",
    request_body = CompletionRequest,
    responses(
        (status = 200, description = "The continuation, or with `stream: true` server-sent `Completion` events ending in `[DONE]`",
         content((Completion = "application/json"), (Completion = "text/event-stream"))),
        (status = 400, description = "A malformed request or a setting out of range", body = ErrorBody),
        (status = 401, description = "Missing or wrong API key", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 429, description = "The queue is full; retry", body = ErrorBody),
        (status = 500, description = "An internal failure (logged)", body = ErrorBody),
        (status = 503, description = "The model is still loading", body = ErrorBody)
    )
)]
pub async fn completions(State(state): State<AppState>, req: Request) -> Result<Response> {
    authorize(&state, req.headers())?;
    let loaded = state.ready()?;
    let body = read_body(&state, req).await?;
    let r: CompletionRequest = parse(&body)?;
    let prompt = match r.prompt {
        Prompt::One(p) => p,
        Prompt::Many(mut v) if v.len() == 1 => v.remove(0),
        Prompt::Many(_) => {
            return Err(Error::bad(
                "prompt must be a string or a list of one string",
                Some("prompt"),
            ))
        }
    };
    if prompt.is_empty() {
        return Err(Error::bad("prompt must not be empty", Some("prompt")));
    }
    if r.echo {
        return Err(Error::bad("echo is not supported", Some("echo")));
    }
    let limits = &state.config.limits;
    let mut base = loaded.pipeline.defaults.clone();
    base.max_new_tokens = 16; // OpenAI's default for completions
    let params = params(&r.sampling, &base, limits)?;
    let grammar = checked_grammar(loaded, response_format(&r.sampling)?)?;
    let include_usage = r
        .sampling
        .stream_options
        .as_ref()
        .is_some_and(|o| o.include_usage);
    run(
        &state,
        Kind::Completion,
        Job::Complete {
            prompt,
            params,
            grammar,
        },
        r.sampling.stream,
        include_usage,
    )
    .await
}
