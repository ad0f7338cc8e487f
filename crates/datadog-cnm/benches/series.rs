//! `series/24x1h`: a day in hourly windows against the mock with 50 ms of latency per
//! response, fetched 8 at a time versus one after another.

#[path = "support/client.rs"]
mod client;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use datadog_cnm::Window;
use datadog_cnm_mock::MockServer;

/// The allocator `ddcnm` uses (see `decode_ratio`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench(c: &mut Criterion) {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => panic!("tokio runtime: {e}"),
    };
    let server = runtime.block_on(
        MockServer::builder()
            .latency(Duration::from_millis(50))
            .start(),
    );
    let server = match server {
        Ok(server) => server,
        Err(e) => panic!("mock server: {e}"),
    };
    let client = crate::client::client_for(&server);
    let day = Window::last(Duration::from_secs(86_400));
    let query = client
        .connections()
        .group_by(["client_service", "server_service"])
        .limit(100);

    let mut group = c.benchmark_group("series/24x1h");
    group.sample_size(10);
    group.bench_function("sequential", |b| {
        b.to_async(&runtime).iter(|| async {
            let mut rows = 0;
            for window in day.split(Duration::from_secs(3600)).unwrap_or_default() {
                match query.clone().window(window).send().await {
                    Ok(page) => rows += page.rows.len(),
                    Err(e) => panic!("{e}"),
                }
            }
            black_box(rows)
        })
    });
    group.bench_function("concurrency_8", |b| {
        b.to_async(&runtime).iter(|| async {
            match query
                .clone()
                .series(day, Duration::from_secs(3600))
                .concurrency(8)
                .collect()
                .await
            {
                Ok(pages) => black_box(pages.len()),
                Err(e) => panic!("{e}"),
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
