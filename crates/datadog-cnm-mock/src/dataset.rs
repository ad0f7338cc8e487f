//! The data layer without the HTTP server: the same bodies, for fixtures and benchmarks.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use datadog_cnm_raw::{Connection, DnsMetricKey};

use crate::body;
use crate::effects::Effects;
use crate::endpoint::Endpoint;
use crate::error::ApiError;
use crate::incident::{Incident, IncidentError};
use crate::params;
use crate::scenario::Scenario;
use crate::topology::Topology;

/// The synthetic network generated from a seed, a [`Scenario`] and [`Incident`]s, and the
/// response bodies computed from it.
///
/// This is what a [`MockServer`](crate::MockServer) serves, minus HTTP: authentication, rate
/// limiting and faults ([`MockServer::dataset`](crate::MockServer::dataset) is the server's
/// own). Use it to build fixtures (for example a 7500-row body for a decoding benchmark)
/// without a socket. Generating a dataset takes a few milliseconds; reuse it.
///
/// ```
/// use std::time::SystemTime;
/// use datadog_cnm_mock::{Dataset, Scenario};
///
/// let data = Dataset::new(42);
/// let body = data.connections_body("group_by=client_host,server_host&limit=7500", SystemTime::now())?;
/// let json: serde_json::Value = serde_json::from_slice(&body)?;
/// assert_eq!(json["data"].as_array().map(Vec::len), Some(7500));
///
/// let error = data.dns_body("limit=0", SystemTime::now()).err();
/// assert_eq!(error.map(|e| e.title), Some("Invalid limit".to_owned()));
///
/// // What a default server started now would serve, and the incidents it places.
/// let now = SystemTime::now();
/// let data = Dataset::with_scenario(42, Scenario::Default, now);
/// assert!(data.incidents().iter().any(|i| i.name.starts_with("retransmit storm")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Dataset {
    seed: u64,
    scenario: Scenario,
    topology: Topology,
    incidents: Vec<Incident>,
    effects: Effects,
}

impl Dataset {
    /// The data of `seed` in the [`Scenario::Calm`] scenario: living data, no incidents. The
    /// same seed gives the same data on every platform.
    pub fn new(seed: u64) -> Self {
        Self::with_scenario(seed, Scenario::Calm, UNIX_EPOCH)
    }

    /// The data of `seed` in `scenario`, its incidents placed relative to `now` (what a
    /// server with this seed, scenario and [`now`](crate::MockServerBuilder::now) serves).
    pub fn with_scenario(seed: u64, scenario: Scenario, now: SystemTime) -> Self {
        let topology = Topology::generate(
            seed,
            scenario.style(),
            &Connection::METRICS,
            &DnsMetricKey::METRICS,
        );
        let mut incidents = scenario.place(seed, &topology, now);
        let effects = match Effects::compile(&topology, &incidents) {
            Ok(effects) => effects,
            Err(_) => {
                // A scenario only places what the data has; should a spec change leave one of
                // its incidents without a metric or a flow, it is dropped rather than refused.
                incidents.retain(|incident| {
                    Effects::compile(&topology, std::slice::from_ref(incident)).is_ok()
                });
                Effects::compile(&topology, &incidents).unwrap_or_default()
            }
        };
        Self {
            seed,
            scenario,
            topology,
            incidents,
            effects,
        }
    }

    /// Adds incidents to the data, after those already there.
    ///
    /// Fails, naming the incident, if one is out of range ([`Effect`](crate::Effect)), lasts
    /// no whole second, names a metric neither endpoint reports, or would change nothing (no
    /// flow matches its tags and has the metrics it names).
    pub fn with_incidents(
        mut self,
        incidents: impl IntoIterator<Item = Incident>,
    ) -> Result<Self, IncidentError> {
        let added: Vec<Incident> = incidents.into_iter().collect();
        if added.is_empty() {
            return Ok(self);
        }
        // Each on its own, so that one which changes nothing is not hidden by the others.
        for incident in &added {
            Effects::compile(&self.topology, std::slice::from_ref(incident))?;
        }
        self.incidents.extend(added);
        self.effects = Effects::compile(&self.topology, &self.incidents)?;
        Ok(self)
    }

    /// The seed this dataset was generated from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The scenario of the data.
    pub fn scenario(&self) -> Scenario {
        self.scenario
    }

    /// The incidents in the data: the scenario's, then those added, in order.
    pub fn incidents(&self) -> &[Incident] {
        &self.incidents
    }

    /// The number of distinct services (clients and servers) in the topology.
    pub fn service_count(&self) -> usize {
        self.topology.services.len()
    }

    /// The number of connection flows (distinct client host → server host pairs).
    pub fn connection_flow_count(&self) -> usize {
        self.topology.conn.flows.len()
    }

    /// The number of DNS flows (distinct client host × query name pairs).
    pub fn dns_flow_count(&self) -> usize {
        self.topology.dns.flows.len()
    }

    /// The body of `GET /api/v2/network/connections/aggregate?{query}` (`query` as it appears
    /// in a URL, percent-encoded, without the `?`), with `now` as the clock for default
    /// windows. Invalid parameters give the [`ApiError`] the server would send.
    pub fn connections_body(&self, query: &str, now: SystemTime) -> Result<Vec<u8>, ApiError> {
        let params = params::parse(Endpoint::Connections, query, unix_seconds(now))?;
        Ok(body::connections(&self.topology, &self.effects, &params))
    }

    /// The body of `GET /api/v2/network/dns/aggregate?{query}`; see
    /// [`connections_body`](Self::connections_body).
    pub fn dns_body(&self, query: &str, now: SystemTime) -> Result<Vec<u8>, ApiError> {
        let params = params::parse(Endpoint::Dns, query, unix_seconds(now))?;
        Ok(body::dns(&self.topology, &self.effects, &params))
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
            .field("scenario", &self.scenario)
            .field("services", &self.service_count())
            .field("connection_flows", &self.connection_flow_count())
            .field("dns_flows", &self.dns_flow_count())
            .field("incidents", &self.incidents.len())
            .finish()
    }
}

/// Whole seconds since the epoch; times before it count as the epoch.
pub(crate) fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
