//! The response document of both operations, `{"data": [rows…]}`: the hand-written
//! replacement of `SingleAggregatedConnectionResponseArray` and
//! `SingleAggregatedDnsResponseArray`.
//!
//! It differs from what progenitor would generate in three ways. Members other than `data`
//! (JSON:API `meta`, `links`, …) are kept instead of dropped. Rows are decoded in place, in
//! the page's vector, each with the buffer sizes learnt from the rows before it. And a
//! document without `data`, or with JSON:API `errors`, is refused although the spec makes
//! `data` optional: the API always sends `data` (`[]` when nothing matched), so anything
//! else is an answer that is not a page — reading it as "no rows" would record an empty
//! window (an export would never fetch it again). `"data": null` still reads as no rows.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::decode::{GeneralRow, RowDecode, RowInPlace};
use super::dns::DnsRow;
use super::generated_metrics::Connection;
use super::reader::Hints;
use super::text::KeyStr;

/// A response document: the rows of its `data` array, and any other members the server
/// sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document<R> {
    /// The rows, in the server's order.
    pub data: Vec<R>,
    /// Members of the document other than `data`, exactly as the server sent them.
    pub extra_members: BTreeMap<String, serde_json::Value>,
}

impl<R> Default for Document<R> {
    fn default() -> Self {
        Self {
            data: Vec::new(),
            extra_members: BTreeMap::new(),
        }
    }
}

/// The response document of `GetAggregatedConnections`.
pub type ConnectionsDocument = Document<Connection>;
/// The response document of `GetAggregatedDns`.
pub type DnsDocument = Document<DnsRow>;

/// The most rows the API puts in a page. Without a size hint from the input (serde_json
/// gives none), a page's vector starts with room for that many, and the room its rows
/// did not use is given back: growing it row by row would copy megabytes, and under
/// glibc's allocator also fault fresh pages in each time.
const MAX_ROWS_HINT: usize = 7500;

impl<R: Serialize> Serialize for Document<R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("data", &self.data)?;
        for (key, value) in &self.extra_members {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de, R: RowDecode> Deserialize<'de> for Document<R> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DocumentVisitor {
            general: false,
            rows: PhantomData,
        })
    }
}

/// A document read with the general decoder only, key by key (see `GeneralRow`).
pub(crate) struct GeneralDocument<R>(pub(crate) PhantomData<R>);

impl<'de, R: RowDecode> DeserializeSeed<'de> for GeneralDocument<R> {
    type Value = Document<R>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Document<R>, D::Error> {
        deserializer.deserialize_map(DocumentVisitor {
            general: true,
            rows: PhantomData,
        })
    }
}

struct DocumentVisitor<R> {
    /// Read every row with the general decoder, key by key.
    general: bool,
    rows: PhantomData<R>,
}

impl<'de, R: RowDecode> Visitor<'de> for DocumentVisitor<R> {
    type Value = Document<R>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a response document with a `data` array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document<R>, A::Error> {
        let mut document = Document::default();
        let mut has_data = false;
        while let Some(key) = map.next_key::<KeyStr<'de>>()? {
            if key.as_bytes() == b"data" {
                // A second `data` would silently replace the first one's rows.
                if has_data {
                    return Err(de::Error::duplicate_field("data"));
                }
                has_data = true;
                document.data = if self.general {
                    map.next_value_seed(Data::<R, General>::new())?
                } else {
                    map.next_value_seed(Data::<R, InPlace>::new())?
                };
            } else {
                let key = key.to_str()?.to_owned();
                document.extra_members.insert(key, map.next_value()?);
            }
        }
        if let Some(errors) = document.extra_members.get("errors") {
            let mut errors = errors.to_string();
            if errors.len() > 200 {
                let cut = (0..=200).rev().find(|&i| errors.is_char_boundary(i));
                errors.truncate(cut.unwrap_or(0));
                errors.push('…');
            }
            return Err(de::Error::custom(format_args!(
                "the answer holds JSON:API `errors` instead of rows: {errors}"
            )));
        }
        if !has_data {
            return Err(de::Error::custom(
                "the answer has no `data` member (a page without rows is `\"data\": []`)",
            ));
        }
        Ok(document)
    }
}

/// How the rows of a `data` array are read.
trait ReadRows {
    /// Read every row of `seq`.
    fn read<'de, R: RowDecode, A: SeqAccess<'de>>(seq: A) -> Result<Vec<R>, A::Error>;
}

/// Rows decoded in place, in the page's vector, each with the buffer sizes learnt from the
/// rows before it (the fast path).
struct InPlace;

impl ReadRows for InPlace {
    fn read<'de, R: RowDecode, A: SeqAccess<'de>>(mut seq: A) -> Result<Vec<R>, A::Error> {
        let hint = seq.size_hint().unwrap_or(MAX_ROWS_HINT).min(MAX_ROWS_HINT);
        // One more than the hint: the place for a next row that turns out not to exist.
        let mut rows: Vec<R> = Vec::with_capacity(hint + 1);
        let mut hints = Hints::default();
        // Each row is decoded where it stays, in the vector, rather than built elsewhere
        // and moved in: rows are a few hundred bytes each.
        loop {
            rows.push(R::default());
            let decoded = match rows.last_mut() {
                Some(place) => seq
                    .next_element_seed(RowInPlace {
                        place,
                        hints: &mut hints,
                    })?
                    .is_some(),
                None => false,
            };
            if !decoded {
                rows.pop();
                break;
            }
        }
        // A page smaller than the room it was given holds on to memory: give that back.
        if rows.capacity() > 2 * rows.len() + 16 {
            rows.shrink_to_fit();
        }
        Ok(rows)
    }
}

/// Rows read with the general decoder, each key by key.
struct General;

impl ReadRows for General {
    fn read<'de, R: RowDecode, A: SeqAccess<'de>>(mut seq: A) -> Result<Vec<R>, A::Error> {
        let mut rows = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_ROWS_HINT));
        while let Some(row) = seq.next_element_seed(GeneralRow(PhantomData))? {
            rows.push(row);
        }
        Ok(rows)
    }
}

/// The `data` member: `null` (no rows), or an array of rows read the way `M` says.
struct Data<R, M>(PhantomData<(R, M)>);

impl<R, M> Data<R, M> {
    fn new() -> Self {
        Self(PhantomData)
    }
}

impl<'de, R: RowDecode, M: ReadRows> DeserializeSeed<'de> for Data<R, M> {
    type Value = Vec<R>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<R>, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, R: RowDecode, M: ReadRows> Visitor<'de> for Data<R, M> {
    type Value = Vec<R>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of rows")
    }

    fn visit_none<E: de::Error>(self) -> Result<Vec<R>, E> {
        Ok(Vec::new())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Vec<R>, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<R>, D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Vec<R>, A::Error> {
        M::read(seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pages_on_the_fast_path_and_leaves_odd_rows_to_the_general_decoder() {
        let text = r#"{"data":[
            {"attributes":{"bytes_sent_by_client":1},"type":"aggregated_connection"},
            {"attributes":{"bytes_sent_by_client":2,"new":"x"},"links":{"self":"/2"}},
            {"attributes":{"bytes_sent_by_client":3}}
        ],"meta":{"page":1}}"#;
        let page: ConnectionsDocument = serde_json::from_str(text).unwrap();
        let bytes: Vec<_> = page.data.iter().map(|r| r.bytes_sent_by_client).collect();
        assert_eq!(bytes, [Some(1), Some(2), Some(3)]);
        assert_eq!(
            page.data[1].extra_attributes.get("new"),
            Some(&serde_json::json!("x"))
        );
        assert_eq!(
            page.extra_members.get("meta"),
            Some(&serde_json::json!({"page": 1}))
        );
        let again: ConnectionsDocument =
            serde_json::from_value(serde_json::to_value(&page).unwrap()).unwrap();
        assert_eq!(again, page);
    }

    #[test]
    fn empty_and_null_data_are_no_rows_and_other_shapes_are_errors() {
        for text in [r#"{"data":[]}"#, r#"{"data":null}"#, r#"{"data": [ ] }"#] {
            let page: DnsDocument = serde_json::from_str(text).unwrap();
            assert!(page.data.is_empty(), "{text}");
        }
        for (text, message) in [
            ("{}", "the answer has no `data` member"),
            (r#"{"data":[],"data":[]}"#, "duplicate field `data`"),
            (r#"{"meta":{"page":1}}"#, "the answer has no `data` member"),
            (
                r#"{"errors":["internal"]}"#,
                r#"the answer holds JSON:API `errors` instead of rows: ["internal"]"#,
            ),
            (
                r#"{"data":[],"errors":[{"title":"partial"}]}"#,
                "the answer holds JSON:API `errors` instead of rows",
            ),
            (
                r#"{"data":{}}"#,
                "invalid type: map, expected an array of rows",
            ),
            (
                r#"{"data":5}"#,
                "invalid type: integer `5`, expected an array of rows",
            ),
            (
                r#"{"data":[5]}"#,
                "invalid type: integer `5`, expected an aggregated DNS row",
            ),
            (
                r#"{"data":[{"attributes":{"metrics":[{"key":"dns_timeouts","value":1.5}]}}]}"#,
                "invalid type: floating point `1.5`, expected an int64 metric or null",
            ),
        ] {
            let error = serde_json::from_str::<DnsDocument>(text).unwrap_err();
            assert!(error.to_string().starts_with(message), "{text}: {error}");
        }
    }
}
