//! `fetch/connections_7500`: one 7500-row page end to end from the bundled mock server,
//! through the facade (validation, transport, retries armed, decode, mapping) and with
//! bare `reqwest` + `serde_json` into the same types from the same server.

#[path = "support/decode.rs"]
mod decode;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use datadog_cnm::{Client, Window};
use datadog_cnm_mock::MockServer;

const GROUP_BY: &str = "client_host,server_host";

fn bench(c: &mut Criterion) {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => panic!("tokio runtime: {e}"),
    };
    let server = match runtime.block_on(MockServer::start()) {
        Ok(server) => server,
        Err(e) => panic!("mock server: {e}"),
    };
    let client = match Client::builder()
        .base_url(server.url())
        .api_key("bench")
        .app_key("bench")
        .build()
    {
        Ok(client) => client,
        Err(e) => panic!("client: {e}"),
    };
    let window = Window::last(Duration::from_secs(3600));
    let url = format!(
        "{}/api/v2/network/connections/aggregate?from={}&to={}&group_by={GROUP_BY}&limit=7500",
        server.url(),
        window.from_unix_secs(),
        window.to_unix_secs()
    );
    let bare = reqwest::Client::new();

    let facade = || async {
        let page = client
            .connections()
            .window(window)
            .group_by(GROUP_BY.split(','))
            .limit(7500)
            .send()
            .await;
        match page {
            Ok(page) => page.rows.len(),
            Err(e) => panic!("facade fetch: {e}"),
        }
    };
    let plain = || async {
        let response = bare
            .get(&url)
            .header("DD-API-KEY", "bench")
            .header("DD-APPLICATION-KEY", "bench")
            .send()
            .await;
        let body = match response {
            Ok(response) => response.bytes().await,
            Err(e) => panic!("bare fetch: {e}"),
        };
        match body {
            Ok(body) => decode::connections(&body).len(),
            Err(e) => panic!("bare body: {e}"),
        }
    };
    assert_eq!(
        runtime.block_on(facade()),
        7500,
        "the mock must fill a 7500-row page"
    );
    assert_eq!(runtime.block_on(plain()), 7500);

    let mut group = c.benchmark_group("fetch/connections_7500");
    group.sample_size(20);
    group.bench_function("bare_reqwest_serde", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(plain().await) })
    });
    group.bench_function("datadog_cnm", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(facade().await) })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
