//! A sequence's KV cache together with the exact token ids it holds: what lets a turn, or a
//! request that resends a growing conversation, prefill only what is new.
//!
//! The rule: cached positions are reused only after the held ids have been compared, token by
//! token, with the new prompt, and only as far as they agree. A cache belongs to one sequence
//! (one session, one worker's raw completions); nothing here ever moves a cache between
//! conversations.

use samtal_engine::{Cache, CausalLm};

/// A KV cache and the ids of the positions it holds.
#[derive(Clone, Debug)]
pub struct PrefixCache {
    cache: Cache,
    /// `ids[i]` is the token whose keys and values sit at position `i`; `ids.len() ==
    /// cache.len()` between calls.
    ids: Vec<u32>,
}

impl PrefixCache {
    /// An empty cache shaped for `lm`.
    pub fn new(lm: &dyn CausalLm) -> Self {
        Self {
            cache: lm.new_cache(),
            ids: Vec::new(),
        }
    }

    /// The token ids whose keys and values the cache holds, in order.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Cuts the cache back to the longest common prefix of the ids it holds and `prompt`, and
    /// returns how many positions are kept (what the prompt need not prefill).
    pub fn reuse(&mut self, prompt: &[u32]) -> usize {
        let keep = common_prefix(&self.ids, prompt);
        self.roll_back(keep);
        keep
    }

    /// Records that a generation ran `prompt` and produced `generated`: the cache holds a
    /// prefix of the two (usually all but the last generated token, which ended generation
    /// without being run).
    pub fn commit(&mut self, prompt: &[u32], generated: &[u32]) {
        let mut held = Vec::with_capacity(prompt.len() + generated.len());
        held.extend_from_slice(prompt);
        held.extend_from_slice(generated);
        held.truncate(self.cache.len());
        self.ids = held;
    }

    /// Keeps the first `keep` positions, at most: after a failed step, what the cache holds
    /// past the reused prefix is unknown.
    pub fn roll_back(&mut self, keep: usize) {
        let n = keep.min(self.cache.len()).min(self.ids.len());
        self.cache.truncate(n);
        self.ids.truncate(n);
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.cache.reset();
        self.ids.clear();
    }

    /// The cache itself, for the decode loop.
    pub(crate) fn cache_mut(&mut self) -> &mut Cache {
        &mut self.cache
    }
}

fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_prefix_counts_equal_leading_ids() {
        assert_eq!(common_prefix(&[1, 2, 3], &[1, 2, 4, 5]), 2);
        assert_eq!(common_prefix(&[], &[1]), 0);
        assert_eq!(common_prefix(&[1, 2], &[1, 2]), 2);
    }
}
