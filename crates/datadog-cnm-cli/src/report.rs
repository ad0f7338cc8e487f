//! Query results as one shape for every output format: group-by columns, then metrics.
//!
//! Metric names are the API's wire names for both endpoints (`bytes_sent_by_client`,
//! `dns_total_requests`, `dns_responses.nxdomain`), so JSON and CSV read like the API
//! documentation; the table uses short labels for the headline metrics. Names, labels,
//! units and the default table's columns all come from the metric tables generated from
//! the spec (`Row::METRICS`): nothing here lists metrics.

use std::collections::BTreeSet;

use datadog_cnm::{GroupBys, Page, Query, Unit, Window};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::format::Kind;
use crate::time::rfc3339;

/// One metric column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metric {
    /// The API's name, used in JSON and CSV.
    pub name: String,
    /// The table's column label.
    pub label: String,
    /// How its values read.
    pub kind: Kind,
}

impl Metric {
    /// A metric of the generated table.
    fn known(metric: &datadog_cnm::Metric) -> Self {
        Self {
            name: metric.name.to_owned(),
            label: metric.label.to_owned(),
            kind: match metric.unit {
                Unit::Bytes => Kind::Bytes,
                Unit::Microseconds => Kind::Micros,
                Unit::Milliseconds => Kind::Millis,
                _ => Kind::Count,
            },
        }
    }

    /// A metric this version does not know: a plain count under its wire name.
    fn unknown(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            label: name.to_owned(),
            kind: Kind::Count,
        }
    }
}

/// Results of one query (one window) or a series (many windows), ready to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Group-by keys in column order: as requested, then any others the rows carry.
    pub group_keys: Vec<String>,
    /// Every metric, in API order.
    pub metrics: Vec<Metric>,
    /// The metrics the table shows, as indices into `metrics`, in column order.
    pub table_columns: Vec<usize>,
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
            .map(Metric::known)
            .chain(extra.iter().map(|name| Metric::unknown(name)))
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
        let mut table_columns: Vec<(u8, usize)> = R::METRICS
            .iter()
            .enumerate()
            .filter_map(|(index, metric)| Some((metric.column?, index)))
            .collect();
        table_columns.sort_unstable();
        Self {
            group_keys: group_keys(&asked.group_by, &rows),
            metrics,
            table_columns: table_columns.into_iter().map(|(_, index)| index).collect(),
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
