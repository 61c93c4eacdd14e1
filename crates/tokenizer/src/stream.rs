//! Incremental, UTF-8-safe decoding for streaming generated tokens.

use crate::{Error, Result, Tokenizer};

/// Turns a stream of token ids into text chunks that never end in half a character.
///
/// A token may carry part of a UTF-8 sequence (byte-fallback `<0xNN>` tokens, byte-level BPE
/// pieces of an emoji) and some decoders look at neighbouring tokens (SentencePiece's leading
/// `▁` is stripped only at the very start). So each step decodes a small window — the tokens of
/// the previous chunk as context plus the pending ones — and emits what the window adds beyond
/// the context's own text, once that does not end in U+FFFD. This is the algorithm of HF
/// tokenizers' `DecodeStream` (tokenizers/src/tokenizer/mod.rs), plus [`DecodeStream::flush`] for
/// what never completes, so that the concatenated chunks equal [`Tokenizer::decode`] of all ids.
#[derive(Debug)]
pub struct DecodeStream<'a> {
    tokenizer: &'a Tokenizer,
    skip_special: bool,
    /// Context tokens (`..prefix_index`), then tokens not yet emitted.
    ids: Vec<u32>,
    /// The decoded text of the context tokens.
    prefix: String,
    prefix_index: usize,
}

impl<'a> DecodeStream<'a> {
    pub(crate) fn new(tokenizer: &'a Tokenizer, skip_special: bool) -> Self {
        Self {
            tokenizer,
            skip_special,
            ids: Vec::new(),
            prefix: String::new(),
            prefix_index: 0,
        }
    }

    /// Adds one token; returns the text it completes, if any.
    pub fn push(&mut self, id: u32) -> Result<Option<String>> {
        self.ids.push(id);
        let text = match self.tokenizer.decode(&self.ids, self.skip_special) {
            Ok(text) => text,
            Err(e) => {
                // Leave the stream usable: the bad id never joins the window.
                self.ids.pop();
                return Err(e);
            }
        };
        if text.len() <= self.prefix.len() || text.ends_with(char::REPLACEMENT_CHARACTER) {
            return Ok(None);
        }
        let new_text = self.new_text(&text)?;
        // The tokens just emitted become the context of the next chunk.
        self.ids.drain(..self.prefix_index);
        self.prefix = self.tokenizer.decode(&self.ids, self.skip_special)?;
        self.prefix_index = self.ids.len();
        Ok(Some(new_text))
    }

    /// Ends the stream: returns any text held back, with U+FFFD for bytes that never formed a
    /// character, exactly as [`Tokenizer::decode`] renders them. The stream can then be reused.
    pub fn flush(&mut self) -> Result<Option<String>> {
        let text = self.tokenizer.decode(&self.ids, self.skip_special)?;
        let rest = if text.len() > self.prefix.len() {
            Some(self.new_text(&text)?)
        } else {
            None
        };
        self.ids.clear();
        self.prefix.clear();
        self.prefix_index = 0;
        Ok(rest)
    }

    fn new_text(&self, text: &str) -> Result<String> {
        text.strip_prefix(self.prefix.as_str())
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::Decode(format!(
                    "stream window decodes to {text:?}, which does not extend the text already \
                     emitted ({:?})",
                    self.prefix
                ))
            })
    }
}
