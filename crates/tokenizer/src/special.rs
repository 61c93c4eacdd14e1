//! Special tokens and the end-of-generation set.

use tokenizers::processors::template::{SpecialToken, TemplateProcessing};

use crate::Error;

/// Token texts that end a turn or a document in some model family. Following llama.cpp
/// (src/llama-vocab.cpp, the `special_eog_ids` loop), any of these present in a vocabulary joins
/// the end-of-generation set, because many conversions do not record an end-of-turn id: SmolLM2's
/// GGUF, for one, names `<|im_end|>` as EOS but not `<|endoftext|>`.
pub const EOG_TEXTS: &[&str] = &[
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<|return|>",
    "<|call|>",
    "<|flush|>",
    "<|calls|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "</s>",
    "<|eom_id|>",
    "<EOT>",
    "_<EOT>",
    "[EOT]",
    "[EOS]",
    "<|end_of_text|>",
    "<end_of_utterance>",
    "<eos>",
    "<turn|>",
    "<|tool_response>",
    "<｜end▁of▁sentence｜>",
];

/// The special tokens of a tokenizer and what `add_special_tokens` adds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpecialTokens {
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    pub bos_token: Option<String>,
    pub eos_token: Option<String>,
    pub unk: Option<u32>,
    pub pad: Option<u32>,
    /// Whether [`crate::Encode::add_special_tokens`] puts BOS in front.
    pub add_bos: bool,
    /// Whether [`crate::Encode::add_special_tokens`] puts EOS at the end.
    pub add_eos: bool,
    /// Ids that end generation, sorted and without duplicates: EOS, the GGUF end-of-turn and
    /// end-of-message ids, generation_config.json's `eos_token_id` for HF folders, and every
    /// token of [`EOG_TEXTS`] the vocabulary holds.
    pub eog: Vec<u32>,
}

impl SpecialTokens {
    /// Whether `id` ends generation.
    pub fn is_eog(&self, id: u32) -> bool {
        self.eog.binary_search(&id).is_ok()
    }
}

/// Adds `ids` plus the vocabulary's end-of-turn-looking tokens to `eog`, then sorts and dedups.
pub(crate) fn finish_eog(
    eog: &mut Vec<u32>,
    ids: impl IntoIterator<Item = Option<u32>>,
    token_to_id: impl Fn(&str) -> Option<u32>,
) {
    eog.extend(ids.into_iter().flatten());
    eog.extend(EOG_TEXTS.iter().filter_map(|t| token_to_id(t)));
    eog.sort_unstable();
    eog.dedup();
}

/// The post-processor transformers builds from `add_bos_token`/`add_eos_token`
/// (`update_post_processor`): `bos $A eos`, each part only when given; `None` when neither is.
pub(crate) fn bos_eos_processor(
    bos: Option<(&str, u32)>,
    eos: Option<(&str, u32)>,
) -> crate::Result<Option<TemplateProcessing>> {
    if bos.is_none() && eos.is_none() {
        return Ok(None);
    }
    // Template pieces name entries of the special-token table; fixed names avoid parsing token
    // text (which may contain ':' or spaces) as template syntax.
    let mut tokens = Vec::new();
    for (name, entry) in [("bos", bos), ("eos", eos)] {
        if let Some((text, id)) = entry {
            tokens.push(
                SpecialToken::new(name.to_owned(), vec![id], vec![text.to_owned()])
                    .map_err(|e| Error::Build(e.to_string()))?,
            );
        }
    }
    let seq = |s: &str, t: u32| {
        let mut parts = Vec::new();
        if bos.is_some() {
            parts.push(format!("bos:{t}"));
        }
        parts.push(format!("{s}:{t}"));
        if eos.is_some() {
            parts.push(format!("eos:{t}"));
        }
        parts.join(" ")
    };
    let single = seq("$A", 0);
    let pair = format!("{single} {}", seq("$B", 1));
    TemplateProcessing::builder()
        .try_single(single.as_str())
        .and_then(|b| b.try_pair(pair.as_str()))
        .map_err(|e| Error::Build(e.to_string()))?
        .special_tokens(tokens)
        .build()
        .map(Some)
        .map_err(|e| Error::Build(e.to_string()))
}
