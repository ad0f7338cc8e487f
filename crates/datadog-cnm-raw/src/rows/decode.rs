//! Decoding one row — the JSON:API shape both endpoints share, `{"attributes": {…}, "id":
//! …, "type": …}` — on the fast path or with the general decoder.
//!
//! From serde_json, a row's text is taken whole (serde_json has validated it) and read by
//! the fast path (`reader.rs`) while it is still in the cache, or, when it is not in the
//! usual shape, by the general decoder below, which handles any valid input. From any
//! other deserializer the general decoder reads the row directly.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserializer, Serialize, Serializer};

use super::reader::{Hints, Reader};
use super::text::{KeyStr, OrNull, RAW_TEXT, StrRef, without_position};

/// How a row type decodes: where its id and extra members go, and how it reads its
/// attributes on each path.
///
/// Public in a private module: the raw crate's public `Row` trait requires it, and nobody
/// outside this crate can implement it (so `Row` is sealed).
pub trait RowDecode: Default {
    /// The JSON:API resource type the API sends for this row.
    const TYPE: &'static str;
    /// What the row is, for error messages.
    const WHAT: &'static str;

    /// The row's id.
    fn id_mut(&mut self) -> &mut Option<String>;

    /// Members of the row object other than `attributes`, `id` and `type`.
    fn extra_members_mut(&mut self) -> &mut BTreeMap<String, serde_json::Value>;

    /// Read the members of the `attributes` object into the row.
    fn read_attributes<'de, A: MapAccess<'de>>(&mut self, map: A) -> Result<(), A::Error>;

    /// Read the `attributes` object (not `null`) on the fast path; `None` gives up.
    fn read_attributes_fast(&mut self, reader: &mut Reader<'_>, hints: &mut Hints) -> Option<()>;
}

/// Decode one row from a deserializer, as `Deserialize` does.
pub(crate) fn deserialize_row<'de, R: RowDecode, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<R, D::Error> {
    let mut row = R::default();
    deserialize_row_in_place(deserializer, &mut row)?;
    Ok(row)
}

/// Decode one row into `place` (serde's `deserialize_in_place`).
pub(crate) fn deserialize_row_in_place<'de, R: RowDecode, D: Deserializer<'de>>(
    deserializer: D,
    place: &mut R,
) -> Result<(), D::Error> {
    RowInPlace {
        place,
        hints: &mut Hints::default(),
    }
    .deserialize(deserializer)
}

/// Decodes one row of a page into `place`, with the sizes learnt from the page's earlier
/// rows.
pub(crate) struct RowInPlace<'p, 'h, R> {
    pub(crate) place: &'p mut R,
    pub(crate) hints: &'h mut Hints,
}

impl<'de, R: RowDecode> DeserializeSeed<'de> for RowInPlace<'_, '_, R> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_newtype_struct(RAW_TEXT, self)
    }
}

/// Decode a row from its whole text with the general decoder.
pub(crate) fn decode_row_text<R: RowDecode>(text: &str) -> Result<R, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let row = deserializer.deserialize_map(RowVisitor(PhantomData))?;
    deserializer.end()?;
    Ok(row)
}

/// A row read with the general decoder only, key by key: for tools that follow the
/// decoder's path through the document (such as `serde_path_to_error`).
pub(crate) struct GeneralRow<R>(pub(crate) PhantomData<R>);

impl<'de, R: RowDecode> DeserializeSeed<'de> for GeneralRow<R> {
    type Value = R;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<R, D::Error> {
        deserializer.deserialize_map(RowVisitor(PhantomData))
    }
}

/// Read the row at the reader's position on the fast path, into `row` (which must be
/// `R::default()`); `None` gives up, leaving `row` partly written.
pub(crate) fn read_row_fast<R: RowDecode>(
    reader: &mut Reader<'_>,
    row: &mut R,
    hints: &mut Hints,
) -> Option<()> {
    if !reader.open(b'{', b'}')? {
        return Some(());
    }
    loop {
        match reader.key()? {
            "attributes" => {
                if !reader.eat_null() {
                    row.read_attributes_fast(reader, hints)?;
                }
            }
            "id" => {
                *row.id_mut() = if reader.eat_null() {
                    None
                } else {
                    Some(reader.str()?.to_owned())
                };
            }
            "type" => {
                // Another type is kept among the extra members: the general decoder does that.
                if !reader.eat_null() && reader.str()? != R::TYPE {
                    return None;
                }
            }
            _ => return None,
        }
        if !reader.next(b'}')? {
            return Some(());
        }
    }
}

/// A row handed over as text, or, from a deserializer that does not do that, as itself;
/// decoded into the place it holds.
impl<'de, R: RowDecode> Visitor<'de> for RowInPlace<'_, '_, R> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(R::WHAT)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        *self.place = deserializer.deserialize_map(RowVisitor(PhantomData))?;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // serde_json hands the text over as a one-entry map: `{RAW_TEXT: text}`.
        let first = map.next_key::<KeyStr<'de>>()?;
        if first.as_ref().map(KeyStr::as_bytes) != Some(RAW_TEXT.as_bytes()) {
            // A deserializer that saw through the newtype: this map is the row itself.
            *self.place = read_members(first, map)?;
            return Ok(());
        }
        let text = map.next_value::<StrRef<'de>>()?;
        let text = text.as_str();
        let mut reader = Reader::new(text);
        // The fast path fills a fresh row; `place` may hold an earlier row (a page's
        // vector hands over a fresh one, so this costs a few stores there).
        *self.place = R::default();
        if read_row_fast(&mut reader, self.place, self.hints).is_none() || !reader.at_end() {
            *self.place =
                decode_row_text(text).map_err(|e| de::Error::custom(without_position(&e)))?;
        }
        Ok(())
    }
}

struct RowVisitor<R>(PhantomData<R>);

impl<'de, R: RowDecode> Visitor<'de> for RowVisitor<R> {
    type Value = R;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(R::WHAT)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<R, A::Error> {
        let first = map.next_key::<KeyStr<'de>>()?;
        read_members(first, map)
    }
}

/// Read the members of a row object, starting with `key` (already read).
fn read_members<'de, R: RowDecode, A: MapAccess<'de>>(
    mut key: Option<KeyStr<'de>>,
    mut map: A,
) -> Result<R, A::Error> {
    let mut row = R::default();
    while let Some(current) = key {
        match current.as_bytes() {
            b"attributes" => map.next_value_seed(OrNull(Attributes(&mut row)))?,
            b"id" => *row.id_mut() = map.next_value()?,
            b"type" => {
                // Compared as bytes; only an unexpected type is checked and kept.
                let kind = map.next_value::<Option<KeyStr<'de>>>()?;
                if let Some(kind) = kind.filter(|k| k.as_bytes() != R::TYPE.as_bytes()) {
                    row.extra_members_mut()
                        .insert("type".into(), kind.to_str()?.into());
                }
            }
            _ => {
                let name = current.to_str()?.to_owned();
                row.extra_members_mut().insert(name, map.next_value()?);
            }
        }
        key = map.next_key()?;
    }
    Ok(row)
}

/// The `attributes` object, read into the row.
struct Attributes<'r, R>(&'r mut R);

impl<'de, R: RowDecode> DeserializeSeed<'de> for Attributes<'_, R> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, R: RowDecode> Visitor<'de> for Attributes<'_, R> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the attributes of {}", R::WHAT)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.0.read_attributes(map)
    }
}

/// `{"attributes": …, "id": …, "type": …, <extra members>…}`.
pub(crate) fn serialize_row<S: Serializer>(
    serializer: S,
    attributes: &impl Serialize,
    id: Option<&str>,
    extra_members: &BTreeMap<String, serde_json::Value>,
    default_type: &str,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(None)?;
    map.serialize_entry("attributes", attributes)?;
    if let Some(id) = id {
        map.serialize_entry("id", id)?;
    }
    match extra_members.get("type") {
        Some(kind) => map.serialize_entry("type", kind)?,
        None => map.serialize_entry("type", default_type)?,
    }
    for (key, value) in extra_members.iter().filter(|(key, _)| *key != "type") {
        map.serialize_entry(key, value)?;
    }
    map.end()
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use serde::Deserialize;
    use serde::de::value::Error;

    use super::*;
    use crate::rows::{Connection, DnsRow};

    const CONNECTION: &str = r#"{"attributes":{"group_bys":{"client_service":["web"],"server_service":["db","db-replica"],"client_team":"net"},"bytes_sent_by_client":120,"bytes_sent_by_server":-3,"rtt_micro_seconds":null,"tcp_timeouts":9223372036854775807,"tcp_resets":-9223372036854775808},"id":"web|db","type":"aggregated_connection"}"#;
    const DNS: &str = r#"{"attributes":{"group_bys":[{"key":"network.dns_query","value":"a.example"},{"value":"x","key":"client_service"}],"metrics":[{"key":"dns_total_requests","value":12},{"key":"dns_responses.refused","value":2},{"key":"dns_timeouts","value":null}]},"id":"q","type":"aggregated_dns"}"#;

    /// What the fast decoder makes of `text`, which must hold exactly one row.
    fn fast<R: RowDecode>(text: &str) -> Option<R> {
        let mut place = R::default();
        let mut reader = Reader::new(text);
        read_row_fast(&mut reader, &mut place, &mut Hints::default())?;
        reader.at_end().then_some(place)
    }

    /// The fast decoder accepts `text` and agrees with the general one.
    fn agrees<R: RowDecode + PartialEq + std::fmt::Debug>(text: &str) -> R {
        let fast = fast::<R>(text).unwrap_or_else(|| panic!("fast path gave up on {text}"));
        let general = decode_row_text::<R>(text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(fast, general, "{text}");
        fast
    }

    /// The fast decoder leaves `text` to the general one.
    fn gives_up<R: RowDecode>(text: &str) {
        assert!(fast::<R>(text).is_none(), "fast path accepted {text}");
    }

    #[test]
    fn reads_the_common_shape_like_the_general_decoder() {
        let row: Connection = agrees(CONNECTION);
        assert_eq!(row.tcp_timeouts, Some(i64::MAX));
        assert_eq!(row.tcp_resets, Some(i64::MIN));
        assert_eq!(row.bytes_sent_by_server, Some(-3));
        assert_eq!(
            row.group_bys.values("server_service").collect::<Vec<_>>(),
            ["db", "db-replica"]
        );
        let pretty = serde_json::to_string_pretty(
            &serde_json::from_str::<serde_json::Value>(CONNECTION).unwrap_or_default(),
        )
        .unwrap_or_default();
        assert_eq!(agrees::<Connection>(&pretty), row, "whitespace anywhere");

        let dns: DnsRow = agrees(DNS);
        assert_eq!(dns.group("client_service"), Some("x"));
        assert_eq!(
            dns.metrics.extra.get("dns_responses.refused"),
            Some(&Some(2))
        );

        for text in [
            "{}",
            r#"{"attributes":null,"id":null,"type":null}"#,
            r#"{"attributes":{"group_bys":null,"tcp_resets":0},"id":"é|ü"}"#,
            r#"{"attributes":{"group_bys":{},"tcp_resets":1,"tcp_resets":2}}"#,
            r#"{"attributes":{"tcp_resets":1},"attributes":{"group_bys":{"a":[]}}}"#,
        ] {
            agrees::<Connection>(text);
        }
        for text in [
            r#"{"attributes":{"group_bys":null,"metrics":null}}"#,
            r#"{"attributes":{"group_bys":[],"metrics":[]},"id":"x"}"#,
        ] {
            agrees::<DnsRow>(text);
        }
    }

    #[test]
    fn leaves_anything_unusual_to_the_general_decoder() {
        for text in [
            r#"{"attributes":{"tcp_resets":1.0}}"#,
            r#"{"attributes":{"tcp_resets":1e3}}"#,
            r#"{"attributes":{"tcp_resets":-0}}"#,
            r#"{"attributes":{"tcp_resets":9223372036854775808}}"#,
            r#"{"attributes":{"tcp_resets":-9223372036854775809}}"#,
            r#"{"attributes":{"tcp_resets":"1"}}"#,
            r#"{"attributes":{"new_metric":1}}"#,
            r#"{"attributes":{"group_bys":{"client_service":["a\"b"]}}}"#,
            r#"{"attributes":{"group_bys":{"client_service":[null]}}}"#,
            r#"{"attributes":[]}"#,
            r#"{"id":"a\u00e9"}"#,
            r#"{"type":"aggregated_dns"}"#,
            r#"{"links":{}}"#,
            r#"{} {}"#,
            r#"{"attributes":{}"#,
        ] {
            gives_up::<Connection>(text);
        }
        for text in [
            r#"{"attributes":{"metrics":[{"key":"dns_timeouts"}]}}"#,
            r#"{"attributes":{"metrics":[{"key":"dns_timeouts","value":1,"unit":"n"}]}}"#,
            r#"{"attributes":{"group_bys":[{"key":"a","value":1}]}}"#,
            r#"{"attributes":{"sampled":true}}"#,
        ] {
            gives_up::<DnsRow>(text);
        }
    }

    /// Records the name a `Deserialize` impl asks for as a newtype struct, then fails.
    struct NewtypeName<'a>(&'a Cell<Option<&'static str>>);

    impl<'de> serde::Deserializer<'de> for NewtypeName<'_> {
        type Error = Error;

        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
            Err(serde::de::Error::custom("not a newtype struct"))
        }

        fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
            self,
            name: &'static str,
            _: V,
        ) -> Result<V::Value, Error> {
            self.0.set(Some(name));
            Err(serde::de::Error::custom("recorded"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct seq tuple tuple_struct map struct enum
            identifier ignored_any
        }
    }

    /// Rows ask serde_json for their text under the name its `RawValue` uses: if a
    /// serde_json release renamed it, rows would still decode, only slowly, so this
    /// test is what notices.
    #[test]
    fn rows_ask_for_their_text_as_serde_json_raw_value_does() {
        let serde_json_asks = Cell::new(None);
        let _ = <&serde_json::value::RawValue>::deserialize(NewtypeName(&serde_json_asks));
        let row_asks = Cell::new(None);
        let _ = Connection::deserialize(NewtypeName(&row_asks));
        assert_eq!(serde_json_asks.get(), Some(RAW_TEXT));
        assert_eq!(row_asks.get(), Some(RAW_TEXT));
    }
}
