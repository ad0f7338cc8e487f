//! What a metric is: the vocabulary of the metric tables `cargo xtask codegen` generates
//! from the spec's `x-cnm-*` extensions (`Connection::METRICS`, `DnsMetricKey::METRICS`).

use std::fmt;

/// One metric the API reports: its wire name, how its values combine across windows and
/// groups, its unit, and how to show it.
///
/// ```
/// use datadog_cnm_raw::{Aggregation, Connection, Unit};
///
/// let bytes = &Connection::METRICS[0];
/// assert_eq!(bytes.name, "bytes_sent_by_client");
/// assert_eq!(bytes.aggregation, Aggregation::Sum);
/// assert_eq!(bytes.unit, Unit::Bytes);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Metric {
    /// The name on the wire, e.g. `bytes_sent_by_client` or `dns_responses.nxdomain`.
    pub name: &'static str,
    /// The Rust field that holds it, e.g. `bytes_sent_by_client` or `responses_nxdomain`.
    pub field: &'static str,
    /// What it measures, from the spec's description.
    pub description: &'static str,
    /// How values of adjacent windows (or of several groups) combine.
    pub aggregation: Aggregation,
    /// What one unit of the value is.
    pub unit: Unit,
    /// A short label for table columns, e.g. `client bytes`.
    pub label: &'static str,
    /// Its place among the columns a default table shows (1 first); `None`: shown only in
    /// wide tables and machine formats.
    pub column: Option<u8>,
}

/// How a metric's values combine over adjacent windows (the spec's `x-cnm-aggregation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Aggregation {
    /// A count: the value over two adjacent windows is the sum of their values.
    Sum,
    /// An average over what happened in the window (e.g. `rtt_micro_seconds`); it cannot be
    /// combined without the weights the server used.
    Mean,
    /// A per-second gauge (e.g. `tcp_established_connections`): over adjacent windows, the
    /// duration-weighted mean of their values.
    Rate,
    /// A percentile (e.g. DNS latencies); it cannot be combined from the parts.
    Percentile,
}

impl Aggregation {
    /// Every aggregation.
    pub const ALL: [Aggregation; 4] = [Self::Sum, Self::Mean, Self::Rate, Self::Percentile];

    /// The spec's spelling: `sum`, `mean`, `rate` or `percentile`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sum => "sum",
            Self::Mean => "mean",
            Self::Rate => "rate",
            Self::Percentile => "percentile",
        }
    }

    /// `true` for [`Aggregation::Sum`]: the value over adjacent windows is the sum.
    pub fn is_additive(self) -> bool {
        self == Self::Sum
    }
}

impl fmt::Display for Aggregation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one unit of a metric's value is (the spec's `x-cnm-unit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Unit {
    /// A plain count (of events, connections, responses, …).
    Count,
    /// Bytes.
    Bytes,
    /// Packets.
    Packets,
    /// Microseconds.
    Microseconds,
    /// Milliseconds.
    Milliseconds,
    /// A fraction (`0.05` is 5 %): derived metrics such as a retransmit ratio; the spec's
    /// metrics do not use it.
    Ratio,
}

impl Unit {
    /// Every unit.
    pub const ALL: [Unit; 6] = [
        Self::Count,
        Self::Bytes,
        Self::Packets,
        Self::Microseconds,
        Self::Milliseconds,
        Self::Ratio,
    ];

    /// The spec's spelling: `count` (the default), `bytes`, `packets`, `microseconds` or
    /// `milliseconds`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Count => "count",
            Self::Bytes => "bytes",
            Self::Packets => "packets",
            Self::Microseconds => "microseconds",
            Self::Milliseconds => "milliseconds",
            Self::Ratio => "ratio",
        }
    }

    /// The unit's symbol for headers, e.g. `B`, `pkts`, `µs`; empty for a count.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Count => "",
            Self::Bytes => "B",
            Self::Packets => "pkts",
            Self::Microseconds => "µs",
            Self::Milliseconds => "ms",
            Self::Ratio => "%",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
