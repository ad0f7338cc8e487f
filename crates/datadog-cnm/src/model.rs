//! The result types, mapped by move from the generated wire types.

use std::collections::BTreeMap;

use datadog_cnm_raw::types as raw;
pub use datadog_cnm_raw::{DnsMetrics, GroupBys};
use serde::{Deserialize, Serialize};

use crate::ratelimit::RateLimit;
use crate::window::Window;

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
    /// Attributes this version does not know, exactly as the server sent them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<String, serde_json::Value>,
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
            group_bys: a.group_bys,
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
            other: a.other,
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
    /// Attributes this version does not know, exactly as the server sent them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<String, serde_json::Value>,
}

impl DnsRow {
    /// The value of group `key`, e.g. `row.group("network.dns_query")`.
    pub fn group(&self, key: &str) -> Option<&str> {
        self.group_bys.get(key)
    }
}

impl From<raw::SingleAggregatedDnsResponseData> for DnsRow {
    fn from(data: raw::SingleAggregatedDnsResponseData) -> Self {
        let attributes = data.attributes.unwrap_or_default();
        Self {
            id: data.id,
            group_bys: attributes.group_bys,
            metrics: attributes.metrics,
            other: attributes.other,
        }
    }
}
