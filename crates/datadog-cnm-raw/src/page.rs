//! The response document of both operations, `{"data": [rows…]}`: the hand-written
//! replacement of `SingleAggregatedConnectionResponseArray` and
//! `SingleAggregatedDnsResponseArray`.
//!
//! It differs from what progenitor would generate in two ways: members other than `data`
//! (JSON:API `meta`, `links`, …) are kept instead of dropped, and the row vector is sized
//! from the previous page decoded on the same thread, so a 7500-row page is not built by
//! a dozen reallocations of a multi-megabyte buffer.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::connection::Connection;
use crate::dns::DnsRow;
use crate::group_bys::KeyStr;

/// A page of rows: the `data` array of a response, and any other members the server sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<R> {
    /// The rows, in the server's order.
    pub data: Vec<R>,
    /// Members of the document other than `data`, exactly as the server sent them.
    pub meta: BTreeMap<String, serde_json::Value>,
}

impl<R> Default for Page<R> {
    fn default() -> Self {
        Self {
            data: Vec::new(),
            meta: BTreeMap::new(),
        }
    }
}

/// A page of aggregated connections (`SingleAggregatedConnectionResponseArray`).
pub type ConnectionPage = Page<Connection>;
/// A page of aggregated DNS rows (`SingleAggregatedDnsResponseArray`).
pub type DnsPage = Page<DnsRow>;

/// The largest page the API returns; a hint above it is not trusted.
const MAX_ROWS_HINT: usize = 7500;

thread_local! {
    /// Rows in the last page decoded on this thread.
    static LAST_PAGE_LEN: Cell<usize> = const { Cell::new(0) };
}

impl<R: Serialize> Serialize for Page<R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("data", &self.data)?;
        for (key, value) in &self.meta {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de, R: Deserialize<'de> + Default> Deserialize<'de> for Page<R> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PageVisitor(PhantomData))
    }
}

struct PageVisitor<R>(PhantomData<R>);

impl<'de, R: Deserialize<'de> + Default> Visitor<'de> for PageVisitor<R> {
    type Value = Page<R>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a response document with a `data` array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Page<R>, A::Error> {
        let mut page = Page::default();
        while let Some(key) = map.next_key::<KeyStr<'de>>()? {
            if key.as_bytes() == b"data" {
                page.data = map.next_value_seed(Rows(PhantomData))?;
            } else {
                let key = key.to_str()?.to_owned();
                page.meta.insert(key, map.next_value()?);
            }
        }
        Ok(page)
    }
}

/// Decodes a value into an existing place.
struct InPlace<'p, R>(&'p mut R);

impl<'de, R: Deserialize<'de>> DeserializeSeed<'de> for InPlace<'_, R> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        R::deserialize_in_place(deserializer, self.0)
    }
}

/// The `data` array (or `null`), pre-sized from the previous page.
struct Rows<R>(PhantomData<R>);

impl<'de, R: Deserialize<'de> + Default> DeserializeSeed<'de> for Rows<R> {
    type Value = Vec<R>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<R>, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, R: Deserialize<'de> + Default> Visitor<'de> for Rows<R> {
    type Value = Vec<R>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of rows")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Vec<R>, E> {
        Ok(Vec::new())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Vec<R>, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<R>, D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<R>, A::Error> {
        let hint = seq
            .size_hint()
            .unwrap_or_else(|| LAST_PAGE_LEN.get())
            .min(MAX_ROWS_HINT);
        // One more than the hint: the place for a next row that turns out not to exist.
        let mut rows: Vec<R> = Vec::with_capacity(hint + 1);
        // Each row is decoded where it stays, in the vector (`deserialize_in_place`),
        // rather than built elsewhere and moved in: rows are a few hundred bytes each.
        loop {
            rows.push(R::default());
            let decoded = match rows.last_mut() {
                Some(place) => seq.next_element_seed(InPlace(place))?.is_some(),
                None => false,
            };
            if !decoded {
                rows.pop();
                break;
            }
        }
        // A guess far above what came back would pin memory for the page's lifetime.
        if rows.capacity() > 2 * rows.len() + 16 {
            rows.shrink_to_fit();
        }
        LAST_PAGE_LEN.set(rows.len());
        Ok(rows)
    }
}
