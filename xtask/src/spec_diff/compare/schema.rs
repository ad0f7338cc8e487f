//! Schemas, compared structurally.
//!
//! Properties appear directly under the schema's location
//! (`components › schemas › APIErrorResponse › errors › items`); keywords by name
//! (`… › pattern`, `… › enum › value`, `… › oneOf[0]`, `… › required › name`). Lists
//! parallel to an enum (`x-enum-varnames`, `x-enum-descriptions`, …) are compared by the
//! enum value each entry belongs to (`… › x-enum-varnames › dns_timeouts`), since the enum's
//! own order does not count.

use std::collections::BTreeMap;

use super::{Differ, Location, pairs, reference_key, same_component};
use crate::spec_diff::node::{Node, Seg};

impl<'a> Differ<'a> {
    pub(super) fn schema(&mut self, location: &Location, up: &'a Node, our: &'a Node) {
        if let Some((kind, name)) = same_component(up, our) {
            return self.component(&kind, &name);
        }
        // Only `$ref`s make schemas recursive: stop when the same pair comes round again.
        let guard = (reference_key(up), reference_key(our));
        let by_reference = !guard.0.is_empty() || !guard.1.is_empty();
        if by_reference {
            if self.stack.contains(&guard) {
                return;
            }
            self.stack.push(guard);
        }
        let location = &self.resolved_location(location, up, our);
        let (u, o) = (self.up.resolved(up), self.our.resolved(our));
        match (u, o) {
            (Node::Map(_), Node::Map(_)) => self.schema_object(location, u, o),
            _ => self.values(location, Some(u), Some(o)),
        }
        if by_reference {
            self.stack.pop();
        }
    }

    fn schema_object(&mut self, location: &Location, up: &'a Node, our: &'a Node) {
        for (key, uv, ov) in pairs(up, our) {
            let child = location.child(key);
            match (key, uv, ov) {
                ("properties", _, _) => {
                    let properties = location.within("properties");
                    self.keyed(&properties, uv, ov, |this, at, u, o| this.schema(at, u, o));
                }
                (
                    "items" | "not" | "additionalProperties",
                    Some(uv @ Node::Map(_)),
                    Some(ov @ Node::Map(_)),
                ) => self.schema(&child, uv, ov),
                ("oneOf" | "anyOf" | "allOf", Some(Node::Seq(us)), Some(Node::Seq(os))) => {
                    for i in 0..us.len().max(os.len()) {
                        let at = child.index(i);
                        match (us.get(i), os.get(i)) {
                            (Some(u), Some(o)) => self.schema(&at, u, o),
                            (None, Some(o)) => self.added(&at, o),
                            (Some(u), None) => self.removed(&at, u),
                            (None, None) => {}
                        }
                    }
                }
                // Membership (and multiplicity) matters, order does not.
                ("enum" | "required", Some(uv), Some(ov)) => self.enumeration(&child, uv, ov),
                (_, Some(uv), Some(ov))
                    if key.starts_with("x-enum-") && parallel(up, uv) && parallel(our, ov) =>
                {
                    self.parallel(&child, (up, uv), (our, ov));
                }
                _ => self.values(&child, uv, ov),
            }
        }
    }
}

/// Whether `list` is a list parallel to `schema`'s enum: one entry per value at most.
fn parallel(schema: &Node, list: &Node) -> bool {
    let values = schema.get("enum").and_then(Node::items);
    matches!((values, list.items()), (Some(values), Some(items)) if items.len() <= values.len())
}

impl<'a> Differ<'a> {
    /// A list parallel to the enum, entry by entry under the value it belongs to.
    fn parallel(
        &mut self,
        location: &Location,
        up: (&'a Node, &'a Node),
        our: (&'a Node, &'a Node),
    ) {
        // Enum value (as JSON) → (as shown, position, entry); the first listing counts.
        let by_value = |(schema, list): (&'a Node, &'a Node)| {
            let values = schema.get("enum").and_then(Node::items).unwrap_or_default();
            let mut map: BTreeMap<String, (String, usize, &'a Node)> = BTreeMap::new();
            for (i, (value, entry)) in values
                .iter()
                .zip(list.items().unwrap_or_default())
                .enumerate()
            {
                let shown = value.as_str().map_or_else(|| value.json(), str::to_owned);
                map.entry(value.json()).or_insert((shown, i, entry));
            }
            map
        };
        let (ups, ours) = (by_value(up), by_value(our));
        let keys: std::collections::BTreeSet<&String> = ups.keys().chain(ours.keys()).collect();
        for key in keys {
            let (u, o) = (ups.get(key), ours.get(key));
            let Some((shown, _, _)) = o.or(u) else {
                continue;
            };
            let at = |side: Option<&(String, usize, &Node)>| {
                side.map_or(Seg::New, |(_, i, _)| Seg::Index(*i))
            };
            let child = location.child_at(shown.as_str(), &[at(u)], &[at(o)]);
            self.values(&child, u.map(|(_, _, e)| *e), o.map(|(_, _, e)| *e));
        }
    }
}
