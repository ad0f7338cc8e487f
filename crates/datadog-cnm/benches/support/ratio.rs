//! Side-by-side measurement: two or more passes run back to back in every round, so all
//! of them see the same machine, and the ratios are taken per round. On a shared or
//! throttled machine, separate measurements drift apart by more than the differences
//! being measured; alternating them cancels that drift out of the ratios.

// Each bench target uses its own subset of these helpers.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// Rounds to measure, from `ROUNDS` (default `default`).
pub fn rounds(default: usize) -> usize {
    std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(default)
}

/// The median of `samples`.
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// The median of `ratios`.
pub fn median_ratio(mut ratios: Vec<f64>) -> f64 {
    ratios.sort_by(f64::total_cmp);
    ratios.get(ratios.len() / 2).copied().unwrap_or_default()
}

/// How long `f` took, and what it returned.
pub fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed(), out)
}

/// Per-pass samples of an interleaved measurement, against the first pass (the base).
pub struct Rounds {
    names: Vec<&'static str>,
    samples: Vec<Vec<Duration>>,
}

impl Rounds {
    /// Passes named `names`, the first one the base the others are compared with.
    pub fn new(names: &[&'static str]) -> Self {
        Self {
            names: names.to_vec(),
            samples: vec![Vec::new(); names.len()],
        }
    }

    /// Record one round: one duration per pass, in `names` order.
    pub fn push(&mut self, round: &[Duration]) {
        for (samples, sample) in self.samples.iter_mut().zip(round) {
            samples.push(*sample);
        }
    }

    /// `<name>: N rounds; medians: base …, pass … = r×, …; median of per-round ratios: …`.
    pub fn report(&self, name: &str) -> String {
        let base = &self.samples[0];
        let medians: Vec<Duration> = self.samples.iter().map(|s| median(s.clone())).collect();
        let mut text = format!(
            "{name}: {} rounds; medians: {} {:.2?}",
            base.len(),
            self.names[0],
            medians[0]
        );
        for (i, pass) in self.names.iter().enumerate().skip(1) {
            let over = medians[i].as_secs_f64() / medians[0].as_secs_f64();
            text.push_str(&format!(", {pass} {:.2?} = {over:.2}×", medians[i]));
        }
        text.push_str("; median of per-round ratios:");
        for (i, pass) in self.names.iter().enumerate().skip(1) {
            let ratios = self.samples[i]
                .iter()
                .zip(base)
                .map(|(d, b)| d.as_secs_f64() / b.as_secs_f64())
                .collect();
            text.push_str(&format!(" {pass} {:.2}×", median_ratio(ratios)));
        }
        text
    }
}
