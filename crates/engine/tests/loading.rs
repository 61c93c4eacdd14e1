//! Loading paths beyond the single-file folders of the parity tests: sharded safetensors with an
//! index, and dense weights converted to f16/bf16 at load.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::PathBuf;

use samtal_engine::{DType, LoadOptions, Model};

fn tiny_llama() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/models/tiny-llama")
}

fn logits(model: &Model, ids: &[u32]) -> Vec<f32> {
    let mut cache = model.lm().new_cache();
    model.lm().forward_all(ids, 0, &mut cache).unwrap()
}

const IDS: [u32; 6] = [5, 17, 300, 42, 7, 99];

#[test]
fn sharded_safetensors_with_an_index_load_like_one_file() {
    let src = tiny_llama();
    let dir = std::env::temp_dir().join(format!("samtal-shards-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["config.json", "tokenizer.json", "tokenizer_config.json"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    // Split the tensors over two shards, the way transformers' save_pretrained does.
    let bytes = std::fs::read(src.join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<String> = st.names().into_iter().cloned().collect();
    names.sort();
    let (first, second) = names.split_at(names.len() / 2);
    let mut weight_map = HashMap::new();
    for (i, part) in [first, second].into_iter().enumerate() {
        let file = format!("model-0000{}-of-00002.safetensors", i + 1);
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = part
            .iter()
            .map(|n| (n.clone(), st.tensor(n).unwrap()))
            .collect();
        safetensors::serialize_to_file(views, &None, &dir.join(&file)).unwrap();
        for n in part {
            weight_map.insert(n.clone(), file.clone());
        }
    }
    let index = serde_json::json!({"metadata": {}, "weight_map": weight_map});
    std::fs::write(dir.join("model.safetensors.index.json"), index.to_string()).unwrap();

    let one = Model::load(&src, &LoadOptions::default()).unwrap();
    let sharded = Model::load(&dir, &LoadOptions::default()).unwrap();
    assert_eq!(logits(&one, &IDS), logits(&sharded, &IDS));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn shard_names_cannot_leave_the_folder() {
    let dir = std::env::temp_dir().join(format!("samtal-shard-escape-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(tiny_llama().join("config.json"), dir.join("config.json")).unwrap();
    let index = serde_json::json!({"weight_map": {"lm_head.weight": "../../etc/passwd"}});
    std::fs::write(dir.join("model.safetensors.index.json"), index.to_string()).unwrap();
    let err = Model::load(&dir, &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a plain file name"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn half_precision_dtypes_stay_close_to_f32() {
    let f32m = Model::load(&tiny_llama(), &LoadOptions::default()).unwrap();
    let base = logits(&f32m, &IDS);
    let scale = base.iter().fold(0f32, |m, v| m.max(v.abs()));
    for (dtype, tol) in [(DType::F16, 0.005), (DType::BF16, 0.05)] {
        let m = Model::load(
            &tiny_llama(),
            &LoadOptions {
                dtype,
                ..LoadOptions::default()
            },
        )
        .unwrap();
        let l = logits(&m, &IDS);
        let d = l
            .iter()
            .zip(&base)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max)
            / scale;
        assert!(
            d > 0.0,
            "{dtype:?} changed nothing: was the conversion applied?"
        );
        assert!(d <= tol, "{dtype:?}: relative error {d} > {tol}");
    }
}
