//! Schemas, compared structurally.
//!
//! Properties appear directly under the schema's location
//! (`components › schemas › APIErrorResponse › errors › items`); keywords by name
//! (`… › pattern`, `… › enum › value`, `… › oneOf[0]`, `… › required › name`).

use super::{Differ, Location, pairs, reference_key, same_component};
use crate::spec_diff::node::Node;

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
                _ => self.values(&child, uv, ov),
            }
        }
    }
}
