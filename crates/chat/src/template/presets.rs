//! Built-in chat templates for models that ship none (or whose template is broken), each the
//! template its model family publishes in tokenizer_config.json, with that family's special
//! token strings. The sources live in presets/*.jinja so the Python golden script
//! (scripts/chat_make_template_goldens.py) renders the very same text.

pub(crate) struct Preset {
    pub name: &'static str,
    pub source: &'static str,
    pub bos_token: Option<&'static str>,
    pub eos_token: Option<&'static str>,
}

/// Names accepted by [`super::ChatTemplate::preset`].
pub const PRESET_NAMES: &[&str] = &["chatml", "llama-2", "llama-3", "mistral", "zephyr", "gemma"];

const PRESETS: &[Preset] = &[
    // teknium/OpenHermes-2.5-Mistral-7B; Qwen and SmolLM use the same turn format.
    Preset {
        name: "chatml",
        source: include_str!("presets/chatml.jinja"),
        bos_token: None,
        eos_token: Some("<|im_end|>"),
    },
    // meta-llama/Llama-2-7b-chat-hf
    Preset {
        name: "llama-2",
        source: include_str!("presets/llama-2.jinja"),
        bos_token: Some("<s>"),
        eos_token: Some("</s>"),
    },
    // meta-llama/Meta-Llama-3-8B-Instruct
    Preset {
        name: "llama-3",
        source: include_str!("presets/llama-3.jinja"),
        bos_token: Some("<|begin_of_text|>"),
        eos_token: Some("<|eot_id|>"),
    },
    // mistralai/Mistral-7B-Instruct-v0.1 and v0.2 (no system role)
    Preset {
        name: "mistral",
        source: include_str!("presets/mistral.jinja"),
        bos_token: Some("<s>"),
        eos_token: Some("</s>"),
    },
    // HuggingFaceH4/zephyr-7b-beta
    Preset {
        name: "zephyr",
        source: include_str!("presets/zephyr.jinja"),
        bos_token: Some("<s>"),
        eos_token: Some("</s>"),
    },
    // google/gemma-7b-it (no system role)
    Preset {
        name: "gemma",
        source: include_str!("presets/gemma.jinja"),
        bos_token: Some("<bos>"),
        eos_token: Some("<eos>"),
    },
];

pub(crate) fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_a_preset() {
        assert_eq!(PRESETS.len(), PRESET_NAMES.len());
        for name in PRESET_NAMES {
            assert!(find(name).is_some(), "{name}");
        }
    }
}
