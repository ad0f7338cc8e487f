//! The two operations, their query parameters, and the row type each returns.
//!
//! This is the glue between the generated client and the hand-written rows: [`Row`] says
//! which operation returns a row type and sends it with one call, so code can be written
//! once for both endpoints (`fn top<R: Row>(…)`).

use std::fmt;
use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::generated_operations::{Operation, QueryParams};
use crate::metric::Metric;
use crate::rows::decode::RowDecode;
use crate::rows::{Connection, DnsMetricKey, DnsRow, Document, GroupBys};
use crate::types::ApiErrorResponse;
use crate::{Client, Error, ResponseValue};

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

    /// The metrics this version knows (generated from the spec), in the order
    /// [`Row::metric`] takes them.
    const METRICS: &'static [Metric];

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

    /// Attributes this version does not know that are not metrics (not an integer or
    /// null: a ratio, a text, a number beyond int64, …), by name, as the server sent them.
    fn extra_non_metrics(&self) -> Vec<(&str, &serde_json::Value)>;

    /// Forget the metrics (and, for connections, every attribute) this version does not
    /// know: what a sum of rows does, since nothing says whether they add up.
    fn clear_extra_metrics(&mut self);
}

impl Row for Connection {
    const OPERATION: Operation = Operation::GetAggregatedConnections;
    const RESOURCE_TYPE: &'static str = <Self as RowDecode>::TYPE;
    const METRICS: &'static [Metric] = &Connection::METRICS;

    fn send(client: &Client, params: &QueryParams) -> impl Future<Output = Answer<Self>> + Send {
        client.get_aggregated_connections_with(params)
    }

    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    fn group_bys(&self) -> &GroupBys {
        &self.group_bys
    }

    fn metric(&self, index: usize) -> Option<i64> {
        self.metric_values().get(index).copied().flatten()
    }

    fn metric_mut(&mut self, index: usize) -> Option<&mut Option<i64>> {
        self.metric_slot(index)
    }

    fn extra_metrics(&self) -> Vec<(&str, Option<i64>)> {
        // An unknown attribute holding an integer (or null) is a metric this version does
        // not know yet; anything else is not a metric.
        self.extra_attributes
            .iter()
            .filter(|(_, value)| is_metric_value(value))
            .map(|(name, value)| (name.as_str(), value.as_i64()))
            .collect()
    }

    fn extra_non_metrics(&self) -> Vec<(&str, &serde_json::Value)> {
        self.extra_attributes
            .iter()
            .filter(|(_, value)| !is_metric_value(value))
            .map(|(name, value)| (name.as_str(), value))
            .collect()
    }

    fn clear_extra_metrics(&mut self) {
        self.extra_attributes.clear();
    }
}

/// Whether an unknown attribute's value reads as a metric: an int64, or null.
fn is_metric_value(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => true,
        serde_json::Value::Number(n) => n.is_i64(),
        _ => false,
    }
}

impl Row for DnsRow {
    const OPERATION: Operation = Operation::GetAggregatedDns;
    const RESOURCE_TYPE: &'static str = <Self as RowDecode>::TYPE;
    const METRICS: &'static [Metric] = &DnsMetricKey::METRICS;

    fn send(client: &Client, params: &QueryParams) -> impl Future<Output = Answer<Self>> + Send {
        client.get_aggregated_dns_with(params)
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

    fn extra_non_metrics(&self) -> Vec<(&str, &serde_json::Value)> {
        // DNS metrics come in their own list; every unknown attribute is something else.
        self.extra_attributes
            .iter()
            .map(|(name, value)| (name.as_str(), value))
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
