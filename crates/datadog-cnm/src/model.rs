//! The result types, mapped by move from the generated wire types.

use std::collections::BTreeMap;

use datadog_cnm_raw::DnsMetricKey;
use datadog_cnm_raw::types as raw;
use serde::{Deserialize, Serialize};

use crate::ratelimit::RateLimit;
use crate::window::Window;

/// The group-by values of one row: group key → values, ordered by key.
///
/// Connections may carry several values per key; DNS rows one. [`GroupBys::get`] returns
/// the first value, which is what most code wants. Serialized as
/// `{"client_service": ["web"], …}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GroupBys(BTreeMap<String, Vec<String>>);

impl GroupBys {
    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key)?.first().map(String::as_str)
    }

    /// Every value of `key` (empty when the key is absent).
    pub fn values(&self, key: &str) -> &[String] {
        self.0.get(key).map_or(&[], Vec::as_slice)
    }

    /// `(key, values)` pairs ordered by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0
            .iter()
            .map(|(key, values)| (key.as_str(), values.as_slice()))
    }

    /// The keys, ordered.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Add `value` under `key` (after any values already there).
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.entry(key.into()).or_default().push(value.into());
    }
}

impl From<BTreeMap<String, Vec<String>>> for GroupBys {
    fn from(map: BTreeMap<String, Vec<String>>) -> Self {
        Self(map)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for GroupBys {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut group_bys = Self::default();
        for (key, value) in iter {
            group_bys.push(key, value);
        }
        group_bys
    }
}

/// One page of aggregated TCP connections.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connections {
    /// The rows, in the server's order (largest traffic first).
    pub rows: Vec<Connection>,
    /// The window the rows cover.
    pub window: Window,
    /// `true` when the server returned exactly `limit` rows: there may be more groups.
    pub truncated: bool,
    /// Rate-limit state reported with the response.
    pub rate_limit: Option<RateLimit>,
}

/// Aggregated TCP traffic of one group over the window.
///
/// Every metric is optional: the API marks none as required. `rtt_micro_seconds` is an
/// average and the `tcp_*_connections` gauges are rates; the rest are counts that add up
/// over adjacent windows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// The row's id, built by the server from the group-by values.
    pub id: Option<String>,
    /// The group-by values of this row.
    pub group_bys: GroupBys,
    /// Bytes sent by the client.
    pub bytes_sent_by_client: Option<i64>,
    /// Bytes sent by the server.
    pub bytes_sent_by_server: Option<i64>,
    /// Packets sent by the client.
    pub packets_sent_by_client: Option<i64>,
    /// Packets sent by the server.
    pub packets_sent_by_server: Option<i64>,
    /// TCP smoothed round-trip time in microseconds (not additive).
    pub rtt_micro_seconds: Option<i64>,
    /// TCP connections in a closed state, per second from the client.
    pub tcp_closed_connections: Option<i64>,
    /// Segments acknowledged with the ECN Congestion Experienced mark.
    pub tcp_delivered_ce: Option<i64>,
    /// TCP connections in an established state, per second from the client.
    pub tcp_established_connections: Option<i64>,
    /// Zero-window probes sent.
    pub tcp_probe0_count: Option<i64>,
    /// Packets received out of order.
    pub tcp_rcv_ooo_pack: Option<i64>,
    /// Fast-recovery events.
    pub tcp_recovery_count: Option<i64>,
    /// Connections refused by the server.
    pub tcp_refusals: Option<i64>,
    /// Times reordering of sent packets was detected.
    pub tcp_reord_seen: Option<i64>,
    /// Connections reset by the server.
    pub tcp_resets: Option<i64>,
    /// Retransmits from the client.
    pub tcp_retransmits: Option<i64>,
    /// Retransmission timeouts.
    pub tcp_rto_count: Option<i64>,
    /// Connections that timed out (from the operating system's point of view).
    pub tcp_timeouts: Option<i64>,
}

impl Connection {
    /// The first value of group `key`, e.g. `row.group("client_service")`.
    pub fn group(&self, key: &str) -> Option<&str> {
        self.group_bys.get(key)
    }
}

impl From<raw::SingleAggregatedConnectionResponseData> for Connection {
    fn from(data: raw::SingleAggregatedConnectionResponseData) -> Self {
        let a = data.attributes.unwrap_or_default();
        Self {
            id: data.id,
            group_bys: GroupBys(a.group_bys),
            bytes_sent_by_client: a.bytes_sent_by_client,
            bytes_sent_by_server: a.bytes_sent_by_server,
            packets_sent_by_client: a.packets_sent_by_client,
            packets_sent_by_server: a.packets_sent_by_server,
            rtt_micro_seconds: a.rtt_micro_seconds,
            tcp_closed_connections: a.tcp_closed_connections,
            tcp_delivered_ce: a.tcp_delivered_ce,
            tcp_established_connections: a.tcp_established_connections,
            tcp_probe0_count: a.tcp_probe0_count,
            tcp_rcv_ooo_pack: a.tcp_rcv_ooo_pack,
            tcp_recovery_count: a.tcp_recovery_count,
            tcp_refusals: a.tcp_refusals,
            tcp_reord_seen: a.tcp_reord_seen,
            tcp_resets: a.tcp_resets,
            tcp_retransmits: a.tcp_retransmits,
            tcp_rto_count: a.tcp_rto_count,
            tcp_timeouts: a.tcp_timeouts,
        }
    }
}

/// One page of aggregated DNS traffic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dns {
    /// The rows, in the server's order (most requests first).
    pub rows: Vec<DnsRow>,
    /// The window the rows cover.
    pub window: Window,
    /// `true` when the server returned exactly `limit` rows: there may be more groups.
    pub truncated: bool,
    /// Rate-limit state reported with the response.
    pub rate_limit: Option<RateLimit>,
}

/// Aggregated DNS traffic of one group over the window.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRow {
    /// The row's id, built by the server from the group-by values.
    pub id: Option<String>,
    /// The group-by values of this row (one value per key).
    pub group_bys: GroupBys,
    /// The metrics.
    pub metrics: DnsMetrics,
}

impl DnsRow {
    /// The value of group `key`, e.g. `row.group("network.dns_query")`.
    pub fn group(&self, key: &str) -> Option<&str> {
        self.group_bys.get(key)
    }
}

/// The DNS metrics of one row, one field per key the API documents.
///
/// Keys this version does not know are kept in [`DnsMetrics::other`], never dropped. The
/// two latency percentiles are not additive; the counts are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsMetrics {
    /// `dns_total_requests`: requests made by the client.
    pub total_requests: Option<i64>,
    /// `dns_failures`: timeouts and errors.
    pub failures: Option<i64>,
    /// `dns_successful_responses`.
    pub successful_responses: Option<i64>,
    /// `dns_failed_responses`.
    pub failed_responses: Option<i64>,
    /// `dns_timeouts`.
    pub timeouts: Option<i64>,
    /// `dns_responses.nxdomain`: responses with the NXDOMAIN code.
    pub nxdomain: Option<i64>,
    /// `dns_responses.servfail`: responses with the SERVFAIL code.
    pub servfail: Option<i64>,
    /// `dns_responses.other`: responses with other error codes.
    pub other_errors: Option<i64>,
    /// `dns_success_latency_percentile` (not additive).
    pub success_latency_percentile: Option<i64>,
    /// `dns_failure_latency_percentile` (not additive).
    pub failure_latency_percentile: Option<i64>,
    /// Metrics under keys this version does not know, by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<String, Option<i64>>,
}

impl DnsMetrics {
    /// The named fields, in [`DnsMetricKey::KNOWN`] order.
    fn known_mut(&mut self) -> [&mut Option<i64>; 10] {
        [
            &mut self.total_requests,
            &mut self.failures,
            &mut self.successful_responses,
            &mut self.failed_responses,
            &mut self.timeouts,
            &mut self.nxdomain,
            &mut self.servfail,
            &mut self.other_errors,
            &mut self.success_latency_percentile,
            &mut self.failure_latency_percentile,
        ]
    }

    /// The named fields, in [`DnsMetricKey::KNOWN`] order.
    fn known(&self) -> [Option<i64>; 10] {
        [
            self.total_requests,
            self.failures,
            self.successful_responses,
            self.failed_responses,
            self.timeouts,
            self.nxdomain,
            self.servfail,
            self.other_errors,
            self.success_latency_percentile,
            self.failure_latency_percentile,
        ]
    }

    /// The value of metric `key` (known or not).
    pub fn get(&self, key: &DnsMetricKey) -> Option<i64> {
        match DnsMetricKey::KNOWN.iter().position(|known| known == key) {
            Some(index) => self.known()[index],
            None => self.other.get(key.as_str()).copied().flatten(),
        }
    }

    /// Set metric `key` to `value`; unknown keys go to [`DnsMetrics::other`].
    pub fn set(&mut self, key: DnsMetricKey, value: Option<i64>) {
        match DnsMetricKey::KNOWN.iter().position(|known| *known == key) {
            Some(index) => {
                if let Some(slot) = self.known_mut().into_iter().nth(index) {
                    *slot = value;
                }
            }
            None => {
                self.other.insert(key.as_str().to_owned(), value);
            }
        }
    }

    /// `(key, value)` for every metric present, known keys first in API order.
    pub fn iter(&self) -> impl Iterator<Item = (DnsMetricKey, i64)> + '_ {
        let known = DnsMetricKey::KNOWN.into_iter().zip(self.known());
        let other = self
            .other
            .iter()
            .map(|(k, v)| (DnsMetricKey::Other(k.clone()), *v));
        known
            .chain(other)
            .filter_map(|(key, value)| Some((key, value?)))
    }
}

impl From<raw::SingleAggregatedDnsResponseData> for DnsRow {
    fn from(data: raw::SingleAggregatedDnsResponseData) -> Self {
        let attributes = data.attributes.unwrap_or_default();
        let group_bys = attributes
            .group_bys
            .into_iter()
            .map(|g| (g.key.unwrap_or_default(), g.value.unwrap_or_default()))
            .collect();
        let mut metrics = DnsMetrics::default();
        for item in attributes.metrics {
            // An item without a key cannot be placed; keep it under the empty key.
            let key = item
                .key
                .unwrap_or_else(|| DnsMetricKey::Other(String::new()));
            metrics.set(key, item.value);
        }
        Self {
            id: data.id,
            group_bys,
            metrics,
        }
    }
}
