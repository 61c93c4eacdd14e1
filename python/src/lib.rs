//! `samtal._samtal`: the extension module behind the `samtal` Python package. Thin over the same
//! APIs as the CLI and the server: models resolved by `samtal-models` (paths, known names,
//! `hf.co/…`), generation settings by the one settings table (so a bad value is refused with the
//! same words as on every face), chat through `chat::Session`, and OpenAI-shaped chat
//! completions through the server's own router, in process (the same validation, tools and
//! `response_format` as `samtal serve`).
//!
//! Generation runs on a thread of its own with the GIL released; Python waits on it in short
//! slices and checks for signals between them, so Ctrl-C (KeyboardInterrupt) cancels the
//! generation at its next token and the interpreter never hangs. Values cross as Python
//! strings, lists and JSON text; the pure-Python layer (`samtal/__init__.py`) shapes them.

use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use samtal_chat::{ChatEvent, FormatChoice, Session, SessionOptions};
use samtal_engine::{DType, LoadOptions, Precision};
use samtal_generation::{CancelToken, Controls, Overrides, Pipeline, PrefixCache};
use samtal_tokenizer::Encode;

create_exception!(
    _samtal,
    SamtalError,
    PyException,
    "An error from samtal, with the same message the CLI and the server give."
);

/// Any samtal error as a Python exception: a request's mistake (a setting out of range, an
/// empty prompt) is a ValueError, anything else a SamtalError.
fn err<E: std::fmt::Display>(e: E) -> PyErr {
    SamtalError::new_err(e.to_string())
}

fn gen_err(e: samtal_generation::Error) -> PyErr {
    match e.fault() {
        samtal_generation::Fault::Request => PyValueError::new_err(e.to_string()),
        _ => SamtalError::new_err(e.to_string()),
    }
}

fn chat_err(e: samtal_chat::Error) -> PyErr {
    match e.fault() {
        samtal_generation::Fault::Request => PyValueError::new_err(e.to_string()),
        _ => SamtalError::new_err(e.to_string()),
    }
}

/// Settings given as JSON (`{"temperature": 0.7, "max_tokens": 20}`) by any of their names,
/// each checked by the settings table.
fn overrides(settings_json: &str) -> PyResult<Overrides> {
    let v: serde_json::Value = serde_json::from_str(settings_json).map_err(err)?;
    let mut o = Overrides::default();
    if let Some(map) = v.as_object() {
        for (k, val) in map {
            o.set_json(k, val).map_err(gen_err)?;
        }
    }
    Ok(o)
}

/// What a generation thread sends back.
enum Piece {
    Text(String),
    /// The end, with its summary as JSON.
    Done(String),
    Failed(PyErrLike),
}

/// An error made on another thread, turned into a Python exception on the caller's.
enum PyErrLike {
    Value(String),
    Samtal(String),
}

impl PyErrLike {
    fn into_py_err(self) -> PyErr {
        match self {
            PyErrLike::Value(m) => PyValueError::new_err(m),
            PyErrLike::Samtal(m) => SamtalError::new_err(m),
        }
    }
}

fn failed_gen(e: samtal_generation::Error) -> PyErrLike {
    match e.fault() {
        samtal_generation::Fault::Request => PyErrLike::Value(e.to_string()),
        _ => PyErrLike::Samtal(e.to_string()),
    }
}

/// Text pieces as they are generated, then the end. Iterating waits with the GIL released;
/// a KeyboardInterrupt while waiting cancels the generation and is raised.
#[pyclass(module = "samtal._samtal")]
pub struct Stream {
    rx: Mutex<Receiver<Piece>>,
    cancel: CancelToken,
    thread: Mutex<Option<JoinHandle<()>>>,
    summary: Mutex<Option<String>>,
}

impl Stream {
    fn start(work: impl FnOnce(&dyn Fn(Piece), &CancelToken) + Send + 'static) -> Self {
        let (tx, rx) = channel();
        let cancel = CancelToken::new();
        let c = cancel.clone();
        let thread = std::thread::spawn(move || {
            let send = |p: Piece| {
                let _ = tx.send(p);
            };
            work(&send, &c);
        });
        Self {
            rx: Mutex::new(rx),
            cancel,
            thread: Mutex::new(Some(thread)),
            summary: Mutex::new(None),
        }
    }

    fn join(&self, py: Python<'_>) {
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = handle {
            py.allow_threads(|| {
                let _ = h.join();
            });
        }
    }
}

#[pymethods]
impl Stream {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<String>> {
        loop {
            let got = py.allow_threads(|| match self.rx.lock() {
                Ok(rx) => rx.recv_timeout(Duration::from_millis(50)),
                Err(_) => Err(RecvTimeoutError::Disconnected),
            });
            match got {
                Ok(Piece::Text(t)) => return Ok(Some(t)),
                Ok(Piece::Done(s)) => {
                    if let Ok(mut slot) = self.summary.lock() {
                        *slot = Some(s);
                    }
                    self.join(py);
                    return Ok(None);
                }
                Ok(Piece::Failed(e)) => {
                    self.join(py);
                    return Err(e.into_py_err());
                }
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(e) = py.check_signals() {
                        // Ctrl-C: stop the generation at its next token, then raise.
                        self.cancel.cancel();
                        self.join(py);
                        return Err(e);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.join(py);
                    return Ok(None);
                }
            }
        }
    }

    /// The summary of a finished generation (finish reason, token counts, timings) as JSON;
    /// None before the end.
    fn summary(&self) -> Option<String> {
        self.summary.lock().ok().and_then(|s| s.clone())
    }

    /// Stops the generation at its next token.
    fn cancel(&self) {
        self.cancel.cancel();
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // An abandoned stream stops its generation.
        self.cancel.cancel();
    }
}

/// The in-process server that answers `create_chat_completion`, made on first use.
struct Server {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
}

/// A loaded model.
#[pyclass(module = "samtal._samtal", frozen)]
pub struct Model {
    pipeline: Arc<Pipeline>,
    path: PathBuf,
    /// The KV cache of `generate`, reused when a prompt starts as the last one did.
    cache: Arc<Mutex<PrefixCache>>,
    server: Mutex<Option<Arc<Server>>>,
}

#[pymethods]
impl Model {
    #[new]
    #[pyo3(signature = (path_or_name=None, *, dtype="auto", precision="q8", threads=None))]
    fn new(
        py: Python<'_>,
        path_or_name: Option<String>,
        dtype: &str,
        precision: &str,
        threads: Option<usize>,
    ) -> PyResult<Self> {
        let dtype: DType = dtype.parse().map_err(PyValueError::new_err)?;
        let precision: Precision = precision.parse().map_err(PyValueError::new_err)?;
        if let Some(n) = threads {
            if n == 0 {
                return Err(PyValueError::new_err("threads must be at least 1"));
            }
            // The pool is the process's: the first model's setting holds.
            let _ = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build_global();
        }
        py.allow_threads(move || {
            let path = samtal_models::resolve(path_or_name.as_deref()).map_err(err)?;
            let opts = LoadOptions {
                dtype,
                precision,
                ..LoadOptions::default()
            };
            let mut p = Pipeline::load(&path, &opts).map_err(gen_err)?;
            if let Some(k) = samtal_models::known_file(&path) {
                p.defaults = k.card().map_err(gen_err)?.apply(&p.defaults);
            }
            let cache = PrefixCache::new(p.model.lm().as_ref());
            Ok(Self {
                pipeline: Arc::new(p),
                path,
                cache: Arc::new(Mutex::new(cache)),
                server: Mutex::new(None),
            })
        })
    }

    /// The model file or folder.
    #[getter]
    fn path(&self) -> String {
        self.path.display().to_string()
    }

    /// The end-of-generation token ids (the tokenizer's and the model config's).
    #[getter]
    fn eog_ids(&self) -> Vec<u32> {
        self.pipeline.eog.clone()
    }

    /// The model's window, in tokens.
    #[getter]
    fn n_ctx(&self) -> usize {
        self.pipeline.model.config().max_positions
    }

    /// Text to token ids (with the tokenizer's BOS and the like when `add_special`; special
    /// tokens written in the text are parsed only with `special`).
    #[pyo3(signature = (text, *, add_special=true, special=false))]
    fn tokenize(&self, text: &str, add_special: bool, special: bool) -> PyResult<Vec<u32>> {
        self.pipeline
            .tokenizer
            .encode(
                text,
                Encode {
                    add_special_tokens: add_special,
                    parse_special: special,
                },
            )
            .map_err(err)
    }

    /// Token ids to text.
    #[pyo3(signature = (ids, *, skip_special=false))]
    fn detokenize(&self, ids: Vec<u32>, skip_special: bool) -> PyResult<String> {
        self.pipeline
            .tokenizer
            .decode(&ids, skip_special)
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// The perplexity of `text` (teacher-forced), in windows of the model's context.
    fn perplexity(&self, py: Python<'_>, text: &str) -> PyResult<f64> {
        let ids = self.tokenize(text, true, false)?;
        let p = self.pipeline.clone();
        py.allow_threads(move || {
            let lm = p.model.lm();
            let window = lm.config().max_positions;
            samtal_generation::perplexity(lm.as_ref(), &ids, window)
                .map(|r| r.ppl)
                .map_err(gen_err)
        })
    }

    /// Starts generating a continuation of `prompt` (the text as it is, no chat template),
    /// with settings as JSON; the stream yields text pieces.
    fn _generate(&self, prompt: &str, settings_json: &str) -> PyResult<Stream> {
        let params = overrides(settings_json)?.apply(&self.pipeline.defaults);
        let ids = self.tokenize(prompt, true, false)?;
        if ids.is_empty() {
            return Err(PyValueError::new_err("the prompt is empty"));
        }
        let p = self.pipeline.clone();
        let cache = self.cache.clone();
        Ok(Stream::start(move |send, cancel| {
            let Ok(mut cache) = cache.lock() else {
                send(Piece::Failed(PyErrLike::Samtal(
                    "the model's cache is poisoned".into(),
                )));
                return;
            };
            let controls = Controls {
                cancel: Some(cancel),
                ..Controls::default()
            };
            let out = p
                .generator()
                .generate(&mut cache, &ids, &params, controls, &mut |ev| {
                    let t = ev.text();
                    if !t.is_empty() {
                        send(Piece::Text(t.to_owned()));
                    }
                });
            match out {
                Ok(out) => {
                    let t = &out.timings;
                    let summary = serde_json::json!({
                        "finish_reason": out.finish_reason.openai(),
                        "prompt_tokens": ids.len(),
                        "completion_tokens": out.token_ids.len(),
                        "token_ids": out.token_ids,
                        "seed": out.seed,
                        "ttft_ms": t.ttft_ms,
                        "tokens_per_s": t.tokens_per_s(),
                    });
                    send(Piece::Done(summary.to_string()));
                }
                Err(e) => send(Piece::Failed(failed_gen(e))),
            }
        }))
    }

    /// An OpenAI chat completion request (JSON) answered by the server's own route, in process:
    /// `(status, body)`; a streamed request's body is its server-sent events.
    fn _chat_completion(&self, py: Python<'_>, request_json: String) -> PyResult<(u16, Stream)> {
        let server = self.server()?;
        let (status_tx, status_rx) = channel();
        let stream = Stream::start(move |send, cancel| {
            use http_body_util::BodyExt;
            use tower::ServiceExt;
            let req = match axum::http::Request::builder()
                .method("POST")
                .uri("/v1/chat/completions")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(request_json))
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = status_tx.send(500);
                    send(Piece::Failed(PyErrLike::Samtal(e.to_string())));
                    return;
                }
            };
            server.runtime.block_on(async {
                let Ok(resp) = server.router.clone().oneshot(req).await;
                let _ = status_tx.send(resp.status().as_u16());
                let mut body = resp.into_body();
                loop {
                    if cancel.is_cancelled() {
                        // Dropping the body tells the server the client went away.
                        return;
                    }
                    match body.frame().await {
                        Some(Ok(frame)) => {
                            if let Ok(data) = frame.into_data() {
                                send(Piece::Text(String::from_utf8_lossy(&data).into_owned()));
                            }
                        }
                        Some(Err(e)) => {
                            send(Piece::Failed(PyErrLike::Samtal(e.to_string())));
                            return;
                        }
                        None => break,
                    }
                }
                send(Piece::Done(String::new()));
            });
        });
        let status = py
            .allow_threads(move || status_rx.recv())
            .map_err(|_| SamtalError::new_err("the in-process server did not answer"))?;
        Ok((status, stream))
    }

    /// A chat session on this model: a persona, the model's chat template or the transcript
    /// format (`Me:` / `Computer:` lines), history, the guard.
    #[pyo3(signature = (*, persona=None, format="auto", user_label="Me", bot_label="Computer", settings_json="{}"))]
    fn _chat(
        &self,
        persona: Option<String>,
        format: &str,
        user_label: &str,
        bot_label: &str,
        settings_json: &str,
    ) -> PyResult<Chat> {
        let format = match format {
            "auto" => FormatChoice::Auto,
            "template" => FormatChoice::Template(None),
            "transcript" => FormatChoice::Transcript,
            other => {
                return Err(PyValueError::new_err(format!(
                    "format {other:?} is not one of auto, template, transcript"
                )))
            }
        };
        let base = samtal_chat::chat_params(&self.pipeline.defaults);
        let o = overrides(settings_json)?;
        let opts = SessionOptions {
            format,
            system: persona,
            user_label: user_label.to_owned(),
            bot_label: bot_label.to_owned(),
            params: Some(o.apply(&base)),
            ..SessionOptions::default()
        };
        install_guard();
        let session = Session::new(self.pipeline.clone(), opts).map_err(chat_err)?;
        Ok(Chat {
            session: Arc::new(Mutex::new(session)),
        })
    }
}

impl Model {
    fn server(&self) -> PyResult<Arc<Server>> {
        install_guard();
        let mut slot = self
            .server
            .lock()
            .map_err(|_| SamtalError::new_err("the in-process server is poisoned"))?;
        if let Some(s) = slot.as_ref() {
            return Ok(s.clone());
        }
        let config = samtal_server::Config {
            model_id: self
                .path
                .file_stem()
                .map_or_else(|| "samtal".into(), |s| s.to_string_lossy().into_owned()),
            api_key: None,
            workers: samtal_server::worker::WorkerOptions {
                parallel: 1,
                queue: 16,
                guard: samtal_chat::GuardOptions::default(),
                context: None,
                store: None,
                model: None,
                max_conversations: 4,
            },
            limits: samtal_server::Limits::default(),
            cors_origin: None,
        };
        let state = samtal_server::AppState::new(config);
        state.load(self.pipeline.clone()).map_err(err)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(err)?;
        let server = Arc::new(Server {
            runtime,
            router: samtal_server::app(state),
        });
        *slot = Some(server.clone());
        Ok(server)
    }
}

/// A conversation: the notebook's `Computer`, done right.
#[pyclass(module = "samtal._samtal", frozen)]
pub struct Chat {
    session: Arc<Mutex<Session>>,
}

#[pymethods]
impl Chat {
    /// Starts the answer to `text`; the stream yields its pieces, and its summary is the reply.
    fn _send(&self, text: String) -> Stream {
        let session = self.session.clone();
        Stream::start(move |send, cancel| {
            let Ok(mut s) = session.lock() else {
                send(Piece::Failed(PyErrLike::Samtal(
                    "the chat is poisoned".into(),
                )));
                return;
            };
            let mut guard = None;
            let reply = s.send(&text, Some(cancel), &mut |ev| match ev {
                ChatEvent::Text(t) if !t.is_empty() => send(Piece::Text(t.to_owned())),
                ChatEvent::Guard(r) => guard = Some(format!("{:?}", r.verdict).to_lowercase()),
                _ => {}
            });
            match reply {
                Ok(r) => {
                    let summary = serde_json::json!({
                        "text": r.text,
                        "finish_reason": r.finish_reason.openai(),
                        "prompt_tokens": r.prompt_tokens,
                        "prefill_tokens": r.prefill_tokens,
                        "completion_tokens": r.generated_tokens,
                        "ttft_ms": r.ttft_ms,
                        "tokens_per_s": r.tokens_per_s,
                        "guard": guard,
                    });
                    send(Piece::Done(summary.to_string()));
                }
                Err(e) => send(Piece::Failed(match e.fault() {
                    samtal_generation::Fault::Request => PyErrLike::Value(e.to_string()),
                    _ => PyErrLike::Samtal(e.to_string()),
                })),
            }
        })
    }

    /// The conversation as OpenAI messages (JSON): the persona, then the turns.
    fn _messages(&self) -> PyResult<String> {
        let s = self
            .session
            .lock()
            .map_err(|_| SamtalError::new_err("the chat is poisoned"))?;
        serde_json::to_string(&s.messages()).map_err(err)
    }

    /// Forgets the last exchange; false when there is none.
    fn undo(&self) -> PyResult<bool> {
        let mut s = self
            .session
            .lock()
            .map_err(|_| SamtalError::new_err("the chat is poisoned"))?;
        Ok(s.undo())
    }

    /// Forgets every exchange (the persona stays).
    fn reset(&self) -> PyResult<()> {
        let mut s = self
            .session
            .lock()
            .map_err(|_| SamtalError::new_err("the chat is poisoned"))?;
        s.reset();
        Ok(())
    }
}

/// Installs the guard's learned encoder for this process once, before the first guarded text
/// (the base from `$SAMTAL_GUARD_ENCODER`, else all-MiniLM-L6-v2, fetched if missing). When it
/// cannot be loaded, the guard keeps its n-gram model and rules and a warning says why.
fn install_guard() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(samtal_models::install_guard);
}

/// The guard's verdict on a text, as a chat with the default guard gives it: JSON with
/// `verdict` (allow, flag, block), `score` and `reasons`.
#[pyfunction]
fn guard_check(py: Python<'_>, text: &str) -> PyResult<String> {
    py.allow_threads(install_guard);
    let report =
        samtal_chat::guard_check(&samtal_chat::GuardOptions::default(), text).map_err(chat_err)?;
    Ok(match report {
        Some(r) => serde_json::json!({
            "verdict": format!("{:?}", r.verdict).to_lowercase(),
            "score": r.score,
            "reasons": r.reasons,
        }),
        None => serde_json::json!({"verdict": "allow", "score": 0.0, "reasons": []}),
    }
    .to_string())
}

#[pymodule]
fn _samtal(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Model>()?;
    m.add_class::<Chat>()?;
    m.add_class::<Stream>()?;
    m.add_function(wrap_pyfunction!(guard_check, m)?)?;
    m.add("SamtalError", m.py().get_type::<SamtalError>())?;
    Ok(())
}
