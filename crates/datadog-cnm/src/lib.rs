//! Read Datadog **Cloud Network Monitoring** aggregates from Rust.
//!
//! Two endpoints, one client:
//!
//! - [`Client::connections`]: aggregated TCP traffic (bytes, packets, RTT, retransmits,
//!   resets, congestion signals) grouped by tags such as `client_service` or `server_team`.
//! - [`Client::dns`]: aggregated DNS traffic (requests, failures, NXDOMAIN, latency
//!   percentiles) grouped by e.g. `network.dns_query`.
//!
//! ```no_run
//! use std::time::Duration;
//! use datadog_cnm::{Client, Window};
//!
//! # async fn run() -> Result<(), datadog_cnm::Error> {
//! // DD_SITE, DD_API_KEY and DD_APP_KEY (or DD_APPLICATION_KEY) from the environment.
//! let client = Client::from_env()?;
//!
//! let page = client
//!     .connections()
//!     .window(Window::last(Duration::from_secs(3600)))
//!     .group_by(["client_service", "server_service"])
//!     .tags(["env:prod"])
//!     .limit(500)
//!     .send()
//!     .await?;
//! for row in &page.rows {
//!     println!(
//!         "{} → {}: {} bytes, {} retransmits",
//!         row.group("client_service").unwrap_or("?"),
//!         row.group("server_service").unwrap_or("?"),
//!         row.bytes_sent_by_client.unwrap_or(0),
//!         row.tcp_retransmits.unwrap_or(0),
//!     );
//! }
//! if page.truncated {
//!     eprintln!("only the top {} groups; raise the limit for more", page.rows.len());
//! }
//!
//! let dns = client.dns().group_by(["network.dns_query"]).send().await?;
//! for row in &dns.rows {
//!     println!("{:?}: {:?} NXDOMAIN", row.group("network.dns_query"), row.metrics.responses_nxdomain);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # What the client does for you
//!
//! - **Sites**: [`Site`] knows the nine Datadog sites and parses whatever users have at hand
//!   (`datadoghq.eu`, `app.datadoghq.eu`, `https://api.us5.datadoghq.com`, `eu`).
//! - **Validation before sending**: `limit` 1–7500, at most 10 `group_by` fields, no empty
//!   or comma-containing names, DNS `server_ungrouped` rules, windows that end in the past.
//!   Invalid input is an [`Error::InvalidInput`] and no request is sent.
//! - **Retries** ([`RetryPolicy`]): 429, 408, 500, 502, 503, 504 and network failures,
//!   waiting exactly what `X-RateLimit-Reset` asks after a 429, with a total time budget.
//!   All requests of one [`Client`] share its rate-limit state.
//! - **Errors** that say where a request failed ([`Error`]) and keep the server's error
//!   titles and details, whichever of its two body shapes it used.
//! - **Security**: rustls only; keys are sent as sensitive headers, never printed in
//!   `Debug` or errors; redirects are not followed; plain `http://` only to loopback.
//!
//! # Columnar output
//!
//! With feature `arrow`, [`arrow::PageSchema`] turns pages into Arrow `RecordBatch`es for
//! DataFusion, Polars or DuckDB; with feature `parquet`, [`parquet::PageWriter`] writes
//! them to Parquet files (Snappy). Both use the schema of `ddcnm export` and
//! `ddcnm … -o parquet`; neither is on by default.
//!
//! Built on `datadog-cnm-raw`, a low-level client generated from an OpenAPI fragment.
//! `ARCHITECTURE.md` at the repository root explains how the pieces fit.

mod admission;
pub mod analysis;
#[cfg(feature = "arrow")]
pub mod arrow;
mod client;
mod clock;
mod credentials;
mod error;
pub mod fields;
mod multisite;
mod page;
#[cfg(feature = "parquet")]
pub mod parquet;
mod query;
mod ratelimit;
mod request;
mod retry;
mod series;
mod site;
mod totals;
mod window;

pub use client::{Client, ClientBuilder};
pub use error::{ApiErrorDetail, Error, Result};
pub use multisite::MultiSite;
pub use page::{ConnectionsPage, DnsPage, Page};
pub use query::{ConnectionsQuery, DnsQuery, Query};
pub use ratelimit::RateLimit;
pub use request::RateLimitWait;
pub use retry::RetryPolicy;
pub use series::{KeepGoing, Progress, Series};
pub use site::Site;
pub use window::Window;

/// The row types and what they share, from the low-level client: pages hold them as
/// they were decoded.
pub use datadog_cnm_raw::{
    Aggregation, Connection, DnsMetricKey, DnsMetrics, DnsRow, GroupBys, Metric, Operation, Row,
    Unit,
};

/// Hooks for tests of code built on this crate (feature `test-util`): a clock and a
/// jitter source to install with [`ClientBuilder::clock`] and [`ClientBuilder::jitter`],
/// so retry waits can be asserted exactly.
///
/// The default clock already follows Tokio's paused time
/// (`#[tokio::test(start_paused = true)]`), which is usually all a test needs.
#[cfg(feature = "test-util")]
pub mod test_util {
    pub use crate::clock::{Clock, FixedJitter, Jitter, RandomJitter, TokioClock};
}
