//! One aggregated connection: the hand-written decoding of the row schema
//! `SingleAggregatedConnectionResponseData`, with its attributes flattened in. The struct
//! and its metric table are generated from the spec (`generated_metrics.rs`).
//!
//! A 7500-row page is 5–6 MB of JSON decoded into 7500 of these, so `cargo xtask codegen`
//! swaps the generated row type for this one (progenitor `with_replacement`). serde_json
//! checks each row and hands its text to a reader made for the shape the server sends
//! (see `reader.rs`); the general decoder takes any other row. Keys are matched as
//! bytes in the order the server writes them, a row's group-by values live in one
//! string, and every member this version does not know is kept rather than dropped. The
//! facade re-exports the type, so a page is never converted.

use std::collections::BTreeMap;

use serde::de::MapAccess;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::decode::{RowDecode, deserialize_row, deserialize_row_in_place, serialize_row};
use super::generated_metrics::Connection;
use super::group_bys::GroupBys;
use super::reader::{Hints, Reader};
use super::text::{IntOrNull, KeyStr};

impl Connection {
    /// The first value of group `key`, e.g. `row.group("client_service")`.
    pub fn group(&self, key: &str) -> Option<&str> {
        self.group_bys.get(key)
    }
}

impl<'de> Deserialize<'de> for Connection {
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

impl RowDecode for Connection {
    const TYPE: &'static str = "aggregated_connection";
    const WHAT: &'static str = "an aggregated connection";

    fn id_mut(&mut self) -> &mut Option<String> {
        &mut self.id
    }

    fn extra_members_mut(&mut self) -> &mut BTreeMap<String, serde_json::Value> {
        &mut self.extra_members
    }

    fn read_attributes<'de, A: MapAccess<'de>>(&mut self, mut map: A) -> Result<(), A::Error> {
        let row = self;
        let mut guess = 0;
        while let Some(key) = map.next_key::<KeyStr<'de>>()? {
            let key = key.as_bytes();
            if let Some(index) = metric_index(key, guess) {
                guess = index + 1;
                if let Some(slot) = row.metric_slot(index) {
                    *slot = map.next_value_seed(IntOrNull)?;
                }
            } else if key == b"group_bys" {
                row.group_bys = map.next_value::<Option<GroupBys>>()?.unwrap_or_default();
            } else {
                let key = KeyStr::Borrowed(key).to_str()?.to_owned();
                row.extra_attributes.insert(key, map.next_value()?);
            }
        }
        Ok(())
    }

    fn read_attributes_fast(&mut self, reader: &mut Reader<'_>, _: &mut Hints) -> Option<()> {
        if !reader.open(b'{', b'}')? {
            return Some(());
        }
        // Metrics are collected in an array (a plain indexed store per value) and written
        // to the fields once at the end.
        let mut values = self.metric_values();
        let mut guess = 0;
        loop {
            // Usually the next metric: its name is compared in place, not scanned first.
            let index = if let Some(member) = Connection::MEMBERS.get(guess)
                && reader.member_is(member)
            {
                Some(guess)
            } else {
                let key = reader.key()?;
                let index = metric_index(key.as_bytes(), guess);
                if index.is_none() {
                    if key != "group_bys" {
                        // An attribute this version does not know: the general decoder
                        // keeps it.
                        return None;
                    }
                    self.group_bys = reader.group_by_map()?;
                }
                index
            };
            if let Some(index) = index {
                *values.get_mut(index)? = reader.metric()?;
                guess = index + 1;
            }
            if !reader.next(b'}')? {
                break;
            }
        }
        self.set_metrics(values);
        Some(())
    }
}

/// The index in [`Connection::METRICS`] of the metric named `key`.
///
/// The server writes the attributes in the same order on every row, so the metric after
/// the previous one (`guess`) is almost always the next key: one comparison per key.
fn metric_index(key: &[u8], guess: usize) -> Option<usize> {
    match Connection::METRICS.get(guess) {
        Some(metric) if metric.name.as_bytes() == key => Some(guess),
        _ => Connection::METRICS
            .iter()
            .position(|metric| metric.name.as_bytes() == key),
    }
}

impl Serialize for Connection {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct AttributesOf<'a>(&'a Connection);
        impl Serialize for AttributesOf<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let row = self.0;
                let mut map = serializer.serialize_map(None)?;
                if !row.group_bys.is_empty() {
                    map.serialize_entry("group_bys", &row.group_bys)?;
                }
                for (name, value) in row.metrics() {
                    if let Some(value) = value {
                        map.serialize_entry(name, &value)?;
                    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_out_of_order_keys_unknown_members_and_nulls() {
        let text = r#"{"type":"aggregated_connection","id":"x","links":{"self":"/x"},
            "attributes":{"tcp_timeouts":6,"group_bys":{"client_service":["web"]},"bytes_sent_by_client":1,
            "new_metric":2,"rtt_micro_seconds":null}}"#;
        let row: Connection = serde_json::from_str(text).unwrap();
        assert_eq!(row.bytes_sent_by_client, Some(1));
        assert_eq!(row.tcp_timeouts, Some(6));
        assert_eq!(row.rtt_micro_seconds, None);
        assert_eq!(row.group("client_service"), Some("web"));
        assert_eq!(
            row.extra_attributes.get("new_metric"),
            Some(&serde_json::json!(2))
        );
        assert_eq!(
            row.extra_members.get("links"),
            Some(&serde_json::json!({"self": "/x"}))
        );
        assert!(!row.extra_members.contains_key("type"));

        let empty: Connection =
            serde_json::from_str(r#"{"attributes":null,"type":"other"}"#).unwrap();
        assert_eq!(
            empty.extra_members.get("type"),
            Some(&serde_json::json!("other"))
        );

        let back = serde_json::to_value(&row).unwrap();
        let again: Connection = serde_json::from_value(back).unwrap();
        assert_eq!(again, row);
    }
}
