//! Replacing a session's conversation wholesale: how a stateless API request becomes a turn.

use super::{Mark, Session};
use crate::{Error, Message, Result};

impl Session {
    /// Replaces the conversation with `messages` (an optional leading system message, then
    /// user and assistant messages alternating, starting with a user message), keeping the KV
    /// cache: the next turn reuses whatever prefix of it the new prompt shares, checked token by
    /// token. This is how a stateless API request becomes a turn.
    pub fn set_history(&mut self, messages: &[Message]) -> Result<()> {
        let (system, rest) = match messages.first() {
            Some(m) if m.role == "system" => (Some(m.content.clone()), &messages[1..]),
            _ => (None, messages),
        };
        let mut turns = Vec::with_capacity(rest.len());
        for (i, m) in rest.iter().enumerate() {
            let want = if i % 2 == 0 { "user" } else { "assistant" };
            if m.role != want {
                return Err(Error::InvalidOption {
                    name: "messages",
                    message: format!(
                        "message {} has role {:?} where {want:?} was expected (after an optional \
                         system message, user and assistant messages must alternate)",
                        i + usize::from(system.is_some()),
                        m.role
                    ),
                });
            }
            turns.push(m.clone());
        }
        if turns.len() % 2 != 0 {
            return Err(Error::InvalidOption {
                name: "messages",
                message: "the history must end with an assistant message".into(),
            });
        }
        self.set_system(system.unwrap_or_default());
        self.marks = vec![Mark::Ok; turns.len() / 2];
        self.turns = turns;
        self.window_start = 0;
        self.forget_saved_from(0);
        Ok(())
    }
}
