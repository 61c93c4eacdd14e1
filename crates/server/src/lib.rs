//! `samtal serve`: an OpenAI-compatible HTTP API and a web chat page over samtal's chat sessions.
//!
//! - `POST /v1/chat/completions`, `POST /v1/completions` (both with SSE streaming),
//!   `GET /v1/models`, `GET /health`, `GET /metrics`, the page at `/`, and the OpenAPI
//!   document of all of them at `GET /openapi.json` (see [`openapi`]);
//! - errors always in OpenAI's shape (see [`error`]);
//! - a pool of workers owns generation (see [`worker`]); the HTTP side knows no tensors.

pub mod error;
pub mod metrics;
pub mod openapi;
mod routes;
pub mod wire;
pub mod worker;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use samtal_generation::Pipeline;

pub use error::{Error, Result};
use metrics::Metrics;
use worker::{Pool, WorkerOptions};

/// Bounds on what one request may ask for.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_messages: usize,
    /// The most tokens one answer may ask for (the settings table allows more).
    pub max_tokens: usize,
    /// A request body must arrive within this.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 4 << 20,
            max_messages: 1024,
            max_tokens: 4096,
            body_timeout: Duration::from_secs(10),
        }
    }
}

/// How the server runs.
#[derive(Clone, Debug)]
pub struct Config {
    pub model_id: String,
    pub api_key: Option<String>,
    pub workers: WorkerOptions,
    pub limits: Limits,
    /// `Access-Control-Allow-Origin` to send; CORS is off when `None`.
    pub cors_origin: Option<String>,
}

/// What exists once the model is loaded.
#[derive(Debug)]
pub struct Loaded {
    pub pipeline: Arc<Pipeline>,
    pub pool: Pool,
}

/// An embedding model served beside the chat model, and its id.
#[derive(Debug)]
pub struct ServedEmbedder {
    pub id: String,
    pub model: samtal_generation::EmbeddingModel,
}

/// The state every handler sees.
#[derive(Debug, Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub loaded: Arc<OnceLock<Loaded>>,
    pub metrics: Arc<Metrics>,
    /// `--embedding-model`, if any.
    pub embedder: Option<Arc<ServedEmbedder>>,
    /// Embedding requests running at once: a request that finds none free is a 429.
    pub embed_slots: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// A state whose model is still to come (see [`AppState::load`]): `/health` says 503 until
    /// then.
    pub fn new(config: Config) -> Self {
        let slots = config.workers.parallel.max(1) + config.workers.queue;
        Self {
            config: Arc::new(config),
            loaded: Arc::new(OnceLock::new()),
            metrics: Arc::new(Metrics::default()),
            embedder: None,
            embed_slots: Arc::new(tokio::sync::Semaphore::new(slots)),
        }
    }

    /// Serves `model` as `id` at `/v1/embeddings` too.
    pub fn with_embedder(mut self, id: String, model: samtal_generation::EmbeddingModel) -> Self {
        self.embedder = Some(Arc::new(ServedEmbedder { id, model }));
        self
    }

    /// Starts the workers on `pipeline`.
    pub fn load(&self, pipeline: Arc<Pipeline>) -> Result<()> {
        // The grammar engine (a trie of the whole vocabulary) takes a moment to build: build it
        // now rather than in the first structured-output request.
        let warm = pipeline.clone();
        let _ = std::thread::Builder::new()
            .name("samtal-grammars".into())
            .spawn(move || {
                let _ = warm.grammars();
            });
        let metrics = self.metrics.clone();
        let on_done: worker::OnDone = Arc::new(move |s| metrics.record_generation(s));
        let pool = Pool::start(pipeline.clone(), &self.config.workers, on_done)?;
        self.loaded
            .set(Loaded { pipeline, pool })
            .map_err(|_| Error::Internal("the model was loaded twice".into()))
    }

    pub fn ready(&self) -> Result<&Loaded> {
        self.loaded.get().ok_or(Error::Unavailable)
    }
}

/// The application: every route, the fallbacks and the metrics layer.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}

/// Serves `state` on `addr` until SIGTERM or Ctrl-C, then stops accepting, lets in-flight
/// requests finish for up to `grace`, and returns.
pub async fn serve(state: AppState, addr: SocketAddr, grace: Duration) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!(
        "samtal serve: listening on http://{}",
        listener.local_addr()?
    );
    let stopping = Arc::new(tokio::sync::Notify::new());
    let shutdown = {
        let stopping = stopping.clone();
        async move {
            wait_for_signal().await;
            eprintln!("samtal serve: shutting down (in-flight requests get {grace:?})");
            stopping.notify_waiters();
        }
    };
    let server = axum::serve(listener, app(state)).with_graceful_shutdown(shutdown);
    // After the signal, requests in flight may finish within `grace`; then the process ends
    // and they are cancelled (every completed exchange is already committed to the store).
    let deadline = async {
        stopping.notified().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        r = server => r,
        () = deadline => {
            eprintln!("samtal serve: deadline reached, cancelling what is left");
            Ok(())
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the server on its own runtime: binds `addr` at once (so `/health` answers 503 while the
/// model loads), loads the model with `load` on a blocking thread, then serves until SIGTERM.
/// A failed load ends the process's serving with the error.
pub fn run_blocking<F>(
    state: AppState,
    addr: SocketAddr,
    grace: Duration,
    load: F,
) -> std::result::Result<(), String>
where
    F: FnOnce() -> std::result::Result<Arc<Pipeline>, String> + Send + 'static,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(async move {
        let loader = {
            let state = state.clone();
            tokio::task::spawn_blocking(move || -> std::result::Result<(), String> {
                let pipeline = load()?;
                state.load(pipeline).map_err(|e| e.to_string())
            })
        };
        let server = serve(state, addr, grace);
        tokio::pin!(server);
        tokio::select! {
            r = &mut server => r.map_err(|e| format!("cannot serve on {addr}: {e}")),
            loaded = loader => match loaded {
                Ok(Ok(())) => {
                    eprintln!("samtal serve: model loaded, ready");
                    server.await.map_err(|e| format!("cannot serve on {addr}: {e}"))
                }
                Ok(Err(e)) => Err(e),
                Err(e) => Err(format!("loading the model failed: {e}")),
            },
        }
    })
}
