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
//!     println!("{:?}: {:?} NXDOMAIN", row.group("network.dns_query"), row.metrics.nxdomain);
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
//! Built on `datadog-cnm-raw`, a low-level client generated from an OpenAPI fragment.

mod client;
mod credentials;
mod error;
mod fetch;
mod model;
mod multisite;
mod query;
mod ratelimit;
pub mod retry;
mod series;
mod site;
mod totals;
mod transport;
mod window;

pub use client::{Client, ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, user_agent};
pub use error::{ApiErrorDetail, Error, Result};
pub use model::{AggregatePage, Connection, Connections, Dns, DnsMetrics, DnsRow, GroupBys};
pub use multisite::MultiSite;
pub use query::{
    ConnectionsQuery, DEFAULT_LIMIT, DEFAULT_WINDOW, DnsQuery, MAX_GROUP_BY, MAX_LIMIT,
};
pub use ratelimit::RateLimit;
pub use retry::RetryPolicy;
pub use series::{
    DEFAULT_CONCURRENCY, KeepGoing, Progress, Series, SeriesQuery, truncated_windows,
};
pub use site::Site;
pub use window::{Window, rfc3339};

/// The DNS metric keys, re-exported from the low-level client.
pub use datadog_cnm_raw::DnsMetricKey;
