//! A real HTTP server on loopback that behaves like Datadog's Cloud Network Monitoring (CNM)
//! aggregate API, for tests, benchmarks and demos.
//!
//! It serves `GET /api/v2/network/connections/aggregate` and `GET /api/v2/network/dns/aggregate`
//! with deterministic synthetic data that lives (daily and weekly cycles, trends, noise,
//! incidents: [`Scenario`], [`Incident`]), validates requests like the real API (same status
//! codes, JSON:API error bodies, `Content-Type: application/vnd.api+json`), requires credentials,
//! sends the `X-RateLimit-*` headers and enforces a configurable rate limit, and can be told to
//! misbehave ([`Fault`]): error statuses, malformed or truncated bodies, connection resets
//! before or in the middle of a response, HTML error pages from a "proxy", delays, and any
//! response you write yourself ([`CustomResponse`]), aimed at chosen requests ([`Target`]).
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
//! ## Metrics come from the spec
//!
//! The mock reports every metric of the tables `cargo xtask codegen` generates from the spec
//! (`datadog_cnm_raw::Connection::METRICS` and `DnsMetricKey::METRICS`), in table order
//! (`group_bys` among the connection attributes where the API's alphabetical order puts it),
//! and generates each from its aggregation, its unit and a hash of its name: a metric added
//! to the spec is served, with plausible values, after `cargo xtask codegen` and no other
//! change.
//!
//! - **`sum`** (bytes, packets, TCP event counters, DNS counts): each flow has, per metric, an
//!   integer cumulative count `C(t)` that never decreases, and a window `[from, to)` reports
//!   `C(to) − C(from)`. So for adjacent windows A and B the value over A ∪ B is exactly A + B,
//!   per group, for every `sum` metric, across incidents too. Magnitudes by unit: the first
//!   bytes metric is the flow's volume (200 B/s to 1 MB/s at an ordinary hour, many quiet
//!   flows and a few heavy ones), other bytes metrics 1/8× to 32× of it; the n-th packets
//!   metric is the n-th bytes metric over 100–1460-byte packets; counts are events, 2^-7 to
//!   2^-15 of the packets (retransmits, resets, …), rarer ones only on some flows.
//! - **`rate`** (per-second gauges such as `tcp_established_connections`): the window's
//!   average, `(C(to) − C(from)) / (to − from)` of a per-second activity, floored. Not
//!   additive, but the duration-weighted mean of adjacent windows is the union's value, to
//!   the unit, which is how `datadog_cnm`'s totals combine them.
//! - **`mean`** (`rtt_micro_seconds`): each flow has a value plausible for the unit (80–4000
//!   µs), and a group reports their mean weighted by the flows' bytes in the window.
//! - **`percentile`** (the DNS latencies, in ms): request-weighted means of per-flow
//!   latencies, successes weighing the success latency and failures the failure latency.
//! - **DNS** counts are sums of five leaves (success, NXDOMAIN, SERVFAIL, other error,
//!   timeout), so they are consistent in every window and group: `dns_total_requests =
//!   dns_successful_responses + dns_failures`, `dns_failures = dns_failed_responses +
//!   dns_timeouts`, `dns_failed_responses = nxdomain + servfail + other`. That breakdown is
//!   the only place the mock names metrics; a DNS key outside it (a new
//!   `dns_responses.refused`, say) gets generic values by its aggregation.
//!
//! ## Living data
//!
//! Traffic moves: a flow's activity rate is its client service's curve — a base, a daily
//! cycle peaking around 14:00 UTC (± 3 h per service), a twice-daily ripple, a weekly cycle
//! with quiet weekends, and for about one service in eight a trend that grows and shrinks
//! over two to six weeks — plus the flow's own noise, two short waves of incommensurate
//! periods (10–30 and 40–120 minutes). Error counters partly follow a second, burstier
//! curve, so they are not proportional to traffic. Every component is a triangle wave, whose
//! integral is a piecewise quadratic: `C(t)` is computed in closed form, in integers, in a
//! few operations whatever the window (a year costs what an hour does), and floors of
//! non-decreasing functions never decrease. That is why sums are exactly additive.
//!
//! ## Scenarios and incidents
//!
//! [`MockServerBuilder::scenario`] picks what the data looks like:
//! [`Scenario::Default`] is living data with incidents placed relative to the server's clock
//! (a retransmit and timeout storm between two services 2–4 h ago, an NXDOMAIN surge for one
//! name 6–10 h ago, a service pair new in the last 12–18 h, one gone for the last 20–28 h;
//! [`MockServer::incidents`] lists them); [`Scenario::Calm`] is the same living data without
//! them; [`Scenario::Flat`] is nearly flat data, for tests that want stable numbers.
//!
//! An [`Incident`] changes the rate of some metrics of some flows for a while, integrated
//! exactly like the normal rate. Declare your own with [`MockServerBuilder::incident`]:
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use datadog_cnm_mock::{Dataset, Effect, Incident, MockServer, Scenario};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let now = UNIX_EPOCH + Duration::from_secs(1_764_151_200);
//! let storm_start = now - Duration::from_secs(2 * 3_600);
//! // With the default seed, orders-web calls checkout-cache.
//! let storm = Incident::new("checkout-cache storm", storm_start, Duration::from_secs(1_800))
//!     .tag("client_service", "orders-web")
//!     .tag("server_service", "checkout-cache")
//!     .metrics(["tcp_retransmits", "tcp_rto_count"])
//!     .effect(Effect::Scale(20.0));
//! let server = MockServer::builder()
//!     .scenario(Scenario::Calm)
//!     .now(now)
//!     .incident(storm)
//!     .start()
//!     .await?;
//! assert_eq!(server.incidents().len(), 1);
//!
//! // The same data without HTTP: retransmits of the pair, the hour before and the storm's.
//! let data: &Dataset = server.dataset();
//! let retransmits = |from: u64| -> Result<i64, Box<dyn std::error::Error>> {
//!     let query = format!(
//!         "from={from}&to={}&query=client_service:orders-web%20server_service:checkout-cache",
//!         from + 3_600
//!     );
//!     let body: serde_json::Value = serde_json::from_slice(&data.connections_body(&query, now)?)?;
//!     Ok(body["data"][0]["attributes"]["tcp_retransmits"].as_i64().unwrap_or(0))
//! };
//! let start = 1_764_151_200 - 2 * 3_600;
//! assert!(retransmits(start)? > 5 * retransmits(start - 3_600)?);
//! # Ok(())
//! # }
//! ```
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
//! - Every response but the [`Fault::Html`], [`Fault::RetryAfter`], [`Fault::ConnectionReset`]
//!   and [`Fault::Respond`] ones (the last unless asked) carries `X-RateLimit-Limit`,
//!   `-Period`, `-Remaining`, `-Reset` (seconds until the current period ends, at least 1) and
//!   `-Name` (`cnm_aggregate`); a request over the limit gets 429 `Too many requests`.
//!   Periods are calendar-aligned, as the real API's are; see [`MockServerBuilder::rate_limit`].
//! - Unknown paths → 404, methods other than GET → 405, both with JSON:API bodies.
//! - Connections are kept alive; one whose client sends no complete request for
//!   [`idle_timeout`](MockServerBuilder::idle_timeout) (default 5 s) is closed.
//!
//! Requests are processed in this order: on arrival, the request is numbered and the first
//! [`FaultRule`] that targets it is chosen; then [`latency`](MockServerBuilder::latency), the
//! rule's [`delay`](FaultRule::after), the [`Fault`] (which answers instead of everything
//! below, except [`Fault::Delay`]), path and method, credentials, rate limit, validation, data.
//!
//! # Faults, aimed
//!
//! A plain [`Fault`] passed to [`MockServerBuilder::fault`] or [`MockServer::inject`] applies to
//! the next requests, whatever they are, first in first out. Under concurrent requests that
//! depends on which arrives first; to make it deterministic, aim the fault with
//! [`Fault::on`]: at one endpoint ([`Target::Operation`]), at the N-th request the server reads
//! ([`Target::Request`]), or at requests carrying a header of the test's choosing
//! ([`Target::Header`], e.g. `x-mock-fault: a`). [`Fault::after`] holds any fault back for a
//! while first. Each request gets at most one fault: a unit of the first rule, in injection
//! order, that targets it.
//!
//! ```
//! use std::time::Duration;
//! use datadog_cnm_mock::{CustomResponse, Endpoint, Fault, MockServer, Target};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let server = MockServer::builder()
//!     // DNS requests: the first two get a gateway's 429 that only has Retry-After.
//!     .fault(
//!         Fault::Respond {
//!             response: CustomResponse::new(429).header("Retry-After", "7"),
//!             times: 2,
//!         }
//!         .on(Target::Operation(Endpoint::Dns)),
//!     )
//!     // The fifth request, whichever it is, is reset before any response.
//!     .fault(Fault::ConnectionReset { times: 1 }.on(Target::Request(5)))
//!     // Requests sent with `x-mock-fault: slow` answer after a minute.
//!     .fault(
//!         Fault::Delay { delay: Duration::from_secs(60), times: 10 }
//!             .on(Target::header("x-mock-fault", "slow")),
//!     )
//!     .start()
//!     .await?;
//! # drop(server);
//! # Ok(())
//! # }
//! ```
//!
//! [`CustomResponse`] writes a response byte for byte: any status, any headers (`Retry-After`
//! as seconds or an HTTP date, `X-RateLimit-Reset: 2, 2`, …), any body, with or without the
//! mock's own `X-RateLimit-*` headers, and optionally only the start of its body followed by a
//! close ([`truncate_after`](CustomResponse::truncate_after)) or a TCP reset
//! ([`reset_after`](CustomResponse::reset_after)).
//!
//! # Time
//!
//! Everything that waits or measures time runs on Tokio's clock: latency, delays, the idle
//! timeout, the rate limiter's periods, and [`RecordedRequest::received`] (a
//! [`tokio::time::Instant`]). So a test under `#[tokio::test(start_paused = true)]` waits out a
//! rate-limit reset, a minute of latency or a client timeout in no real time, with exact
//! virtual durations. This works with the real loopback sockets the server uses, as long as the
//! test, the client and the server run on the test's runtime (`start_paused` requires a
//! current-thread one): the paused clock only jumps to the next timer when every task is
//! waiting; before it does, the runtime polls the sockets without blocking and any readiness
//! it finds cancels the jump; and loopback has delivered a write to the peer's socket by the
//! time it returns. So I/O in flight is never taken for idleness. Timers on both sides advance
//! the clock, in deadline order: a client timeout shorter than a server delay fires at its exact
//! deadline, and a server idle timeout closes connections during a long `sleep` in the test
//! (pooled clients notice and reconnect).
//!
//! A client outside the runtime (a plain thread, another runtime, a child process) does not
//! hold the paused clock: while it works the runtime sees only its timers and jumps to the next
//! one, so the idle timeout can close its connection before its request is sent. Run such a
//! client on `tokio::task::spawn_blocking` (Tokio does not auto-advance while a blocking task
//! runs) or keep real time for that test.
//! Wall-clock fields ([`RecordedRequest::at`], the data's default window) do not pause.
//!
//! # Stats and the request log
//!
//! [`MockServer::stats`] counts requests, 200s, rate-limited 429s, all 429s, faults and
//! rejections, and the most requests admitted (charged and answered with data) in one
//! rate-limit period, to check that a client stays under a limit. [`MockServer::requests`]
//! lists each request in arrival order with its number, arrival time, method, path, endpoint,
//! query, which credentials it carried (never their values), the fault applied and the status
//! sent; a request appears there once answered. [`MockServer::requests_received`] counts
//! requests as they are read, those still waiting on latency or a delay included.
//!
//! # Without a server
//!
//! [`Dataset`] computes the same bodies without HTTP, for fixtures and benchmarks:
//! [`Dataset::with_scenario`] and [`Dataset::with_incidents`] build what a server with that
//! seed, scenario, clock and incidents serves ([`MockServer::dataset`] is the server's own).

mod accumulate;
mod body;
mod dataset;
mod dns_model;
mod effects;
mod endpoint;
mod error;
mod faults;
mod grouping;
mod handler;
mod http;
mod incident;
mod interner;
mod json;
mod params;
mod plan;
mod prng;
mod query;
mod ratelimit;
mod scenario;
mod server;
mod shape;
mod stats;
mod topology;
mod words;

#[cfg(test)]
mod table_tests;

/// How a metric combines over windows, from the spec (re-exported from `datadog-cnm-raw`):
/// [`MetricSet::Aggregation`] selects metrics by it.
pub use datadog_cnm_raw::Aggregation;
pub use dataset::Dataset;
pub use endpoint::Endpoint;
pub use error::ApiError;
pub use faults::{CustomResponse, Fault, FaultRule, Target};
pub use incident::{Effect, Incident, IncidentError, MAX_ADD, MAX_SCALE, MetricSet};
pub use scenario::{Scenario, UnknownScenario};
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
