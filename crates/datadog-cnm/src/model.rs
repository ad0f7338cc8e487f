//! The result types.
//!
//! The row types ([`Connection`], [`DnsRow`], with [`GroupBys`] and [`DnsMetrics`]) are the
//! low-level client's own: `cargo xtask codegen` replaces the generated row schemas with
//! hand-written, lossless single-pass decoders, so a page reaches the caller without any
//! conversion. This module adds the page type around them.

use std::collections::BTreeMap;

pub use datadog_cnm_raw::{Connection, DnsMetrics, DnsRow, GroupBys};
use serde::{Deserialize, Serialize};

use crate::ratelimit::RateLimit;
use crate::window::Window;

/// One page of aggregated rows: [`Connections`] or [`Dns`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregatePage<R> {
    /// The rows, in the server's order (largest traffic or most requests first).
    pub rows: Vec<R>,
    /// The window the rows cover.
    pub window: Window,
    /// `true` when the server returned exactly `limit` rows: there may be more groups.
    pub truncated: bool,
    /// Rate-limit state reported with the response.
    pub rate_limit: Option<RateLimit>,
    /// Members of the response document other than `data` (JSON:API `meta`, `links`, …),
    /// exactly as the server sent them; usually empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub meta: BTreeMap<String, serde_json::Value>,
}

/// One page of aggregated TCP connections.
pub type Connections = AggregatePage<Connection>;

/// One page of aggregated DNS traffic.
pub type Dns = AggregatePage<DnsRow>;
