//! The two operations, their query parameters, and the row type each returns.
//!
//! This is the glue between the generated client and the hand-written rows: [`Row`] says
//! which operation returns a row type and sends it with one call, so code can be written
//! once for both endpoints (`fn top<R: Row>(…)`).

use std::fmt;
use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::rows::decode::RowDecode;
use crate::rows::{Connection, DnsRow, Document, GroupBys};
use crate::types::ApiErrorResponse;
use crate::{Client, Error, ResponseValue};

/// One of the spec's operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Operation {
    /// `GetAggregatedConnections`: `GET /api/v2/network/connections/aggregate`.
    GetAggregatedConnections,
    /// `GetAggregatedDns`: `GET /api/v2/network/dns/aggregate`.
    GetAggregatedDns,
}

impl Operation {
    /// Every operation, in spec order.
    pub const ALL: [Operation; 2] = [Self::GetAggregatedConnections, Self::GetAggregatedDns];

    /// The spec's `operationId`, e.g. `GetAggregatedConnections`.
    pub fn operation_id(self) -> &'static str {
        match self {
            Self::GetAggregatedConnections => "GetAggregatedConnections",
            Self::GetAggregatedDns => "GetAggregatedDns",
        }
    }

    /// The request path, e.g. `/api/v2/network/connections/aggregate`.
    pub fn path(self) -> &'static str {
        match self {
            Self::GetAggregatedConnections => "/api/v2/network/connections/aggregate",
            Self::GetAggregatedDns => "/api/v2/network/dns/aggregate",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.operation_id())
    }
}

/// The query parameters both operations take, as the spec names them; `None` is not sent.
///
/// Values go on the wire as they are: callers validate them first (the facade crate does).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct QueryParams {
    /// `from`: start of the window, Unix seconds.
    pub from: Option<i64>,
    /// `to`: end of the window, Unix seconds.
    pub to: Option<i64>,
    /// `group_by`: comma-separated fields (at most 10).
    pub group_by: Option<String>,
    /// `tags`: comma-separated `key:value` filters.
    pub tags: Option<String>,
    /// `query`: a search query; takes precedence over `tags`.
    pub query: Option<String>,
    /// `limit`: rows to return, 1 to 7500.
    pub limit: Option<u32>,
}

/// The raw result of one call: the decoded document, or the generated client's error.
pub type Answer<R> = Result<ResponseValue<Document<R>>, Error<ApiErrorResponse>>;

/// A row type: which operation returns it, how to send that operation, and what every row
/// has (group-by values, metrics by position).
///
/// Implemented by [`Connection`] and [`DnsRow`] only (the trait is sealed).
pub trait Row:
    RowDecode + DeserializeOwned + Serialize + Clone + fmt::Debug + PartialEq + Send + Sync + 'static
{
    /// The operation that returns rows of this type.
    const OPERATION: Operation;

    /// The JSON:API resource type of these rows, e.g. `aggregated_connection`.
    const RESOURCE_TYPE: &'static str;

    /// The wire names of the metrics this version knows, in the order [`Row::metric`]
    /// takes them.
    const METRICS: &'static [&'static str];

    /// Send `params` to [`Row::OPERATION`]: one HTTP exchange through the client's
    /// [`Seam`](crate::Seam), decoded.
    fn send(client: &Client, params: &QueryParams) -> impl Future<Output = Answer<Self>> + Send;

    /// The row's id, built by the server from the group-by values.
    fn id(&self) -> Option<&str>;

    /// The group-by values of this row.
    fn group_bys(&self) -> &GroupBys;

    /// The value of known metric number `index` (an index into [`Row::METRICS`]).
    fn metric(&self, index: usize) -> Option<i64>;

    /// The field of known metric number `index`, to change it.
    fn metric_mut(&mut self, index: usize) -> Option<&mut Option<i64>>;

    /// Metrics under names this version does not know, by name, as the server sent them.
    fn extra_metrics(&self) -> Vec<(&str, Option<i64>)>;

    /// Forget the metrics (and, for connections, every attribute) this version does not
    /// know: what a sum of rows does, since nothing says whether they add up.
    fn clear_extra_metrics(&mut self);
}

impl Row for Connection {
    const OPERATION: Operation = Operation::GetAggregatedConnections;
    const RESOURCE_TYPE: &'static str = <Self as RowDecode>::TYPE;
    const METRICS: &'static [&'static str] = &Connection::METRICS;

    async fn send(client: &Client, params: &QueryParams) -> Answer<Self> {
        let mut request = client.get_aggregated_connections();
        if let Some(from) = params.from {
            request = request.from(from);
        }
        if let Some(to) = params.to {
            request = request.to(to);
        }
        if let Some(group_by) = &params.group_by {
            request = request.group_by(group_by.as_str());
        }
        if let Some(tags) = &params.tags {
            request = request.tags(tags.as_str());
        }
        if let Some(query) = &params.query {
            request = request.query(query.as_str());
        }
        if let Some(limit) = params.limit {
            request = request.limit(limit);
        }
        request.send().await
    }

    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    fn group_bys(&self) -> &GroupBys {
        &self.group_bys
    }

    fn metric(&self, index: usize) -> Option<i64> {
        self.metrics().get(index).and_then(|(_, value)| *value)
    }

    fn metric_mut(&mut self, index: usize) -> Option<&mut Option<i64>> {
        self.metric_slot(index)
    }

    fn extra_metrics(&self) -> Vec<(&str, Option<i64>)> {
        // An unknown attribute holding an integer (or null) is a metric this version does
        // not know yet; anything else is not a metric.
        self.extra_attributes
            .iter()
            .filter_map(|(name, value)| match value {
                serde_json::Value::Null => Some((name.as_str(), None)),
                serde_json::Value::Number(n) => n.as_i64().map(|n| (name.as_str(), Some(n))),
                _ => None,
            })
            .collect()
    }

    fn clear_extra_metrics(&mut self) {
        self.extra_attributes.clear();
    }
}

impl Row for DnsRow {
    const OPERATION: Operation = Operation::GetAggregatedDns;
    const RESOURCE_TYPE: &'static str = <Self as RowDecode>::TYPE;
    const METRICS: &'static [&'static str] = &crate::rows::DnsMetricKey::KNOWN_NAMES;

    async fn send(client: &Client, params: &QueryParams) -> Answer<Self> {
        let mut request = client.get_aggregated_dns();
        if let Some(from) = params.from {
            request = request.from(from);
        }
        if let Some(to) = params.to {
            request = request.to(to);
        }
        if let Some(group_by) = &params.group_by {
            request = request.group_by(group_by.as_str());
        }
        if let Some(tags) = &params.tags {
            request = request.tags(tags.as_str());
        }
        if let Some(query) = &params.query {
            request = request.query(query.as_str());
        }
        if let Some(limit) = params.limit {
            request = request.limit(limit);
        }
        request.send().await
    }

    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    fn group_bys(&self) -> &GroupBys {
        &self.group_bys
    }

    fn metric(&self, index: usize) -> Option<i64> {
        self.metrics.known().get(index).copied().flatten()
    }

    fn metric_mut(&mut self, index: usize) -> Option<&mut Option<i64>> {
        self.metrics.known_mut().into_iter().nth(index)
    }

    fn extra_metrics(&self) -> Vec<(&str, Option<i64>)> {
        self.metrics
            .extra
            .iter()
            .map(|(name, value)| (name.as_str(), *value))
            .collect()
    }

    fn clear_extra_metrics(&mut self) {
        self.metrics.extra.clear();
    }
}

/// Where `body` stops being a response document of `R` rows: the path of the member that
/// failed (e.g. `data[3].attributes.tcp_resets`) and serde_json's error there; `None` when
/// the body decodes.
///
/// Decoding normally takes a fast path that does not track where it is; call this after a
/// decode failed, to say where. It is slower: the body is parsed into a `serde_json::Value`
/// first, then decoded member by member.
///
/// ```
/// use datadog_cnm_raw::{Connection, locate_decode_error};
///
/// let body = br#"{"data":[{"attributes":{"tcp_resets":"many"}}]}"#;
/// let located = locate_decode_error::<Connection>(body);
/// assert_eq!(
///     located.map(|(path, _)| path).as_deref(),
///     Some("data[0].attributes.tcp_resets")
/// );
/// ```
pub fn locate_decode_error<R: Row>(body: &[u8]) -> Option<(String, serde_json::Error)> {
    crate::rows::locate_decode_error::<R>(body)
}
