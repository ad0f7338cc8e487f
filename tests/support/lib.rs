//! Shared fixtures and helpers for the workspace integration tests.
//!
//! Fixtures are written here, by hand, from the public documentation of the CNM API; the
//! tests never read files outside this repository.

// Test code: a panic that shows the error is the right way to fail (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use httpmock::HttpMockRequest;

/// The connections example of the API documentation, extended with the six TCP
/// congestion metrics added upstream after it was written (all 17 metrics present).
pub const CONNECTIONS_DOC_EXAMPLE: &str = r#"{
  "data": [
    {
      "attributes": {
        "bytes_sent_by_client": 100,
        "bytes_sent_by_server": 200,
        "group_bys": {"client_team": ["networks"], "server_service": ["hucklebuck"]},
        "packets_sent_by_client": 10,
        "packets_sent_by_server": 20,
        "rtt_micro_seconds": 800,
        "tcp_closed_connections": 30,
        "tcp_delivered_ce": 4,
        "tcp_established_connections": 40,
        "tcp_probe0_count": 1,
        "tcp_rcv_ooo_pack": 3,
        "tcp_recovery_count": 2,
        "tcp_refusals": 7,
        "tcp_reord_seen": 9,
        "tcp_resets": 5,
        "tcp_retransmits": 31,
        "tcp_rto_count": 11,
        "tcp_timeouts": 6
      },
      "id": "client_team:networks, server_service:hucklebuck",
      "type": "aggregated_connection"
    }
  ]
}"#;

/// The DNS example of the API documentation.
pub const DNS_DOC_EXAMPLE: &str = r#"{
  "data": [
    {
      "attributes": {
        "group_bys": [
          {"key": "client_service", "value": "example-service"},
          {"key": "network.dns_query", "value": "example.com"}
        ],
        "metrics": [
          {"key": "dns_total_requests", "value": 100},
          {"key": "dns_failures", "value": 7},
          {"key": "dns_successful_responses", "value": 93},
          {"key": "dns_failed_responses", "value": 5},
          {"key": "dns_timeouts", "value": 2},
          {"key": "dns_responses.nxdomain", "value": 1},
          {"key": "dns_responses.servfail", "value": 1},
          {"key": "dns_responses.other", "value": 3},
          {"key": "dns_success_latency_percentile", "value": 50},
          {"key": "dns_failure_latency_percentile", "value": 75}
        ]
      },
      "id": "client_service:example-service,network.dns_query:example.com",
      "type": "aggregated_dns"
    }
  ]
}"#;

/// A DNS body from a newer server: a metric key the spec does not list yet, and extra
/// fields at every level.
pub const DNS_WITH_UNKNOWN_KEY: &str = r#"{
  "data": [
    {
      "attributes": {
        "group_bys": [{"key": "network.dns_query", "value": "api.example.com", "origin": "agent"}],
        "metrics": [
          {"key": "dns_total_requests", "value": 12},
          {"key": "dns_responses.refused", "value": 2, "unit": "count"}
        ],
        "sampled": true
      },
      "id": "network.dns_query:api.example.com",
      "type": "aggregated_dns",
      "relationships": {}
    }
  ],
  "meta": {"page": 1}
}"#;

/// A connections body with a field the spec does not know.
pub const CONNECTIONS_WITH_UNKNOWN_FIELD: &str = r#"{
  "data": [
    {
      "attributes": {
        "bytes_sent_by_client": 1,
        "group_bys": {"client_service": ["web"]},
        "tcp_zero_window_seconds": 12
      },
      "id": "client_service:web",
      "type": "aggregated_connection"
    }
  ]
}"#;

/// The API key the facade tests use (distinctive, so a leak is easy to find).
pub const API_KEY: &str = "test-api-key-0123456789abcdef";
/// The application key the facade tests use.
pub const APP_KEY: &str = "test-app-key-fedcba9876543210fedcba98";
/// The bearer token the facade tests use.
pub const TOKEN: &str = "test-bearer-token-abcdef";
/// `GetAggregatedConnections`' path.
pub const CONNECTIONS_PATH: &str = "/api/v2/network/connections/aggregate";

/// A facade client for `base_url` with the test keys and the default retry policy.
pub fn client(base_url: &str) -> datadog_cnm::Client {
    datadog_cnm::Client::builder()
        .base_url(base_url)
        .api_key(API_KEY)
        .app_key(APP_KEY)
        .build()
        .expect("client")
}

/// A facade client for `base_url` with the test keys and retries disabled.
pub fn keyed_client(base_url: &str) -> datadog_cnm::Client {
    datadog_cnm::Client::builder()
        .base_url(base_url)
        .api_key(API_KEY)
        .app_key(APP_KEY)
        .retry(datadog_cnm::RetryPolicy::disabled())
        .build()
        .expect("client")
}

/// What an httpmock server received of one request.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SeenRequest {
    /// HTTP method.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Query parameters in the order they were sent.
    pub query: Vec<(String, String)>,
    /// Header names and values, sorted by name, without `host` (its port changes from
    /// run to run).
    pub headers: Vec<(String, String)>,
}

/// Records every request an httpmock mock matches: add [`Recorder::matcher`] to its
/// `when` with `is_true`.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    seen: Arc<Mutex<Vec<SeenRequest>>>,
}

impl Recorder {
    /// A matcher that records the request and accepts it.
    pub fn matcher(&self) -> impl Fn(&HttpMockRequest) -> bool + Send + Sync + 'static {
        let seen = self.seen.clone();
        move |request| {
            let uri = request.uri();
            let mut headers: Vec<(String, String)> = request
                .headers()
                .iter()
                .filter(|(name, _)| name.as_str() != "host")
                .map(|(name, value)| {
                    let value = value.to_str().unwrap_or("<binary>").to_owned();
                    (name.as_str().to_owned(), value)
                })
                .collect();
            headers.sort();
            let query = url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            seen.lock().unwrap().push(SeenRequest {
                method: request.method().as_str().to_owned(),
                path: uri.path().to_owned(),
                query,
                headers,
            });
            true
        }
    }

    /// Everything recorded so far.
    pub fn seen(&self) -> Vec<SeenRequest> {
        self.seen.lock().unwrap().clone()
    }
}
