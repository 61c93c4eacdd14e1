//! The KV cache of one sequence. It belongs to a session, not to the model: models are `&self`
//! and shared, each conversation owns its cache.

/// Keys and values of one layer, laid out `(pos, n_kv_heads * head_dim)`.
#[derive(Clone, Debug, Default)]
pub(crate) struct LayerCache {
    pub k: Vec<f32>,
    pub v: Vec<f32>,
}

impl LayerCache {
    /// Appends keys and values (`kv_dim` floats per position). Memory grows in steps of 256
    /// positions, exactly, rather than doubling: a cache is the largest allocation of a long
    /// conversation, and doubling would leave up to half of it unused.
    pub(crate) fn append(&mut self, k: &[f32], v: &[f32], kv_dim: usize) {
        for (buf, new) in [(&mut self.k, k), (&mut self.v, v)] {
            let need = buf.len() + new.len();
            if need > buf.capacity() {
                let step = 256 * kv_dim.max(1);
                buf.reserve_exact(need.next_multiple_of(step) - buf.len());
            }
            buf.extend_from_slice(new);
        }
    }
}

/// A sequence's KV cache: append as tokens are processed, truncate to reuse a prefix, reset.
#[derive(Clone, Debug)]
pub struct Cache {
    pub(crate) layers: Vec<LayerCache>,
    kv_dim: usize,
    len: usize,
}

impl Cache {
    pub fn new(n_layers: usize, kv_dim: usize) -> Self {
        Self {
            layers: vec![LayerCache::default(); n_layers],
            kv_dim,
            len: 0,
        }
    }

    /// Number of positions held.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keeps the first `n` positions (prefix reuse). Does nothing if `n >= len`.
    pub fn truncate(&mut self, n: usize) {
        if n >= self.len {
            return;
        }
        for l in &mut self.layers {
            l.k.truncate(n * self.kv_dim);
            l.v.truncate(n * self.kv_dim);
        }
        self.len = n;
    }

    /// Forgets everything, keeping the allocation.
    pub fn reset(&mut self) {
        self.truncate(0);
    }

    /// Bytes held by keys and values.
    pub fn memory_bytes(&self) -> usize {
        self.layers
            .iter()
            .map(|l| (l.k.len() + l.v.len()) * 4)
            .sum()
    }

    /// Records that every layer appended `n` positions. Called by models (including ones written
    /// outside this crate, such as test doubles).
    pub fn advance(&mut self, n: usize) {
        self.len += n;
    }
}
