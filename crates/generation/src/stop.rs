//! Stop strings over streamed text, with hold-back.
//!
//! Text that could still be the start of a stop string is held back; it is released as soon as
//! it cannot be, and flushed at the end of generation. A stop string can span any number of
//! tokens and is never part of the output.

/// Watches generated text for stop strings.
#[derive(Clone, Debug, Default)]
pub struct StopMatcher {
    stops: Vec<String>,
    /// Text received but not yet released.
    pending: String,
}

/// The outcome of feeding text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fed {
    /// Text safe to emit now (may be empty while a possible stop is held back).
    Emit(String),
    /// A stop string matched: emit this text, then stop.
    Stop { text: String, stop: String },
}

impl StopMatcher {
    pub fn new(stops: &[String]) -> Self {
        Self {
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
            pending: String::new(),
        }
    }

    /// Feeds newly decoded text.
    pub fn feed(&mut self, delta: &str) -> Fed {
        self.pending.push_str(delta);
        // The earliest match wins; among matches at the same place, the longest.
        let hit = self
            .stops
            .iter()
            .filter_map(|s| self.pending.find(s.as_str()).map(|i| (i, s)))
            .min_by(|a, b| a.0.cmp(&b.0).then(b.1.len().cmp(&a.1.len())));
        if let Some((i, stop)) = hit {
            let stop = stop.clone();
            let text = self.pending[..i].to_owned();
            self.pending.clear();
            return Fed::Stop { text, stop };
        }
        let hold = self.held_suffix_len();
        let cut = self.pending.len() - hold;
        let text = self.pending[..cut].to_owned();
        self.pending.drain(..cut);
        Fed::Emit(text)
    }

    /// Releases whatever is held back (end of generation for another reason).
    pub fn flush(&mut self) -> String {
        std::mem::take(&mut self.pending)
    }

    /// Length of the longest suffix of `pending` that is a proper prefix of some stop string,
    /// at a character boundary.
    fn held_suffix_len(&self) -> usize {
        let p = &self.pending;
        let mut best = 0;
        for s in &self.stops {
            let max = (s.len() - 1).min(p.len());
            for len in (best + 1..=max).rev() {
                let start = p.len() - len;
                if p.is_char_boundary(start) && s.as_bytes().starts_with(&p.as_bytes()[start..]) {
                    best = len;
                    break;
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stops: &[&str], deltas: &[&str]) -> (String, Option<String>) {
        let stops: Vec<String> = stops.iter().map(|s| s.to_string()).collect();
        let mut m = StopMatcher::new(&stops);
        let mut out = String::new();
        for d in deltas {
            match m.feed(d) {
                Fed::Emit(t) => out.push_str(&t),
                Fed::Stop { text, stop } => {
                    out.push_str(&text);
                    return (out, Some(stop));
                }
            }
        }
        out.push_str(&m.flush());
        (out, None)
    }

    #[test]
    fn stop_across_pieces_is_excluded() {
        assert_eq!(
            run(
                &["\nMe:"],
                &["Hello", " there", "\n", "M", "e", ":", " more"]
            ),
            ("Hello there".into(), Some("\nMe:".into()))
        );
    }

    #[test]
    fn held_text_is_released_when_it_is_not_a_stop() {
        let stops = vec!["\nMe:".to_string()];
        let mut m = StopMatcher::new(&stops);
        assert_eq!(m.feed("Hi\nM"), Fed::Emit("Hi".into()));
        assert_eq!(m.feed("ore"), Fed::Emit("\nMore".into()));
    }

    #[test]
    fn partial_stop_is_flushed_at_the_end() {
        assert_eq!(run(&["STOP"], &["go ", "ST"]), ("go ST".into(), None));
    }

    #[test]
    fn earliest_of_several_stops_wins() {
        assert_eq!(
            run(&["world", "lo w"], &["hello world"]),
            ("hel".into(), Some("lo w".into()))
        );
    }

    #[test]
    fn multibyte_text_is_never_split() {
        // "é" is two bytes; a stop starting with its first byte must not cut it.
        let (out, stop) = run(&["éx"], &["café", "é", "y"]);
        assert_eq!((out.as_str(), stop), ("cafééy", None));
    }

    #[test]
    fn no_stops_passes_everything_through() {
        assert_eq!(run(&[], &["a", "b"]), ("ab".into(), None));
    }
}
