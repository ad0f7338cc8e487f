//! One 7500-row connections page from the bundled mock, two ways: through the facade
//! (validation, admission, retries armed, the seam, decode, mapping) and with bare
//! `reqwest` + `serde_json` into the same row type.

// Each bench target uses its own subset of these helpers.
#![allow(dead_code)]

use std::time::Duration;

use datadog_cnm::{Client, Window};
use datadog_cnm_mock::MockServer;

use crate::decode;

const GROUP_BY: &str = "client_host,server_host";

/// A mock server, a facade client of it, and the plain request a bare client sends.
pub struct Fetch {
    /// Kept alive for the benchmark's duration.
    _server: MockServer,
    client: Client,
    window: Window,
    url: String,
    bare: reqwest::Client,
}

impl Fetch {
    /// Start the mock on the current runtime and check that both ways fill a page.
    pub async fn start() -> Self {
        let server = match MockServer::start().await {
            Ok(server) => server,
            Err(e) => panic!("mock server: {e}"),
        };
        let client = crate::client::client_for(&server);
        let window = Window::last(Duration::from_secs(3600));
        let url = format!(
            "{}/api/v2/network/connections/aggregate?from={}&to={}&group_by={GROUP_BY}&limit=7500",
            server.url(),
            window.from_unix_secs(),
            window.to_unix_secs()
        );
        let fetch = Self {
            _server: server,
            client,
            window,
            url,
            bare: reqwest::Client::new(),
        };
        assert_eq!(
            fetch.facade().await,
            7500,
            "the mock must fill a 7500-row page"
        );
        assert_eq!(fetch.plain().await, 7500);
        fetch
    }

    /// The page through the facade; its number of rows.
    pub async fn facade(&self) -> usize {
        let page = self
            .client
            .connections()
            .window(self.window)
            .group_by(GROUP_BY.split(','))
            .limit(7500)
            .send()
            .await;
        match page {
            Ok(page) => page.rows.len(),
            Err(e) => panic!("facade fetch: {e}"),
        }
    }

    /// The page with bare reqwest and serde_json; its number of rows.
    pub async fn plain(&self) -> usize {
        let response = self
            .bare
            .get(&self.url)
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
    }
}

/// The runtime the benchmarks run on: two workers, as `ddcnm` uses.
pub fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => panic!("tokio runtime: {e}"),
    }
}
