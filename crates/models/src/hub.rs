//! Models from the Hugging Face hub, or from any server that speaks its API for these calls
//! (`$HF_ENDPOINT`, as huggingface_hub reads it): `hf.co/OWNER/REPO[:QUANT]`, as Ollama names
//! them.
//!
//! - A repo with GGUF files: the one whose name carries the quant tag (default Q4_K_M, as
//!   Ollama picks), with the list of tags when the tag is missing or ambiguous.
//! - A repo without: a safetensors model (config.json, the tokenizer files,
//!   generation_config.json, and the weights, one file or the shards its index names).
//!
//! The calls: `GET /api/models/REPO/tree/main?recursive=true` (the file list with each LFS
//! file's sha256 and size) and `GET /REPO/resolve/main/PATH` (with its redirects to the CDN, and
//! `Range` to resume). A download goes to `NAME.part`, resumes from there when run again,
//! is checked against the hub's sha256 (its LFS object id) or size, and is renamed into place
//! only then; a safetensors repo is assembled in a `.partial` folder renamed whole. `$HF_TOKEN`
//! is sent as a bearer token; with `HF_HUB_OFFLINE=1` only the cache is read.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use super::{models_dir, sha256_file};

/// A model on the hub: `OWNER/REPO` and an optional quant tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubRef {
    pub repo: String,
    pub quant: Option<String>,
}

/// The quant Ollama and llama.cpp's `-hf` take when none is named.
const DEFAULT_QUANT: &str = "Q4_K_M";

impl HubRef {
    /// `hf.co/OWNER/REPO[:QUANT]` (also `huggingface.co/…`); `None` for anything else.
    pub fn parse(spec: &str) -> Option<Result<Self>> {
        let rest = spec
            .strip_prefix("hf.co/")
            .or_else(|| spec.strip_prefix("huggingface.co/"))
            .or_else(|| spec.strip_prefix("https://huggingface.co/"))?;
        let (repo, quant) = match rest.split_once(':') {
            Some((r, q)) => (r, Some(q.to_owned())),
            None => (rest, None),
        };
        let parts: Vec<&str> = repo.split('/').collect();
        let ok = |p: &str| {
            !p.is_empty()
                && p != "."
                && p != ".."
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        if parts.len() != 2 || !parts.iter().all(|p| ok(p)) {
            return Some(Err(anyhow::anyhow!(
                "{spec:?}: a hub model is hf.co/OWNER/REPO or hf.co/OWNER/REPO:QUANT"
            )));
        }
        if quant.as_deref().is_some_and(|q| q.is_empty() || !ok(q)) {
            return Some(Err(anyhow::anyhow!(
                "{spec:?}: the quant tag is empty or malformed"
            )));
        }
        Some(Ok(Self {
            repo: repo.to_owned(),
            quant,
        }))
    }

    /// The cache folder of the repo.
    pub fn dir(&self) -> Result<PathBuf> {
        Ok(models_dir()?.join("hf.co").join(&self.repo))
    }

    fn tag(&self) -> &str {
        self.quant.as_deref().unwrap_or(DEFAULT_QUANT)
    }

    /// The name as the user writes it.
    pub fn name(&self) -> String {
        match &self.quant {
            Some(q) => format!("hf.co/{}:{q}", self.repo),
            None => format!("hf.co/{}", self.repo),
        }
    }
}

/// One entry of the hub's tree listing.
#[derive(Clone, Debug, Deserialize)]
struct Entry {
    #[serde(rename = "type")]
    kind: String,
    path: String,
    #[serde(default)]
    size: u64,
    lfs: Option<Lfs>,
}

#[derive(Clone, Debug, Deserialize)]
struct Lfs {
    /// The sha256 of the file.
    oid: String,
    size: u64,
}

impl Entry {
    fn size(&self) -> u64 {
        self.lfs.as_ref().map_or(self.size, |l| l.size)
    }
}

fn endpoint() -> String {
    std::env::var("HF_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| "https://huggingface.co".into())
        .trim_end_matches('/')
        .to_owned()
}

fn token() -> Option<String> {
    ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|t| !t.is_empty()))
}

/// `HF_HUB_OFFLINE` set to a true value, as huggingface_hub reads it.
pub fn offline() -> bool {
    std::env::var("HF_HUB_OFFLINE")
        .is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(15))
        .timeout_read(Duration::from_secs(60))
        .redirects(8)
        .user_agent(concat!("samtal/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A GET with the token, its errors said in the hub's terms.
fn get(agent: &ureq::Agent, url: &str, what: &str, range: Option<u64>) -> Result<ureq::Response> {
    let mut req = agent.get(url);
    if let Some(t) = token() {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    if let Some(from) = range {
        req = req.set("Range", &format!("bytes={from}-"));
    }
    match req.call() {
        Ok(r) => Ok(r),
        Err(ureq::Error::Status(401 | 403, _)) => bail!(
            "{what}: the hub refused access (401/403): the repo is gated or private; set \
             HF_TOKEN to a token that may read it{}",
            if token().is_some() {
                " (the one set may not)"
            } else {
                ""
            }
        ),
        Err(ureq::Error::Status(404, _)) => bail!("{what}: not found on the hub (404)"),
        Err(ureq::Error::Status(code, r)) => {
            bail!("{what}: the hub answered {code} {}", r.status_text())
        }
        Err(ureq::Error::Transport(t)) => bail!(
            "{what}: cannot reach {}: {t} (set HF_HUB_OFFLINE=1 to use only what is cached)",
            endpoint()
        ),
    }
}

/// Every file of the repo.
fn tree(agent: &ureq::Agent, repo: &str) -> Result<Vec<Entry>> {
    let url = format!("{}/api/models/{repo}/tree/main?recursive=true", endpoint());
    let resp = get(agent, &url, repo, None)?;
    let entries: Vec<Entry> = resp
        .into_json()
        .with_context(|| format!("{repo}: the hub's file list does not read"))?;
    Ok(entries.into_iter().filter(|e| e.kind == "file").collect())
}

/// The quant tag in a GGUF file name: what follows the last `-` or `.` before `.gguf`
/// (`model-Q4_K_M.gguf` → `Q4_K_M`), upper-cased.
pub fn quant_of(path: &str) -> String {
    let stem = path.rsplit('/').next().unwrap_or(path);
    let stem = stem.strip_suffix(".gguf").unwrap_or(stem);
    stem.rsplit(['-', '.'])
        .next()
        .unwrap_or(stem)
        .to_ascii_uppercase()
}

/// The local path of `r`: from the cache when it is there, else pulled.
pub fn resolve(r: &HubRef) -> Result<PathBuf> {
    if let Some(p) = cached(r)? {
        return Ok(p);
    }
    if offline() {
        bail!(
            "{} is not in the cache and HF_HUB_OFFLINE is set: run `samtal pull {}` online first",
            r.name(),
            r.name()
        );
    }
    pull(r, false)
}

/// What the cache holds for `r`: the GGUF file of its quant, or its safetensors folder.
pub fn cached(r: &HubRef) -> Result<Option<PathBuf>> {
    let dir = r.dir()?;
    if dir.join("config.json").is_file() && r.quant.is_none() {
        return Ok(Some(dir));
    }
    let Ok(read) = std::fs::read_dir(&dir) else {
        return Ok(None);
    };
    let tag = r.tag().to_ascii_uppercase();
    let mut found: Vec<PathBuf> = read
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "gguf")
                && p.to_str().is_some_and(|s| quant_of(s) == tag)
        })
        .collect();
    found.sort();
    Ok(found.into_iter().next())
}

/// Fetches `r` from the hub (or checks what the cache holds against it).
pub fn pull(r: &HubRef, quiet: bool) -> Result<PathBuf> {
    if offline() {
        return cached(r)?.with_context(|| {
            format!("{} is not in the cache and HF_HUB_OFFLINE is set", r.name())
        });
    }
    let agent = agent();
    let files = tree(&agent, &r.repo)?;
    let dir = r.dir()?;
    let ggufs: Vec<&Entry> = files.iter().filter(|e| e.path.ends_with(".gguf")).collect();
    if !ggufs.is_empty() {
        let tag = r.tag().to_ascii_uppercase();
        let chosen: Vec<&Entry> = ggufs
            .iter()
            .copied()
            .filter(|e| quant_of(&e.path) == tag)
            .collect();
        let mut tags: Vec<String> = ggufs.iter().map(|e| quant_of(&e.path)).collect();
        tags.sort();
        tags.dedup();
        let entry = match chosen.as_slice() {
            [one] => *one,
            [] => bail!(
                "{}: no GGUF file for quant {tag}; the repo has: {} (pull one as hf.co/{}:TAG)",
                r.repo,
                tags.join(", "),
                r.repo
            ),
            many => bail!(
                "{}: quant {tag} names {} files ({}); samtal reads single-file GGUFs",
                r.repo,
                many.len(),
                many.iter()
                    .map(|e| e.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let name = entry.path.rsplit('/').next().unwrap_or(&entry.path);
        let dest = dir.join(name);
        download(&agent, &r.repo, entry, &dest, quiet)?;
        return Ok(dest);
    }
    if r.quant.is_some() {
        bail!(
            "{}: the repo has no GGUF files, so a quant tag means nothing; pull hf.co/{} for its \
             safetensors model",
            r.repo,
            r.repo
        );
    }
    let has = |p: &str| files.iter().find(|e| e.path == p);
    let Some(config) = has("config.json") else {
        bail!(
            "{}: the repo has neither GGUF files nor a Hugging Face model (config.json and \
             safetensors weights)",
            r.repo
        );
    };
    let mut wanted: Vec<&Entry> = vec![config];
    // The tokenizer and generation defaults, and a sentence-transformers model's modules
    // (pooling), for `samtal embed`.
    for optional in [
        "generation_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "chat_template.jinja",
        "modules.json",
        "sentence_bert_config.json",
        "1_Pooling/config.json",
    ] {
        wanted.extend(has(optional));
    }
    // The folder is assembled apart and renamed whole once complete.
    let partial = dir.with_extension("partial");
    std::fs::create_dir_all(&partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    if let Some(index) = has("model.safetensors.index.json") {
        download(&agent, &r.repo, index, &partial.join(&index.path), quiet)?;
        let text = std::fs::read_to_string(partial.join(&index.path))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: model.safetensors.index.json does not read", r.repo))?;
        let mut shards: Vec<String> = v["weight_map"]
            .as_object()
            .map(|m| {
                m.values()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        shards.sort();
        shards.dedup();
        for s in &shards {
            let entry = has(s)
                .with_context(|| format!("{}: the index names {s}, which is not there", r.repo))?;
            wanted.push(entry);
        }
    } else if let Some(w) = has("model.safetensors") {
        wanted.push(w);
    } else {
        bail!("{}: config.json but no safetensors weights", r.repo);
    }
    for e in wanted {
        let dest = partial.join(&e.path);
        if e.path.starts_with(['.', '/']) || e.path.contains("..") || e.path.contains('\\') {
            bail!("{}: unexpected file path {:?}", r.repo, e.path);
        }
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        download(&agent, &r.repo, e, &dest, quiet)?;
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("cannot replace {}", dir.display()))?;
    }
    std::fs::rename(&partial, &dir)
        .with_context(|| format!("cannot move {} into place", partial.display()))?;
    Ok(dir)
}

/// One file into `dest`: resumed from `dest.part` when a download was cut, checked, renamed.
fn download(agent: &ureq::Agent, repo: &str, e: &Entry, dest: &Path, quiet: bool) -> Result<()> {
    let size = e.size();
    if dest.is_file() && verify(e, dest).is_ok() {
        if !quiet {
            eprintln!("{}: up to date", e.path);
        }
        return Ok(());
    }
    let mut part = dest.as_os_str().to_owned();
    part.push(".part");
    let part = PathBuf::from(part);
    let mut have = std::fs::metadata(&part).map_or(0, |m| m.len());
    if have > size {
        have = 0;
    }
    if have < size || size == 0 {
        let url = format!("{}/{repo}/resolve/main/{}", endpoint(), e.path);
        let what = format!("{repo}/{}", e.path);
        let resp = get(agent, &url, &what, (have > 0).then_some(have))?;
        let resumed = resp.status() == 206;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(resumed)
            .truncate(!resumed)
            .open(&part)
            .with_context(|| format!("cannot write {}", part.display()))?;
        let mut done = if resumed { have } else { 0 };
        if resumed && !quiet {
            eprintln!("{}: resuming at {} of {}", e.path, mb(done), mb(size));
        }
        let mut reader = resp.into_reader();
        let mut buf = vec![0u8; 1 << 16];
        let started = Instant::now();
        let first = done;
        let mut last = Instant::now();
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) => bail!(
                    "{what}: the download broke off at {} of {} ({err}); run the same command \
                     again to resume it",
                    mb(done),
                    mb(size)
                ),
            };
            file.write_all(&buf[..n])
                .with_context(|| format!("cannot write {}", part.display()))?;
            done += n as u64;
            if !quiet && last.elapsed() >= Duration::from_millis(500) {
                last = Instant::now();
                progress(&e.path, done, first, size, started);
            }
        }
        file.sync_all()
            .with_context(|| format!("cannot write {}", part.display()))?;
        if !quiet {
            progress(&e.path, done, first, size, started);
            eprintln!();
        }
        if done < size {
            bail!(
                "{what}: the download broke off at {} of {}; run the same command again to \
                 resume it",
                mb(done),
                mb(size)
            );
        }
    }
    if let Err(err) = verify(e, &part) {
        let _ = std::fs::remove_file(&part);
        return Err(err.context(format!(
            "{repo}/{}: the download does not match the hub's checksum and was removed; run the \
             command again",
            e.path
        )));
    }
    std::fs::rename(&part, dest)
        .with_context(|| format!("cannot move {} into place", dest.display()))
}

/// The file against the hub's sha256 (LFS files) or size (small ones, kept in git).
fn verify(e: &Entry, path: &Path) -> Result<()> {
    let len = std::fs::metadata(path)?.len();
    if len != e.size() {
        bail!("{} bytes where the hub lists {}", len, e.size());
    }
    if let Some(lfs) = &e.lfs {
        let got = sha256_file(path)?;
        if !got.eq_ignore_ascii_case(&lfs.oid) {
            bail!("sha256 {got}, the hub's is {}", lfs.oid);
        }
    }
    Ok(())
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// `path: done of size, rate, ETA` on one line of stderr.
fn progress(path: &str, done: u64, first: u64, size: u64, started: Instant) {
    let secs = started.elapsed().as_secs_f64().max(1e-3);
    let rate = (done - first) as f64 / secs;
    let eta = if rate > 0.0 && size > done {
        format!(", {:.0} s left", (size - done) as f64 / rate)
    } else {
        String::new()
    };
    eprint!(
        "\r{path}: {} of {}, {:.1} MB/s{eta}   ",
        mb(done),
        mb(size),
        rate / 1e6
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_quant_tags_read_as_ollama_writes_them() {
        let r = HubRef::parse("hf.co/bartowski/SmolLM2-135M-Instruct-GGUF:Q8_0")
            .unwrap()
            .unwrap();
        assert_eq!(r.repo, "bartowski/SmolLM2-135M-Instruct-GGUF");
        assert_eq!(r.quant.as_deref(), Some("Q8_0"));
        let r = HubRef::parse("hf.co/owner/repo").unwrap().unwrap();
        assert_eq!((r.tag(), r.name().as_str()), ("Q4_K_M", "hf.co/owner/repo"));
        assert!(HubRef::parse("smollm2").is_none());
        for bad in [
            "hf.co/owner",
            "hf.co/a/b/c",
            "hf.co/../x",
            "hf.co/a/b:",
            "hf.co/a/b:x/y",
        ] {
            assert!(HubRef::parse(bad).unwrap().is_err(), "{bad}");
        }
        assert_eq!(quant_of("sub/Model-7B-Q4_K_M.gguf"), "Q4_K_M");
        assert_eq!(quant_of("model.q8_0.gguf"), "Q8_0");
        assert_eq!(quant_of("tiny-llama-f16.gguf"), "F16");
    }
}
