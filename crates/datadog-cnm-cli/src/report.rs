//! Query results as one shape for every output format: group-by columns, then metrics.
//!
//! Metric names are the API's wire names for both endpoints (`bytes_sent_by_client`,
//! `dns_total_requests`, `dns_responses.nxdomain`), so JSON and CSV read like the API
//! documentation; the table uses short labels for the headline metrics.

use std::collections::BTreeSet;

use datadog_cnm::{GroupBys, Operation, Page, Query, Window};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::format::Kind;
use crate::time::rfc3339;

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

/// How a metric reads: bytes, microseconds, or a plain count.
fn kind_of(name: &str) -> Kind {
    match name {
        "bytes_sent_by_client" | "bytes_sent_by_server" => Kind::Bytes,
        "rtt_micro_seconds" => Kind::Micros,
        _ => Kind::Count,
    }
}

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
    /// A report of pages (one, or one per window of a series).
    pub fn new<R: datadog_cnm::Row>(asked: &Asked, pages: &[(Window, Page<R>)]) -> Self {
        // Metrics this version does not know still get columns, after the known ones.
        let extra: BTreeSet<&str> = pages
            .iter()
            .flat_map(|(_, page)| &page.rows)
            .flat_map(|row| row.extra_metrics().into_iter().map(|(name, _)| name))
            .collect();
        let metrics: Vec<Metric> = R::METRICS
            .iter()
            .copied()
            .chain(extra.iter().copied())
            .map(|name| Metric {
                name: name.to_owned(),
                kind: kind_of(name),
            })
            .collect();
        let rows: Vec<Row> = pages
            .iter()
            .flat_map(|(window, page)| {
                page.rows.iter().map(|row| {
                    let extras = row.extra_metrics();
                    let mut values: Vec<Option<i64>> =
                        (0..R::METRICS.len()).map(|i| row.metric(i)).collect();
                    values.extend(extra.iter().map(|name| {
                        extras
                            .iter()
                            .find(|(n, _)| n == name)
                            .and_then(|(_, value)| *value)
                    }));
                    Row {
                        window: *window,
                        group_bys: row.group_bys().clone(),
                        values,
                    }
                })
            })
            .collect();
        let table: &[(&str, &str)] = match R::OPERATION {
            Operation::GetAggregatedDns => &DNS_TABLE,
            _ => &CONNECTION_TABLE,
        };
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
            truncated: pages
                .iter()
                .filter(|(_, page)| page.truncated)
                .map(|(window, _)| *window)
                .collect(),
            limit: asked.limit.unwrap_or(Query::<R>::DEFAULT_LIMIT),
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
            map.serialize_entry("window_start", &rfc3339(self.row.window.from))?;
            map.serialize_entry("window_end", &rfc3339(self.row.window.to))?;
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
        use datadog_cnm::{Connection, DnsRow, Row};
        assert!(
            CONNECTION_TABLE
                .iter()
                .all(|(n, _)| Connection::METRICS.contains(n))
        );
        assert!(DNS_TABLE.iter().all(|(n, _)| DnsRow::METRICS.contains(n)));
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
