//! `POST /v1/chat/completions`.

use axum::extract::{Request, State};
use axum::response::Response;

use super::respond::{run, Kind};
use super::{authorize, checked_grammar, checked_tools, read_body};
use crate::error::{Error, Result};
use crate::wire::{
    all_messages, conversation_id, messages, params, parse, response_format, tools, ChatRequest,
};
use crate::wire::{ChatChunk, ChatCompletion, ErrorBody};
use crate::worker::Job;
use crate::AppState;

/// A chat turn: the conversation so far, or with a conversation id only the new message.
#[utoipa::path(
    post,
    path = "/v1/chat/completions",
    request_body = ChatRequest,
    params(
        ("X-Samtal-Conversation" = Option<String>, Header,
         description = "A stored conversation to continue (as `conversation_id`)")
    ),
    responses(
        (status = 200, description = "The answer, or with `stream: true` server-sent `ChatChunk` events ending in `[DONE]`",
         content((ChatCompletion = "application/json"), (ChatChunk = "text/event-stream"))),
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
    let header_id = req
        .headers()
        .get("x-samtal-conversation")
        .map(|v| v.to_str().map(str::to_owned))
        .transpose()
        .map_err(|_| Error::bad("X-Samtal-Conversation is not text", None))?;
    let body = read_body(&state, req).await?;
    let r: ChatRequest = parse(&body)?;
    if let Some(e) = state
        .embedder
        .as_ref()
        .filter(|e| r.model.as_deref() == Some(e.id.as_str()))
    {
        return Err(Error::bad(
            format!(
                "{:?} is an embedding model: it answers /v1/embeddings, not chat; chat with {:?}",
                e.id, state.config.model_id
            ),
            Some("model"),
        ));
    }
    let limits = &state.config.limits;
    let all = all_messages(&r, limits)?;
    let tools = checked_tools(loaded, tools(&r.sampling)?)?;
    let id = header_id.or(r.conversation_id.clone());
    let base = samtal_chat::chat_params(&loaded.pipeline.defaults);
    let params = params(&r.sampling, &base, limits)?;
    let grammar = checked_grammar(loaded, response_format(&r.sampling)?)?;
    let tool_turns = all
        .iter()
        .any(|m| m.role == "tool" || !m.tool_calls.is_empty());
    if tools.is_some() || tool_turns {
        if id.is_some() {
            return Err(Error::bad(
                "tools and tool turns are not supported in a stored conversation yet; send the \
                 whole conversation without a conversation id",
                Some("conversation_id"),
            ));
        }
        let include_usage = r
            .sampling
            .stream_options
            .as_ref()
            .is_some_and(|o| o.include_usage);
        let job = Job::Tools {
            messages: all,
            tools,
            params,
            grammar,
        };
        return run(&state, Kind::Chat, job, r.sampling.stream, include_usage).await;
    }
    let (history, user) = messages(&r, limits)?;
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
            grammar,
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
                grammar,
            }
        }
    };
    run(&state, Kind::Chat, job, r.sampling.stream, include_usage).await
}
