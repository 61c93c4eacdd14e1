//! Prometheus text metrics: requests by route and status, tokens, time to first token and
//! tokens/s histograms, queue depth, prefix-cache hits.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::worker::Summary;

const TTFT_BUCKETS_MS: [f64; 9] = [
    25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
];
const TPS_BUCKETS: [f64; 8] = [5.0, 10.0, 25.0, 50.0, 100.0, 200.0, 400.0, 800.0];

#[derive(Debug, Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    n: u64,
}

impl Histogram {
    fn observe(&mut self, bounds: &[f64], v: f64) {
        if self.counts.len() != bounds.len() {
            self.counts = vec![0; bounds.len()];
        }
        for (c, b) in self.counts.iter_mut().zip(bounds) {
            if v <= *b {
                *c += 1;
            }
        }
        self.sum += v;
        self.n += 1;
    }

    fn write(&self, out: &mut String, name: &str, bounds: &[f64]) {
        let _ = writeln!(out, "# TYPE {name} histogram");
        for (i, b) in bounds.iter().enumerate() {
            let c = self.counts.get(i).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {c}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", self.n);
        let _ = writeln!(out, "{name}_sum {}", self.sum);
        let _ = writeln!(out, "{name}_count {}", self.n);
    }
}

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    prompt_tokens: AtomicU64,
    generated_tokens: AtomicU64,
    prefix_hits: AtomicU64,
    ttft: Mutex<Histogram>,
    tps: Mutex<Histogram>,
}

impl Metrics {
    pub fn record_request(&self, route: &str, status: u16) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route.to_owned(), status)).or_default() += 1;
        }
    }

    pub fn record_generation(&self, s: &Summary) {
        self.prompt_tokens
            .fetch_add(s.prompt_tokens as u64, Ordering::Relaxed);
        self.generated_tokens
            .fetch_add(s.completion_tokens as u64, Ordering::Relaxed);
        if s.prefill_tokens < s.prompt_tokens {
            self.prefix_hits.fetch_add(1, Ordering::Relaxed);
        }
        if s.completion_tokens > 0 {
            if let Ok(mut h) = self.ttft.lock() {
                h.observe(&TTFT_BUCKETS_MS, s.ttft_ms);
            }
            if let Ok(mut h) = self.tps.lock() {
                h.observe(&TPS_BUCKETS, s.tokens_per_s);
            }
        }
    }

    /// The Prometheus exposition text.
    pub fn render(&self, queued: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# TYPE samtal_requests_total counter");
        if let Ok(m) = self.requests.lock() {
            for ((route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "samtal_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        for (name, v) in [
            ("samtal_prompt_tokens_total", &self.prompt_tokens),
            ("samtal_generated_tokens_total", &self.generated_tokens),
            ("samtal_prefix_cache_hits_total", &self.prefix_hits),
        ] {
            let _ = writeln!(
                out,
                "# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# TYPE samtal_queue_depth gauge\nsamtal_queue_depth {queued}"
        );
        if let Ok(h) = self.ttft.lock() {
            h.write(&mut out, "samtal_time_to_first_token_ms", &TTFT_BUCKETS_MS);
        }
        if let Ok(h) = self.tps.lock() {
            h.write(&mut out, "samtal_tokens_per_second", &TPS_BUCKETS);
        }
        out
    }
}
