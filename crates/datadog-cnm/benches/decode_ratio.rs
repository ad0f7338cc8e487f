//! `decode/*` against the floor, interleaved: one `IgnoredAny` pass, one pass that only
//! takes the `data` array's text, then one decode into the facade's types, repeated, so
//! all three see the same machine. On a shared or throttled machine, criterion's separate
//! measurements can drift apart by more than the difference being measured; alternating
//! them cancels that drift out of the ratios. Not a criterion benchmark: it prints one
//! line per page.
//!
//! The middle pass, `data_as_text`, is what the design costs before any row is read:
//! serde_json validates the page and hands the `data` array's text over (`RawValue`), as
//! it does for `datadog_cnm`, but nothing is decoded. The gap between it and
//! `datadog_cnm` is the hand-written row reader and the rows' allocations.
//!
//! `cargo bench -p datadog-cnm --bench decode_ratio` (`ROUNDS=200` for more rounds).

#[path = "support/decode.rs"]
mod decode;
#[path = "support/fixtures.rs"]
mod fixtures;

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::value::RawValue;

/// A page whose `data` array is kept as serde_json hands it over: validated text.
#[derive(Deserialize)]
struct DataAsText<'a> {
    #[serde(borrow)]
    data: &'a RawValue,
}

fn data_as_text(body: &[u8]) -> usize {
    match serde_json::from_slice::<DataAsText<'_>>(body) {
        Ok(page) => page.data.get().len(),
        Err(e) => panic!("fixture does not decode: {e}"),
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn median_ratio(mut ratios: Vec<f64>) -> f64 {
    ratios.sort_by(f64::total_cmp);
    ratios.get(ratios.len() / 2).copied().unwrap_or_default()
}

fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed(), out)
}

fn measure<R>(name: &str, body: &[u8], decode: fn(&[u8]) -> Vec<R>, rounds: usize) {
    let (mut floor, mut text, mut ours) = (Vec::new(), Vec::new(), Vec::new());
    let (mut text_ratios, mut ratios) = (Vec::new(), Vec::new());
    for round in 0..rounds + 5 {
        let (f, valid) = time(|| serde_json::from_slice::<serde::de::IgnoredAny>(black_box(body)));
        let (t, text_len) = time(|| data_as_text(black_box(body)));
        let (o, rows) = time(|| decode(black_box(body)));
        if valid.is_err() || text_len == 0 || rows.is_empty() {
            panic!("{name}: the fixture does not decode");
        }
        // The rows are freed outside the measurement, as in `decode/*`.
        drop(rows);
        // The first rounds warm caches and the allocator up.
        if round >= 5 {
            floor.push(f);
            text.push(t);
            ours.push(o);
            text_ratios.push(t.as_secs_f64() / f.as_secs_f64());
            ratios.push(o.as_secs_f64() / f.as_secs_f64());
        }
    }
    let (floor, text, ours) = (median(floor), median(text), median(ours));
    let over = |d: Duration| d.as_secs_f64() / floor.as_secs_f64();
    println!(
        "decode_ratio/{name}: {rounds} rounds; medians: IgnoredAny {floor:.2?}, \
         data_as_text {text:.2?} = {:.2}×, datadog_cnm {ours:.2?} = {:.2}×; \
         median of per-round ratios: data_as_text {:.2}×, datadog_cnm {:.2}×",
        over(text),
        over(ours),
        median_ratio(text_ratios),
        median_ratio(ratios),
    );
}

fn main() {
    let rounds = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(60);
    let connections = fixtures::connections_body();
    measure(
        "connections_7500",
        &connections,
        decode::connections,
        rounds,
    );
    let dns = fixtures::dns_body();
    measure("dns_7500", &dns, decode::dns, rounds);
}
