//! What a query prints, in every format: the columns, one record per row, and the sinks
//! that write records as tables, JSON, NDJSON or CSV (Parquet takes the pages themselves:
//! `parquet.rs`).
//!
//! Records reach a sink block by block — one block per window of a series, in window
//! order, as windows finish — so a long series is printed while it runs and no page is
//! kept once printed. Only the trend table needs every window first (`table.rs` says so
//! when it is asked for).
//!
//! Column names, labels and units come from the metric tables generated from the spec and
//! from the library's derived metrics (`datadog_cnm::analysis::Measure`): nothing here
//! lists metrics.

pub mod csv;
pub mod json;
pub mod parquet;
pub mod table;

use std::io;
use std::time::Duration;

use datadog_cnm::analysis::{Measure, Number, Status};
use datadog_cnm::{GroupBys, Row, Unit, Window};

/// One value column: a metric or a derived metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The name in JSON and CSV (the API's, or the derived metric's).
    pub name: String,
    /// The table's label.
    pub label: String,
    /// The unit of its values.
    pub unit: Unit,
    /// Its place among the default table's columns (1 first); `None`: wide tables only.
    pub priority: Option<u8>,
    /// It adds up over windows (a count): `--rate` turns it into a per-second rate, and a
    /// comparison counts a side without it as zero. Means, percentiles, gauges (already
    /// per second) and ratios do neither.
    pub additive: bool,
}

impl Column {
    /// The unit shown under its label when values are per second if `rate`.
    pub fn unit_label(&self, rate: bool) -> String {
        crate::format::unit_label(self.unit, rate && self.additive)
    }
}

impl Column {
    /// The column of `measure`.
    pub fn of<R: Row>(measure: Measure<R>) -> Self {
        let priority = (0..R::METRICS.len())
            .find(|&i| R::METRICS[i].name == measure.name())
            .and_then(|i| R::METRICS[i].column);
        Self {
            name: measure.name().to_owned(),
            label: measure.label().to_owned(),
            unit: measure.unit(),
            priority,
            additive: measure.aggregation() == Some(datadog_cnm::Aggregation::Sum),
        }
    }

    /// A metric this version does not know: a plain count under its wire name.
    pub fn unknown(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            label: name.to_owned(),
            unit: Unit::Count,
            priority: None,
            // Nothing says how it combines: shown as sent.
            additive: false,
        }
    }
}

/// What every block of one command prints.
#[derive(Clone, Debug, PartialEq)]
pub struct Columns {
    /// Label columns before everything else (`profile`, `site` when several targets are
    /// queried), by name.
    pub labels: Vec<String>,
    /// Group-by keys in column order.
    pub group_keys: Vec<String>,
    /// The value columns, in order.
    pub values: Vec<Column>,
    /// The columns a default table shows, as indices into `values`, most important first.
    pub table: Vec<usize>,
    /// Rows carry their window (a series).
    pub series: bool,
    /// Values are per second (`--rate`).
    pub per_second: bool,
    /// Rows compare two periods (`--compare`).
    pub compare: bool,
}

/// One row to print.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Values of [`Columns::labels`].
    pub labels: Vec<String>,
    /// The group-by values.
    pub group_bys: GroupBys,
    /// One value per [`Columns::values`]; `None` when the server did not send it.
    pub values: Vec<Option<Number>>,
    /// With `--compare`: in both periods, new or gone.
    pub status: Option<Status>,
    /// With `--compare`: the previous period's values (`None` for a new group).
    pub previous: Option<Vec<Option<Number>>>,
}

/// The records of one window (or of one comparison).
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// The window.
    pub window: Window,
    /// Shorter than the series' step.
    pub partial: bool,
    /// Its page was cut at the limit.
    pub truncated: bool,
    /// The limit of its page.
    pub limit: u32,
    /// The records, in print order.
    pub records: Vec<Record>,
}

/// Writes blocks in one format.
pub trait Sink {
    /// Write one block.
    fn block(&mut self, columns: &Columns, block: &Block) -> io::Result<()>;
    /// Write whatever ends the output.
    fn finish(&mut self, columns: &Columns) -> io::Result<()>;
}

/// A value for a machine format: per second when asked.
pub fn value_of<R: Row>(
    measure: Measure<R>,
    row: &R,
    per_second: bool,
    duration: Duration,
) -> Option<Number> {
    if per_second {
        measure.rate(row, duration)
    } else {
        measure.value(row)
    }
}

/// Group-by values of one key joined for a cell or a CSV field (connections may carry
/// several).
pub fn joined<'a>(values: impl Iterator<Item = &'a str>, separator: &str) -> String {
    values.collect::<Vec<_>>().join(separator)
}

/// Values joined as [`joined`] does, for a terminal: control characters (escape sequences
/// a terminal would obey, line breaks that would tear the table) and bidirectional
/// overrides written as `\u{…}`, and a value longer than [`MAX_CELL`] characters cut in
/// its middle (`…`), keeping both ends (a DNS name's host and domain). Machine formats
/// keep the values as the server sent them.
pub fn joined_for_terminal<'a>(values: impl Iterator<Item = &'a str>, separator: &str) -> String {
    let text = for_terminal(&joined(values, separator));
    let length = text.chars().count();
    if length <= MAX_CELL {
        return text;
    }
    let keep = MAX_CELL - 1;
    let head: String = text.chars().take(keep - keep / 2).collect();
    let tail: String = text.chars().skip(length - keep / 2).collect();
    format!("{head}…{tail}")
}

/// Server text for a terminal (a table cell, a warning): control characters, invisible
/// format characters and bidirectional overrides written as `\u{…}`.
pub fn for_terminal(text: &str) -> String {
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
    };
    if !text.contains(hidden) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if hidden(c) {
                format!("\\u{{{:x}}}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The most characters of group-by values a table cell shows.
pub const MAX_CELL: usize = 64;

/// What to say when `truncated` of `windows` pages came back with exactly `limit` rows:
/// there may be more groups than were shown.
pub fn truncation_note(truncated: usize, windows: usize, limit: u32) -> Option<String> {
    let max = datadog_cnm::ConnectionsQuery::MAX_LIMIT;
    let advice = if limit < max {
        format!("raise --limit (max {max}) or narrow the query")
    } else {
        "narrow the query or the window".to_owned()
    };
    let rows = format!("{limit} row{}", if limit == 1 { "" } else { "s" });
    match (truncated, windows) {
        (0, _) => None,
        (_, 0 | 1) => Some(format!(
            "truncated: {rows} came back, the limit, so there may be more groups; {advice}"
        )),
        (cut, total) => Some(format!(
            "truncated: {cut} of {total} windows returned {rows}, the limit, so groups may be \
             missing from them; {advice}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datadog_cnm::{Connection, DnsRow};

    /// `--rate` divides counts only: a latency, a gauge already per second or a ratio
    /// keeps its unit, and so does its label.
    #[test]
    fn only_counts_are_labelled_per_second() {
        let label = |name: &str| {
            let column = Measure::<Connection>::parse(name)
                .map(Column::of)
                .or_else(|_| Measure::<DnsRow>::parse(name).map(Column::of))
                .unwrap();
            column.unit_label(true)
        };
        assert_eq!(label("bytes_sent_by_client"), "/s");
        assert_eq!(label("packets_sent_by_client"), "pkts/s");
        assert_eq!(label("tcp_retransmits"), "/s");
        for unchanged in [
            "rtt_micro_seconds",
            "tcp_established_connections",
            "tcp_retransmit_ratio",
            "dns_success_latency_percentile",
        ] {
            assert_eq!(label(unchanged), "", "{unchanged}");
        }
        assert_eq!(Column::unknown("new").unit_label(true), "");
    }

    #[test]
    fn terminal_cells_escape_control_characters_and_cut_long_values_in_the_middle() {
        let cell = |value: &str| joined_for_terminal([value].into_iter(), ", ");
        assert_eq!(cell("a\u{1b}[2J\nb"), "a\\u{1b}[2J\\u{a}b");
        assert_eq!(cell("plain.example.com"), "plain.example.com");
        assert_eq!(cell("a\u{2028}b\u{200b}"), "a\\u{2028}b\\u{200b}");
        let long = format!("{}.example.com", "x".repeat(5000));
        let shown = cell(&long);
        assert_eq!(shown.chars().count(), MAX_CELL);
        assert!(
            shown.starts_with("xxx") && shown.ends_with("x.example.com"),
            "{shown}"
        );
        assert!(shown.contains('…'));
    }
}
