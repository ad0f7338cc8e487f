//! Group-by values, stored compactly: interned keys, one value without a `Vec`.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::Arc;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The group-by values of one row: group key → values, ordered by key.
///
/// Connections may carry several values per key, DNS rows one. [`GroupBys::get`] returns
/// the first value, which is what most code wants. Serialized as
/// `{"client_service": ["web"], …}` (the connections wire form); deserialized from that
/// form or with single strings as values.
///
/// A page repeats the same few keys on every row, so keys are shared (`Arc<str>`) rather
/// than allocated per row, and a single value needs no `Vec`.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupBys {
    /// Sorted by key; keys are unique.
    entries: Vec<(Arc<str>, Values)>,
}

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Values {
    One(String),
    Many(Vec<String>),
}

impl Values {
    fn as_slice(&self) -> &[String] {
        match self {
            Self::One(value) => std::slice::from_ref(value),
            Self::Many(values) => values,
        }
    }

    fn push(&mut self, value: String) {
        match self {
            Self::One(first) => {
                let first = std::mem::take(first);
                *self = Self::Many(vec![first, value]);
            }
            Self::Many(values) => values.push(value),
        }
    }
}

impl GroupBys {
    /// No groups.
    pub fn new() -> Self {
        Self::default()
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values(key).first().map(String::as_str)
    }

    /// Every value of `key` (empty when the key is absent).
    pub fn values(&self, key: &str) -> &[String] {
        match self.find(key) {
            Ok(at) => self.entries[at].1.as_slice(),
            Err(_) => &[],
        }
    }

    /// `(key, values)` pairs, ordered by key.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &[String])> {
        self.entries
            .iter()
            .map(|(key, values)| (&**key, values.as_slice()))
    }

    /// The keys, ordered.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> {
        self.entries.iter().map(|(key, _)| &**key)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Add `value` under `key`, after any values already there.
    pub fn push(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        match self.find(key) {
            Ok(at) => self.entries[at].1.push(value),
            Err(at) => self.entries.insert(at, (intern(key), Values::One(value))),
        }
    }

    /// Add several values under `key`, after any values already there.
    pub fn extend_key(&mut self, key: &str, values: Vec<String>) {
        match self.find(key) {
            Ok(at) => {
                for value in values {
                    self.entries[at].1.push(value);
                }
            }
            Err(at) => {
                let values = if values.len() == 1 {
                    Values::One(values.into_iter().next().unwrap_or_default())
                } else {
                    Values::Many(values)
                };
                self.entries.insert(at, (intern(key), values));
            }
        }
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| (**k).cmp(key))
    }
}

impl fmt::Debug for GroupBys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: AsRef<str>, V: Into<String>> FromIterator<(K, V)> for GroupBys {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut group_bys = Self::new();
        for (key, value) in iter {
            group_bys.push(key.as_ref(), value);
        }
        group_bys
    }
}

thread_local! {
    /// Keys seen recently on this thread. A page has a handful of distinct keys repeated
    /// on every row; sharing them saves one allocation per key per row.
    static KEYS: RefCell<Vec<Arc<str>>> = const { RefCell::new(Vec::new()) };
}

/// Keys beyond this many are not cached (a hostile page cannot grow the cache).
const MAX_INTERNED: usize = 64;

fn intern(key: &str) -> Arc<str> {
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        if let Some(found) = keys.iter().find(|k| ***k == *key) {
            return found.clone();
        }
        let key: Arc<str> = Arc::from(key);
        if keys.len() < MAX_INTERNED {
            keys.push(key.clone());
        }
        key
    })
}

impl Serialize for GroupBys {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (key, values) in self.iter() {
            map.serialize_entry(key, values)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for GroupBys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(GroupBysVisitor)
    }
}

struct GroupBysVisitor;

impl<'de> Visitor<'de> for GroupBysVisitor {
    type Value = GroupBys;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of group-by keys to values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<GroupBys, A::Error> {
        let mut group_bys = GroupBys {
            entries: Vec::with_capacity(map.size_hint().unwrap_or(4)),
        };
        while let Some(key) = map.next_key::<KeyStr<'de>>()? {
            let key = key.to_str()?;
            match map.next_value::<OneOrMany>()? {
                OneOrMany::One(value) => group_bys.push(key, value),
                OneOrMany::Many(values) => group_bys.extend_key(key, values),
            }
        }
        Ok(group_bys)
    }
}

thread_local! {
    static READABLE_KEYS: Cell<bool> = const { Cell::new(false) };
}

/// Run `f` with the hand-written decoders reading map keys as text rather than bytes.
///
/// Slower, but tools that report *where* decoding failed (such as `serde_path_to_error`)
/// only see keys read as text. Use it to locate an error after a fast decode failed.
pub fn with_readable_keys<R>(f: impl FnOnce() -> R) -> R {
    let before = READABLE_KEYS.replace(true);
    let result = f();
    READABLE_KEYS.set(before);
    result
}

/// A map key, borrowed from the input when possible and not yet checked to be UTF-8:
/// known field names are matched as bytes, which spares serde_json a UTF-8 validation of
/// every key; only keys that are kept are checked (see [`KeyStr::into_string`]).
pub(crate) enum KeyStr<'de> {
    Borrowed(&'de [u8]),
    Owned(Vec<u8>),
}

impl KeyStr<'_> {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Borrowed(bytes) => bytes,
            Self::Owned(bytes) => bytes,
        }
    }

    /// The key as text; an error when it is not UTF-8.
    pub(crate) fn to_str<E: de::Error>(&self) -> Result<&str, E> {
        std::str::from_utf8(self.as_bytes())
            .map_err(|_| E::invalid_value(de::Unexpected::Bytes(self.as_bytes()), &"a UTF-8 key"))
    }
}

impl<'de> Deserialize<'de> for KeyStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = KeyStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
                Ok(KeyStr::Borrowed(v))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                Ok(KeyStr::Owned(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
                Ok(KeyStr::Owned(v))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(KeyStr::Borrowed(v.as_bytes()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(KeyStr::Owned(v.as_bytes().to_vec()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(KeyStr::Owned(v.into_bytes()))
            }
        }
        if READABLE_KEYS.get() {
            deserializer.deserialize_str(KeyVisitor)
        } else {
            // serde_json hands map keys to `deserialize_bytes` without UTF-8 validation.
            deserializer.deserialize_bytes(KeyVisitor)
        }
    }
}

/// A list of strings, or one string. A one-element list (the usual case) needs no `Vec`.
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValuesVisitor;
        impl<'de> Visitor<'de> for ValuesVisitor {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let Some(first) = seq.next_element::<String>()? else {
                    return Ok(OneOrMany::Many(Vec::new()));
                };
                let Some(second) = seq.next_element::<String>()? else {
                    return Ok(OneOrMany::One(first));
                };
                let mut values = vec![first, second];
                while let Some(value) = seq.next_element::<String>()? {
                    values.push(value);
                }
                Ok(OneOrMany::Many(values))
            }
        }
        deserializer.deserialize_any(ValuesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_every_value_sorted_by_key() {
        let mut g = GroupBys::new();
        g.push("server_service", "db");
        g.push("client_service", "web");
        g.push("client_service", "api");
        assert_eq!(
            g.keys().collect::<Vec<_>>(),
            ["client_service", "server_service"]
        );
        assert_eq!(g.get("client_service"), Some("web"));
        assert_eq!(g.values("client_service"), ["web", "api"]);
        assert_eq!(g.values("absent"), [] as [String; 0]);
    }

    #[test]
    fn round_trips_the_wire_form() {
        let text = r#"{"server_service":["db"],"client_team":["net","sre"],"x":"one"}"#;
        let g: GroupBys = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(g.values("client_team"), ["net", "sre"]);
        assert_eq!(g.get("x"), Some("one"));
        let back = serde_json::to_string(&g).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            back,
            r#"{"client_team":["net","sre"],"server_service":["db"],"x":["one"]}"#
        );
        let bad: Result<GroupBys, _> = serde_json::from_str(r#"{"a":[1]}"#);
        assert!(bad.is_err());
    }
}
