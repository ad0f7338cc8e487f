//! The semantic comparison of two OpenAPI documents, restricted to the two operations.
//!
//! Both sides are compared *resolved*: a parameter written inline on one side and as a
//! `$ref` on the other is one parameter. When both sides reference the same component by
//! name (`#/components/schemas/APIErrorResponse`), that component is compared once, under
//! `components › schemas › APIErrorResponse`, instead of once per place that uses it.
//! Components our fragment uses that upstream defines but its operations do not (yet) use
//! are compared by name too, so a fix to, say, upstream's `AuthZ` scheme shows even in an
//! upstream file whose operations do not require it.
//!
//! Every difference gets a location (`GetAggregatedDns › parameter group_by › schema ›
//! pattern`, and where that is in each file), a kind, and the two values; "added" means only
//! our fragment has it.

mod location;
mod operation;
mod schema;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

pub use self::location::Location;
use super::node::{Node, NodePath, Seg};
use super::slice::{ComponentId, Operation, Spec, component_id};

/// What happened to a thing, reading from upstream to ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Only our fragment has it.
    Added,
    /// Only upstream has it.
    Removed,
    /// Both have it, with different values.
    Changed,
}

impl Kind {
    /// `added`, `removed` or `changed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Added => "added",
            Kind::Removed => "removed",
            Kind::Changed => "changed",
        }
    }

    /// Parse the word `as_str` prints.
    pub fn parse(word: &str) -> Option<Kind> {
        [Kind::Added, Kind::Removed, Kind::Changed]
            .into_iter()
            .find(|k| k.as_str() == word)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One semantic difference.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Where it is.
    pub location: Location,
    /// Added, removed or changed.
    pub kind: Kind,
    /// Upstream's value (none when added).
    pub before: Option<String>,
    /// Our value (none when removed).
    pub after: Option<String>,
    /// Whether the values are prose (descriptions, notes) rather than compact JSON.
    pub prose: bool,
    /// What a difference written as a sentence is about; `None` when the values are the
    /// values at the location.
    pub note: Option<Note>,
}

/// What a difference written as a sentence (rather than as the two values) is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// The operation's path or method.
    Endpoint,
    /// The order of the parameters (both sides' names, in order).
    ParameterOrder,
    /// How many times an enum value is listed.
    Count,
    /// A scope of a security requirement (located at the scope's item).
    Scope,
    /// Many scopes of a scheme at once (located at the scheme's `scopes`).
    Scopes,
}

/// Everything the comparison found.
pub struct Comparison {
    /// The differences, in a stable order (document structure, keys sorted).
    pub differences: Vec<Difference>,
    /// Components compared by name although upstream's operations do not use them.
    pub also_compared: Vec<String>,
}

/// Keys whose values are prose: shown as text rather than JSON.
const TEXT_KEYS: [&str; 3] = ["description", "summary", "title"];

/// Compare the operations (and what they use) of `upstream` with those of `ours`.
///
/// Each side comes with its operations (in `OPERATION_IDS` order) and the components they
/// reference, from its slice (slicing also guarantees that every `$ref` resolves).
pub fn compare(
    upstream: (&Spec, &[Operation<'_>], &BTreeSet<ComponentId>),
    ours: (&Spec, &[Operation<'_>], &BTreeSet<ComponentId>),
) -> Comparison {
    let (up, up_ops, up_used) = upstream;
    let (our, our_ops, our_used) = ours;
    let mut differ = Differ {
        up,
        our,
        out: Vec::new(),
        done: BTreeSet::new(),
        stack: Vec::new(),
    };
    differ.values(
        &Location::root("openapi"),
        up.root.get("openapi"),
        our.root.get("openapi"),
    );
    differ.values(
        &Location::root("info"),
        up.root.get("info"),
        our.root.get("info"),
    );
    differ.servers(
        &Location::root("servers"),
        up.root.get("servers"),
        our.root.get("servers"),
    );
    differ.tags(up_ops, our_ops);
    for (up_op, our_op) in up_ops.iter().zip(our_ops) {
        differ.operation(up_op, our_op);
    }
    // What our operations use that upstream defines under the same name, compared even
    // where upstream's operations do not use it (yet).
    let mut also_compared = Vec::new();
    for (kind, name) in our_used {
        let defined = up.component(kind, name).is_some() && our.component(kind, name).is_some();
        if defined && !differ.done.contains(&(kind.clone(), name.clone())) {
            if !up_used.contains(&(kind.clone(), name.clone())) {
                also_compared.push(format!("components › {kind} › {name}"));
            }
            differ.component(kind, name);
        }
    }
    Comparison {
        differences: differ.out,
        also_compared,
    }
}

struct Differ<'a> {
    up: &'a Spec,
    our: &'a Spec,
    out: Vec<Difference>,
    /// Components already compared by name.
    done: BTreeSet<ComponentId>,
    /// `$ref` pairs being compared inline, to stop on recursive schemas.
    stack: Vec<(String, String)>,
}

impl<'a> Differ<'a> {
    /// Record a difference whose values are compact JSON (or none).
    fn push(
        &mut self,
        location: &Location,
        kind: Kind,
        before: Option<&Node>,
        after: Option<&Node>,
    ) {
        let prose = [before, after]
            .into_iter()
            .flatten()
            .all(|node| matches!(node, Node::Str(_)) && TEXT_KEYS.contains(&location.last()));
        let show = |node: &Node| match node {
            Node::Str(text) if prose => text.clone(),
            _ => node.json(),
        };
        self.out.push(Difference {
            location: location.clone(),
            kind,
            before: before.map(show),
            after: after.map(show),
            prose,
            note: None,
        });
    }

    /// Record a difference whose values are sentences written here.
    fn note(
        &mut self,
        note: Note,
        location: &Location,
        kind: Kind,
        before: Option<String>,
        after: Option<String>,
    ) {
        self.out.push(Difference {
            location: location.clone(),
            kind,
            before,
            after,
            prose: true,
            note: Some(note),
        });
    }

    /// `location` with each side's concrete path moved to what its `$ref` (if any) targets.
    fn resolved_location(&self, location: &Location, up: &Node, our: &Node) -> Location {
        location.resolved(self.up.target_path(up), self.our.target_path(our))
    }

    fn added(&mut self, location: &Location, ours: &Node) {
        let ours = self.our.resolved(ours);
        self.push(location, Kind::Added, None, Some(ours));
    }

    fn removed(&mut self, location: &Location, upstream: &Node) {
        let upstream = self.up.resolved(upstream);
        self.push(location, Kind::Removed, Some(upstream), None);
    }

    /// Generic comparison of plain values (examples, extensions, descriptions, …).
    fn values(&mut self, location: &Location, up: Option<&Node>, our: Option<&Node>) {
        let (up, our) = match (up, our) {
            (None, None) => return,
            (None, Some(our)) => return self.added(location, our),
            (Some(up), None) => return self.removed(location, up),
            (Some(up), Some(our)) => (up, our),
        };
        if up.same(our) {
            return;
        }
        match (up, our) {
            (Node::Map(_), Node::Map(_)) => {
                let (ups, ours) = (up.sorted(), our.sorted());
                let keys: BTreeSet<&str> = ups.keys().chain(ours.keys()).copied().collect();
                for key in keys {
                    let child = location.child(key);
                    self.values(&child, ups.get(key).copied(), ours.get(key).copied());
                }
            }
            (Node::Seq(ups), Node::Seq(ours)) => {
                for i in 0..ups.len().max(ours.len()) {
                    self.values(&location.index(i), ups.get(i), ours.get(i));
                }
            }
            _ => self.push(location, Kind::Changed, Some(up), Some(our)),
        }
    }

    /// Compare two keyed collections: `compare_one` for common keys, added/removed otherwise.
    fn keyed<F>(
        &mut self,
        location: &Location,
        up: Option<&'a Node>,
        our: Option<&'a Node>,
        mut compare_one: F,
    ) where
        F: FnMut(&mut Self, &Location, &'a Node, &'a Node),
    {
        let (ups, ours) = (
            up.map(Node::sorted).unwrap_or_default(),
            our.map(Node::sorted).unwrap_or_default(),
        );
        let keys: BTreeSet<&str> = ups.keys().chain(ours.keys()).copied().collect();
        for key in keys {
            let child = location.child(key);
            match (ups.get(key), ours.get(key)) {
                (Some(u), Some(o)) => compare_one(self, &child, u, o),
                (None, Some(o)) => self.added(&child, o),
                (Some(u), None) => self.removed(&child, u),
                (None, None) => {}
            }
        }
    }

    /// An enum (or any list where only membership and multiplicity count).
    fn enumeration(&mut self, location: &Location, up: &Node, our: &Node) {
        let count = |node: &Node, value: &str| {
            node.items()
                .unwrap_or_default()
                .iter()
                .filter(|v| v.json() == value)
                .count()
        };
        let values: BTreeMap<String, &Node> = [our, up]
            .into_iter()
            .flat_map(|n| n.items().unwrap_or_default())
            .map(|v| (v.json(), v))
            .collect();
        let position = |list: &Node, value: &str| {
            list.items()
                .unwrap_or_default()
                .iter()
                .position(|v| v.json() == value)
                .map_or(Seg::New, Seg::Index)
        };
        for (value, node) in values {
            let child = location.child_at(
                node.as_str().map_or_else(|| value.clone(), str::to_owned),
                &[position(up, &value)],
                &[position(our, &value)],
            );
            match (count(up, &value), count(our, &value)) {
                (0, _) => self.push(&child, Kind::Added, None, Some(node)),
                (_, 0) => self.push(&child, Kind::Removed, Some(node), None),
                (u, o) if u != o => {
                    self.note(
                        Note::Count,
                        &child,
                        Kind::Changed,
                        Some(times(&value, u)),
                        Some(times(&value, o)),
                    );
                }
                _ => {}
            }
        }
    }

    fn servers(&mut self, location: &Location, up: Option<&'a Node>, our: Option<&'a Node>) {
        let (ups, ours) = (
            up.and_then(Node::items).unwrap_or_default(),
            our.and_then(Node::items).unwrap_or_default(),
        );
        for i in 0..ups.len().max(ours.len()) {
            let at = location.index(i);
            match (ups.get(i), ours.get(i)) {
                (Some(u), Some(o)) => self.server(&at, u, o),
                (None, Some(o)) => self.added(&at, o),
                (Some(u), None) => self.removed(&at, u),
                (None, None) => {}
            }
        }
    }

    fn server(&mut self, location: &Location, up: &'a Node, our: &'a Node) {
        for (key, u, o) in pairs(up, our) {
            let child = location.child(key);
            if key == "variables" {
                self.keyed(&child, u, o, |this, at, u, o| {
                    for (key, u, o) in pairs(u, o) {
                        match (key, u, o) {
                            ("enum", Some(u), Some(o)) => this.enumeration(&at.child(key), u, o),
                            _ => this.values(&at.child(key), u, o),
                        }
                    }
                });
            } else {
                self.values(&child, u, o);
            }
        }
    }

    /// The tag objects the operations use, compared by name.
    fn tags(&mut self, up_ops: &[Operation<'_>], our_ops: &[Operation<'_>]) {
        let used: BTreeSet<&str> = up_ops
            .iter()
            .chain(our_ops)
            .flat_map(|op| op.op.get("tags").and_then(Node::items).unwrap_or_default())
            .filter_map(Node::as_str)
            .collect();
        let find = |spec: &'a Spec, name: &str| -> Option<(usize, &'a Node)> {
            spec.root
                .get("tags")?
                .items()?
                .iter()
                .enumerate()
                .find(|(_, t)| t.get("name").and_then(Node::as_str) == Some(name))
        };
        let seg = |found: Option<(usize, &Node)>| found.map_or(Seg::New, |(i, _)| Seg::Index(i));
        for name in used {
            let (u, o) = (find(self.up, name), find(self.our, name));
            let location = Location::root("tags").child_at(name, &[seg(u)], &[seg(o)]);
            self.values(&location, u.map(|(_, t)| t), o.map(|(_, t)| t));
        }
    }
}

/// Where an operation is: `paths › /api/v2/network/dns/aggregate › get`.
fn operation_path(op: &Operation<'_>) -> NodePath {
    vec![Seg::key("paths"), Seg::key(op.path), Seg::key(op.method)]
}

/// `"uk1.datadoghq.com" listed 2 times`.
fn times(value: &str, count: usize) -> String {
    match count {
        1 => format!("{value} listed once"),
        n => format!("{value} listed {n} times"),
    }
}

/// Both mappings' keys, sorted, with each side's value.
fn pairs<'n>(up: &'n Node, our: &'n Node) -> Vec<(&'n str, Option<&'n Node>, Option<&'n Node>)> {
    let (ups, ours) = (up.sorted(), our.sorted());
    let keys: BTreeSet<&str> = ups.keys().chain(ours.keys()).copied().collect();
    keys.into_iter()
        .filter(|k| *k != "$ref")
        .map(|k| (k, ups.get(k).copied(), ours.get(k).copied()))
        .collect()
}

/// The component both sides reference by the same name, if they do.
fn same_component(up: &Node, our: &Node) -> Option<ComponentId> {
    let (u, o) = (up.reference()?, our.reference()?);
    (u == o).then(|| component_id(u)).flatten()
}

/// The component a `$ref` names, for the recursion guard.
fn reference_key(node: &Node) -> String {
    node.reference().unwrap_or("").to_owned()
}
