//! The byte string every token stands for: what a grammar engine matches tokens against.
//!
//! A vocabulary stores tokens in an encoding of its own: byte-level BPE (GPT-2, Llama 3, Qwen2)
//! maps each byte to a printable character (GPT-2's `bytes_to_unicode`, in openai/gpt-2's
//! encoder.py), SentencePiece writes a space as `▁` and a byte it has no piece for as
//! `<0xNN>`. The scheme is read from the tokenizer's decoder, the part that undoes it.
//! Special tokens (control tokens such as `<|im_end|>`) are marked, since their text is not
//! text the model writes.

use std::collections::HashMap;

use crate::Tokenizer;

/// A token's bytes, and whether it is a special (control) token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenBytes {
    pub bytes: Vec<u8>,
    pub special: bool,
}

/// How a vocabulary writes bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    ByteLevel,
    /// SentencePiece: `space` stands for ' ', `<0xNN>` for a byte.
    Pieces {
        space: char,
    },
}

/// GPT-2's printable character for each byte, reversed.
fn byte_level_decoder() -> HashMap<char, u8> {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    let mut next = 0x100u32;
    (0..=255u8)
        .map(|b| {
            let c = if printable(b) {
                char::from(b)
            } else {
                let c = char::from_u32(next).unwrap_or(char::REPLACEMENT_CHARACTER);
                next += 1;
                c
            };
            (c, b)
        })
        .collect()
}

fn scheme_of(decoder: &serde_json::Value) -> Scheme {
    let kind = decoder["type"].as_str().unwrap_or_default();
    match kind {
        "ByteLevel" => Scheme::ByteLevel,
        "Metaspace" => Scheme::Pieces {
            space: decoder["replacement"]
                .as_str()
                .and_then(|s| s.chars().next())
                .unwrap_or('▁'),
        },
        "Sequence" => {
            let parts = decoder["decoders"].as_array().cloned().unwrap_or_default();
            if parts.iter().any(|d| d["type"] == "ByteLevel") {
                return Scheme::ByteLevel;
            }
            let space = parts
                .iter()
                .find_map(|d| match d["type"].as_str() {
                    Some("Replace") if d["content"] == " " => d["pattern"]["String"]
                        .as_str()
                        .and_then(|s| s.chars().next()),
                    Some("Metaspace") => d["replacement"].as_str().and_then(|s| s.chars().next()),
                    _ => None,
                })
                .unwrap_or('▁');
            Scheme::Pieces { space }
        }
        _ => Scheme::Pieces { space: '▁' },
    }
}

/// `<0xNN>`: SentencePiece's byte-fallback piece.
fn byte_piece(piece: &str) -> Option<u8> {
    let hex = piece.strip_prefix("<0x")?.strip_suffix('>')?;
    (hex.len() == 2).then(|| u8::from_str_radix(hex, 16).ok())?
}

impl Tokenizer {
    /// Every token's bytes, indexed by id (an id the vocabulary lacks has none).
    pub fn token_bytes(&self) -> Vec<TokenBytes> {
        let parse = &self.inner.parse;
        let decoder = parse
            .get_decoder()
            .and_then(|d| serde_json::to_value(d).ok())
            .unwrap_or_default();
        let scheme = scheme_of(&decoder);
        let added: HashMap<u32, String> = parse
            .get_added_tokens_decoder()
            .into_iter()
            .map(|(id, t)| (id, t.content))
            .collect();
        let from_bytes = byte_level_decoder();
        (0..self.inner.vocab_size as u32)
            .map(|id| {
                let special = self.is_special(id);
                if let Some(content) = added.get(&id) {
                    // Added tokens are stored as their text, in every scheme.
                    return TokenBytes {
                        bytes: content.as_bytes().to_vec(),
                        special,
                    };
                }
                let Some(piece) = parse.id_to_token(id) else {
                    return TokenBytes::default();
                };
                let bytes = match scheme {
                    _ if special => piece.into_bytes(),
                    Scheme::ByteLevel => {
                        let mapped: Option<Vec<u8>> =
                            piece.chars().map(|c| from_bytes.get(&c).copied()).collect();
                        // A piece outside the byte alphabet is stored as text.
                        mapped.unwrap_or_else(|| piece.into_bytes())
                    }
                    Scheme::Pieces { space } => match byte_piece(&piece) {
                        Some(b) => vec![b],
                        None => piece.replace(space, " ").into_bytes(),
                    },
                };
                TokenBytes { bytes, special }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_alphabet_covers_every_byte_once() {
        let m = byte_level_decoder();
        assert_eq!(m.len(), 256);
        assert_eq!(m[&'Ġ'], b' ');
        assert_eq!(m[&'Ċ'], b'\n');
        assert_eq!(m[&'a'], b'a');
    }

    #[test]
    fn byte_pieces_are_read_strictly() {
        assert_eq!(byte_piece("<0x0A>"), Some(b'\n'));
        assert_eq!(byte_piece("<0xZZ>"), None);
        assert_eq!(byte_piece("<0x0A0>"), None);
        assert_eq!(byte_piece("hello"), None);
    }
}
