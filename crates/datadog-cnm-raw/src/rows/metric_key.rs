//! The DNS metric key, open to values the spec does not list yet.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The key of one DNS metric in a `GetAggregatedDns` row.
///
/// The spec's `DnsMetricKey` is a closed enum; this replacement keeps its ten values and
/// adds [`DnsMetricKey::Other`], so a key the server starts sending tomorrow is kept as
/// text instead of failing the whole response.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DnsMetricKey {
    /// `dns_total_requests`: the total number of DNS requests made by the client.
    DnsTotalRequests,
    /// `dns_failures`: the total number of timeouts and errors in DNS requests.
    DnsFailures,
    /// `dns_successful_responses`: the total number of successful DNS responses.
    DnsSuccessfulResponses,
    /// `dns_failed_responses`: the total number of failed DNS responses.
    DnsFailedResponses,
    /// `dns_timeouts`: the total number of DNS timeouts.
    DnsTimeouts,
    /// `dns_responses.nxdomain`: responses with the NXDOMAIN error code.
    DnsResponsesNxdomain,
    /// `dns_responses.servfail`: responses with the SERVFAIL error code.
    DnsResponsesServfail,
    /// `dns_responses.other`: responses with other error codes.
    DnsResponsesOther,
    /// `dns_success_latency_percentile`: latency percentile of successful responses.
    DnsSuccessLatencyPercentile,
    /// `dns_failure_latency_percentile`: latency percentile of failed responses.
    DnsFailureLatencyPercentile,
    /// A key this version does not know, exactly as the server sent it.
    Other(String),
}

impl DnsMetricKey {
    /// Every key the spec lists, in spec order.
    pub const KNOWN: [DnsMetricKey; 10] = [
        Self::DnsTotalRequests,
        Self::DnsFailures,
        Self::DnsSuccessfulResponses,
        Self::DnsFailedResponses,
        Self::DnsTimeouts,
        Self::DnsResponsesNxdomain,
        Self::DnsResponsesServfail,
        Self::DnsResponsesOther,
        Self::DnsSuccessLatencyPercentile,
        Self::DnsFailureLatencyPercentile,
    ];

    /// The wire names of [`DnsMetricKey::KNOWN`], in the same order.
    pub const KNOWN_NAMES: [&'static str; 10] = [
        "dns_total_requests",
        "dns_failures",
        "dns_successful_responses",
        "dns_failed_responses",
        "dns_timeouts",
        "dns_responses.nxdomain",
        "dns_responses.servfail",
        "dns_responses.other",
        "dns_success_latency_percentile",
        "dns_failure_latency_percentile",
    ];

    /// The key as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::DnsTotalRequests => "dns_total_requests",
            Self::DnsFailures => "dns_failures",
            Self::DnsSuccessfulResponses => "dns_successful_responses",
            Self::DnsFailedResponses => "dns_failed_responses",
            Self::DnsTimeouts => "dns_timeouts",
            Self::DnsResponsesNxdomain => "dns_responses.nxdomain",
            Self::DnsResponsesServfail => "dns_responses.servfail",
            Self::DnsResponsesOther => "dns_responses.other",
            Self::DnsSuccessLatencyPercentile => "dns_success_latency_percentile",
            Self::DnsFailureLatencyPercentile => "dns_failure_latency_percentile",
            Self::Other(key) => key,
        }
    }

    /// The known key spelled `wire`, or `None`; never allocates.
    pub fn known(wire: &str) -> Option<Self> {
        Some(match wire {
            "dns_total_requests" => Self::DnsTotalRequests,
            "dns_failures" => Self::DnsFailures,
            "dns_successful_responses" => Self::DnsSuccessfulResponses,
            "dns_failed_responses" => Self::DnsFailedResponses,
            "dns_timeouts" => Self::DnsTimeouts,
            "dns_responses.nxdomain" => Self::DnsResponsesNxdomain,
            "dns_responses.servfail" => Self::DnsResponsesServfail,
            "dns_responses.other" => Self::DnsResponsesOther,
            "dns_success_latency_percentile" => Self::DnsSuccessLatencyPercentile,
            "dns_failure_latency_percentile" => Self::DnsFailureLatencyPercentile,
            _ => return None,
        })
    }

    /// `true` for [`DnsMetricKey::Other`].
    pub fn is_other(&self) -> bool {
        matches!(self, Self::Other(_))
    }
}

impl fmt::Display for DnsMetricKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DnsMetricKey {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(s))
    }
}

impl From<&str> for DnsMetricKey {
    fn from(s: &str) -> Self {
        Self::known(s).unwrap_or_else(|| Self::Other(s.to_owned()))
    }
}

impl From<String> for DnsMetricKey {
    fn from(s: String) -> Self {
        Self::known(&s).unwrap_or(Self::Other(s))
    }
}

impl Serialize for DnsMetricKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DnsMetricKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Visits the key as `&str` first, so known keys never allocate.
struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = DnsMetricKey;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a DNS metric key string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(DnsMetricKey::from(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(DnsMetricKey::from(v))
    }
}
