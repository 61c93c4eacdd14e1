//! Saving a session's conversation in a [`Store`] and resuming one from it.
//!
//! Each completed exchange is committed in one transaction before [`Session::send`] returns, so
//! a killed process loses at most the answer it was generating. Undo, reset and a new persona
//! change the session at once and the store at the next exchange or [`Session::save`].

use std::sync::Arc;

use samtal_generation::Pipeline;

use super::{Format, Mark, Session};
use crate::store::{Conversation, ConversationInfo, NewTurn, Store};
use crate::{Error, FormatChoice, Message, Reply, Result, SessionOptions};

/// The model a saved conversation runs on, as recorded with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelRecord {
    /// The model file or folder.
    pub path: String,
    /// [`crate::store::fingerprint`] of it.
    pub fingerprint: String,
}

/// A session's link to its stored conversation.
#[derive(Debug)]
pub(super) struct Saved {
    store: Store,
    id: String,
    model: ModelRecord,
    /// How many leading turns of the session are known to be stored as they are.
    stored: usize,
    /// The conversation's version in the store as this session last read or wrote it; `None`
    /// before its first save.
    version: Option<i64>,
}

impl Session {
    /// Saves this session's conversation in `store` under `id` (see [`crate::store::new_id`])
    /// from now on: exchanges so far are written with the next one, or by [`Session::save`].
    /// The conversation appears in the store with its first saved exchange.
    pub fn save_to(&mut self, store: Store, id: impl Into<String>, model: ModelRecord) {
        self.saved = Some(Saved {
            store,
            id: id.into(),
            model,
            stored: 0,
            version: None,
        });
    }

    /// A session that continues the stored conversation `conv` and saves into `store`: the
    /// persona, format and settings it was stored with, and its exchanges. The KV cache starts
    /// empty and the next turn prefills the conversation.
    pub fn resume(
        pipeline: Arc<Pipeline>,
        store: Store,
        conv: &Conversation,
        model: ModelRecord,
    ) -> Result<Self> {
        let mut session = Self::new(pipeline, conv.options.clone())?;
        for pair in conv.turns.chunks(2) {
            match pair {
                [u, a] if u.role == "user" && a.role == "assistant" => {
                    session.turns.push(Message::user(u.text.clone()));
                    session.turns.push(Message::assistant(a.text.clone()));
                    session
                        .marks
                        .push(match (u.status.as_str(), a.status.as_str()) {
                            ("blocked", _) => Mark::Blocked,
                            ("flagged", _) => Mark::Flagged,
                            (_, "withheld") => Mark::Withheld,
                            _ => Mark::Ok,
                        });
                }
                _ => {
                    return Err(Error::StoreData {
                        id: conv.id.clone(),
                        message: "turns do not alternate user, assistant".into(),
                    })
                }
            }
        }
        let stored = session.turns.len();
        session.saved = Some(Saved {
            store,
            id: conv.id.clone(),
            model,
            stored,
            version: Some(conv.version),
        });
        Ok(session)
    }

    /// Whether the stored conversation has moved on since this session last read or wrote it
    /// (another server replica took a turn of it): the session must then be rebuilt from the
    /// store before its next turn. False for a session that does not save.
    pub fn is_stale(&self) -> Result<bool> {
        match &self.saved {
            Some(saved) => Ok(saved.store.version(&saved.id)? != saved.version),
            None => Ok(false),
        }
    }

    /// The id of the stored conversation, when the session saves one.
    pub fn conversation_id(&self) -> Option<&str> {
        self.saved.as_ref().map(|s| s.id.as_str())
    }

    /// Writes what [`Session::undo`], [`Session::reset`], [`Session::set_system`] or a change of
    /// settings did to a saving session's stored conversation; nothing without a store, or
    /// before the conversation's first exchange.
    pub fn save(&mut self) -> Result<()> {
        let info = self.conversation_info();
        let Some(saved) = self.saved.as_mut() else {
            return Ok(());
        };
        let exists = saved.stored > 0 || !self.turns.is_empty();
        if !exists {
            // A conversation the store has never seen stays unseen until it has an exchange;
            // one emptied by a reset is emptied there too.
            match saved.store.load(&saved.id) {
                Err(Error::NoConversation(_)) => return Ok(()),
                Err(e) => return Err(e),
                Ok(_) => {}
            }
        }
        let new = unsaved_turns(&self.turns, &self.marks, saved.stored);
        saved.version =
            Some(
                saved
                    .store
                    .save_turns(&saved.id, &info, saved.stored, &new, saved.version)?,
            );
        saved.stored = self.turns.len();
        Ok(())
    }

    /// Called by undo and reset: turns from `len` on no longer match the store.
    pub(super) fn forget_saved_from(&mut self, len: usize) {
        if let Some(saved) = self.saved.as_mut() {
            saved.stored = saved.stored.min(len);
        }
    }

    /// Commits the exchange `user` + `reply` (with any earlier turns not yet stored) in one
    /// transaction; nothing when the session does not save.
    pub(super) fn persist_exchange(
        &mut self,
        user: &Message,
        reply: &Reply,
        mark: Mark,
    ) -> Result<()> {
        let info = self.conversation_info();
        let Some(saved) = self.saved.as_mut() else {
            return Ok(());
        };
        let timings = serde_json::json!({
            "prompt_tokens": reply.prompt_tokens,
            "prefill_tokens": reply.prefill_tokens,
            "generated_tokens": reply.generated_tokens,
            "ttft_ms": reply.ttft_ms,
            "tokens_per_s": reply.tokens_per_s,
            "dropped_turns": reply.dropped_turns,
        });
        let mut new = unsaved_turns(&self.turns, &self.marks, saved.stored);
        let (user_status, answer_status) = mark_statuses(mark);
        new.push(NewTurn {
            role: "user",
            text: &user.content,
            status: user_status,
            ..Default::default()
        });
        new.push(NewTurn {
            role: "assistant",
            text: &reply.text,
            token_ids: Some(&reply.token_ids),
            finish_reason: Some(reply.finish_reason.as_str()),
            timings: Some(timings),
            seed: Some(reply.seed),
            status: answer_status,
        });
        saved.version =
            Some(
                saved
                    .store
                    .save_turns(&saved.id, &info, saved.stored, &new, saved.version)?,
            );
        saved.stored = self.turns.len() + 2;
        Ok(())
    }

    /// What the store records about the conversation now: the model, the resolved format and
    /// template, and the options a resumed session is rebuilt from, with the current persona
    /// and settings.
    fn conversation_info(&self) -> ConversationInfo {
        let (path, fingerprint) = self
            .saved
            .as_ref()
            .map(|s| (s.model.path.clone(), s.model.fingerprint.clone()))
            .unwrap_or_default();
        let (format, template) = match &self.format {
            Format::Transcript(_) => ("transcript", None),
            Format::Template { .. } => (
                "template",
                match &self.opts.format {
                    FormatChoice::Template(Some(name)) => Some(name.clone()),
                    _ => self.pipeline.chat_template().map(str::to_owned),
                },
            ),
        };
        let options = SessionOptions {
            system: self.system.clone(),
            params: Some(self.params.clone()),
            // Already part of `params` (`max_chars`), which may have changed since.
            max_answer_chars: None,
            ..self.opts.clone()
        };
        ConversationInfo {
            model_path: path,
            model_fingerprint: fingerprint,
            format: format.into(),
            template,
            options,
        }
    }
}

/// The stored statuses of a user turn and its answer under `mark` (`None` is "ok").
fn mark_statuses(mark: Mark) -> (Option<&'static str>, Option<&'static str>) {
    match mark {
        Mark::Ok => (None, None),
        Mark::Flagged | Mark::Blocked => (Some(mark.as_str()), None),
        Mark::Withheld => (None, Some(mark.as_str())),
    }
}

/// The stored status of turn `i` (user turns are even).
fn turn_status(marks: &[Mark], i: usize) -> Option<&'static str> {
    let (u, a) = mark_statuses(marks.get(i / 2).copied().unwrap_or_default());
    if i.is_multiple_of(2) {
        u
    } else {
        a
    }
}

/// The turns from `stored` on, as the store takes them, with their guard marks.
fn unsaved_turns<'a>(turns: &'a [Message], marks: &[Mark], stored: usize) -> Vec<NewTurn<'a>> {
    turns[stored..]
        .iter()
        .enumerate()
        .map(|(k, m)| NewTurn {
            role: &m.role,
            text: &m.content,
            status: turn_status(marks, stored + k),
            ..Default::default()
        })
        .collect()
}
