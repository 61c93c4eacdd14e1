//! Pre-tokenizer regexes for GGUF byte-level BPE vocabularies, keyed by `tokenizer.ggml.pre`.
//!
//! The table follows llama.cpp's `llm_tokenizer_bpe` constructor (src/llama-vocab.cpp) for which
//! names share which split rules, but uses the *original* regexes from each model's
//! tokenizer.json where llama.cpp hand-adapted them for its own regex engine: the HF tokenizers
//! library is the reference the llama.cpp test vectors were generated with, and its regex engine
//! (here fancy-regex) understands the originals.
//!
//! Each entry is a list of regexes applied in turn: every regex splits each piece left by the
//! previous one, keeping both matches and the text between them (HF `Split` with behaviour
//! `Isolated`, which is also what llama.cpp's `unicode_regex_split` does with a list).

/// GPT-2's split rule, as in HF tokenizers' `ByteLevel` pre-tokenizer.
const GPT2: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

/// Llama 3's tokenizer.json split rule (also DBRX, Smaug, GLM-4, …).
const LLAMA3: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Qwen2's rule: Llama 3's with single digits.
const QWEN2: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Qwen3.5's rule: Qwen2's with combining marks kept with letters.
const QWEN35: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// BLOOM's rule: runs of anything but whitespace and these punctuation marks.
const BLOOM: &str = r" ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{964}\x{6D4}\x{60C})]+";

/// Mistral's Tekken rule.
const TEKKEN: &str = r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The o200k (GPT-4o, Llama 4) rule.
const GPT4O: &str = r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

// Code points are written as `\x{..}` escapes: several (U+1FD3, U+2126, U+212A) are canonically
// equivalent to other characters and would silently change under Unicode normalisation of the
// source, turning ranges inside out.
const DEEPSEEK_LLM: &[&str] = &[
    r"[\r\n]",
    concat!(
        r"\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293}",
        r"\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}",
        r"\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}",
        r"\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}",
        r"\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}",
        r"\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D}",
        r"\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}",
        r"\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}",
        r"\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}",
        r"\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F}",
        r"\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4}",
        r"\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}",
        r"\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}",
        r"\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3}",
        r"\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}",
        r"\x{1E900}-\x{1E943}]+",
    ),
    r"\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+",
    r"\s+$",
    r"[\x{4E00}-\x{9FA5}\x{800}-\x{4E00}\x{AC00}-\x{D7FF}]+",
    r"\p{N}+",
];

const DEEPSEEK_CODER: &[&str] = &[
    r"[\r\n]",
    r"\s?\p{L}+",
    r"\s?\p{P}+",
    r"[\x{4E00}-\x{9FA5}\x{800}-\x{4E00}\x{AC00}-\x{D7FF}]+",
    r"\p{N}",
];

const DEEPSEEK_V3: &[&str] = &[
    r"\p{N}{1,3}",
    r"[\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+",
    r##"[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"##,
];

/// What a `tokenizer.ggml.pre` name asks of the pre-tokenizer and the BPE model.
#[derive(Debug)]
pub(crate) struct PreTokenizerSpec {
    /// Regexes applied in turn (see the module docs).
    pub regexes: Vec<&'static str>,
    /// Look a whole pre-token up in the vocabulary before merging (llama.cpp `ignore_merges`,
    /// HF BPE `ignore_merges`), as Llama 3's tokenizer.json asks.
    pub ignore_merges: bool,
    /// Whether llama.cpp adds BOS by default for this pre-tokenizer when the GGUF does not say.
    pub add_bos_default: bool,
    /// False when the name was not recognised and GPT-2's rule stands in.
    pub known: bool,
}

/// Looks up the split rules for a `tokenizer.ggml.pre` value. Unknown names fall back to GPT-2's
/// rule with `known == false`, so the caller can record a warning (llama.cpp refuses to load).
pub(crate) fn spec(pre: &str) -> PreTokenizerSpec {
    let (regexes, ignore_merges, add_bos_default): (Vec<&'static str>, bool, bool) = match pre {
        // llama.cpp's LLAMA_VOCAB_PRE_TYPE_DEFAULT, used when a GGUF has no pre-tokenizer name.
        "default" => (
            vec![r"[\p{P}\$\+<=>\^~\|]+", GPT2, r"\p{N}+", r"[0-9][0-9][0-9]"],
            false,
            false,
        ),
        "llama3" | "llama-v3" | "llama-bpe" | "falcon3" | "falcon-h1" | "pixtral" | "midm-2.0"
        | "lfm2" | "jina-v5-nano" => (vec![LLAMA3], true, true),
        "dbrx" | "smaug-bpe" | "chatglm-bpe" => (vec![LLAMA3], false, false),
        "glm4" | "glm5" => (vec![LLAMA3], true, false),
        "deepseek-llm" => (DEEPSEEK_LLM.to_vec(), false, false),
        "deepseek-coder" => (DEEPSEEK_CODER.to_vec(), false, false),
        "deepseek-v3" => (DEEPSEEK_V3.to_vec(), false, false),
        "falcon" => (
            vec![r"[\p{P}\$\+<=>\^~\|`]+", GPT2, r"[0-9][0-9][0-9]"],
            false,
            false,
        ),
        // GPT-2's rule after splitting every digit on its own (HF: `Digits(individual_digits)`
        // followed by `ByteLevel(use_regex=true)`), e.g. StarCoder and SmolLM.
        "starcoder" | "refact" | "command-r" | "smollm" | "codeshell" | "exaone" | "minerva-7b"
        | "mellum2" => (vec![r"\p{N}", GPT2], false, false),
        "gpt-2" | "phi-2" | "jina-es" | "jina-de" | "gigachat" | "jina-v2-es" | "jina-v2-de"
        | "a.x-4.0" | "mellum" | "modern-bert" | "mpt" | "olmo" | "jais" | "trillion"
        | "granite-docling" | "exaone4" | "jina-v1-en" | "jina-v2-code" | "roberta-bpe" => {
            (vec![GPT2], false, false)
        }
        "qwen2" | "deepseek-r1-qwen" | "kormo" | "f2llmv2" | "megrez" | "stablelm2" | "hunyuan"
        | "solar-open" => (vec![QWEN2], false, false),
        "qwen35" => (vec![QWEN35], false, false),
        "poro-chat" | "bloom" | "gpt3-finnish" => (vec![BLOOM], false, false),
        "viking" => (vec![BLOOM, r"\p{N}"], false, false),
        "tekken" => (vec![TEKKEN], true, true),
        "gpt-4o" | "llama4" | "kanana2" | "talkie" | "minimax-m2" => (vec![GPT4O], false, false),
        _ => {
            return PreTokenizerSpec {
                regexes: vec![GPT2],
                ignore_merges: false,
                add_bos_default: false,
                known: false,
            }
        }
    };
    PreTokenizerSpec {
        regexes,
        ignore_merges,
        add_bos_default,
        known: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
    use tokenizers::SplitDelimiterBehavior::Isolated;

    #[test]
    fn every_listed_regex_compiles() {
        let names = [
            "default",
            "llama-bpe",
            "dbrx",
            "glm4",
            "deepseek-llm",
            "deepseek-coder",
            "deepseek-v3",
            "falcon",
            "smollm",
            "gpt-2",
            "qwen2",
            "qwen35",
            "bloom",
            "viking",
            "tekken",
            "gpt-4o",
        ];
        for name in names {
            let spec = spec(name);
            assert!(spec.known, "{name}");
            for re in spec.regexes {
                let split = Split::new(SplitPattern::Regex(re.to_owned()), Isolated, false);
                assert!(split.is_ok(), "{name}: {re}: {:?}", split.err());
            }
        }
    }

    #[test]
    fn unknown_name_falls_back_to_gpt2() {
        let spec = spec("no-such-pre");
        assert!(!spec.known);
        assert_eq!(spec.regexes, vec![GPT2]);
    }
}
