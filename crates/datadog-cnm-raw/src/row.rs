//! The JSON:API row shape both endpoints share: `{"attributes": {…}, "id": …, "type": …}`.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserializer, Serialize, Serializer};

use crate::group_bys::KeyStr;

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
}

/// Decode one row.
pub(crate) fn deserialize_row<'de, R: Row, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<R, D::Error> {
    deserializer.deserialize_map(RowVisitor(PhantomData))
}

struct RowVisitor<R>(PhantomData<R>);

impl<'de, R: Row> Visitor<'de> for RowVisitor<R> {
    type Value = R;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(R::WHAT)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<R, A::Error> {
        let mut row = R::default();
        while let Some(key) = map.next_key::<KeyStr<'de>>()? {
            match key.as_bytes() {
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
                    let key = key.to_str()?.to_owned();
                    row.meta_mut().insert(key, map.next_value()?);
                }
            }
        }
        Ok(row)
    }
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
