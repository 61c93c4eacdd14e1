//! `samtal inspect`.

use anyhow::Result;
use samtal_engine::LoadOptions;
use samtal_generation::Pipeline;

pub fn run(model: &str, json: bool) -> Result<()> {
    let path = crate::pull::resolve(Some(model))?;
    let p = Pipeline::load(&path, &LoadOptions::default())?;
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
