//! What the models directory holds, by the names `--model` takes (known models, known
//! encoders, hub models), and removing one (`samtal list`, `samtal rm`).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Serialize;

use super::hub::HubRef;
use super::{models_dir, ENCODERS, KNOWN};

/// One cached model.
#[derive(Debug, Serialize)]
pub struct Cached {
    /// The name `--model` takes.
    pub name: String,
    pub path: PathBuf,
    pub bytes: u64,
}

fn size_of(path: &Path) -> u64 {
    if path.is_dir() {
        std::fs::read_dir(path)
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| size_of(&e.path())).sum())
            .unwrap_or(0)
    } else {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }
}

/// Every complete model in the models directory.
pub fn cached() -> Result<Vec<Cached>> {
    let dir = models_dir()?;
    let mut out = Vec::new();
    let mut add = |name: String, path: PathBuf| {
        let bytes = size_of(&path);
        out.push(Cached { name, path, bytes });
    };
    for k in KNOWN {
        let p = dir.join(k.file_name);
        if p.is_file() {
            add(k.name.to_owned(), p);
        }
    }
    for k in ENCODERS {
        let p = dir.join(k.dir_name);
        if p.join("model.safetensors").is_file() {
            add(k.name.to_owned(), p);
        }
    }
    let hub = dir.join("hf.co");
    for owner in read_dirs(&hub) {
        for repo in read_dirs(&owner) {
            let (Some(o), Some(r)) = (file_name(&owner), file_name(&repo)) else {
                continue;
            };
            if repo.join("config.json").is_file() {
                add(format!("hf.co/{o}/{r}"), repo.clone());
            }
            let mut ggufs: Vec<PathBuf> = std::fs::read_dir(&repo)
                .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            ggufs.retain(|p| p.extension().is_some_and(|x| x == "gguf"));
            ggufs.sort();
            for g in ggufs {
                let quant = super::hub::quant_of(&g.to_string_lossy());
                add(format!("hf.co/{o}/{r}:{quant}"), g);
            }
        }
    }
    Ok(out)
}

fn read_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir() && !p.to_string_lossy().ends_with(".partial"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn file_name(p: &Path) -> Option<String> {
    p.file_name().map(|s| s.to_string_lossy().into_owned())
}

/// Removes `name` from the cache: a known model, a known encoder, a hub model's quant
/// (`hf.co/OWNER/REPO:QUANT`) or everything cached of a hub repo (`hf.co/OWNER/REPO`). Returns
/// what was removed; an error when nothing matched.
pub fn remove(name: &str) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    if let Some(r) = HubRef::parse(name) {
        let r = r?;
        let dir = r.dir()?;
        match &r.quant {
            None if dir.exists() => {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("cannot remove {}", dir.display()))?;
                removed.push(dir);
            }
            None => {}
            Some(_) => {
                if let Some(p) = super::hub::cached(&r)? {
                    std::fs::remove_file(&p)
                        .with_context(|| format!("cannot remove {}", p.display()))?;
                    removed.push(p);
                }
            }
        }
    } else {
        let lower = name.to_ascii_lowercase();
        for c in cached()? {
            let known = super::find(name).is_some_and(|k| k.name == c.name);
            let encoder = ENCODERS.iter().any(|k| {
                k.name == c.name && (k.aliases.contains(&lower.as_str()) || k.name == lower)
            });
            if c.name == lower || known || encoder {
                if c.path.is_dir() {
                    std::fs::remove_dir_all(&c.path)
                } else {
                    std::fs::remove_file(&c.path)
                }
                .with_context(|| format!("cannot remove {}", c.path.display()))?;
                removed.push(c.path);
            }
        }
    }
    if removed.is_empty() {
        bail!(
            "{name}: no such model in {} (see `samtal list`)",
            models_dir()?.display()
        );
    }
    Ok(removed)
}
