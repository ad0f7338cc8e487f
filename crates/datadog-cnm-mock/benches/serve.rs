//! How long a full 7500-row page takes, over loopback (request → last byte of the body) and for
//! the data layer alone, over an hour and over a year. Target: under 100 ms per page for both
//! endpoints, whatever the window.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use datadog_cnm_mock::{CONNECTIONS_PATH, DNS_PATH, Dataset, MockServer, Scenario};

/// A fixed clock and a one-hour window keep every iteration's work identical.
const TO: u64 = 1_800_000_000;
const FROM: u64 = TO - 3_600;
/// A year before `TO`, for the longest windows.
const YEAR_AGO: u64 = TO - 365 * 86_400;

fn pages() -> [(String, &'static str, String); 2] {
    pages_from(FROM, "")
}

fn pages_from(from: u64, suffix: &str) -> [(String, &'static str, String); 2] {
    [
        (
            format!("connections{suffix}"),
            CONNECTIONS_PATH,
            format!("from={from}&to={TO}&group_by=client_host,server_host&limit=7500"),
        ),
        (
            format!("dns{suffix}"),
            DNS_PATH,
            format!("from={from}&to={TO}&group_by=network.dns_query,client_host&limit=7500"),
        ),
    ]
}

fn over_loopback(c: &mut Criterion) {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => panic!("cannot build a Tokio runtime: {e}"),
    };
    // The default scenario, its incidents in the benchmark's window.
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(TO);
    let server = match runtime.block_on(MockServer::builder().now(now).start()) {
        Ok(server) => server,
        Err(e) => panic!("cannot start the mock server: {e}"),
    };
    let http = reqwest::Client::new();
    let mut group = c.benchmark_group("serve_7500_rows");
    group.measurement_time(Duration::from_secs(10));
    for (name, path, query) in pages() {
        let url = format!("{}{path}?{query}", server.url());
        group.bench_function(&name, |b| {
            b.to_async(&runtime).iter(|| async {
                let response = http
                    .get(&url)
                    .header("DD-API-KEY", "bench")
                    .header("DD-APPLICATION-KEY", "bench")
                    .send()
                    .await;
                let body = match response {
                    Ok(response) if response.status() == 200 => response.bytes().await,
                    Ok(response) => panic!("unexpected status {}", response.status()),
                    Err(e) => panic!("request failed: {e}"),
                };
                match body {
                    Ok(body) => black_box(body.len()),
                    Err(e) => panic!("body failed: {e}"),
                }
            });
        });
    }
    group.finish();
    runtime.block_on(server.shutdown());
}

fn data_layer(c: &mut Criterion) {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(TO);
    let data = Dataset::with_scenario(datadog_cnm_mock::DEFAULT_SEED, Scenario::Default, now);
    let mut group = c.benchmark_group("body_7500_rows");
    let [hour_conn, hour_dns] = pages();
    let [year_conn, year_dns] = pages_from(YEAR_AGO, "_one_year");
    for (name, path, query) in [hour_conn, hour_dns, year_conn, year_dns] {
        group.bench_function(&name, |b| {
            b.iter(|| {
                let body = if path == DNS_PATH {
                    data.dns_body(&query, now)
                } else {
                    data.connections_body(&query, now)
                };
                match body {
                    Ok(body) => black_box(body.len()),
                    Err(e) => panic!("{e}"),
                }
            });
        });
    }
    group.finish();
    c.bench_function("generate_topology", |b| {
        b.iter(|| black_box(Dataset::new(black_box(7)).connection_flow_count()));
    });
}

criterion_group!(benches, over_loopback, data_layer);
criterion_main!(benches);
