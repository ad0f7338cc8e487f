//! Metrics computed from a row's metrics rather than fetched: defined here, once, beside
//! the metric tables generated from the spec.

use datadog_cnm_raw::{Operation, Unit};

/// A metric computed from a row's other metrics.
///
/// ```
/// use datadog_cnm::analysis::DERIVED;
///
/// let ratio = DERIVED.iter().find(|d| d.name == "tcp_retransmit_ratio").unwrap();
/// assert_eq!(ratio.formula(), "tcp_retransmits / packets_sent_by_client");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Derived {
    /// Its name, used like a metric's (`--sort-by`, JSON, CSV).
    pub name: &'static str,
    /// A short column label.
    pub label: &'static str,
    /// What it means.
    pub description: &'static str,
    /// The operation whose rows it is computed from.
    pub operation: Operation,
    /// Its unit.
    pub unit: Unit,
    pub(crate) formula: Formula,
}

/// How a derived metric is computed, from metrics named as on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Formula {
    /// The sum of these metrics (present when any is).
    Sum(&'static [&'static str]),
    /// The first metric over the second (absent when either is, or the second is zero).
    Ratio(&'static str, &'static str),
}

impl Derived {
    /// The formula, e.g. `tcp_retransmits / packets_sent_by_client`.
    pub fn formula(&self) -> String {
        match self.formula {
            Formula::Sum(parts) => parts.join(" + "),
            Formula::Ratio(numerator, denominator) => format!("{numerator} / {denominator}"),
        }
    }

    /// `true` for a sum of counts, which adds up over adjacent windows like its parts.
    pub fn is_additive(&self) -> bool {
        matches!(self.formula, Formula::Sum(_))
    }
}

/// Every derived metric, for both endpoints.
pub const DERIVED: [Derived; 6] = [
    Derived {
        name: "total_bytes",
        label: "bytes",
        description: "Bytes sent in both directions: bytes_sent_by_client + bytes_sent_by_server.",
        operation: Operation::GetAggregatedConnections,
        unit: Unit::Bytes,
        formula: Formula::Sum(&["bytes_sent_by_client", "bytes_sent_by_server"]),
    },
    Derived {
        name: "total_packets",
        label: "packets",
        description: "Packets sent in both directions: packets_sent_by_client + packets_sent_by_server.",
        operation: Operation::GetAggregatedConnections,
        unit: Unit::Packets,
        formula: Formula::Sum(&["packets_sent_by_client", "packets_sent_by_server"]),
    },
    Derived {
        name: "tcp_retransmit_ratio",
        label: "retransmit %",
        description: "Retransmits per packet sent by the client: tcp_retransmits / packets_sent_by_client.",
        operation: Operation::GetAggregatedConnections,
        unit: Unit::Ratio,
        formula: Formula::Ratio("tcp_retransmits", "packets_sent_by_client"),
    },
    Derived {
        name: "dns_failure_ratio",
        label: "failure %",
        description: "Failed requests (timeouts and errors) per request: dns_failures / dns_total_requests.",
        operation: Operation::GetAggregatedDns,
        unit: Unit::Ratio,
        formula: Formula::Ratio("dns_failures", "dns_total_requests"),
    },
    Derived {
        name: "dns_nxdomain_ratio",
        label: "nxdomain %",
        description: "NXDOMAIN responses per request: dns_responses.nxdomain / dns_total_requests.",
        operation: Operation::GetAggregatedDns,
        unit: Unit::Ratio,
        formula: Formula::Ratio("dns_responses.nxdomain", "dns_total_requests"),
    },
    Derived {
        name: "dns_servfail_ratio",
        label: "servfail %",
        description: "SERVFAIL responses per request: dns_responses.servfail / dns_total_requests.",
        operation: Operation::GetAggregatedDns,
        unit: Unit::Ratio,
        formula: Formula::Ratio("dns_responses.servfail", "dns_total_requests"),
    },
];
