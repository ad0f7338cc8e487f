//! Hand-written replacements for the two hot schemas: the attributes of a connection row
//! and of a DNS row.
//!
//! A 7500-row page is 5–6 MB of JSON and these structs are decoded 7500 times in it, so
//! `cargo xtask codegen` swaps the generated types for these (progenitor
//! `with_replacement`). They decode in one pass, borrow keys from the input, share
//! group-by keys between rows, and keep every attribute this version does not know in
//! `other` rather than dropping it.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::group_bys::{GroupBys, KeyStr};
use crate::metric_key::DnsMetricKey;

/// Declares the connection metrics once: the struct fields, their wire names, and the
/// code that reads and writes them.
macro_rules! connection_metrics {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// Attributes of one aggregated connection (`SingleAggregatedConnectionResponseDataAttributes`).
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct ConnectionAttributes {
            /// The key, value pairs for each group by.
            pub group_bys: GroupBys,
            $($(#[$doc])* pub $name: Option<i64>,)*
            /// Attributes this version does not know, as sent.
            pub other: BTreeMap<String, serde_json::Value>,
        }

        impl ConnectionAttributes {
            /// Wire names of the metrics, in field order.
            pub const METRICS: &'static [&'static str] = &[$(stringify!($name)),*];

            /// `(wire name, value)` of every metric, in field order.
            pub fn metrics(&self) -> impl Iterator<Item = (&'static str, Option<i64>)> + '_ {
                [$((stringify!($name), self.$name)),*].into_iter()
            }

            /// The field of metric `index` (an index into [`Self::METRICS`]).
            fn metric_slot(&mut self, index: usize) -> Option<&mut Option<i64>> {
                let slots = [$(&mut self.$name),*];
                slots.into_iter().nth(index)
            }
        }
    };
}

connection_metrics! {
    /// The total number of bytes sent by the client over the given period.
    bytes_sent_by_client,
    /// The total number of bytes sent by the server over the given period.
    bytes_sent_by_server,
    /// The total number of packets sent by the client over the given period.
    packets_sent_by_client,
    /// The total number of packets sent by the server over the given period.
    packets_sent_by_server,
    /// TCP smoothed round-trip time in microseconds.
    rtt_micro_seconds,
    /// TCP connections in a closed state, per second from the client.
    tcp_closed_connections,
    /// TCP segments acknowledged with the ECN Congestion Experienced mark.
    tcp_delivered_ce,
    /// TCP connections in an established state, per second from the client.
    tcp_established_connections,
    /// TCP zero-window probes sent.
    tcp_probe0_count,
    /// TCP packets received out of order.
    tcp_rcv_ooo_pack,
    /// TCP fast-recovery events.
    tcp_recovery_count,
    /// TCP connections refused by the server.
    tcp_refusals,
    /// Times reordering of sent packets was detected.
    tcp_reord_seen,
    /// TCP connections reset by the server.
    tcp_resets,
    /// TCP retransmits from the client.
    tcp_retransmits,
    /// TCP retransmission timeouts.
    tcp_rto_count,
    /// TCP connections that timed out from the operating system's point of view.
    tcp_timeouts,
}

impl<'de> Deserialize<'de> for ConnectionAttributes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ConnectionVisitor)
    }
}

struct ConnectionVisitor;

impl<'de> Visitor<'de> for ConnectionVisitor {
    type Value = ConnectionAttributes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("aggregated connection attributes")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut attributes = ConnectionAttributes::default();
        // The server writes the attributes in the same order on every row, so the field
        // after the previous one is almost always the next key: one comparison per key.
        let mut guess = 0;
        while let Some(key) = map.next_key::<KeyStr<'de>>()? {
            let key = key.as_bytes();
            let metrics = ConnectionAttributes::METRICS;
            let index = match metrics.get(guess) {
                Some(name) if name.as_bytes() == key => Some(guess),
                _ => metrics.iter().position(|name| name.as_bytes() == key),
            };
            if let Some(index) = index {
                guess = index + 1;
                if let Some(slot) = attributes.metric_slot(index) {
                    *slot = map.next_value()?;
                }
            } else if key == b"group_bys" {
                attributes.group_bys = map.next_value()?;
            } else {
                let key = KeyStr::Borrowed(key).to_str()?.to_owned();
                attributes.other.insert(key, map.next_value()?);
            }
        }
        Ok(attributes)
    }
}

impl Serialize for ConnectionAttributes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if !self.group_bys.is_empty() {
            map.serialize_entry("group_bys", &self.group_bys)?;
        }
        for (name, value) in self.metrics() {
            if let Some(value) = value {
                map.serialize_entry(name, &value)?;
            }
        }
        for (key, value) in &self.other {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The metrics of one DNS row, one field per key the API documents.
///
/// Keys this version does not know are kept in [`DnsMetrics::other`], never dropped. On
/// the wire this is a list of `{"key": …, "value": …}` objects.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DnsMetrics {
    /// `dns_total_requests`: requests made by the client.
    pub total_requests: Option<i64>,
    /// `dns_failures`: timeouts and errors.
    pub failures: Option<i64>,
    /// `dns_successful_responses`.
    pub successful_responses: Option<i64>,
    /// `dns_failed_responses`.
    pub failed_responses: Option<i64>,
    /// `dns_timeouts`.
    pub timeouts: Option<i64>,
    /// `dns_responses.nxdomain`: responses with the NXDOMAIN code.
    pub nxdomain: Option<i64>,
    /// `dns_responses.servfail`: responses with the SERVFAIL code.
    pub servfail: Option<i64>,
    /// `dns_responses.other`: responses with other error codes.
    pub other_errors: Option<i64>,
    /// `dns_success_latency_percentile` (not additive).
    pub success_latency_percentile: Option<i64>,
    /// `dns_failure_latency_percentile` (not additive).
    pub failure_latency_percentile: Option<i64>,
    /// Metrics under keys this version does not know, by key.
    pub other: BTreeMap<String, Option<i64>>,
}

impl DnsMetrics {
    fn slot_mut(&mut self, key: &DnsMetricKey) -> Option<&mut Option<i64>> {
        Some(match key {
            DnsMetricKey::DnsTotalRequests => &mut self.total_requests,
            DnsMetricKey::DnsFailures => &mut self.failures,
            DnsMetricKey::DnsSuccessfulResponses => &mut self.successful_responses,
            DnsMetricKey::DnsFailedResponses => &mut self.failed_responses,
            DnsMetricKey::DnsTimeouts => &mut self.timeouts,
            DnsMetricKey::DnsResponsesNxdomain => &mut self.nxdomain,
            DnsMetricKey::DnsResponsesServfail => &mut self.servfail,
            DnsMetricKey::DnsResponsesOther => &mut self.other_errors,
            DnsMetricKey::DnsSuccessLatencyPercentile => &mut self.success_latency_percentile,
            DnsMetricKey::DnsFailureLatencyPercentile => &mut self.failure_latency_percentile,
            DnsMetricKey::Other(_) => return None,
        })
    }

    /// The known metrics in [`DnsMetricKey::KNOWN`] order.
    fn known(&self) -> [Option<i64>; 10] {
        [
            self.total_requests,
            self.failures,
            self.successful_responses,
            self.failed_responses,
            self.timeouts,
            self.nxdomain,
            self.servfail,
            self.other_errors,
            self.success_latency_percentile,
            self.failure_latency_percentile,
        ]
    }

    /// The value of metric `key` (known or not).
    pub fn get(&self, key: &DnsMetricKey) -> Option<i64> {
        match DnsMetricKey::KNOWN.iter().position(|known| known == key) {
            Some(index) => self.known()[index],
            None => self.other.get(key.as_str()).copied().flatten(),
        }
    }

    /// Set metric `key` to `value`; unknown keys go to [`DnsMetrics::other`].
    pub fn set(&mut self, key: DnsMetricKey, value: Option<i64>) {
        match self.slot_mut(&key) {
            Some(slot) => *slot = value,
            None => {
                self.other.insert(key.as_str().to_owned(), value);
            }
        }
    }

    /// `(key, value)` of every metric present, known keys first in API order.
    pub fn iter(&self) -> impl Iterator<Item = (DnsMetricKey, i64)> + '_ {
        let known = DnsMetricKey::KNOWN.into_iter().zip(self.known());
        let other = self
            .other
            .iter()
            .map(|(k, v)| (DnsMetricKey::Other(k.clone()), *v));
        known
            .chain(other)
            .filter_map(|(key, value)| Some((key, value?)))
    }
}

impl Serialize for DnsMetrics {
    /// As a map from wire key to value (a readable form for output; the wire list form is
    /// written by [`DnsAttributes`]).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in DnsMetricKey::KNOWN.iter().zip(self.known()) {
            map.serialize_entry(key.as_str(), &value)?;
        }
        for (key, value) in &self.other {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for DnsMetrics {
    /// From the map form written by `Serialize`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, Option<i64>>::deserialize(deserializer)?;
        let mut metrics = DnsMetrics::default();
        for (key, value) in map {
            metrics.set(DnsMetricKey::from(key), value);
        }
        Ok(metrics)
    }
}

/// Attributes of one aggregated DNS row (`SingleAggregatedDnsResponseDataAttributes`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DnsAttributes {
    /// The group-by values (the wire's `[{"key", "value"}]` list, one value per key).
    pub group_bys: GroupBys,
    /// The metrics (the wire's `[{"key", "value"}]` list).
    pub metrics: DnsMetrics,
    /// Attributes this version does not know, as sent.
    pub other: BTreeMap<String, serde_json::Value>,
}

impl<'de> Deserialize<'de> for DnsAttributes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DnsVisitor)
    }
}

struct DnsVisitor;

impl<'de> Visitor<'de> for DnsVisitor {
    type Value = DnsAttributes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("aggregated DNS attributes")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut attributes = DnsAttributes::default();
        while let Some(key) = map.next_key::<KeyStr<'de>>()? {
            match key.as_bytes() {
                b"group_bys" => attributes.group_bys = map.next_value::<GroupByList>()?.0,
                b"metrics" => attributes.metrics = map.next_value::<MetricList>()?.0,
                _ => {
                    let other = key.to_str()?.to_owned();
                    attributes.other.insert(other, map.next_value()?);
                }
            }
        }
        Ok(attributes)
    }
}

impl Serialize for DnsAttributes {
    /// The wire form: `group_bys` and `metrics` as lists of `{"key", "value"}`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Item<'a, V> {
            key: &'a str,
            value: V,
        }
        let group_bys: Vec<Item<'_, &str>> = self
            .group_bys
            .iter()
            .flat_map(|(key, values)| {
                values.iter().map(move |value| Item {
                    key,
                    value: value.as_str(),
                })
            })
            .collect();
        let known = DnsMetricKey::KNOWN.iter().zip(self.metrics.known());
        let metrics: Vec<Item<'_, i64>> = known
            .filter_map(|(key, value)| {
                Some(Item {
                    key: key.as_str(),
                    value: value?,
                })
            })
            .chain(self.metrics.other.iter().filter_map(|(key, value)| {
                Some(Item {
                    key,
                    value: (*value)?,
                })
            }))
            .collect();
        let mut map = serializer.serialize_map(None)?;
        if !group_bys.is_empty() {
            map.serialize_entry("group_bys", &group_bys)?;
        }
        if !metrics.is_empty() {
            map.serialize_entry("metrics", &metrics)?;
        }
        for (key, value) in &self.other {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// `[{"key": "network.dns_query", "value": "example.com"}, …]`.
struct GroupByList(GroupBys);

impl<'de> Deserialize<'de> for GroupByList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;
        impl<'de> Visitor<'de> for ListVisitor {
            type Value = GroupByList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of {key, value} group-by items")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<GroupByList, A::Error> {
                let mut group_bys = GroupBys::new();
                while let Some(item) = seq.next_element::<KeyValue<'de, String>>()? {
                    // An item without a key or value is kept under the empty string.
                    let key = item.key.as_ref().map_or(Ok(""), KeyStr::to_str)?;
                    group_bys.push(key, item.value.unwrap_or_default());
                }
                Ok(GroupByList(group_bys))
            }
        }
        deserializer.deserialize_seq(ListVisitor)
    }
}

/// `[{"key": "dns_total_requests", "value": 100}, …]`.
struct MetricList(DnsMetrics);

impl<'de> Deserialize<'de> for MetricList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;
        impl<'de> Visitor<'de> for ListVisitor {
            type Value = MetricList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of {key, value} metric items")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MetricList, A::Error> {
                let mut metrics = DnsMetrics::default();
                while let Some(item) = seq.next_element::<KeyValue<'de, Option<i64>>>()? {
                    let key = item.key.as_ref().map_or(Ok(""), KeyStr::to_str)?;
                    // Known keys are matched without allocating.
                    let key = DnsMetricKey::known(key)
                        .unwrap_or_else(|| DnsMetricKey::Other(key.to_owned()));
                    metrics.set(key, item.value.flatten());
                }
                Ok(MetricList(metrics))
            }
        }
        deserializer.deserialize_seq(ListVisitor)
    }
}

/// One `{"key": …, "value": …}` item; other fields of the item are skipped.
struct KeyValue<'de, V> {
    key: Option<KeyStr<'de>>,
    value: Option<V>,
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for KeyValue<'de, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ItemVisitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for ItemVisitor<V> {
            type Value = KeyValue<'de, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a {key, value} object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut item = KeyValue {
                    key: None,
                    value: None,
                };
                while let Some(field) = map.next_key::<KeyStr<'de>>()? {
                    match field.as_bytes() {
                        // The key's value is a string; read it as bytes like a map key.
                        b"key" => item.key = Some(map.next_value()?),
                        b"value" => item.value = Some(map.next_value()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(item)
            }
        }
        deserializer.deserialize_map(ItemVisitor(std::marker::PhantomData))
    }
}
