//! Group-by values, stored compactly: every key and value of a row in one string.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::text::{KeyStr, StrRef};

/// The group-by values of one row: group key → values, ordered by key.
///
/// Connections may carry several values per key, DNS rows one. [`GroupBys::get`] returns
/// the first value, which is what most code wants. Serialized as
/// `{"client_service": ["web"], …}` (the connections wire form); deserialized from that
/// form or with single strings as values.
///
/// A 7500-row page holds 30 000 group-by values; keeping a row's keys and values in one
/// string costs two allocations per row instead of two per value.
#[derive(Clone, Default)]
pub struct GroupBys {
    /// Keys and values back to back.
    text: String,
    /// Ordered by key, then by insertion; a key with several values has several entries.
    entries: Vec<Entry>,
}

/// `text[key.0..key.1]` is the key, `text[value.0..value.1]` the value.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    key: (usize, usize),
    value: (usize, usize),
}

impl Entry {
    /// The entry for a key and a value at these byte ranges of the text.
    pub(crate) fn new(key: (usize, usize), value: (usize, usize)) -> Self {
        Self { key, value }
    }
}

impl GroupBys {
    /// No groups.
    pub fn new() -> Self {
        Self::default()
    }

    fn key(&self, entry: &Entry) -> &str {
        self.text.get(entry.key.0..entry.key.1).unwrap_or_default()
    }

    fn value(&self, entry: &Entry) -> &str {
        self.text
            .get(entry.value.0..entry.value.1)
            .unwrap_or_default()
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        let entry = self.entries.get(self.first_of(key))?;
        (self.key(entry) == key).then(|| self.value(entry))
    }

    /// Every value of `key`, in the order the server sent them (none when absent).
    pub fn values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries[self.first_of(key)..]
            .iter()
            .take_while(move |e| self.key(e) == key)
            .map(|e| self.value(e))
    }

    /// Index of the first entry whose key is not less than `key`.
    fn first_of(&self, key: &str) -> usize {
        self.entries.partition_point(|e| self.key(e) < key)
    }

    /// Every `(key, value)` pair, ordered by key (a key with two values appears twice).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|e| (self.key(e), self.value(e)))
    }

    /// The distinct keys, ordered.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        let mut previous = None;
        self.entries.iter().filter_map(move |e| {
            let key = self.key(e);
            (previous != Some(key)).then(|| {
                previous = Some(key);
                key
            })
        })
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.keys().count()
    }

    /// Bytes of keys and values held.
    pub(crate) fn text_len(&self) -> usize {
        self.text.len()
    }

    /// `true` when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Add `value` under `key`, after any values already there.
    pub fn push(&mut self, key: &str, value: &str) {
        let start = self.text.len();
        self.text.push_str(key);
        let middle = self.text.len();
        self.text.push_str(value);
        let end = self.text.len();
        let entry = Entry::new((start, middle), (middle, end));
        // Servers usually send keys in order: then the entry goes at the end.
        match self.entries.last() {
            Some(last) if self.key(last) > key => {
                let at = self.entries.partition_point(|e| self.key(e) <= key);
                self.entries.insert(at, entry);
            }
            _ => self.entries.push(entry),
        }
    }

    /// The group-bys whose keys and values are at the `entries`' ranges of `text` (which
    /// may hold other characters around them, such as the JSON they were read from).
    pub(crate) fn from_ranges(text: &str, mut entries: Vec<Entry>) -> Self {
        let key = |entry: &Entry| text.get(entry.key.0..entry.key.1).unwrap_or_default();
        if !entries.is_sorted_by(|a, b| key(a) <= key(b)) {
            // Stable: the values of one key keep their order, as with `push`.
            entries.sort_by(|a, b| key(a).cmp(key(b)));
        }
        Self {
            text: text.to_owned(),
            entries,
        }
    }

    /// An empty set with room for `text` bytes of keys and values and `entries` values.
    pub(crate) fn with_capacity(text: usize, entries: usize) -> Self {
        Self {
            text: String::with_capacity(text),
            entries: Vec::with_capacity(entries),
        }
    }
}

impl PartialEq for GroupBys {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for GroupBys {}

impl Hash for GroupBys {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for pair in self.iter() {
            pair.hash(state);
        }
    }
}

impl PartialOrd for GroupBys {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GroupBys {
    fn cmp(&self, other: &Self) -> Ordering {
        self.iter().cmp(other.iter())
    }
}

impl fmt::Debug for GroupBys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for key in self.keys() {
            map.entry(&key, &self.values(key).collect::<Vec<_>>());
        }
        map.finish()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for GroupBys {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut group_bys = Self::new();
        for (key, value) in iter {
            group_bys.push(key.as_ref(), value.as_ref());
        }
        group_bys
    }
}

impl Serialize for GroupBys {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for key in self.keys() {
            map.serialize_entry(key, &self.values(key).collect::<Vec<_>>())?;
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
        let entries = map.size_hint().unwrap_or(4);
        let mut group_bys = GroupBys::with_capacity(32 * entries, entries);
        while let Some(key) = map.next_key::<KeyStr<'de>>()? {
            let key = key.to_str()?;
            map.next_value_seed(ValuesInto {
                group_bys: &mut group_bys,
                key,
            })?;
        }
        Ok(group_bys)
    }
}

/// Reads one key's values (a list of strings, or one string) straight into the text.
struct ValuesInto<'g, 'k> {
    group_bys: &'g mut GroupBys,
    key: &'k str,
}

impl<'de> de::DeserializeSeed<'de> for ValuesInto<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValuesInto<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a list of strings")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<(), E> {
        self.group_bys.push(self.key, value);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element::<StrRef<'de>>()? {
            self.group_bys.push(self.key, value.as_str());
        }
        Ok(())
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
        assert_eq!(g.len(), 2);
        assert_eq!(g.get("client_service"), Some("web"));
        assert_eq!(
            g.values("client_service").collect::<Vec<_>>(),
            ["web", "api"]
        );
        assert_eq!(g.values("absent").count(), 0);
        let same: GroupBys = [
            ("client_service", "web"),
            ("client_service", "api"),
            ("server_service", "db"),
        ]
        .into_iter()
        .collect();
        assert_eq!(g, same, "equality ignores the layout of the text");
    }

    #[test]
    fn round_trips_the_wire_form() {
        let text =
            r#"{"server_service":["db"],"client_team":["net","sre"],"x":"one","e":["a\"b"]}"#;
        let g: GroupBys = serde_json::from_str(text).unwrap();
        assert_eq!(g.values("client_team").collect::<Vec<_>>(), ["net", "sre"]);
        assert_eq!(g.get("x"), Some("one"));
        assert_eq!(g.get("e"), Some("a\"b"));
        let back = serde_json::to_string(&g).unwrap();
        assert_eq!(
            back,
            r#"{"client_team":["net","sre"],"e":["a\"b"],"server_service":["db"],"x":["one"]}"#
        );
        let bad: Result<GroupBys, _> = serde_json::from_str(r#"{"a":[1]}"#);
        assert!(bad.is_err());
    }
}
