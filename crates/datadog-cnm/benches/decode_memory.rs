//! Peak heap while decoding a 7500-row page, measured with a counting global allocator.
//! Not a criterion benchmark: it prints one line per endpoint.
//!
//! `cargo bench -p datadog-cnm --bench decode_memory`

#[path = "support/decode.rs"]
mod decode;
#[path = "support/fixtures.rs"]
mod fixtures;

use peak_alloc::PeakAlloc;

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

fn measure(name: &str, make_body: fn() -> Vec<u8>, rows: fn(&[u8]) -> usize) {
    let before_body = HEAP.current_usage();
    let body = make_body();
    HEAP.reset_peak_usage();
    let decoded = rows(&body);
    let peak = HEAP.peak_usage();
    let (body_mb, mb) = (body.len() as f64 / 1e6, |bytes: usize| bytes as f64 / 1e6);
    println!(
        "decode_memory/{name}: body {body_mb:.2} MB, {decoded} rows; peak heap {:.2} MB = {:.2}× the body \
         (body included; decoding alone adds {:.2} MB = {:.2}×)",
        mb(peak - before_body),
        (peak - before_body) as f64 / body.len() as f64,
        mb(peak.saturating_sub(before_body + body.len())),
        peak.saturating_sub(before_body + body.len()) as f64 / body.len() as f64,
    );
}

fn main() {
    // `cargo test --benches` runs bench targets with `--bench`-less args; both are fine.
    measure("connections_7500", fixtures::connections_body, |body| {
        decode::connections(body).len()
    });
    measure("dns_7500", fixtures::dns_body, |body| {
        decode::dns(body).len()
    });
}
