//! The OpenAI wire format: requests as clients send them ([`request`]) and every response body
//! samtal sends ([`response`]), as typed structs from which the OpenAPI document is derived.

pub mod request;
pub mod response;

pub use request::{
    all_messages, conversation_id, messages, params, parse, response_format, tools, ChatRequest,
    CompletionRequest, Prompt, Sampling,
};
pub use response::*;

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
