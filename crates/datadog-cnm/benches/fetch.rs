//! `fetch/connections_7500`: one 7500-row page end to end from the bundled mock server,
//! through the facade and with bare `reqwest` + `serde_json` into the same types from the
//! same server (criterion; `fetch_ratio` measures the two side by side).

#[path = "support/client.rs"]
mod client;
#[path = "support/decode.rs"]
mod decode;
#[path = "support/fetch.rs"]
mod fetch;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

/// The allocator `ddcnm` uses (see `decode_ratio`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench(c: &mut Criterion) {
    let runtime = fetch::runtime();
    let fetch = runtime.block_on(fetch::Fetch::start());
    let mut group = c.benchmark_group("fetch/connections_7500");
    group.sample_size(20);
    group.bench_function("bare_reqwest_serde", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(fetch.plain().await) })
    });
    group.bench_function("datadog_cnm", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(fetch.facade().await) })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
