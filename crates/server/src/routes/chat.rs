//! `POST /v1/chat/completions`.

use axum::extract::{Request, State};
use axum::response::Response;

use super::respond::{run, Kind};
use super::{authorize, read_body};
use crate::error::{Error, Result};
use crate::wire::{conversation_id, messages, params, parse, ChatRequest};
use crate::worker::Job;
use crate::AppState;

pub async fn completions(State(state): State<AppState>, req: Request) -> Result<Response> {
    authorize(&state, req.headers())?;
    let loaded = state.ready()?;
    let header_id = req
        .headers()
        .get("x-samtal-conversation")
        .map(|v| v.to_str().map(str::to_owned))
        .transpose()
        .map_err(|_| Error::bad("X-Samtal-Conversation is not text", None))?;
    let body = read_body(&state, req).await?;
    let r: ChatRequest = parse(&body)?;
    let limits = &state.config.limits;
    let (history, user) = messages(&r, limits)?;
    let id = header_id.or(r.conversation_id.clone());
    let mut base = samtal_chat::chat_params(&loaded.pipeline.defaults);
    base.max_new_tokens = limits.max_tokens.min(1024);
    let params = params(&r.sampling, &base, limits)?;
    let include_usage = r
        .sampling
        .stream_options
        .as_ref()
        .is_some_and(|o| o.include_usage);
    let job = match id {
        None => Job::Chat {
            history,
            user,
            params,
        },
        Some(id) => {
            // The server holds the history: the request brings the new turn only.
            let system = match history.as_slice() {
                [] => None,
                [m] if m.role == "system" => Some(m.content.clone()),
                _ => {
                    return Err(Error::bad(
                        "with a conversation id, send only the new user message (after an \
                         optional system message): the server keeps the history",
                        Some("messages"),
                    ))
                }
            };
            Job::Conversation {
                id: conversation_id(&id)?,
                system,
                user,
                params,
            }
        }
    };
    run(&state, Kind::Chat, job, r.sampling.stream, include_usage).await
}
