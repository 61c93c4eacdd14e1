//! The context window: the prompt a turn starts from, in the session's format, and fitting it to
//! the token budget by the session's [`ContextPolicy`].

use samtal_generation::{GenerateParams, Pipeline};
use samtal_guard::Verdict;
use samtal_tokenizer::Encode;

use super::{mark_untrusted, ContextPolicy, Format, FormatChoice, Mark, Session, SessionOptions};
use crate::template::{special_strings, ChatTemplate};
use crate::{Error, Message, Result, Transcript};

impl Session {
    /// The prompt the next [`Session::send`] of `user_text` would start from, before fitting it
    /// to the context budget: its text and token ids.
    /// A message the guard would flag comes with its note, as [`Session::send`] writes it.
    pub fn prompt_for(&self, user_text: &str) -> Result<(String, Vec<u32>)> {
        let flagged = self
            .guard
            .check(user_text)
            .is_some_and(|r| r.verdict == Verdict::Flag);
        let m = if flagged {
            Message::user(mark_untrusted(user_text))
        } else {
            Message::user(user_text)
        };
        self.prompt(&m)
    }

    /// Stop strings the format adds to every turn.
    pub(super) fn format_stops(&self) -> Vec<String> {
        match &self.format {
            Format::Transcript(t) => t.stops(),
            Format::Template { .. } => Vec::new(),
        }
    }

    /// Messages kept at the front of the window whatever happens.
    pub(super) fn pinned(&self) -> usize {
        match self.policy {
            ContextPolicy::KeepFirstExchange => self.turns.len().min(2),
            ContextPolicy::DropOldest | ContextPolicy::Error => 0,
        }
    }

    /// Text and ids of the prompt for the window plus `pending`.
    pub(super) fn prompt(&self, pending: &Message) -> Result<(String, Vec<u32>)> {
        self.prompt_from(self.window_start, pending)
    }

    /// The prompt with the window starting at `start` (past the pinned messages).
    fn prompt_from(&self, start: usize, pending: &Message) -> Result<(String, Vec<u32>)> {
        let pinned = self.pinned();
        let start = start.max(pinned);
        // Whole exchanges: blocked ones never reach the model, flagged ones keep their note.
        let mut window: Vec<Message> = Vec::new();
        for k in (0..pinned / 2).chain(start / 2..self.turns.len() / 2) {
            let (u, a) = (&self.turns[2 * k], &self.turns[2 * k + 1]);
            match self.marks.get(k).copied().unwrap_or_default() {
                Mark::Blocked => continue,
                Mark::Flagged => window.push(Message::user(mark_untrusted(&u.content))),
                Mark::Ok | Mark::Withheld => window.push(u.clone()),
            }
            window.push(a.clone());
        }
        window.push(pending.clone());
        let system = self
            .system
            .as_deref()
            .map(|s| self.guard.system_for_model(s));
        let tokenizer = &self.pipeline.tokenizer;
        match &self.format {
            Format::Template { template, specials } => {
                let messages: Vec<Message> = system
                    .map(Message::system)
                    .into_iter()
                    .chain(window)
                    .collect();
                let p = template.encode(tokenizer, specials, &messages, true)?;
                Ok((p.text, p.ids))
            }
            Format::Transcript(t) => {
                let text = t.render(system.as_deref(), &window, true);
                // Plain text throughout: nothing in a transcript is a control token, and BOS is
                // added when the tokenizer wants it.
                let ids = tokenizer.encode(
                    &text,
                    Encode {
                        add_special_tokens: true,
                        parse_special: false,
                    },
                )?;
                Ok((text, ids))
            }
        }
    }

    /// Drops the oldest droppable exchange from the window; false when none is left.
    fn drop_oldest(&mut self) -> bool {
        let start = self.window_start.max(self.pinned());
        if start + 2 > self.turns.len() {
            return false;
        }
        self.window_start = start + 2;
        true
    }

    /// The prompt for `pending`, fitted to the budget by the policy, and what was dropped;
    /// `params.max_new_tokens` is lowered to the room left when that is less.
    pub(super) fn fit(
        &mut self,
        pending: &Message,
        params: &mut GenerateParams,
    ) -> Result<(Vec<u32>, Dropped)> {
        let budget = self.budget;
        let reserve = params.max_new_tokens.min(budget / 2);
        let limit = budget - reserve;
        let (_, mut ids) = self.prompt(pending)?;
        let before = ids.len();
        let mut turns = 0;
        if ids.len() > limit {
            if self.policy == ContextPolicy::Error {
                return Err(Error::ContextFull {
                    prompt: ids.len(),
                    answer: reserve,
                    budget,
                });
            }
            // Dropping invalidates the cache after the system prompt, so drop on until a
            // quarter of the room the exchanges may use is free: the next turns then fit
            // without dropping (and re-prefilling) again each time. `base` is the prompt with
            // nothing left to drop.
            let base = self.prompt_from(self.turns.len(), pending)?.1.len();
            let target = limit - limit.saturating_sub(base) / 4;
            while ids.len() > target && self.drop_oldest() {
                turns += 1;
                ids = self.prompt(pending)?.1;
            }
        }
        if ids.len() >= budget {
            return Err(Error::PromptTooLong {
                prompt: ids.len(),
                budget,
            });
        }
        params.max_new_tokens = params.max_new_tokens.min(budget - ids.len());
        let tokens = before.saturating_sub(ids.len());
        Ok((ids, Dropped { turns, tokens }))
    }
}

/// What fitting a turn dropped.
#[derive(Debug)]
pub(super) struct Dropped {
    pub turns: usize,
    pub tokens: usize,
}

pub(super) fn resolve_format(pipeline: &Pipeline, opts: &SessionOptions) -> Result<Format> {
    let sp = pipeline.tokenizer.special();
    let (bos, eos) = (sp.bos_token.as_deref(), sp.eos_token.as_deref());
    let template = match &opts.format {
        FormatChoice::Transcript => None,
        FormatChoice::Auto => match pipeline.chat_template() {
            Some(src) => Some(ChatTemplate::new(src, bos, eos)?),
            None => None,
        },
        FormatChoice::Template(None) => {
            let src = pipeline.chat_template().ok_or(Error::NoTemplate)?;
            Some(ChatTemplate::new(src, bos, eos)?)
        }
        FormatChoice::Template(Some(name)) => {
            // The preset's family tokens unless the model names its own.
            let preset = ChatTemplate::preset(name)?;
            let or_preset = |own: Option<&str>, theirs: &str| {
                own.or(Some(theirs).filter(|s| !s.is_empty()))
                    .map(str::to_owned)
            };
            let bos = or_preset(bos, preset.bos_token());
            let eos = or_preset(eos, preset.eos_token());
            Some(ChatTemplate::new(
                preset.source(),
                bos.as_deref(),
                eos.as_deref(),
            )?)
        }
    };
    Ok(match template {
        Some(template) => Format::Template {
            template: Box::new(template),
            specials: special_strings(&pipeline.tokenizer),
        },
        None => Format::Transcript(Transcript::new(&opts.user_label, &opts.bot_label)?),
    })
}
