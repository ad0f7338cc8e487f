//! `series/ratelimited_48x_c32_5rps`: 48 windows at concurrency 32 against the mock with a
//! rate limit of 5 requests per second, on the real clock: the wall time against the
//! limit's bound (48 / 5 × 1 s = 9.6 s) and the 429s the server counted. Not a criterion
//! benchmark (one run takes about ten seconds): it prints one line per run.
//!
//! `cargo bench -p datadog-cnm --bench ratelimited` (`RUNS=3` for more runs).

#[path = "support/client.rs"]
mod client;
#[path = "support/decode.rs"]
mod decode;
#[path = "support/fetch.rs"]
mod fetch;

use std::time::{Duration, Instant};

use datadog_cnm::Window;
use datadog_cnm_mock::MockServer;

/// The allocator `ddcnm` uses (see `decode_ratio`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const WINDOWS: u32 = 48;
const LIMIT: u32 = 5;

fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    let runtime = fetch::runtime();
    for run in 1..=runs {
        let (took, limited, requests) = runtime.block_on(series());
        let bound = f64::from(WINDOWS) / f64::from(LIMIT);
        println!(
            "series/ratelimited_48x_c32_5rps run {run}: {took:.2} s for a {bound:.1} s bound \
             ({:.3}×), {limited} × 429 of {requests} requests",
            took / bound
        );
    }
}

async fn series() -> (f64, u64, u64) {
    let server = match MockServer::builder()
        .rate_limit(LIMIT, Duration::from_secs(1))
        .start()
        .await
    {
        Ok(server) => server,
        Err(e) => panic!("mock server: {e}"),
    };
    let client = crate::client::client_for(&server);
    let day = Window::last(Duration::from_secs(86_400));
    let started = Instant::now();
    let pages = client
        .connections()
        .group_by(["client_service"])
        .limit(2)
        .series(day, Duration::from_secs(1800))
        .concurrency(32)
        .collect()
        .await;
    let took = started.elapsed().as_secs_f64();
    match pages {
        Ok(pages) => assert_eq!(pages.len(), WINDOWS as usize),
        Err(e) => panic!("series: {e}"),
    }
    let stats = server.stats();
    (took, stats.too_many_requests, stats.requests)
}
