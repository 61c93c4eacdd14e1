//! An encoder from GGUF, as llama.cpp's convert_hf_to_gguf.py writes one
//! (fixtures/models/tiny-bert.gguf, made from fixtures/models/tiny-bert by
//! scripts/make_bert_gguf.sh): its WordPiece vocabulary, rebuilt from the phantom-space pieces,
//! tokenizes every golden text as the folder's tokenizer.json does, and its vectors are the
//! folder's and the reference's.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use samtal_engine::LoadOptions;
use samtal_generation::EmbeddingModel;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn a_gguf_encoder_reads_as_its_folder_does() {
    let opts = LoadOptions {
        dtype: samtal_engine::DType::F32,
        ..LoadOptions::default()
    };
    let folder = EmbeddingModel::load(&root().join("fixtures/models/tiny-bert"), &opts).unwrap();
    let gguf = EmbeddingModel::load(&root().join("fixtures/models/tiny-bert.gguf"), &opts).unwrap();
    assert_eq!(gguf.dimension(), folder.dimension());
    let gold: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures/golden/encoders/tiny-bert.json")).unwrap(),
    )
    .unwrap();
    let mut texts: Vec<String> = gold["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["text"].as_str().unwrap().to_owned())
        .collect();
    // Continuation pieces, accents, unknown characters and control-token look-alikes too.
    texts.extend(
        [
            "unaffable tokenization re-embedding",
            "Crème brûlée à la française",
            "[CLS] [SEP] [MASK] typed by a user",
            "\u{1F600} \u{0378} mixed",
        ]
        .map(str::to_owned),
    );
    for (i, text) in texts.iter().enumerate() {
        let want = folder.ids(text, true).unwrap();
        let got = gguf.ids(text, true).unwrap();
        assert_eq!(got, want, "{text:?}: GGUF ids differ from tokenizer.json's");
        let a = folder.embed_ids(&want).unwrap().vector;
        let b = gguf.embed_ids(&got).unwrap().vector;
        let max = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(max < 1e-6, "{text:?}: vectors differ by {max}");
        if let Some(case) = gold["cases"].as_array().unwrap().get(i) {
            let want: Vec<f32> = case["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            let max = want
                .iter()
                .zip(&b)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max);
            assert!(max < 1e-5, "{text:?}: {max} from sentence-transformers");
        }
    }
}

/// A decoder GGUF with `{arch}.pooling_type = 3` (last token), as llama.cpp's converter writes
/// for gte-Qwen2-style models: fixtures/models/tiny-llama-f32.gguf with that one key added. Its
/// vector is the final-normed hidden state of the text's last token (the tokenizer's own BOS
/// in front), scaled to unit length; the hidden states themselves are checked against
/// sentence-transformers on a decoder folder in crates/engine/tests/encoder.rs.
#[test]
fn a_decoder_gguf_with_last_token_pooling_embeds() {
    let src = root().join("fixtures/models/tiny-llama-f32.gguf");
    let file = samtal_gguf::MappedGguf::open(&src).unwrap();
    let mut w = samtal_gguf::Writer::new();
    for (k, v) in file.gguf.metadata.iter() {
        w.metadata(k, v.clone());
    }
    w.metadata("llama.pooling_type", samtal_gguf::Value::U32(3));
    for t in &file.gguf.tensors {
        w.tensor(&t.name, &t.dims, t.ty, file.tensor_data(t).to_vec());
    }
    let path = std::env::temp_dir().join(format!(
        "samtal-tiny-llama-embed-{}.gguf",
        std::process::id()
    ));
    std::fs::write(&path, w.to_bytes()).unwrap();

    let opts = LoadOptions {
        dtype: samtal_engine::DType::F32,
        ..LoadOptions::default()
    };
    let m = EmbeddingModel::load(&path, &opts).unwrap();
    let model = samtal_engine::Model::load(&src, &opts).unwrap();
    assert_eq!(m.dimension(), model.config().hidden_size);
    for text in ["hello", "a longer text, with punctuation and 123"] {
        let ids = m.ids(text, false).unwrap();
        let got = m.embed_ids(&ids).unwrap().vector;
        let lm = model.lm();
        let mut cache = lm.new_cache();
        let hidden = lm.hidden_states(&ids, 0, &mut cache).unwrap();
        let mut want = hidden[hidden.len() - m.dimension()..].to_vec();
        let norm = want.iter().map(|x| x * x).sum::<f32>().sqrt();
        want.iter_mut().for_each(|x| *x /= norm);
        let max = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(max < 1e-6, "{text:?}: {max}");
    }
    drop(m);
    let _ = std::fs::remove_file(&path);
    // Without the key, the same file is refused, and says why.
    let err = EmbeddingModel::load(&src, &opts).unwrap_err().to_string();
    assert!(err.contains("pooling"), "{err}");
}
