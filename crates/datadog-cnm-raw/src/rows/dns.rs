//! One aggregated DNS row: the hand-written replacement of the row schema
//! `SingleAggregatedDnsResponseData`, with its attributes flattened in (see
//! `connection.rs` for why rows are hand-written). `DnsMetrics` and `DnsMetricKey` are
//! generated from the spec (`generated_metrics.rs`); their decoding and helpers are here.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::decode::{RowDecode, deserialize_row, deserialize_row_in_place, serialize_row};
use super::generated_metrics::{DnsMetricKey, DnsMetrics};
use super::group_bys::GroupBys;
use super::reader::{Hints, Reader};
use super::text::{KeyStr, MetricValue, OrNull, StrRef};

/// Aggregated DNS traffic of one group over the query window.
///
/// Serialized in the API's form (`{"attributes": {"group_bys": [{"key", "value"}…],
/// "metrics": [{"key", "value"}…]}, "id": …, "type": …}`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DnsRow {
    /// The row's id, built by the server from the group-by values.
    pub id: Option<String>,
    /// The group-by values of this row (one value per key).
    pub group_bys: GroupBys,
    /// The metrics.
    pub metrics: DnsMetrics,
    /// Attributes this version does not know, exactly as the server sent them.
    pub extra_attributes: BTreeMap<String, serde_json::Value>,
    /// Members of the row object other than `attributes`, `id` and `type`, and `type`
    /// itself when it is not `aggregated_dns`.
    pub extra_members: BTreeMap<String, serde_json::Value>,
}

impl DnsRow {
    /// The value of group `key`, e.g. `row.group("network.dns_query")`.
    pub fn group(&self, key: &str) -> Option<&str> {
        self.group_bys.get(key)
    }
}

impl<'de> Deserialize<'de> for DnsRow {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_row(deserializer)
    }

    fn deserialize_in_place<D: Deserializer<'de>>(
        deserializer: D,
        place: &mut Self,
    ) -> Result<(), D::Error> {
        deserialize_row_in_place(deserializer, place)
    }
}

impl RowDecode for DnsRow {
    const TYPE: &'static str = "aggregated_dns";
    const WHAT: &'static str = "an aggregated DNS row";

    fn id_mut(&mut self) -> &mut Option<String> {
        &mut self.id
    }

    fn extra_members_mut(&mut self) -> &mut BTreeMap<String, serde_json::Value> {
        &mut self.extra_members
    }

    fn read_attributes<'de, A: MapAccess<'de>>(&mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<KeyStr<'de>>()? {
            match key.as_bytes() {
                b"group_bys" => map.next_value_seed(OrNull(GroupByList(&mut self.group_bys)))?,
                b"metrics" => map.next_value_seed(OrNull(MetricList(&mut self.metrics)))?,
                _ => {
                    let name = key.to_str()?.to_owned();
                    self.extra_attributes.insert(name, map.next_value()?);
                }
            }
        }
        Ok(())
    }

    fn read_attributes_fast(&mut self, reader: &mut Reader<'_>, hints: &mut Hints) -> Option<()> {
        if !reader.open(b'{', b'}')? {
            return Some(());
        }
        loop {
            match reader.key()? {
                "group_bys" => {
                    if let Some(group_bys) = reader.group_by_list(hints)? {
                        self.group_bys = group_bys;
                    }
                }
                "metrics" => {
                    if !reader.eat_null() && reader.open(b'[', b']')? {
                        let mut guess = 0;
                        loop {
                            let (key, value) = reader.item(Reader::metric)?;
                            match self.metrics.known_slot(key.as_bytes(), &mut guess) {
                                Some(slot) => *slot = value,
                                None => {
                                    self.metrics.extra.insert(key.to_owned(), value);
                                }
                            }
                            if !reader.next(b']')? {
                                break;
                            }
                        }
                    }
                }
                // An attribute this version does not know: kept by the general decoder.
                _ => return None,
            }
            if !reader.next(b'}')? {
                return Some(());
            }
        }
    }
}

impl Serialize for DnsRow {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct AttributesOf<'a>(&'a DnsRow);
        impl Serialize for AttributesOf<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                #[derive(Serialize)]
                struct Item<'a, V> {
                    key: &'a str,
                    value: V,
                }
                let row = self.0;
                let group_bys: Vec<Item<'_, &str>> = row
                    .group_bys
                    .iter()
                    .map(|(key, value)| Item { key, value })
                    .collect();
                let metrics: Vec<Item<'_, i64>> = DnsMetricKey::KNOWN
                    .iter()
                    .zip(row.metrics.known())
                    .filter_map(|(key, value)| {
                        Some(Item {
                            key: key.as_str(),
                            value: value?,
                        })
                    })
                    .chain(row.metrics.extra.iter().filter_map(|(key, value)| {
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
                for (key, value) in &row.extra_attributes {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
        serialize_row(
            serializer,
            &AttributesOf(self),
            self.id.as_deref(),
            &self.extra_members,
            Self::TYPE,
        )
    }
}

impl DnsMetrics {
    /// The field of the known metric whose key is `key` (as bytes), or `None` for a key
    /// this version does not know.
    ///
    /// The server lists the metrics in the same order on every row, so the key after the
    /// previous one (`guess`, advanced here) is tried first: one comparison per item, and
    /// no allocation for known keys.
    fn known_slot(&mut self, key: &[u8], guess: &mut usize) -> Option<&mut Option<i64>> {
        let known = &DnsMetricKey::METRICS;
        let index = match known.get(*guess) {
            Some(candidate) if candidate.name.as_bytes() == key => *guess,
            _ => known
                .iter()
                .position(|candidate| candidate.name.as_bytes() == key)?,
        };
        *guess = index + 1;
        self.known_mut().into_iter().nth(index)
    }

    /// The value of metric `key` (known or not).
    pub fn get(&self, key: &DnsMetricKey) -> Option<i64> {
        match DnsMetricKey::KNOWN.iter().position(|known| known == key) {
            Some(index) => self.known()[index],
            None => self.extra.get(key.as_str()).copied().flatten(),
        }
    }

    /// Set metric `key` to `value`; unknown keys go to [`DnsMetrics::extra`].
    pub fn set(&mut self, key: DnsMetricKey, value: Option<i64>) {
        let index = DnsMetricKey::KNOWN.iter().position(|known| *known == key);
        match index.and_then(|index| self.known_mut().into_iter().nth(index)) {
            Some(slot) => *slot = value,
            None => {
                self.extra.insert(key.as_str().to_owned(), value);
            }
        }
    }

    /// `(key, value)` of every metric present, known keys first in API order.
    pub fn iter(&self) -> impl Iterator<Item = (DnsMetricKey, i64)> + '_ {
        let known = DnsMetricKey::KNOWN.into_iter().zip(self.known());
        let other = self
            .extra
            .iter()
            .map(|(k, v)| (DnsMetricKey::Other(k.clone()), *v));
        known
            .chain(other)
            .filter_map(|(key, value)| Some((key, value?)))
    }
}

impl Serialize for DnsMetrics {
    /// As a map from wire key to value (a readable form for output; the wire list form is
    /// written by [`DnsRow`]).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in DnsMetricKey::KNOWN.iter().zip(self.known()) {
            map.serialize_entry(key.as_str(), &value)?;
        }
        for (key, value) in &self.extra {
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

/// `[{"key": "network.dns_query", "value": "example.com"}, …]` into a row's
/// group-bys.
struct GroupByList<'g>(&'g mut GroupBys);

impl<'de> DeserializeSeed<'de> for GroupByList<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for GroupByList<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of {key, value} group-by items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let entries = seq.size_hint().unwrap_or(2);
        let mut group_bys = GroupBys::with_capacity(32 * entries, entries);
        while let Some(item) = seq.next_element::<KeyValue<'de, StrRef<'de>>>()? {
            // An item without a key or value is kept under the empty string.
            let key = item.key.as_ref().map_or(Ok(""), KeyStr::to_str)?;
            group_bys.push(key, item.value.as_ref().map_or("", StrRef::as_str));
        }
        *self.0 = group_bys;
        Ok(())
    }
}

/// `[{"key": "dns_total_requests", "value": 100}, …]` into a row's metrics.
struct MetricList<'m>(&'m mut DnsMetrics);

impl<'de> DeserializeSeed<'de> for MetricList<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for MetricList<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of {key, value} metric items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // The server lists the metrics in the same order on every row: try the key after
        // the previous one first, and match known keys as bytes, without allocating.
        let mut guess = 0;
        while let Some(item) = seq.next_element::<KeyValue<'de, MetricValue>>()? {
            let value = item.value.and_then(|v| v.0);
            let bytes = item.key.as_ref().map_or(&b""[..], KeyStr::as_bytes);
            match self.0.known_slot(bytes, &mut guess) {
                Some(slot) => *slot = value,
                None => {
                    let key = item.key.as_ref().map_or(Ok(""), KeyStr::to_str)?;
                    self.0.extra.insert(key.to_owned(), value);
                }
            }
        }
        Ok(())
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
                        // The key is a string value; read it as bytes, like a map key.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_lists_unknown_keys_and_round_trips() {
        let text = r#"{"attributes":{"group_bys":[{"key":"network.dns_query","value":"a.example","origin":"x"}],
            "metrics":[{"key":"dns_total_requests","value":12},{"key":"dns_responses.refused","value":2,"unit":"count"},
            {"key":"dns_timeouts","value":null}],"sampled":true},"id":"q","type":"aggregated_dns"}"#;
        let row: DnsRow = serde_json::from_str(text).unwrap();
        assert_eq!(row.group("network.dns_query"), Some("a.example"));
        assert_eq!(row.metrics.total_requests, Some(12));
        assert_eq!(row.metrics.timeouts, None);
        assert_eq!(
            row.metrics.extra.get("dns_responses.refused"),
            Some(&Some(2))
        );
        assert_eq!(
            row.extra_attributes.get("sampled"),
            Some(&serde_json::json!(true))
        );
        let back = serde_json::to_value(&row).unwrap();
        let again: DnsRow = serde_json::from_value(back).unwrap();
        assert_eq!(again, row);
        let empty: DnsRow =
            serde_json::from_str(r#"{"attributes":{"group_bys":null,"metrics":null}}"#).unwrap();
        assert!(empty.group_bys.is_empty() && empty.metrics == DnsMetrics::default());
    }
}
