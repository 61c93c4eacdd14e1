//! `samtal serve`: the OpenAI-compatible server and web page (see the `samtal-server` crate).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use samtal_chat::{GuardMode, GuardOptions};
use samtal_server::worker::WorkerOptions;
use samtal_server::{AppState, Config, Limits};

use crate::args::ModelArgs;

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Address to bind; other hosts can reach the server only if this says so.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Require `Authorization: Bearer KEY` on /v1/* [env: SAMTAL_API_KEY].
    #[arg(long, conflicts_with = "api_key_file")]
    pub api_key: Option<String>,
    /// Read the API key from a file (its first line).
    #[arg(long)]
    pub api_key_file: Option<std::path::PathBuf>,
    /// Requests generated at the same time (each worker holds its own KV cache).
    #[arg(long, default_value_t = 1)]
    pub parallel: usize,
    /// Requests that may wait for a worker; more are refused with 429.
    #[arg(long, default_value_t = 16)]
    pub queue: usize,
    /// Prompt-injection policy for user messages.
    #[arg(long, default_value = "flag")]
    pub guard: GuardMode,
    /// Token budget for prompt plus answer [default: the model's context length].
    #[arg(long)]
    pub context: Option<usize>,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = Limits::default().max_body_bytes)]
    pub max_body: usize,
    /// Seconds a client has to send its request body (slow senders are cut off with 408).
    #[arg(long, default_value_t = 10)]
    pub body_timeout: u64,
    /// Send `Access-Control-Allow-Origin: ORIGIN` (CORS is off without it).
    #[arg(long)]
    pub cors_origin: Option<String>,
    /// Where conversations with an id are stored: a `postgres://` URL (several replicas share
    /// one database) or an SQLite file [default: $SAMTAL_STORE, else the SQLite file in
    /// samtal's data directory].
    #[arg(long, value_name = "URL|PATH")]
    pub store: Option<String>,
    /// An embedding model to serve at /v1/embeddings beside the chat model, as Ollama does: a
    /// sentence-transformers folder, a GGUF embedding model or a known name (minilm).
    #[arg(long, value_name = "M")]
    pub embedding_model: Option<String>,
    /// Element type of the embedding model's weights: q8_0 (quantized at load, the fastest)
    /// or f32 (the reference's arithmetic).
    #[arg(long, value_name = "DTYPE", default_value = samtal_generation::EMBEDDING_DTYPE)]
    pub embedding_dtype: samtal_engine::DType,
}

pub fn run(a: ServeArgs) -> Result<()> {
    let api_key = match (&a.api_key, &a.api_key_file) {
        (Some(k), _) => Some(k.clone()),
        (None, Some(f)) => Some(
            std::fs::read_to_string(f)
                .with_context(|| format!("cannot read {}", f.display()))?
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned(),
        ),
        (None, None) => std::env::var("SAMTAL_API_KEY").ok(),
    }
    .filter(|k| !k.is_empty());
    anyhow::ensure!(a.parallel >= 1, "--parallel must be at least 1");
    let path = samtal_models::resolve(a.model.model.as_deref())?;
    // The store is opened once now: its schema is made or migrated, and a database that
    // cannot be reached is said at once rather than at the first conversation.
    let store = samtal_chat::store::StoreLocation::resolve(a.store.as_deref())?;
    store
        .open()
        .with_context(|| format!("cannot open the conversation store {}", store.describe()))?;
    eprintln!("samtal serve: conversations in {}", store.describe());
    let model_id = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "samtal".into());
    crate::guard::install_for_sessions(a.guard);
    let config = Config {
        model_id,
        api_key,
        workers: WorkerOptions {
            parallel: a.parallel,
            queue: a.queue,
            guard: GuardOptions {
                mode: a.guard,
                ..GuardOptions::default()
            },
            context: a.context,
            store: Some(store),
            model: crate::chat::model_record(&path).ok(),
            max_conversations: 8 * a.parallel.max(1),
        },
        limits: Limits {
            max_body_bytes: a.max_body,
            body_timeout: Duration::from_secs(a.body_timeout.max(1)),
            ..Limits::default()
        },
        cors_origin: a.cors_origin,
    };
    let mut state = AppState::new(config);
    if let Some(m) = a.embedding_model.as_deref() {
        let dir = samtal_models::resolve_embedder(Some(m))?;
        // A folder's name, or a file's without `.gguf`.
        let name = if dir.is_file() {
            dir.file_stem()
        } else {
            dir.file_name()
        };
        let id = name
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "embeddings".into());
        let opts = samtal_engine::LoadOptions {
            dtype: a.embedding_dtype,
            ..Default::default()
        };
        let model = samtal_generation::EmbeddingModel::load(&dir, &opts)
            .with_context(|| format!("cannot load the embedding model in {}", dir.display()))?;
        state = state.with_embedder(id, model);
    }
    let model = a.model;
    let load = move || {
        model
            .load_from(&path)
            .map(Arc::new)
            .map_err(|e| format!("{e:#}"))
    };
    samtal_server::run_blocking(
        state,
        SocketAddr::new(a.host, a.port),
        Duration::from_secs(30),
        load,
    )
    .map_err(anyhow::Error::msg)
}
