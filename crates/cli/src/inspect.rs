//! `samtal inspect`.

use anyhow::Result;
use samtal_engine::LoadOptions;
use samtal_generation::Pipeline;

pub fn run(model: &str, json: bool) -> Result<()> {
    let path = samtal_models::resolve(Some(model))?;
    // f32 precision: nothing is repacked, which inspecting does not need.
    let opts = LoadOptions {
        precision: samtal_engine::Precision::F32,
        ..LoadOptions::default()
    };
    let mut p = Pipeline::load(&path, &opts)?;
    if let Some(k) = samtal_models::known_file(&path) {
        p.defaults = k.card()?.apply(&p.defaults);
    }
    let sampling = &p.defaults.sampling;
    let cfg = p.model.config();
    let tok = &p.tokenizer;
    let sp = tok.special();
    let name = |id: Option<u32>| id.map(|i| (i, tok.id_to_token(i).unwrap_or_default()));
    let eog: Vec<(u32, String)> = p
        .eog
        .iter()
        .map(|&i| (i, tok.id_to_token(i).unwrap_or_default()))
        .collect();
    let info = serde_json::json!({
        "path": path.display().to_string(),
        "format": if p.model.gguf_metadata().is_some() { "gguf" } else { "huggingface" },
        "architecture": cfg.arch.name(),
        "parameters": p.model.weights().n_params(),
        "tensor_types": p.model.weights().type_counts(),
        "context_length": cfg.max_positions,
        "vocab_size": cfg.vocab_size,
        "hidden_size": cfg.hidden_size,
        "layers": cfg.n_layers,
        "heads": cfg.n_heads,
        "kv_heads": cfg.n_kv_heads,
        "rope_theta": cfg.rope_theta,
        "sliding_window": cfg.sliding_window,
        "tied_embeddings": cfg.tie_embeddings,
        "tokenizer": format!("{:?}", tok.kind()),
        "bos": name(sp.bos),
        "eos": name(sp.eos),
        "add_bos": sp.add_bos,
        "end_of_generation": eog,
        "chat_template": p.chat_template().is_some(),
        "sampling_defaults": {
            "temperature": shortest(sampling.temperature),
            "top_k": sampling.top_k,
            "top_p": shortest(sampling.top_p),
            "min_p": shortest(sampling.min_p),
            "repetition_penalty": shortest(sampling.repetition_penalty),
            "penalty_window": sampling.penalty_window,
        },
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(());
    }
    if let Some(obj) = info.as_object() {
        for (k, v) in obj {
            println!("{k:<18} {v}");
        }
    }
    Ok(())
}

/// An f32 as the f64 of its shortest decimal (0.2, not 0.20000000298023224).
fn shortest(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(f64::from(x))
}
