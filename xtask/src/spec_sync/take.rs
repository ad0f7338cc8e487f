//! Which edits of our fragment take an upstream difference: each one no entry of `FIXES.md`
//! explains becomes an edit that makes ours say what upstream says there.
//!
//! Values are set where the comparison found them in our file (through our `$ref`s);
//! entries upstream has and we lack are inserted (a sorted mapping stays sorted, an unsorted
//! one gets the key after upstream's previous one); what upstream dropped is removed. Three
//! kinds of list get more care: a new parameter goes after the parameter upstream has before
//! it; an enum keeps our order, with new values appended in upstream's order and every list
//! parallel to it (`x-enum-*`, our `x-cnm-*`) rewritten to match; differences a file edit
//! cannot settle (order changes, a value listed twice) are left to the maintainer.

use std::collections::BTreeMap;

use crate::spec_diff::compare::{Difference, Kind, Note};
use crate::spec_diff::node::{Node, NodePath, Seg};
use crate::spec_diff::slice::Spec;
use crate::spec_edit::Edit;
use crate::yaml_edit::Place;

/// An upstream difference and the edits that take it.
pub struct Taking {
    /// Which difference (its index in the comparison).
    pub difference: usize,
    /// The edits of our fragment.
    pub edits: Vec<Edit>,
}

/// What taking the unexplained differences takes.
#[derive(Default)]
pub struct Plan {
    /// The differences taken and their edits.
    pub takings: Vec<Taking>,
    /// Differences left to the maintainer: index, and why.
    pub by_hand: Vec<(usize, String)>,
}

/// Plan the edits that take each of `unexplained` (indices into `differences`).
pub fn plan(
    upstream: &Spec,
    ours: &Spec,
    differences: &[Difference],
    unexplained: &[usize],
) -> Plan {
    let mut plan = Plan::default();
    let mut enums: BTreeMap<(NodePath, NodePath), Vec<usize>> = BTreeMap::new();
    let mut parameters: BTreeMap<NodePath, Vec<usize>> = BTreeMap::new();
    // Parameters upstream dropped, by our list: new ones are placed among those that stay.
    let mut dropped: BTreeMap<NodePath, Vec<usize>> = BTreeMap::new();
    for &index in unexplained {
        let d = &differences[index];
        if let (None, Kind::Added, [list @ .., Seg::Key(key), Seg::Index(i)]) =
            (d.note, d.kind, d.location.ours.as_slice())
            && key == "parameters"
        {
            let mut list = list.to_vec();
            list.push(Seg::key("parameters"));
            dropped.entry(list).or_default().push(*i);
        }
    }
    for &index in unexplained {
        let d = &differences[index];
        let (up_at, our_at) = (&d.location.upstream, &d.location.ours);
        if let Some(schemas) = enum_schema(ours, d) {
            enums.entry(schemas).or_default().push(index);
            continue;
        }
        let edit = match (d.note, d.kind) {
            (None | Some(Note::Scope), Kind::Changed) => upstream
                .root
                .at(up_at)
                .map(|value| Edit::Set(our_at.clone(), value.clone())),
            (None | Some(Note::Scope), Kind::Added) => Some(Edit::Remove(our_at.clone())),
            (None | Some(Note::Scope), Kind::Removed) => {
                if is_new_parameter(our_at) {
                    parameters.entry(our_at.clone()).or_default().push(index);
                    continue;
                }
                insertion(upstream, up_at, our_at)
            }
            (Some(_), _) => None,
        };
        match edit {
            Some(edit) => plan.takings.push(Taking {
                difference: index,
                edits: vec![edit],
            }),
            None => plan.by_hand.push((index, by_hand_reason(d))),
        }
    }
    for (list, indices) in parameters {
        let list = &list[..list.len() - 1];
        let gone = dropped.get(list).map_or(&[][..], Vec::as_slice);
        new_parameters(
            upstream,
            ours,
            differences,
            (list, gone),
            &indices,
            &mut plan,
        );
    }
    for ((our_schema, up_schema), indices) in enums {
        enum_lists(
            upstream,
            ours,
            (&up_schema, &our_schema),
            &indices,
            &mut plan,
        );
    }
    plan.takings.sort_by_key(|t| t.difference);
    plan
}

fn by_hand_reason(d: &Difference) -> String {
    match d.note {
        Some(Note::ParameterOrder) => "upstream orders the parameters differently".to_owned(),
        Some(Note::Endpoint) => "upstream serves the operation at another path".to_owned(),
        Some(Note::Count) => "upstream lists the value a different number of times".to_owned(),
        Some(Note::Scopes) => "upstream's scope list differs in many scopes".to_owned(),
        _ => "upstream's value is not where the comparison found it".to_owned(),
    }
}

/// Insert upstream's value at `up_at` where ours lacks it (`our_at`).
fn insertion(upstream: &Spec, up_at: &[Seg], our_at: &[Seg]) -> Option<Edit> {
    let value = upstream.root.at(up_at)?.clone();
    match our_at.split_last()? {
        (Seg::Key(key), parent) => {
            let previous = up_at
                .split_last()
                .and_then(|(_, up_parent)| upstream.root.at(up_parent)?.entries())
                .and_then(|entries| {
                    let at = entries.iter().position(|(k, _)| k == key)?;
                    Some(entries[..at].last()?.0.clone())
                });
            let place = previous.map_or(Place::Sorted, Place::After);
            Some(Edit::InsertKey(parent.to_vec(), key.clone(), value, place))
        }
        _ => Some(Edit::Set(our_at.to_vec(), value)),
    }
}

fn is_new_parameter(path: &[Seg]) -> bool {
    matches!(path, [.., Seg::Key(list), Seg::New] if list == "parameters")
}

/// `(in, name)` of a parameter, through its `$ref`.
fn parameter_key(spec: &Spec, node: &Node) -> (String, String) {
    let resolved = spec.resolved(node);
    let field = |name: &str| {
        resolved
            .get(name)
            .and_then(Node::as_str)
            .unwrap_or("?")
            .to_owned()
    };
    (field("in"), field("name"))
}

/// New parameters of one of our operations (its list, and the positions of the parameters
/// upstream dropped from it), each right after the parameter upstream has before it (or
/// first), in upstream's order.
fn new_parameters(
    upstream: &Spec,
    ours: &Spec,
    differences: &[Difference],
    (list, gone): (&[Seg], &[usize]),
    indices: &[usize],
    plan: &mut Plan,
) {
    let mut names: Vec<(String, String)> = ours
        .root
        .at(list)
        .and_then(Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter(|(i, _)| !gone.contains(i))
        .map(|(_, node)| parameter_key(ours, node))
        .collect();
    let mut new: Vec<(usize, usize, &Node, &[Node])> = Vec::new();
    for &index in indices {
        let up_at = &differences[index].location.upstream;
        let found = up_at.split_last().and_then(|(last, up_list)| {
            let Seg::Index(i) = last else { return None };
            let items = upstream.root.at(up_list)?.items()?;
            Some((*i, items.get(*i)?, items))
        });
        match found {
            Some((i, node, items)) => new.push((i, index, node, items)),
            None => plan
                .by_hand
                .push((index, by_hand_reason(&differences[index]))),
        }
    }
    new.sort_by_key(|(i, ..)| *i);
    for (i, index, node, items) in new {
        let after = items[..i]
            .iter()
            .rev()
            .find_map(|before| {
                let key = parameter_key(upstream, before);
                names.iter().position(|name| *name == key)
            })
            .map_or(0, |at| at + 1);
        names.insert(after, parameter_key(upstream, node));
        plan.takings.push(Taking {
            difference: index,
            edits: vec![Edit::InsertItem(list.to_vec(), Some(after), node.clone())],
        });
    }
}

/// The schema (our path, upstream's path) whose enum or `x-enum-*` list item `d` is about.
fn enum_schema(ours: &Spec, d: &Difference) -> Option<(NodePath, NodePath)> {
    if d.note.is_some() {
        return None;
    }
    let schema = |path: &[Seg]| -> Option<NodePath> {
        match path {
            [schema @ .., Seg::Key(key), Seg::Index(_) | Seg::New]
                if key == "enum" || key.starts_with("x-enum-") =>
            {
                Some(schema.to_vec())
            }
            _ => None,
        }
    };
    let (ours_at, up_at) = (schema(&d.location.ours)?, schema(&d.location.upstream)?);
    ours.root.at(&ours_at)?.get("enum")?;
    Some((ours_at, up_at))
}

/// One enum: ours keeps its order without the values upstream dropped, upstream's new
/// values are appended in upstream's order, and every parallel list follows.
fn enum_lists(
    upstream: &Spec,
    ours: &Spec,
    (up_schema, our_schema): (&NodePath, &NodePath),
    indices: &[usize],
    plan: &mut Plan,
) {
    let (Some(up), Some(our)) = (upstream.root.at(up_schema), ours.root.at(our_schema)) else {
        return;
    };
    let values = |schema: &Node| -> Vec<Node> {
        schema
            .get("enum")
            .and_then(Node::items)
            .unwrap_or_default()
            .to_vec()
    };
    let (up_enum, our_enum) = (values(up), values(our));
    let has = |list: &[Node], value: &Node| list.iter().any(|v| v.same(value));
    let dropped: Vec<usize> = (0..our_enum.len())
        .filter(|&i| !has(&up_enum, &our_enum[i]))
        .collect();
    let mut order: Vec<Node> = our_enum
        .iter()
        .filter(|v| has(&up_enum, v))
        .cloned()
        .collect();
    for value in &up_enum {
        if !has(&order, value) {
            order.push(value.clone());
        }
    }
    let mut edits = Vec::new();
    let mut set = |key: &str, list: Vec<Node>| {
        let mut path = our_schema.clone();
        path.push(Seg::key(key));
        if ours.root.at(&path).and_then(Node::items) != Some(list.as_slice()) {
            edits.push(Edit::Set(path, Node::Seq(list)));
        }
    };
    set("enum", order.clone());
    for (key, list) in up.entries().unwrap_or_default() {
        let Some(items) = list.items().filter(|_| key.starts_with("x-enum-")) else {
            continue;
        };
        let aligned: Vec<Node> = order
            .iter()
            .map_while(|v| {
                up_enum
                    .iter()
                    .position(|u| u.same(v))
                    .and_then(|i| items.get(i))
            })
            .cloned()
            .collect();
        set(key, aligned);
    }
    // Our own parallel lists lose the entries of the values upstream dropped.
    for (key, list) in our.entries().unwrap_or_default() {
        let Some(items) = list.items().filter(|_| key.starts_with("x-cnm-")) else {
            continue;
        };
        let kept: Vec<Node> = (0..items.len())
            .filter(|i| !dropped.contains(i))
            .map(|i| items[i].clone())
            .collect();
        set(key, kept);
    }
    if edits.is_empty() {
        // Nothing to write: what differs is upstream's order, which ours does not follow.
        for &index in indices {
            let reason = "upstream orders this enum's values differently; ours keeps its \
                          order, and its parallel lists follow ours";
            plan.by_hand.push((index, reason.to_owned()));
        }
        return;
    }
    let (first, rest) = indices.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
    plan.takings.push(Taking {
        difference: first,
        edits,
    });
    plan.takings.extend(rest.iter().map(|&difference| Taking {
        difference,
        edits: Vec::new(),
    }));
}
