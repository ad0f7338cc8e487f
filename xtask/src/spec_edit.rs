//! Editing one spec's text with values taken from another spec, bringing along the
//! components those values reference.
//!
//! `upstream-patch` writes our values into upstream's file and `spec-sync` upstream's into
//! ours. A value copied across may reference a component the target lacks (our
//! `X-RateLimit-*` headers point at `components/headers/XRateLimit*`; a new upstream
//! response may point at a response component we never needed): each such component is
//! copied too, transitively, and reported.

use std::collections::BTreeSet;

use anyhow::{Context, Result};

use crate::spec_diff::node::{Node, NodePath, Seg, path_text};
use crate::spec_diff::slice::Spec;
use crate::yaml_edit::{Doc, Place};

/// One edit, in terms of the target's concrete paths.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Set (or create) the value at the path; a final `Seg::New` appends.
    Set(NodePath, Node),
    /// Insert a mapping entry `key: value` into the mapping at the path.
    InsertKey(NodePath, String, Node, Place),
    /// Insert an item into the sequence at the path, before the index (`None`: at the end).
    InsertItem(NodePath, Option<usize>, Node),
    /// Remove the value at the path.
    Remove(NodePath),
}

impl Edit {
    /// The path the edit changes (for messages and ordering).
    pub fn path(&self) -> NodePath {
        match self {
            Edit::Set(path, _) | Edit::Remove(path) => path.clone(),
            Edit::InsertKey(map, key, _, _) => {
                let mut path = map.clone();
                path.push(Seg::key(key.as_str()));
                path
            }
            Edit::InsertItem(seq, index, _) => {
                let mut path = seq.clone();
                path.push(index.map_or(Seg::New, Seg::Index));
                path
            }
        }
    }
}

/// The target's text being edited, with the two parsed specs.
pub struct SpecEdit<'a> {
    /// The text.
    pub doc: Doc,
    /// The target as parsed before any edit.
    target: &'a Spec,
    /// Where copied values come from.
    source: &'a Spec,
    /// The components copied so far, as `$ref`s.
    pub brought: BTreeSet<String>,
}

impl<'a> SpecEdit<'a> {
    /// Edit `text` (the text `target` was parsed from) with values from `source`.
    pub fn new(text: String, target: &'a Spec, source: &'a Spec) -> SpecEdit<'a> {
        SpecEdit {
            doc: Doc::new(text),
            target,
            source,
            brought: BTreeSet::new(),
        }
    }

    /// Apply one edit, then bring along what its value references.
    pub fn apply(&mut self, edit: &Edit) -> Result<()> {
        let result = match edit {
            Edit::Set(path, value) => self.doc.set(path, value),
            Edit::InsertKey(map, key, value, place) => self.doc.insert_key(map, key, value, place),
            Edit::InsertItem(seq, index, value) => self.doc.insert_item(seq, *index, value),
            Edit::Remove(path) => self.doc.remove(path),
        };
        result.with_context(|| format!("cannot edit {}", path_text(&edit.path())))?;
        match edit {
            Edit::Set(_, value)
            | Edit::InsertKey(_, _, value, _)
            | Edit::InsertItem(_, _, value) => self.bring_references(value),
            Edit::Remove(_) => Ok(()),
        }
    }

    /// Copy every component `value` references that the target lacks, transitively.
    fn bring_references(&mut self, value: &Node) -> Result<()> {
        let mut pending: Vec<String> = Vec::new();
        references(value, &mut pending);
        while let Some(reference) = pending.pop() {
            if self.target.pointer(&reference).is_ok() || self.brought.contains(&reference) {
                continue;
            }
            let found = self
                .source
                .pointer_path(&reference)
                .and_then(|path| Some((self.source.root.at(&path)?, path)));
            let Some((component, path)) = found else {
                anyhow::bail!(
                    "{}: $ref {reference:?} points at nothing, so it cannot be copied",
                    self.source.label
                );
            };
            self.doc
                .set(&path, component)
                .with_context(|| format!("cannot add {}", path_text(&path)))?;
            self.brought.insert(reference);
            references(component, &mut pending);
        }
        Ok(())
    }
}

/// Every `$ref` in `node`.
fn references(node: &Node, out: &mut Vec<String>) {
    match node {
        Node::Map(entries) => {
            for (key, value) in entries {
                match (key.as_str(), value) {
                    ("$ref", Node::Str(target)) => out.push(target.clone()),
                    _ => references(value, out),
                }
            }
        }
        Node::Seq(items) => items.iter().for_each(|item| references(item, out)),
        _ => {}
    }
}

/// Order edits so that none moves another's target: first what changes values in place or
/// adds mapping keys (in the given order), then removals from the last position to the first
/// (positions as in the original text), then insertions into sequences (in the given order,
/// their positions counted after the removals).
pub fn ordered(edits: Vec<Edit>) -> Vec<Edit> {
    let mut in_place: Vec<Edit> = Vec::new();
    let mut removals: Vec<Edit> = Vec::new();
    let mut insertions: Vec<Edit> = Vec::new();
    for edit in edits {
        let bucket = match edit {
            Edit::Remove(_) => &mut removals,
            Edit::InsertItem(..) => &mut insertions,
            Edit::Set(..) | Edit::InsertKey(..) => &mut in_place,
        };
        if !bucket.contains(&edit) {
            bucket.push(edit);
        }
    }
    removals.sort_by_key(|edit| std::cmp::Reverse(edit.path()));
    in_place.extend(removals);
    in_place.extend(insertions);
    in_place
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removals_go_last_first_and_insertions_after_them() {
        let at = |i: usize| vec![Seg::key("list"), Seg::Index(i)];
        let edits = vec![
            Edit::InsertItem(vec![Seg::key("list")], Some(1), Node::Null),
            Edit::Remove(at(1)),
            Edit::Set(at(2), Node::Int(2)),
            Edit::Remove(at(3)),
            Edit::Remove(at(1)),
        ];
        assert_eq!(
            ordered(edits),
            [
                Edit::Set(at(2), Node::Int(2)),
                Edit::Remove(at(3)),
                Edit::Remove(at(1)),
                Edit::InsertItem(vec![Seg::key("list")], Some(1), Node::Null),
            ]
        );
    }
}
