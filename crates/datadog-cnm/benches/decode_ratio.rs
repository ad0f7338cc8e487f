//! `decode/*` against the floor, interleaved: one `IgnoredAny` pass, one pass that only
//! collects each row's text, then one decode into the facade's types, repeated, so all
//! three see the same machine. On a shared or throttled machine, criterion's separate
//! measurements can drift apart by more than the difference being measured; alternating
//! them cancels that drift out of the ratios. Not a criterion benchmark: it prints one
//! line per page.
//!
//! The middle pass, `rows_as_text`, is what the design costs before any row is read:
//! serde_json validates each row and hands its text over (`RawValue`), as it does for
//! `datadog_cnm`, and the page vector is filled, but nothing is decoded. The gap between
//! it and `datadog_cnm` is the hand-written row reader and the rows' allocations.
//!
//! `cargo bench -p datadog-cnm --bench decode_ratio` (`ROUNDS=200` for more rounds).

#[path = "support/decode.rs"]
mod decode;
#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/ratio.rs"]
mod ratio;

use std::hint::black_box;

use ratio::{Rounds, time};

use serde::Deserialize;
use serde_json::value::RawValue;

/// The allocator `ddcnm` uses. Under glibc's, freeing and re-growing the heap around each
/// multi-megabyte page costs page faults that depend on the order of earlier allocations
/// (see docs/benchmarks.md); mimalloc keeps its pages, so the ratio measures decoding.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A page whose rows are kept as serde_json hands them over: validated text.
#[derive(Deserialize)]
struct RowsAsText<'a> {
    #[serde(borrow)]
    data: Vec<&'a RawValue>,
}

fn rows_as_text(body: &[u8]) -> usize {
    match serde_json::from_slice::<RowsAsText<'_>>(body) {
        Ok(page) => page.data.len(),
        Err(e) => panic!("fixture does not decode: {e}"),
    }
}

fn measure<R>(name: &str, body: &[u8], decode: fn(&[u8]) -> Vec<R>, rounds: usize) {
    let mut measured = Rounds::new(&["IgnoredAny", "rows_as_text", "datadog_cnm"]);
    for round in 0..rounds + 5 {
        let (f, valid) = time(|| serde_json::from_slice::<serde::de::IgnoredAny>(black_box(body)));
        let (t, texts) = time(|| rows_as_text(black_box(body)));
        let (o, rows) = time(|| decode(black_box(body)));
        if valid.is_err() || texts != rows.len() || rows.is_empty() {
            panic!("{name}: the fixture does not decode");
        }
        // The rows are freed outside the measurement, as in `decode/*`.
        drop(rows);
        // The first rounds warm caches and the allocator up.
        if round >= 5 {
            measured.push(&[f, t, o]);
        }
    }
    println!("decode_ratio/{}", measured.report(name));
}

fn main() {
    let rounds = ratio::rounds(60);
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
