//! `samtal pull hf.co/…`, `--model hf.co/…`, `samtal list` and `samtal rm` against a local
//! server that speaks the hub's API for the calls samtal makes: the tree listing
//! (`/api/models/OWNER/REPO/tree/main?recursive=true`, with each LFS file's sha256 and size),
//! `/OWNER/REPO/resolve/main/PATH` answered with a redirect to a CDN path, and the CDN with
//! `Range`. It serves the tiny fixture models, and misbehaves on purpose: a download cut in
//! the middle, a wrong checksum, a private repo (401 without the token), a missing repo (404),
//! and a repo with neither GGUF files nor a safetensors model.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/models")
}

/// A file the fake hub serves: its bytes, and whether the listing calls it an LFS file.
struct File {
    bytes: Vec<u8>,
    lfs: bool,
    /// The sha256 the listing gives (the real one unless a test wants it wrong).
    sha256: String,
}

struct Repo {
    files: Vec<(String, File)>,
    private: bool,
    /// Cut the first full download of each file in half.
    flaky: bool,
}

struct Hub {
    repos: HashMap<String, Repo>,
    cuts: AtomicUsize,
    range_requests: AtomicUsize,
}

fn file(path: &Path, lfs: bool) -> File {
    let bytes = std::fs::read(path).unwrap();
    let sha256 = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    File { bytes, lfs, sha256 }
}

fn hub() -> Hub {
    let gguf = |name: &str| (name.to_owned(), file(&fixtures().join(name), true));
    let readme = || {
        (
            "README.md".to_owned(),
            File {
                bytes: b"# tiny\n".to_vec(),
                lfs: false,
                sha256: String::new(),
            },
        )
    };
    let folder: Vec<(String, File)> = [
        ("config.json", false),
        ("generation_config.json", false),
        ("tokenizer_config.json", false),
        ("tokenizer.json", true),
        ("model.safetensors", true),
    ]
    .iter()
    .map(|(n, lfs)| {
        (
            (*n).to_owned(),
            file(&fixtures().join("tiny-llama").join(n), *lfs),
        )
    })
    .collect();
    let mut repos = HashMap::new();
    let repo = |files, private, flaky| Repo {
        files,
        private,
        flaky,
    };
    repos.insert(
        "samtal/tiny-GGUF".into(),
        repo(
            vec![
                gguf("tiny-llama-q8_0.gguf"),
                gguf("tiny-llama-q4_0.gguf"),
                readme(),
            ],
            false,
            false,
        ),
    );
    repos.insert("samtal/tiny-llama".into(), repo(folder, false, false));
    repos.insert(
        "samtal/private".into(),
        repo(vec![gguf("tiny-llama-q8_0.gguf")], true, false),
    );
    repos.insert(
        "samtal/flaky".into(),
        repo(vec![gguf("tiny-llama-q8_0.gguf")], false, true),
    );
    let mut bad = gguf("tiny-llama-q8_0.gguf");
    bad.1.sha256 = "0".repeat(64);
    repos.insert("samtal/bad-sum".into(), repo(vec![bad], false, false));
    repos.insert(
        "samtal/docs-only".into(),
        repo(vec![readme()], false, false),
    );
    Hub {
        repos,
        cuts: AtomicUsize::new(0),
        range_requests: AtomicUsize::new(0),
    }
}

fn respond(s: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body);
}

fn serve(hub: &Hub, mut s: TcpStream) {
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let target = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let path = target.split('?').next().unwrap_or("");
    let authorized = headers.get("authorization").map(String::as_str) == Some("Bearer secret");
    let find = |repo: &str| hub.repos.get(repo).filter(|r| !r.private || authorized);
    let not_found = |s: &mut TcpStream| {
        respond(
            s,
            "404 Not Found",
            &[],
            b"{\"error\":\"Repository not found\"}",
        )
    };
    let unauthorized = |s: &mut TcpStream| {
        respond(
            s,
            "401 Unauthorized",
            &[],
            b"{\"error\":\"Invalid credentials\"}",
        )
    };
    if let Some(rest) = path.strip_prefix("/api/models/") {
        let Some(repo) = rest.strip_suffix("/tree/main") else {
            return not_found(&mut s);
        };
        if hub.repos.get(repo).is_some_and(|r| r.private) && !authorized {
            return unauthorized(&mut s);
        }
        let Some(r) = find(repo) else {
            return not_found(&mut s);
        };
        let list: Vec<serde_json::Value> = r
            .files
            .iter()
            .map(|(name, f)| {
                let mut v = serde_json::json!({
                    "type": "file", "oid": "0123456789abcdef0123456789abcdef01234567",
                    "size": f.bytes.len(), "path": name,
                });
                if f.lfs {
                    v["lfs"] = serde_json::json!({
                        "oid": f.sha256, "size": f.bytes.len(), "pointerSize": 134
                    });
                }
                v
            })
            .collect();
        let body = serde_json::to_vec(&list).unwrap();
        return respond(
            &mut s,
            "200 OK",
            &[("Content-Type", "application/json".into())],
            &body,
        );
    }
    if let Some(rest) = path.strip_prefix("/cdn/") {
        let mut parts = rest.splitn(3, '/');
        let (o, n, name) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        let Some(r) = hub.repos.get(&format!("{o}/{n}")) else {
            return not_found(&mut s);
        };
        let Some((_, f)) = r.files.iter().find(|(p, _)| p == name) else {
            return not_found(&mut s);
        };
        let total = f.bytes.len();
        if let Some(from) = headers
            .get("range")
            .and_then(|v| v.strip_prefix("bytes="))
            .and_then(|v| v.strip_suffix('-'))
            .and_then(|v| v.parse::<usize>().ok())
        {
            hub.range_requests.fetch_add(1, Ordering::SeqCst);
            let range = format!("bytes {from}-{}/{total}", total - 1);
            return respond(
                &mut s,
                "206 Partial Content",
                &[("Content-Range", range)],
                &f.bytes[from..],
            );
        }
        if r.flaky && hub.cuts.fetch_add(1, Ordering::SeqCst) == 0 {
            // Promise the whole file, send half, hang up.
            let head =
                format!("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {total}\r\n\r\n");
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&f.bytes[..total / 2]);
            let _ = s.flush();
            let _ = s.shutdown(std::net::Shutdown::Both);
            return;
        }
        return respond(&mut s, "200 OK", &[], &f.bytes);
    }
    // /OWNER/REPO/resolve/main/PATH → the CDN, as the hub redirects LFS files.
    let mut parts = path.trim_start_matches('/').splitn(5, '/');
    let (o, n, resolve, main, name) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let repo = format!("{o}/{n}");
    if resolve != "resolve" || main != "main" {
        return not_found(&mut s);
    }
    if hub.repos.get(&repo).is_some_and(|r| r.private) && !authorized {
        return unauthorized(&mut s);
    }
    if find(&repo).is_none() {
        return not_found(&mut s);
    }
    respond(
        &mut s,
        "302 Found",
        &[("Location", format!("/cdn/{repo}/{name}"))],
        b"",
    );
}

/// The fake hub on a free port; returns its base URL.
fn start() -> (String, Arc<Hub>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hub = Arc::new(hub());
    let h = hub.clone();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            let h = h.clone();
            std::thread::spawn(move || serve(&h, s));
        }
    });
    (url, hub)
}

struct Env {
    hub: String,
    models: PathBuf,
}

impl Env {
    fn new(name: &str) -> (Self, Arc<Hub>) {
        let (hub, state) = start();
        let models = std::env::temp_dir().join(format!("samtal-hub-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&models);
        (Self { hub, models }, state)
    }

    fn run(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_samtal"));
        c.args(args)
            .env("HF_ENDPOINT", &self.hub)
            .env("SAMTAL_MODELS_DIR", &self.models)
            .env_remove("HF_TOKEN")
            .env_remove("HUGGING_FACE_HUB_TOKEN")
            .env_remove("HF_HUB_OFFLINE");
        for (k, v) in extra {
            c.env(k, v);
        }
        c.output().unwrap()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.models);
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_gguf_repo_is_pulled_by_quant_and_used_listed_and_removed() {
    let (env, _) = Env::new("gguf");
    // The default quant (Q4_K_M) is not there: the error lists the tags there are.
    let out = env.run(&["pull", "hf.co/samtal/tiny-GGUF"], &[]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("Q4_K_M") && err.contains("Q4_0, Q8_0"),
        "{err}"
    );
    let out = env.run(&["pull", "hf.co/samtal/tiny-GGUF:Q8_0"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let path = PathBuf::from(text(&out.stdout).trim());
    assert!(
        path.ends_with("hf.co/samtal/tiny-GGUF/tiny-llama-q8_0.gguf"),
        "{path:?}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(fixtures().join("tiny-llama-q8_0.gguf")).unwrap()
    );
    // Any --model takes the name, from the cache.
    let out = env.run(
        &[
            "tokenize",
            "--model",
            "hf.co/samtal/tiny-GGUF:Q8_0",
            "hello",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Offline: the cache is enough, and what is not cached is a clear error.
    let off = [
        ("HF_HUB_OFFLINE", "1"),
        ("HF_ENDPOINT", "http://127.0.0.1:9"),
    ];
    let out = env.run(
        &["tokenize", "--model", "hf.co/samtal/tiny-GGUF:q8_0", "hi"],
        &off,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = env.run(
        &["tokenize", "--model", "hf.co/samtal/tiny-GGUF:Q4_0", "hi"],
        &off,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("HF_HUB_OFFLINE"),
        "{}",
        text(&out.stderr)
    );
    // list shows it by name; rm removes it.
    let out = env.run(&["list", "--json"], &[]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["name"], "hf.co/samtal/tiny-GGUF:Q8_0", "{list}");
    assert_eq!(list[0]["bytes"], 162_336);
    let out = env.run(&["rm", "hf.co/samtal/tiny-GGUF:Q8_0"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!path.exists());
    let out = env.run(&["rm", "hf.co/samtal/tiny-GGUF:Q8_0"], &[]);
    assert!(!out.status.success());
}

#[test]
fn a_safetensors_repo_is_pulled_whole_and_loads() {
    let (env, _) = Env::new("folder");
    let out = env.run(&["pull", "hf.co/samtal/tiny-llama"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dir = PathBuf::from(text(&out.stdout).trim());
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "generation_config.json",
    ] {
        assert_eq!(
            std::fs::read(dir.join(f)).unwrap(),
            std::fs::read(fixtures().join("tiny-llama").join(f)).unwrap(),
            "{f}"
        );
    }
    let out = env.run(
        &[
            "generate",
            "--model",
            "hf.co/samtal/tiny-llama",
            "--max-new-tokens",
            "3",
            "Hi",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // A quant tag on a repo without GGUF files says why it cannot be.
    let out = env.run(&["pull", "hf.co/samtal/tiny-llama:Q8_0"], &[]);
    assert!(
        text(&out.stderr).contains("no GGUF"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_cut_download_resumes_where_it_stopped() {
    let (env, hub) = Env::new("resume");
    let out = env.run(&["pull", "hf.co/samtal/flaky:Q8_0"], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("run the same command again"),
        "{}",
        text(&out.stderr)
    );
    let part = env
        .models
        .join("hf.co/samtal/flaky/tiny-llama-q8_0.gguf.part");
    assert_eq!(std::fs::metadata(&part).unwrap().len(), 162_336 / 2);
    let out = env.run(&["pull", "hf.co/samtal/flaky:Q8_0"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        hub.range_requests.load(Ordering::SeqCst),
        1,
        "the second run asked for the rest"
    );
    assert!(!part.exists());
    let got = std::fs::read(env.models.join("hf.co/samtal/flaky/tiny-llama-q8_0.gguf")).unwrap();
    assert_eq!(
        got,
        std::fs::read(fixtures().join("tiny-llama-q8_0.gguf")).unwrap()
    );
}

#[test]
fn bad_checksums_private_repos_missing_repos_and_repos_without_a_model_are_clear_errors() {
    let (env, _) = Env::new("errors");
    let out = env.run(&["pull", "hf.co/samtal/bad-sum:Q8_0"], &[]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("checksum") && err.contains("sha256"), "{err}");
    assert!(!env
        .models
        .join("hf.co/samtal/bad-sum/tiny-llama-q8_0.gguf")
        .exists());
    assert!(!env
        .models
        .join("hf.co/samtal/bad-sum/tiny-llama-q8_0.gguf.part")
        .exists());

    let out = env.run(&["pull", "hf.co/samtal/private:Q8_0"], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("HF_TOKEN"),
        "{}",
        text(&out.stderr)
    );
    let out = env.run(
        &["pull", "hf.co/samtal/private:Q8_0"],
        &[("HF_TOKEN", "secret")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = env.run(&["pull", "hf.co/samtal/nothing-here"], &[]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("404"), "{}", text(&out.stderr));

    let out = env.run(&["pull", "hf.co/samtal/docs-only"], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("neither GGUF"),
        "{}",
        text(&out.stderr)
    );

    let out = env.run(&["pull", "hf.co/not-a-repo"], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("hf.co/OWNER/REPO"),
        "{}",
        text(&out.stderr)
    );

    // A hub that cannot be reached at all.
    let out = env.run(
        &["pull", "hf.co/samtal/tiny-GGUF:Q8_0"],
        &[("HF_ENDPOINT", "http://127.0.0.1:9")],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("cannot reach"),
        "{}",
        text(&out.stderr)
    );
}
