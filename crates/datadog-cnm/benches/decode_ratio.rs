//! `decode/*` against the floor, interleaved: one `IgnoredAny` pass, then one decode into
//! the facade's types, repeated, so both see the same machine. On a shared or throttled
//! machine, criterion's separate measurements of the two can drift apart by more than the
//! difference being measured; alternating them cancels that drift out of the ratio.
//! Not a criterion benchmark: it prints one line per page.
//!
//! `cargo bench -p datadog-cnm --bench decode_ratio` (`ROUNDS=200` for more rounds).

#[path = "support/decode.rs"]
mod decode;
#[path = "support/fixtures.rs"]
mod fixtures;

use std::hint::black_box;
use std::time::{Duration, Instant};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed(), out)
}

fn measure<R>(name: &str, body: &[u8], decode: fn(&[u8]) -> Vec<R>, rounds: usize) {
    let (mut floor, mut ours, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds + 5 {
        let (f, valid) = time(|| serde_json::from_slice::<serde::de::IgnoredAny>(black_box(body)));
        let (o, rows) = time(|| decode(black_box(body)));
        if valid.is_err() || rows.is_empty() {
            panic!("{name}: the fixture does not decode");
        }
        // The rows are freed outside the measurement, as in `decode/*`.
        drop(rows);
        // The first rounds warm caches and the allocator up.
        if round >= 5 {
            floor.push(f);
            ours.push(o);
            ratios.push(o.as_secs_f64() / f.as_secs_f64());
        }
    }
    ratios.sort_by(f64::total_cmp);
    let (floor, ours) = (median(floor), median(ours));
    println!(
        "decode_ratio/{name}: {rounds} rounds; median IgnoredAny {floor:.2?}, median datadog_cnm {ours:.2?} \
         = {:.2}×; median of per-round ratios {:.2}×",
        ours.as_secs_f64() / floor.as_secs_f64(),
        ratios.get(ratios.len() / 2).copied().unwrap_or_default(),
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
