//! `POST /v1/embeddings`: vectors from the embedding model served beside the chat model
//! (`samtal serve --embedding-model M`), in OpenAI's shape, as floats or base64.

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{authorize, read_body};
use crate::error::{Error, Result};
use crate::wire::{
    parse, EmbeddingData, EmbeddingList, EmbeddingUsage, EmbeddingVector, ErrorBody,
};
use crate::AppState;

/// The most inputs, and tokens in all, one request may ask for.
pub const MAX_INPUTS: usize = 2048;
pub const MAX_TOTAL_TOKENS: usize = 300_000;

#[derive(Debug, Deserialize, ToSchema)]
pub struct EmbeddingRequest {
    /// A string, a list of strings, a list of token ids, or a list of such lists.
    #[schema(value_type = Object)]
    pub input: Value,
    #[serde(default)]
    pub model: Option<String>,
    /// "float" (the default) or "base64" (little-endian f32, what the openai client asks for).
    #[serde(default)]
    #[schema(pattern = "^(float|base64)$")]
    pub encoding_format: Option<String>,
    /// Only the model's own dimension is served.
    #[serde(default)]
    pub dimensions: Option<u64>,
    /// Cut inputs longer than the model's window instead of refusing them (llama.cpp's
    /// `truncate`).
    #[serde(default)]
    pub truncate: bool,
}

/// Texts embedded in one pass.
const BATCH: usize = 32;

fn request_error(i: usize, e: samtal_generation::Error) -> Error {
    match e.fault() {
        samtal_generation::Fault::Request => Error::bad(format!("input[{i}]: {e}"), Some("input")),
        _ => Error::Generation(e),
    }
}

/// One input: text, or token ids given as they are.
enum Input {
    Text(String),
    Ids(Vec<u32>),
}

fn inputs(v: &Value) -> Result<Vec<Input>> {
    let bad = |m: String| Error::bad(m, Some("input"));
    let ids = |a: &[Value]| -> Option<Vec<u32>> {
        a.iter()
            .map(|x| x.as_u64().and_then(|n| u32::try_from(n).ok()))
            .collect()
    };
    let list = match v {
        Value::String(s) => return Ok(vec![Input::Text(s.clone())]),
        Value::Array(a) => a,
        _ => {
            return Err(bad(
                "input must be a string, a list of strings or a list of token ids".into(),
            ))
        }
    };
    if list.is_empty() {
        return Err(bad("input must not be empty".into()));
    }
    if list.len() > MAX_INPUTS {
        return Err(bad(format!("{} inputs; at most {MAX_INPUTS}", list.len())));
    }
    if list.iter().all(Value::is_number) {
        return ids(list)
            .map(|i| vec![Input::Ids(i)])
            .ok_or_else(|| bad("token ids must be whole numbers".into()));
    }
    list.iter()
        .enumerate()
        .map(|(i, x)| match x {
            Value::String(s) => Ok(Input::Text(s.clone())),
            Value::Array(a) => ids(a)
                .map(Input::Ids)
                .ok_or_else(|| bad(format!("input[{i}] holds something other than token ids"))),
            _ => Err(bad(format!(
                "input[{i}] is neither a string nor a list of token ids"
            ))),
        })
        .collect()
}

/// Little-endian f32s in base64 (the standard alphabet, padded): what the openai client decodes.
fn base64(v: &[f32]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> shift) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Embeds the inputs.
#[utoipa::path(
    post,
    path = "/v1/embeddings",
    request_body = EmbeddingRequest,
    responses(
        (status = 200, description = "One vector per input, in order", body = EmbeddingList),
        (status = 400, description = "A malformed request, an input too long, or no embedding model", body = ErrorBody),
        (status = 401, description = "Missing or wrong API key", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 429, description = "Too many requests at once; retry", body = ErrorBody),
        (status = 500, description = "An internal failure (logged)", body = ErrorBody),
        (status = 503, description = "The model is still loading", body = ErrorBody)
    )
)]
pub async fn embeddings(State(state): State<AppState>, req: Request) -> Result<Response> {
    authorize(&state, req.headers())?;
    let body = read_body(&state, req).await?;
    let r: EmbeddingRequest = parse(&body)?;
    let Some(served) = state.embedder.clone() else {
        return Err(Error::bad(
            "this server has no embedding model (start it with --embedding-model)",
            Some("model"),
        ));
    };
    if let Some(m) = r.model.as_deref().filter(|m| *m == state.config.model_id) {
        return Err(Error::bad(
            format!(
                "{m:?} is a chat model; embeddings come from {:?}",
                served.id
            ),
            Some("model"),
        ));
    }
    let base64_out = match r.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(Error::bad(
                format!("encoding_format {other:?} is not \"float\" or \"base64\""),
                Some("encoding_format"),
            ))
        }
    };
    if let Some(d) = r
        .dimensions
        .filter(|&d| d as usize != served.model.dimension())
    {
        return Err(Error::bad(
            format!(
                "dimensions {d}: this model gives vectors of {} only",
                served.model.dimension()
            ),
            Some("dimensions"),
        ));
    }
    let inputs = inputs(&r.input)?;
    let permit = state
        .embed_slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| Error::Busy { queued: 0 })?;
    let truncate = r.truncate;
    let model = served.clone();
    let done = tokio::task::spawn_blocking(move || -> Result<Vec<samtal_generation::Embedding>> {
        let _permit = permit;
        let mut total = 0;
        let mut ids = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            let one = match input {
                Input::Text(t) => model.model.ids(t, truncate),
                Input::Ids(ids) => Ok(ids.clone()),
            }
            .map_err(|e| request_error(i, e))?;
            total += one.len();
            if total > MAX_TOTAL_TOKENS {
                return Err(Error::bad(
                    format!("the inputs take more than {MAX_TOTAL_TOKENS} tokens"),
                    Some("input"),
                ));
            }
            ids.push(one);
        }
        // In passes of BATCH texts: the weights are read once a pass.
        let mut out = Vec::with_capacity(ids.len());
        for (k, chunk) in ids.chunks(BATCH).enumerate() {
            let done = model
                .model
                .embed_batch(chunk)
                .map_err(|e| match e.fault() {
                    samtal_generation::Fault::Request => {
                        let first = k * BATCH;
                        let bad = chunk
                            .iter()
                            .position(|c| model.model.embed_ids(c).is_err())
                            .map_or(first, |p| first + p);
                        request_error(bad, e)
                    }
                    _ => Error::Generation(e),
                })?;
            out.extend(done);
        }
        Ok(out)
    })
    .await
    .map_err(|e| Error::Internal(format!("the embedding task failed: {e}")))??;
    let tokens: usize = done.iter().map(|e| e.tokens).sum();
    let list = EmbeddingList {
        object: "list".into(),
        data: done
            .into_iter()
            .enumerate()
            .map(|(index, e)| EmbeddingData {
                object: "embedding".into(),
                index: index as u32,
                embedding: if base64_out {
                    EmbeddingVector::Base64(base64(&e.vector))
                } else {
                    EmbeddingVector::Float(e.vector)
                },
            })
            .collect(),
        model: served.id.clone(),
        usage: EmbeddingUsage {
            prompt_tokens: tokens,
            total_tokens: tokens,
        },
    };
    Ok(axum::Json(list).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_the_standard_encoding() {
        // 1.0f32 is 00 00 80 3F little-endian.
        assert_eq!(base64(&[1.0]), "AACAPw==");
        assert_eq!(base64(&[]), "");
        assert_eq!(base64(&[0.0, 1.0]), "AAAAAAAAgD8=");
    }
}
