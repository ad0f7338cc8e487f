//! The two operations the API serves, and their paths.

use std::fmt;

/// Path of the aggregated connections endpoint.
pub(crate) const CONNECTIONS_PATH: &str = "/api/v2/network/connections/aggregate";
/// Path of the aggregated DNS endpoint.
pub(crate) const DNS_PATH: &str = "/api/v2/network/dns/aggregate";

/// One of the operations the mock serves: what a [`Target::Operation`](crate::Target) fault
/// targets and what [`RecordedRequest::endpoint`](crate::RecordedRequest) reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `GET /api/v2/network/connections/aggregate`.
    Connections,
    /// `GET /api/v2/network/dns/aggregate`.
    Dns,
}

impl Endpoint {
    /// The endpoint's path, e.g. `/api/v2/network/dns/aggregate`.
    pub fn path(self) -> &'static str {
        match self {
            Self::Connections => CONNECTIONS_PATH,
            Self::Dns => DNS_PATH,
        }
    }

    /// The endpoint a request path (without query string) addresses, if any.
    pub fn from_path(path: &str) -> Option<Self> {
        match path {
            CONNECTIONS_PATH => Some(Self::Connections),
            DNS_PATH => Some(Self::Dns),
            _ => None,
        }
    }
}

impl fmt::Display for Endpoint {
    /// `connections` or `dns`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connections => "connections",
            Self::Dns => "dns",
        })
    }
}
