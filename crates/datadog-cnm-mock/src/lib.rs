//! A real HTTP server on loopback that behaves like Datadog's Cloud Network Monitoring (CNM)
//! aggregate API, for tests, benchmarks and demos.
//!
//! It serves `GET /api/v2/network/connections/aggregate` and `GET /api/v2/network/dns/aggregate`
//! with deterministic synthetic data, validates requests like the real API (same status codes,
//! JSON:API error bodies, `Content-Type: application/vnd.api+json`), requires credentials,
//! sends the `X-RateLimit-*` headers and enforces a configurable rate limit, and can be told to
//! misbehave ([`Fault`]): error statuses, malformed or truncated bodies, connection resets,
//! HTML error pages from a "proxy", delays.
//!
//! # Use it in your own tests
//!
//! Start a server in the test, point the code under test at [`MockServer::url`], and drop the
//! server at the end. Any non-empty `DD-API-KEY` / `DD-APPLICATION-KEY` pair is accepted unless
//! [`MockServerBuilder::require_keys`] says otherwise.
//!
//! ```
//! use datadog_cnm_mock::{Fault, MockServer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // In a test this is the body of `#[tokio::test] async fn …`.
//! let server = MockServer::builder().seed(7).start().await?;
//! let http = reqwest::Client::new();
//! let url = format!("{}/api/v2/network/connections/aggregate", server.url());
//!
//! let response = http
//!     .get(&url)
//!     .query(&[("group_by", "client_team,server_service"), ("tags", "env:prod"), ("limit", "5")])
//!     .header("DD-API-KEY", "any-key")
//!     .header("DD-APPLICATION-KEY", "any-app-key")
//!     .send()
//!     .await?;
//! assert_eq!(response.status(), 200);
//! assert!(response.headers().contains_key("x-ratelimit-remaining"));
//! let body: serde_json::Value = response.json().await?;
//! let rows = body["data"].as_array().map_or(0, Vec::len);
//! assert_eq!(rows, 5);
//!
//! // Make the next request fail the way production sometimes does.
//! server.inject(Fault::Status { status: 503, times: 1 });
//! let response = http
//!     .get(&url)
//!     .header("DD-API-KEY", "any-key")
//!     .header("DD-APPLICATION-KEY", "any-app-key")
//!     .send()
//!     .await?;
//! assert_eq!(response.status(), 503);
//! assert_eq!(server.stats().faults, 1);
//! # Ok(())
//! # }
//! ```
//!
//! # The data
//!
//! A seed (default [`DEFAULT_SEED`]) generates, with a splitmix64 PRNG, 240 services named like
//! `checkout-api` over 16 teams and the envs `prod`, `staging` and `dev`, 2–9 hosts per
//! service, client → server service calls within an env (at least 12 000 distinct client/server
//! host pairs), and the DNS names each client resolves (`<service>.<env>.svc.cluster.local`,
//! `<service>-<env>.internal.example.com`, stale `-legacy` names that mostly fail with NXDOMAIN,
//! and public names like `api.stripe.com`) through the `coredns` or `unbound` resolvers.
//!
//! Connections carry the tags `client_service`, `server_service`, `client_team`,
//! `server_team`, `client_env`, `server_env`, `client_host`, `server_host` and `env`; DNS flows
//! `network.dns_query`, `client_service`, `client_team`, `client_env`, `client_host`,
//! `server_service`, `server_team`, `server_env`, `server_host` (the resolver) and `env`. Any of
//! them works in `group_by`, `tags` and `query`; an unknown `group_by` key is accepted and
//! every row reports `N/A` for it.
//!
//! **Additive metrics are exactly additive over time.** Each flow and metric has an integer
//! cumulative count `C(t)` that never decreases (a base rate plus a daily wave), and a window
//! `[from, to)` reports `C(to) − C(from)`. So for adjacent windows A and B the value over A ∪ B
//! is exactly A + B, per group: all connection metrics except `rtt_micro_seconds`, and all DNS
//! counts. `rtt_micro_seconds` is the byte-weighted mean of the flows' RTTs; the DNS latency
//! "percentiles" are request-weighted means of per-flow latencies (in milliseconds). DNS counts
//! are consistent in every window: `dns_total_requests = dns_successful_responses +
//! dns_failures`, `dns_failures = dns_failed_responses + dns_timeouts`, and
//! `dns_failed_responses = nxdomain + servfail + other`.
//!
//! # The API
//!
//! - `from`, `to`: Unix seconds in `0..=253402300799`; neither → `[now − 15m, now]`, only `to`
//!   → `[to − 15m, to]`, only `from` → `[from, now]`; `from >= to` → 400.
//! - `group_by`: comma-separated, at most 10 (→ 400), duplicates ignored. Default for
//!   connections `client_service,server_service`, for DNS `network.dns_query`. Row ids and
//!   group lists follow the requested order: `"id":"client_service:web,server_service:db"`.
//!   DNS `server_ungrouped` is a marker, not a key: alone it yields one row for everything (no
//!   group values, id `""`); with `client_*` keys it groups by those only; with any `server_*`
//!   key or `network.dns_query` it is a 400 with the real server's words.
//! - `tags`: comma-separated `key:value` (value may use `*`), all must match.
//! - `query`: takes precedence over `tags`; `key:value` terms (`*` wildcards, `"quoted
//!   values"`), `AND`, `OR`, `NOT` or a `-` prefix, parentheses, and implicit `AND` between
//!   adjacent terms. Keys and values match case-insensitively. A malformed query → 400
//!   `Invalid query` saying what is wrong.
//! - `limit`: `1..=7500`, default 100; anything else → 400 `Invalid limit` (the real server's
//!   body, byte for byte). Rows are sorted by bytes (client + server) for connections and by
//!   `dns_total_requests` for DNS, descending, ties broken by group values, then cut at `limit`.
//! - Credentials: `DD-API-KEY` and `DD-APPLICATION-KEY`, or `Authorization: Bearer <token>`;
//!   missing, empty or (with [`MockServerBuilder::require_keys`]) wrong → 403 `Forbidden`.
//! - Every response but the [`Fault::Html`], [`Fault::RetryAfter`] and
//!   [`Fault::ConnectionReset`] ones carries `X-RateLimit-Limit`, `-Period`, `-Remaining`,
//!   `-Reset` (seconds until the window ends, at least 1) and `-Name` (`cnm_aggregate`); a
//!   request over the limit gets 429 `Too many requests`. See
//!   [`MockServerBuilder::rate_limit`].
//! - Unknown paths → 404, methods other than GET → 405, both with JSON:API bodies.
//!
//! Requests are processed in this order: [`latency`](MockServerBuilder::latency), the next
//! [`Fault`], path and method, credentials, rate limit, validation, data.
//!
//! # Without a server
//!
//! [`Dataset`] computes the same bodies without HTTP, for fixtures and benchmarks.

mod aggregate;
mod dataset;
mod endpoint;
mod error;
mod faults;
mod handler;
mod http;
mod json;
mod metrics;
mod params;
mod prng;
mod query;
mod ratelimit;
mod server;
mod stats;
mod topology;

pub use dataset::Dataset;
pub use endpoint::Endpoint;
pub use error::ApiError;
pub use faults::{CustomResponse, Fault, FaultRule, Target};
pub use server::{
    DEFAULT_IDLE_TIMEOUT, DEFAULT_RATE_LIMIT, DEFAULT_RATE_LIMIT_PERIOD, DEFAULT_SEED, MockServer,
    MockServerBuilder,
};
pub use stats::{MockStats, RecordedRequest};

/// Path of the aggregated connections endpoint: `/api/v2/network/connections/aggregate`.
pub const CONNECTIONS_PATH: &str = endpoint::CONNECTIONS_PATH;
/// Path of the aggregated DNS endpoint: `/api/v2/network/dns/aggregate`.
pub const DNS_PATH: &str = endpoint::DNS_PATH;
/// The largest `limit` the API accepts.
pub const MAX_LIMIT: u32 = 7_500;
/// The name sent in `X-RateLimit-Name`.
pub const RATE_LIMIT_NAME: &str = ratelimit::RATE_LIMIT_NAME;
