//! A page: the rows of one query over one window, and what came with them.

use std::collections::BTreeMap;

use datadog_cnm_raw::{Connection, DnsRow};
use serde::{Deserialize, Serialize};

use crate::ratelimit::RateLimit;
use crate::window::Window;

/// The rows of one query over one window: [`ConnectionsPage`] or [`DnsPage`].
///
/// The rows are the low-level client's own types, handed over without conversion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<R> {
    /// The rows, in the server's order (largest traffic or most requests first).
    pub rows: Vec<R>,
    /// The window the rows cover.
    pub window: Window,
    /// `true` when the server returned as many rows as the query's limit (100 unless set):
    /// there may be more groups.
    pub truncated: bool,
    /// The number of rows the query asked for at most (its `limit`, or the API's default
    /// of 100).
    pub limit: u32,
    /// Rate-limit state reported with the response.
    pub rate_limit: Option<RateLimit>,
    /// Members of the response document other than `data` (JSON:API `meta`, `links`, …),
    /// exactly as the server sent them; usually empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_members: BTreeMap<String, serde_json::Value>,
}

impl<R> Page<R> {
    /// `true` when the page holds more rows than the query asked for: the server (or a
    /// proxy in front of it) ignored the limit. The rows are all kept.
    pub fn over_limit(&self) -> bool {
        self.rows.len() > self.limit as usize
    }
}

/// One page of aggregated TCP connections.
pub type ConnectionsPage = Page<Connection>;

/// One page of aggregated DNS traffic.
pub type DnsPage = Page<DnsRow>;
