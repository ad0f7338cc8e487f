//! The JSON:API row shape both endpoints share: `{"attributes": {…}, "id": …, "type": …}`.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserializer, Serialize, Serializer};

use crate::fast::{self, Reader};
use crate::group_bys::{KeyStr, StrRef, readable_keys};

/// A row type: where its id and extra members go, and how it reads its attributes.
pub(crate) trait Row: Default {
    /// The JSON:API resource type the API sends for this row.
    const TYPE: &'static str;
    /// What the row is, for error messages.
    const WHAT: &'static str;

    fn id_mut(&mut self) -> &mut Option<String>;

    fn meta_mut(&mut self) -> &mut BTreeMap<String, serde_json::Value>;

    /// Read the members of the `attributes` object into the row.
    fn read_attributes<'de, A: MapAccess<'de>>(&mut self, map: A) -> Result<(), A::Error>;

    /// Read the `attributes` object (not `null`) on the fast path; `None` gives up.
    fn read_attributes_fast(&mut self, reader: &mut Reader<'_>) -> Option<()>;
}

/// The name under which serde_json hands over the text of a value instead of its tokens
/// (the mechanism behind `serde_json::value::RawValue`, enabled by its `raw_value`
/// feature). Other deserializers treat it as an ordinary newtype struct name, and the
/// row is then decoded member by member; only speed depends on this name.
const RAW_TEXT: &str = "$serde_json::private::RawValue";

/// Decode one row.
///
/// From serde_json, the row's text is taken whole and read by the fast path
/// ([`crate::fast`]), or, when it is not in the usual shape, by the general decoder
/// below. From any other deserializer, and under [`crate::with_readable_keys`] (which
/// needs every key to pass through the outer deserializer to report exact error paths),
/// the general decoder reads the row directly.
pub(crate) fn deserialize_row<'de, R: Row, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<R, D::Error> {
    let mut row = R::default();
    deserialize_row_in_place(deserializer, &mut row)?;
    Ok(row)
}

/// Decode one row into `place` (serde's `deserialize_in_place`), which saves moving each
/// row of a page from one stack frame to the next on its way into the page's vector.
pub(crate) fn deserialize_row_in_place<'de, R: Row, D: Deserializer<'de>>(
    deserializer: D,
    place: &mut R,
) -> Result<(), D::Error> {
    if readable_keys() {
        *place = deserializer.deserialize_map(RowVisitor(PhantomData))?;
        Ok(())
    } else {
        deserializer.deserialize_newtype_struct(RAW_TEXT, RowText(place))
    }
}

/// Decode a row from its whole text with the general decoder.
pub(crate) fn decode_row_text<R: Row>(text: &str) -> Result<R, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let row = deserializer.deserialize_map(RowVisitor(PhantomData))?;
    deserializer.end()?;
    Ok(row)
}

/// A row handed over as text, or, from a deserializer that does not do that, as itself;
/// decoded into the place it holds.
struct RowText<'p, R>(&'p mut R);

impl<'de, R: Row> Visitor<'de> for RowText<'_, R> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(R::WHAT)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        *self.0 = deserializer.deserialize_map(RowVisitor(PhantomData))?;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // serde_json hands the text over as a one-entry map: `{RAW_TEXT: text}`.
        let first = map.next_key::<KeyStr<'de>>()?;
        if first.as_ref().map(KeyStr::as_bytes) != Some(RAW_TEXT.as_bytes()) {
            // A deserializer that saw through the newtype: this map is the row itself.
            *self.0 = read_members(first, map)?;
            return Ok(());
        }
        let text = map.next_value::<StrRef<'de>>()?;
        let text = text.as_str();
        // The fast path fills a fresh row; `place` may hold an earlier row (a page's
        // vector hands over a fresh one, so this costs a few stores there).
        *self.0 = R::default();
        if fast::row(text, self.0).is_none() {
            *self.0 = decode_row_text(text).map_err(|e| de::Error::custom(without_position(&e)))?;
        }
        Ok(())
    }
}

/// The message of `error` without its position: that is relative to the row's text, and
/// the outer deserializer adds its own.
fn without_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    match message.strip_suffix(&position) {
        Some(bare) => bare.to_owned(),
        None => message,
    }
}

struct RowVisitor<R>(PhantomData<R>);

impl<'de, R: Row> Visitor<'de> for RowVisitor<R> {
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
fn read_members<'de, R: Row, A: MapAccess<'de>>(
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
                    row.meta_mut().insert("type".into(), kind.to_str()?.into());
                }
            }
            _ => {
                let name = current.to_str()?.to_owned();
                row.meta_mut().insert(name, map.next_value()?);
            }
        }
        key = map.next_key()?;
    }
    Ok(row)
}

/// The `attributes` object, read into the row.
struct Attributes<'r, R>(&'r mut R);

impl<'de, R: Row> DeserializeSeed<'de> for Attributes<'_, R> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, R: Row> Visitor<'de> for Attributes<'_, R> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the attributes of {}", R::WHAT)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.0.read_attributes(map)
    }
}

/// Reads `null` as nothing, and anything else with the inner seed.
pub(crate) struct OrNull<S>(pub(crate) S);

impl<'de, S: DeserializeSeed<'de, Value = ()>> DeserializeSeed<'de> for OrNull<S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de, Value = ()>> Visitor<'de> for OrNull<S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.0.deserialize(deserializer)
    }
}

/// `{"attributes": …, "id": …, "type": …, <meta>…}`.
pub(crate) fn serialize_row<S: Serializer>(
    serializer: S,
    attributes: &impl Serialize,
    id: Option<&str>,
    meta: &BTreeMap<String, serde_json::Value>,
    default_type: &str,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(None)?;
    map.serialize_entry("attributes", attributes)?;
    if let Some(id) = id {
        map.serialize_entry("id", id)?;
    }
    match meta.get("type") {
        Some(kind) => map.serialize_entry("type", kind)?,
        None => map.serialize_entry("type", default_type)?,
    }
    for (key, value) in meta.iter().filter(|(key, _)| *key != "type") {
        map.serialize_entry(key, value)?;
    }
    map.end()
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use serde::Deserialize;
    use serde::de::value::Error;

    use super::RAW_TEXT;

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
        let _ = crate::Connection::deserialize(NewtypeName(&row_asks));
        assert_eq!(serde_json_asks.get(), Some(RAW_TEXT));
        assert_eq!(row_asks.get(), Some(RAW_TEXT));
    }
}
