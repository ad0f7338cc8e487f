//! A parsed YAML (or JSON) document, kept as light as possible.
//!
//! A full upstream definition is 4+ MB and `cargo xtask` runs the dev profile: parsing into
//! this type is about twice as fast as `serde_norway::Value`. Mappings keep the order they
//! were written in (so a slice written back out reads like upstream), while every
//! comparison and rendering goes through sorted keys (so nothing depends on that order).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// One step of a concrete path into a document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A position in a sequence.
    Index(usize),
    /// A new item of a sequence: the document lacks it, and where it would go is for
    /// whoever adds it to decide.
    New,
}

impl Seg {
    /// `Seg::Key` from anything string-like.
    pub fn key(key: impl Into<String>) -> Seg {
        Seg::Key(key.into())
    }
}

/// A concrete path into a document, `$ref`s already followed: the keys and positions from
/// the root to a value (or to where it would be).
pub type NodePath = Vec<Seg>;

/// `components.schemas.X.properties.y`, `paths./a.get.parameters[2]`: for messages.
pub fn path_text(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
            Seg::New => out.push_str("[+]"),
        }
    }
    out
}

/// One YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `null`, `~` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits `i64`.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string (keys are always strings too).
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// The value under `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()?
            .iter()
            .find_map(|(k, v)| (k == key).then_some(v))
    }

    /// The entries when this is a mapping.
    pub fn entries(&self) -> Option<&[(String, Node)]> {
        match self {
            Node::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items when this is a sequence.
    pub fn items(&self) -> Option<&[Node]> {
        match self {
            Node::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The text when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(text) => Some(text),
            _ => None,
        }
    }

    /// The value at `path`, if there is one (`Seg::New` is never there).
    pub fn at(&self, path: &[Seg]) -> Option<&Node> {
        let mut current = self;
        for seg in path {
            current = match (seg, current) {
                (Seg::Key(key), Node::Map(_)) => current.get(key)?,
                (Seg::Index(i), Node::Seq(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// The target of a `{$ref: ...}` mapping.
    pub fn reference(&self) -> Option<&str> {
        self.get("$ref")?.as_str()
    }

    /// Mapping entries sorted by key (the only order comparisons use).
    pub fn sorted(&self) -> BTreeMap<&str, &Node> {
        self.entries()
            .unwrap_or_default()
            .iter()
            .map(|(k, v)| (k.as_str(), v))
            .collect()
    }

    /// Semantic equality: mapping order is ignored, `1` equals `1.0`.
    pub fn same(&self, other: &Node) -> bool {
        match (self, other) {
            (Node::Map(_), Node::Map(_)) => {
                let (a, b) = (self.sorted(), other.sorted());
                a.len() == b.len()
                    && a.iter()
                        .zip(&b)
                        .all(|((ka, va), (kb, vb))| ka == kb && va.same(vb))
            }
            (Node::Seq(a), Node::Seq(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
            }
            (Node::Int(a), Node::Float(b)) | (Node::Float(b), Node::Int(a)) => {
                // Exact only for integers f64 can hold, which is every realistic spec value.
                #[allow(clippy::cast_precision_loss)]
                let a = *a as f64;
                a == *b
            }
            _ => self == other,
        }
    }

    /// Compact JSON with sorted keys: one stable line for reports.
    pub fn json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Node::Null => out.push_str("null"),
            Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Node::Int(i) => out.push_str(&i.to_string()),
            Node::Float(f) if f.is_finite() => out.push_str(&f.to_string()),
            Node::Float(_) => out.push_str("null"),
            Node::Str(s) => out.push_str(&serde_json::Value::from(s.as_str()).to_string()),
            Node::Seq(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Node::Map(_) => {
                out.push('{');
                for (i, (key, value)) in self.sorted().into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::from(key).to_string());
                    out.push(':');
                    value.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Node, E> {
        Ok(Node::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Node, E> {
        Ok(Node::Int(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Node, E> {
        #[allow(clippy::cast_precision_loss)]
        Ok(i64::try_from(value).map_or(Node::Float(value as f64), Node::Int))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Node, E> {
        Ok(Node::Float(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Node, E> {
        Ok(Node::Str(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Node, E> {
        Ok(Node::Str(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some((key, value)) = map.next_entry::<String, Node>()? {
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => serializer.serialize_unit(),
            Node::Bool(b) => serializer.serialize_bool(*b),
            Node::Int(i) => serializer.serialize_i64(*i),
            Node::Float(f) => serializer.serialize_f64(*f),
            Node::Str(s) => serializer.serialize_str(s),
            Node::Seq(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        serde_norway::from_str(text).unwrap()
    }

    #[test]
    fn mapping_order_does_not_matter_for_sameness_or_json() {
        let a = parse("{b: 1, a: [x, {d: 2, c: 3}]}");
        let b = parse("a:\n  - x\n  - c: 3\n    d: 2\nb: 1.0\n");
        assert!(a.same(&b));
        assert_eq!(a.json(), r#"{"a":["x",{"c":3,"d":2}],"b":1}"#);
        assert!(!a.same(&parse("{a: [x], b: 1}")));
    }

    #[test]
    fn numeric_looking_keys_stay_strings() {
        let node = parse("responses:\n  200: {description: OK}\n  '400': {}\n");
        let codes: Vec<&str> = node
            .get("responses")
            .map(|r| r.sorted().into_keys().collect())
            .unwrap_or_default();
        assert_eq!(codes, ["200", "400"]);
    }
}
