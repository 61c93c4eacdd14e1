//! SentencePiece (`tokenizer.ggml.model == "llama"`) vocabularies as a HF BPE model.
//!
//! llama.cpp's `llm_tokenizer_spm` starts from single characters and repeatedly merges the
//! adjacent pair whose concatenation is a vocabulary piece with the highest score (leftmost on
//! ties); pieces it cannot find fall back to `<0xNN>` byte tokens. A BPE model whose merge ranks
//! follow the merged piece's score does the same, which is how HF converts these vocabularies
//! (transformers' `SentencePieceExtractor` / `generate_merges`): every split of a piece into two
//! pieces is a merge, ordered by the piece's score, descending.

/// Derives BPE merges from piece scores. `vocab` maps each piece to the id that owns it (the last
/// of duplicates, as in llama.cpp); duplicates' other ids never become merge targets.
pub(crate) fn merges_from_scores(
    tokens: &[String],
    scores: &[f32],
    vocab: &ahash::AHashMap<String, u32>,
) -> Vec<(String, String)> {
    // (score, piece id, left id, right id, split byte offset)
    let mut found: Vec<(f32, u32, u32, u32, usize)> = Vec::new();
    for (id, piece) in tokens.iter().enumerate() {
        let id = id as u32;
        if vocab.get(piece) != Some(&id) {
            continue;
        }
        let score = scores.get(id as usize).copied().unwrap_or(0.0);
        for (split, _) in piece.char_indices().skip(1) {
            let (left, right) = piece.split_at(split);
            if let (Some(&l), Some(&r)) = (vocab.get(left), vocab.get(right)) {
                found.push((score, id, l, r, split));
            }
        }
    }
    // Higher score merges first; ties in the order transformers' stable sort leaves them
    // (piece id, then the halves' ids).
    found.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then(a.2.cmp(&b.2))
            .then(a.3.cmp(&b.3))
    });
    found
        .into_iter()
        .map(|(_, id, _, _, split)| {
            let (left, right) = tokens[id as usize].split_at(split);
            (left.to_owned(), right.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_follow_the_merged_piece_score() {
        let tokens: Vec<String> = ["a", "b", "c", "ab", "bc", "abc"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let scores = [0.0, 0.0, 0.0, -5.0, -1.0, -3.0];
        let vocab = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        let merges = merges_from_scores(&tokens, &scores, &vocab);
        let pairs: Vec<(&str, &str)> = merges
            .iter()
            .map(|(l, r)| (l.as_str(), r.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![("b", "c"), ("a", "bc"), ("ab", "c"), ("a", "b")]
        );
    }
}
