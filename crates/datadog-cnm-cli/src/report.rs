//! Query results as one shape for every output format: group-by columns, then metrics.
//!
//! Metric names are the API's wire names for both endpoints (`bytes_sent_by_client`,
//! `dns_total_requests`, `dns_responses.nxdomain`), so JSON and CSV read like the API
//! documentation; the table uses short labels for the headline metrics.

use std::collections::BTreeSet;

use datadog_cnm::{Connection, Connections, DEFAULT_LIMIT, Dns, DnsMetricKey, GroupBys, Window};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::format::Kind;

/// One metric column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metric {
    /// The API's name, used in JSON and CSV.
    pub name: String,
    /// How its values read.
    pub kind: Kind,
}

/// Results of one query (one window) or a series (many windows), ready to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Group-by keys in column order: as requested, then any others the rows carry.
    pub group_keys: Vec<String>,
    /// Every metric, in API order.
    pub metrics: Vec<Metric>,
    /// The metrics the table shows: (index into `metrics`, column label).
    pub table_columns: Vec<(usize, &'static str)>,
    /// The rows, window by window in window order, each in the server's order.
    pub rows: Vec<Row>,
    /// Whether rows carry `window_start`/`window_end` (a series).
    pub series: bool,
    /// The window(s) asked for, in order.
    pub windows: Vec<Window>,
    /// Windows whose page was cut at the limit.
    pub truncated: Vec<Window>,
    /// The page size that counts as truncated (`--limit`, or the API's default).
    pub limit: u32,
}

/// One row: its window, groups and metric values (aligned with [`Report::metrics`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The window the row covers.
    pub window: Window,
    /// Its group-by values.
    pub group_bys: GroupBys,
    /// One value per metric; `None` when the server did not send it.
    pub values: Vec<Option<i64>>,
}

/// Connection metrics in API order, with how they read.
const CONNECTION_METRICS: [(&str, Kind); 17] = [
    ("bytes_sent_by_client", Kind::Bytes),
    ("bytes_sent_by_server", Kind::Bytes),
    ("packets_sent_by_client", Kind::Count),
    ("packets_sent_by_server", Kind::Count),
    ("rtt_micro_seconds", Kind::Micros),
    ("tcp_closed_connections", Kind::Count),
    ("tcp_delivered_ce", Kind::Count),
    ("tcp_established_connections", Kind::Count),
    ("tcp_probe0_count", Kind::Count),
    ("tcp_rcv_ooo_pack", Kind::Count),
    ("tcp_recovery_count", Kind::Count),
    ("tcp_refusals", Kind::Count),
    ("tcp_reord_seen", Kind::Count),
    ("tcp_resets", Kind::Count),
    ("tcp_retransmits", Kind::Count),
    ("tcp_rto_count", Kind::Count),
    ("tcp_timeouts", Kind::Count),
];

/// The connection metrics a table shows (all 17 do not fit a terminal).
const CONNECTION_TABLE: [(&str, &str); 9] = [
    ("bytes_sent_by_client", "client bytes"),
    ("bytes_sent_by_server", "server bytes"),
    ("packets_sent_by_client", "client pkts"),
    ("packets_sent_by_server", "server pkts"),
    ("rtt_micro_seconds", "rtt"),
    ("tcp_retransmits", "retransmits"),
    ("tcp_resets", "resets"),
    ("tcp_timeouts", "timeouts"),
    ("tcp_refusals", "refusals"),
];

/// The DNS metrics a table shows (`dns_failed_responses` is nxdomain + servfail + other).
const DNS_TABLE: [(&str, &str); 9] = [
    ("dns_total_requests", "requests"),
    ("dns_successful_responses", "ok"),
    ("dns_failures", "failures"),
    ("dns_timeouts", "timeouts"),
    ("dns_responses.nxdomain", "nxdomain"),
    ("dns_responses.servfail", "servfail"),
    ("dns_responses.other", "other errors"),
    ("dns_success_latency_percentile", "ok latency"),
    ("dns_failure_latency_percentile", "fail latency"),
];

fn connection_values(row: &Connection) -> Vec<Option<i64>> {
    vec![
        row.bytes_sent_by_client,
        row.bytes_sent_by_server,
        row.packets_sent_by_client,
        row.packets_sent_by_server,
        row.rtt_micro_seconds,
        row.tcp_closed_connections,
        row.tcp_delivered_ce,
        row.tcp_established_connections,
        row.tcp_probe0_count,
        row.tcp_rcv_ooo_pack,
        row.tcp_recovery_count,
        row.tcp_refusals,
        row.tcp_reord_seen,
        row.tcp_resets,
        row.tcp_retransmits,
        row.tcp_rto_count,
        row.tcp_timeouts,
    ]
}

/// What a report needs to know about the query beyond its pages.
#[derive(Clone, Debug, Default)]
pub struct Asked {
    /// `--group-by`, in order.
    pub group_by: Vec<String>,
    /// `--limit`.
    pub limit: Option<u32>,
    /// `--step` was given.
    pub series: bool,
}

impl Report {
    /// A report of connection pages (one, or one per window of a series).
    pub fn connections(asked: &Asked, pages: &[(Window, Connections)]) -> Self {
        let metrics = CONNECTION_METRICS
            .iter()
            .map(|(name, kind)| Metric {
                name: (*name).to_owned(),
                kind: *kind,
            })
            .collect();
        let rows = pages
            .iter()
            .flat_map(|(window, page)| {
                page.rows.iter().map(|row| Row {
                    window: *window,
                    group_bys: row.group_bys.clone(),
                    values: connection_values(row),
                })
            })
            .collect();
        let truncated = pages.iter().filter(|(_, p)| p.truncated).map(|(w, _)| *w);
        Self::assemble(asked, pages, metrics, &CONNECTION_TABLE, rows, truncated)
    }

    /// A report of DNS pages (one, or one per window of a series).
    pub fn dns(asked: &Asked, pages: &[(Window, Dns)]) -> Self {
        // Keys this version does not know still get columns, after the known ones.
        let unknown: BTreeSet<&str> = pages
            .iter()
            .flat_map(|(_, page)| &page.rows)
            .flat_map(|row| row.metrics.other.keys().map(String::as_str))
            .collect();
        let keys: Vec<DnsMetricKey> = DnsMetricKey::KNOWN
            .into_iter()
            .chain(unknown.iter().map(|k| DnsMetricKey::Other((*k).to_owned())))
            .collect();
        let metrics = keys
            .iter()
            .map(|key| Metric {
                name: key.as_str().to_owned(),
                kind: Kind::Count,
            })
            .collect();
        let rows = pages
            .iter()
            .flat_map(|(window, page)| {
                page.rows.iter().map(|row| Row {
                    window: *window,
                    group_bys: row.group_bys.clone(),
                    values: keys.iter().map(|key| row.metrics.get(key)).collect(),
                })
            })
            .collect();
        let truncated = pages.iter().filter(|(_, p)| p.truncated).map(|(w, _)| *w);
        Self::assemble(asked, pages, metrics, &DNS_TABLE, rows, truncated)
    }

    fn assemble<P>(
        asked: &Asked,
        pages: &[(Window, P)],
        metrics: Vec<Metric>,
        table: &[(&str, &'static str)],
        rows: Vec<Row>,
        truncated: impl Iterator<Item = Window>,
    ) -> Self {
        let table_columns = table
            .iter()
            .filter_map(|(name, label)| {
                let index = metrics.iter().position(|m| m.name == *name)?;
                Some((index, *label))
            })
            .collect();
        Self {
            group_keys: group_keys(&asked.group_by, &rows),
            metrics,
            table_columns,
            rows,
            series: asked.series,
            windows: pages.iter().map(|(window, _)| *window).collect(),
            truncated: truncated.collect(),
            limit: asked.limit.unwrap_or(DEFAULT_LIMIT),
        }
    }

    /// The row objects of the JSON outputs.
    pub fn json_rows(&self) -> impl Iterator<Item = JsonRow<'_>> {
        self.rows
            .iter()
            .map(move |row| JsonRow { report: self, row })
    }
}

/// The requested keys in order (without the DNS `server_ungrouped` marker, which is not
/// a key), then any other key the rows carry.
fn group_keys(requested: &[String], rows: &[Row]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let requested = requested.iter().map(String::as_str);
    let carried = rows.iter().flat_map(|row| row.group_bys.keys());
    for key in requested.chain(carried) {
        if key != "server_ungrouped" && !keys.iter().any(|k| k == key) {
            keys.push(key.to_owned());
        }
    }
    keys
}

/// One row as a JSON object: `window_start`/`window_end` (series only), `group_bys`
/// (key → array of values, as the API sends them), then every metric (`null` when the
/// server did not send it).
pub struct JsonRow<'a> {
    report: &'a Report,
    row: &'a Row,
}

impl Serialize for JsonRow<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let series = self.report.series;
        let mut map = serializer
            .serialize_map(Some(1 + self.row.values.len() + if series { 2 } else { 0 }))?;
        if series {
            map.serialize_entry("window_start", &datadog_cnm::rfc3339(self.row.window.from))?;
            map.serialize_entry("window_end", &datadog_cnm::rfc3339(self.row.window.to))?;
        }
        map.serialize_entry("group_bys", &self.row.group_bys)?;
        for (metric, value) in self.report.metrics.iter().zip(&self.row.values) {
            map.serialize_entry(&metric.name, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_metrics_exist() {
        let names: Vec<&str> = CONNECTION_METRICS.iter().map(|(n, _)| *n).collect();
        assert!(CONNECTION_TABLE.iter().all(|(n, _)| names.contains(n)));
        let dns: Vec<&str> = DnsMetricKey::KNOWN
            .iter()
            .map(DnsMetricKey::as_str)
            .collect();
        assert!(DNS_TABLE.iter().all(|(n, _)| dns.contains(n)));
    }

    #[test]
    fn requested_keys_come_first_and_markers_are_dropped() {
        let row = |pairs: &[(&str, &str)]| Row {
            window: Window {
                from: std::time::UNIX_EPOCH,
                to: std::time::UNIX_EPOCH,
            },
            group_bys: pairs.iter().copied().collect(),
            values: Vec::new(),
        };
        let rows = [row(&[("a", "1"), ("b", "2"), ("z", "3")])];
        let asked = ["z".to_owned(), "server_ungrouped".to_owned()];
        assert_eq!(group_keys(&asked, &rows), ["z", "a", "b"]);
    }
}
