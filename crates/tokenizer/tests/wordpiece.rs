//! BERT's WordPiece tokenizer (all-MiniLM-L6-v2's tokenizer.json, shared by the tiny BERT
//! fixture) against the ids Hugging Face tokenizers gave in the encoder goldens: `[CLS] … [SEP]`,
//! lower-casing and accent stripping, Chinese characters split, emoji as `[UNK]`, and a long
//! text cut to the model's window with `[SEP]` kept (as sentence-transformers truncates).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use samtal_tokenizer::{Encode, Tokenizer};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn wordpiece_ids_match_hugging_face() {
    let tok = Tokenizer::from_hf_folder(&root().join("fixtures/models/tiny-bert")).unwrap();
    for name in ["tiny-bert.json", "minilm.json"] {
        let path = root().join("fixtures/golden/encoders").join(name);
        let gold: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let max = gold["max_seq_length"].as_u64().unwrap() as usize;
        for case in gold["cases"].as_array().unwrap() {
            let text = case["text"].as_str().unwrap();
            let mut ids = tok
                .encode(
                    text,
                    Encode {
                        add_special_tokens: true,
                        parse_special: false,
                    },
                )
                .unwrap();
            if ids.len() > max {
                let last = ids[ids.len() - 1];
                ids.truncate(max - 1);
                ids.push(last);
            }
            let want: Vec<u32> = case["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u32)
                .collect();
            assert_eq!(ids, want, "{name}: {text:?}");
        }
    }
}
