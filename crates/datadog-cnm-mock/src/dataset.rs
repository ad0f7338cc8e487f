//! The data layer without the HTTP server: the same bodies, for fixtures and benchmarks.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::aggregate;
use crate::endpoint::Endpoint;
use crate::error::ApiError;
use crate::params;
use crate::topology::Topology;

/// The synthetic network generated from a seed, and the response bodies computed from it.
///
/// This is what a [`MockServer`](crate::MockServer) serves, minus HTTP: authentication, rate
/// limiting and faults. Use it to build fixtures (for example a 7500-row body for a decoding
/// benchmark) without a socket. Generating a dataset takes a few milliseconds; reuse it.
///
/// ```
/// use std::time::SystemTime;
/// use datadog_cnm_mock::Dataset;
///
/// let data = Dataset::new(42);
/// let body = data.connections_body("group_by=client_host,server_host&limit=7500", SystemTime::now())?;
/// let json: serde_json::Value = serde_json::from_slice(&body)?;
/// assert_eq!(json["data"].as_array().map(Vec::len), Some(7500));
///
/// let error = data.dns_body("limit=0", SystemTime::now()).err();
/// assert_eq!(error.map(|e| e.title), Some("Invalid limit".to_owned()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Dataset {
    seed: u64,
    topology: Topology,
}

impl Dataset {
    /// Generates the topology for `seed`. The same seed gives the same data on every platform.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            topology: Topology::generate(seed),
        }
    }

    /// The seed this dataset was generated from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The number of distinct services (clients and servers) in the topology.
    pub fn service_count(&self) -> usize {
        self.topology.services
    }

    /// The number of connection flows (distinct client host → server host pairs).
    pub fn connection_flow_count(&self) -> usize {
        self.topology.conn.len()
    }

    /// The number of DNS flows (distinct client host × query name pairs).
    pub fn dns_flow_count(&self) -> usize {
        self.topology.dns.len()
    }

    /// The body of `GET /api/v2/network/connections/aggregate?{query}` (`query` as it appears
    /// in a URL, percent-encoded, without the `?`), with `now` as the clock for default
    /// windows. Invalid parameters give the [`ApiError`] the server would send.
    pub fn connections_body(&self, query: &str, now: SystemTime) -> Result<Vec<u8>, ApiError> {
        let params = params::parse(Endpoint::Connections, query, unix_seconds(now))?;
        Ok(aggregate::connections(&self.topology, &params))
    }

    /// The body of `GET /api/v2/network/dns/aggregate?{query}`; see
    /// [`connections_body`](Self::connections_body).
    pub fn dns_body(&self, query: &str, now: SystemTime) -> Result<Vec<u8>, ApiError> {
        let params = params::parse(Endpoint::Dns, query, unix_seconds(now))?;
        Ok(aggregate::dns(&self.topology, &params))
    }

    pub(crate) fn body(
        &self,
        endpoint: Endpoint,
        query: &str,
        now: SystemTime,
    ) -> Result<Vec<u8>, ApiError> {
        match endpoint {
            Endpoint::Connections => self.connections_body(query, now),
            Endpoint::Dns => self.dns_body(query, now),
        }
    }
}

impl fmt::Debug for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dataset")
            .field("seed", &self.seed)
            .field("services", &self.service_count())
            .field("connection_flows", &self.connection_flow_count())
            .field("dns_flows", &self.dns_flow_count())
            .finish()
    }
}

/// Whole seconds since the epoch; times before it count as the epoch.
pub(crate) fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
