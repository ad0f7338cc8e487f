//! Operations and what hangs off them: parameters, responses, headers, media types,
//! security requirements and schemes, and components compared by name.

use std::collections::BTreeSet;

use super::{Differ, Kind, Location, pairs, same_component};
use crate::spec_diff::node::Node;
use crate::spec_diff::slice::{Operation, Spec, effective_security};

/// More scopes than this added or removed at once are reported as one difference: an
/// OAuth scheme that lists every scope of the API would otherwise drown the report.
const SCOPES_LISTED_ONE_BY_ONE: usize = 5;

/// `(in, name)`, how parameters are told apart.
type ParameterKey = (String, String);

impl<'a> Differ<'a> {
    pub(super) fn operation(&mut self, up: &Operation<'a>, our: &Operation<'a>) {
        let location = Location::root(up.id);
        let (before, after) = (up.endpoint(), our.endpoint());
        if before != after {
            self.note(
                &location.child("path"),
                Kind::Changed,
                Some(before),
                Some(after),
            );
        }
        self.parameters(&location, up, our);
        for (key, u, o) in pairs(up.op, our.op) {
            let child = location.child(key);
            match key {
                // Told apart by, compared below, or compared in their effective form.
                "operationId" | "parameters" | "responses" | "security" | "servers" => {}
                "requestBody" => self.request_body(&child, u, o),
                _ => self.values(&child, u, o),
            }
        }
        self.responses(&location, up.op.get("responses"), our.op.get("responses"));
        self.security(&location.child("security"), up, our);
        let own_servers = |op: &Operation<'a>| op.op.get("servers").or(op.item.get("servers"));
        if own_servers(up).is_some() || own_servers(our).is_some() {
            let u = own_servers(up).or(self.up.root.get("servers"));
            let o = own_servers(our).or(self.our.root.get("servers"));
            self.servers(&location.child("servers"), u, o);
        }
    }

    /// Path-level parameters, overridden by operation-level ones with the same `(in, name)`.
    fn effective_parameters(spec: &'a Spec, op: &Operation<'a>) -> Vec<(ParameterKey, &'a Node)> {
        let mut parameters: Vec<(ParameterKey, &'a Node)> = Vec::new();
        let declared = [op.item.get("parameters"), op.op.get("parameters")];
        for raw in declared
            .into_iter()
            .flatten()
            .flat_map(|list| list.items().unwrap_or_default())
        {
            let resolved = spec.resolved(raw);
            let field = |name: &str| {
                resolved
                    .get(name)
                    .and_then(Node::as_str)
                    .unwrap_or("?")
                    .to_owned()
            };
            let key = (field("in"), field("name"));
            match parameters.iter_mut().find(|(k, _)| *k == key) {
                Some(existing) => existing.1 = raw,
                None => parameters.push((key, raw)),
            }
        }
        parameters
    }

    fn parameters(&mut self, location: &Location, up: &Operation<'a>, our: &Operation<'a>) {
        let ups = Self::effective_parameters(self.up, up);
        let ours = Self::effective_parameters(self.our, our);
        let find = |list: &[(ParameterKey, &'a Node)], key: &ParameterKey| {
            list.iter()
                .find_map(|(k, node)| (k == key).then_some(*node))
        };
        // Upstream's order, then what only we have, in our order.
        let mut keys: Vec<&ParameterKey> = ups.iter().map(|(k, _)| k).collect();
        keys.extend(
            ours.iter()
                .map(|(k, _)| k)
                .filter(|k| find(&ups, k).is_none()),
        );
        for key in keys {
            let child = location.child(parameter_segment(key));
            match (find(&ups, key), find(&ours, key)) {
                (Some(u), Some(o)) => self.parameter(&child, u, o),
                (None, Some(o)) => self.added(&child, o),
                (Some(u), None) => self.removed(&child, u),
                (None, None) => {}
            }
        }
        // Order matters (generated clients use it for positional arguments), but a
        // parameter added or removed is reported once, not as an order change too.
        let common = |list: &[(ParameterKey, &'a Node)], other: &[(ParameterKey, &'a Node)]| {
            list.iter()
                .filter(|(k, _)| find(other, k).is_some())
                .map(|(k, _)| k.clone())
                .collect::<Vec<_>>()
        };
        if common(&ups, &ours) != common(&ours, &ups) {
            let names = |list: &[(ParameterKey, &'a Node)]| {
                list.iter()
                    .map(|(k, _)| k.1.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let (before, after) = (names(&ups), names(&ours));
            self.note(
                &location.child("parameters"),
                Kind::Changed,
                Some(before),
                Some(after),
            );
        }
    }

    fn parameter(&mut self, location: &Location, up: &'a Node, our: &'a Node) {
        if let Some((kind, name)) = same_component(up, our) {
            return self.component(&kind, &name);
        }
        let (u, o) = (self.up.resolved(up), self.our.resolved(our));
        for (key, uv, ov) in pairs(u, o) {
            let child = location.child(key);
            match (key, uv, ov) {
                ("in" | "name", _, _) => {}
                ("schema", Some(uv), Some(ov)) => self.schema(&child, uv, ov),
                ("content", _, _) => self.content(&child, uv, ov),
                _ => self.values(&child, uv, ov),
            }
        }
    }

    fn responses(&mut self, location: &Location, up: Option<&'a Node>, our: Option<&'a Node>) {
        let (ups, ours) = (sorted(up), sorted(our));
        let codes: BTreeSet<&str> = ups.keys().chain(ours.keys()).copied().collect();
        for code in codes {
            let child = location.child(format!("response {code}"));
            match (ups.get(code), ours.get(code)) {
                (Some(u), Some(o)) => self.response(&child, u, o),
                (None, Some(o)) => self.added(&child, o),
                (Some(u), None) => self.removed(&child, u),
                (None, None) => {}
            }
        }
    }

    fn response(&mut self, location: &Location, up: &'a Node, our: &'a Node) {
        if let Some((kind, name)) = same_component(up, our) {
            return self.component(&kind, &name);
        }
        let (u, o) = (self.up.resolved(up), self.our.resolved(our));
        for (key, uv, ov) in pairs(u, o) {
            let child = location.child(key);
            match key {
                "headers" => self.headers(&child, uv, ov),
                "content" => self.content(&child, uv, ov),
                _ => self.values(&child, uv, ov),
            }
        }
    }

    /// Response headers; HTTP header names are case-insensitive.
    fn headers(&mut self, location: &Location, up: Option<&'a Node>, our: Option<&'a Node>) {
        let by_name = |node: Option<&'a Node>| {
            node.and_then(Node::entries)
                .unwrap_or_default()
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), (k.as_str(), v)))
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        let (ups, ours) = (by_name(up), by_name(our));
        let names: BTreeSet<&String> = ups.keys().chain(ours.keys()).collect();
        for name in names {
            match (ups.get(name), ours.get(name)) {
                (Some((_, u)), Some((shown, o))) => self.header(&location.child(*shown), u, o),
                (None, Some((shown, o))) => self.added(&location.child(*shown), o),
                (Some((shown, u)), None) => self.removed(&location.child(*shown), u),
                (None, None) => {}
            }
        }
    }

    fn header(&mut self, location: &Location, up: &'a Node, our: &'a Node) {
        if let Some((kind, name)) = same_component(up, our) {
            return self.component(&kind, &name);
        }
        let (u, o) = (self.up.resolved(up), self.our.resolved(our));
        for (key, uv, ov) in pairs(u, o) {
            let child = location.child(key);
            match (key, uv, ov) {
                ("schema", Some(uv), Some(ov)) => self.schema(&child, uv, ov),
                ("content", _, _) => self.content(&child, uv, ov),
                _ => self.values(&child, uv, ov),
            }
        }
    }

    /// Media types: `content › application/json › schema › …`.
    fn content(&mut self, location: &Location, up: Option<&'a Node>, our: Option<&'a Node>) {
        self.keyed(location, up, our, |this, at, u, o| {
            for (key, uv, ov) in pairs(u, o) {
                let child = at.child(key);
                match (key, uv, ov) {
                    ("schema", Some(uv), Some(ov)) => this.schema(&child, uv, ov),
                    _ => this.values(&child, uv, ov),
                }
            }
        });
    }

    fn request_body(&mut self, location: &Location, up: Option<&'a Node>, our: Option<&'a Node>) {
        let (up, our) = match (up, our) {
            (Some(up), Some(our)) => (up, our),
            _ => return self.values(location, up, our),
        };
        if let Some((kind, name)) = same_component(up, our) {
            return self.component(&kind, &name);
        }
        let (u, o) = (self.up.resolved(up), self.our.resolved(our));
        for (key, uv, ov) in pairs(u, o) {
            match key {
                "content" => self.content(&location.child(key), uv, ov),
                _ => self.values(&location.child(key), uv, ov),
            }
        }
    }

    /// Effective security requirements, each alternative named by its schemes.
    fn security(&mut self, location: &Location, up: &Operation<'a>, our: &Operation<'a>) {
        let alternatives = |spec: &'a Spec, op: &Operation<'a>| {
            effective_security(spec, op)
                .and_then(Node::items)
                .unwrap_or_default()
                .iter()
                .map(|requirement| {
                    let schemes: Vec<&str> = requirement.sorted().into_keys().collect();
                    let name = if schemes.is_empty() {
                        "(anonymous)".to_owned()
                    } else {
                        schemes.join(" + ")
                    };
                    (name, requirement)
                })
                .collect::<std::collections::BTreeMap<String, &'a Node>>()
        };
        let (ups, ours) = (alternatives(self.up, up), alternatives(self.our, our));
        let names: BTreeSet<&String> = ups.keys().chain(ours.keys()).collect();
        for name in names {
            let child = location.child(name.as_str());
            match (ups.get(name), ours.get(name)) {
                (Some(u), Some(o)) => self.requirement(&child, u, o),
                (None, Some(o)) => self.added(&child, o),
                (Some(u), None) => self.removed(&child, u),
                (None, None) => {}
            }
        }
    }

    /// The scopes of one security requirement alternative.
    fn requirement(&mut self, location: &Location, up: &'a Node, our: &'a Node) {
        let single = up.sorted().len() == 1;
        let scopes = |node: &'a Node| {
            node.sorted()
                .into_iter()
                .flat_map(|(scheme, scopes)| {
                    scopes
                        .items()
                        .unwrap_or_default()
                        .iter()
                        .filter_map(Node::as_str)
                        .map(move |scope| {
                            if single {
                                scope.to_owned()
                            } else {
                                format!("{scheme}:{scope}")
                            }
                        })
                })
                .collect::<BTreeSet<String>>()
        };
        let (ups, ours) = (scopes(up), scopes(our));
        let location = location.child("scopes");
        for scope in ups.difference(&ours) {
            self.note(
                &location.child(scope.as_str()),
                Kind::Removed,
                Some(scope.clone()),
                None,
            );
        }
        for scope in ours.difference(&ups) {
            self.note(
                &location.child(scope.as_str()),
                Kind::Added,
                None,
                Some(scope.clone()),
            );
        }
    }

    pub(super) fn security_scheme(&mut self, location: &Location, up: &'a Node, our: &'a Node) {
        let (u, o) = (self.up.resolved(up), self.our.resolved(our));
        for (key, uv, ov) in pairs(u, o) {
            let child = location.child(key);
            if key != "flows" {
                self.values(&child, uv, ov);
                continue;
            }
            self.keyed(&child, uv, ov, |this, at, u, o| {
                for (key, uv, ov) in pairs(u, o) {
                    match key {
                        "scopes" => this.scopes(&at.child(key), uv, ov),
                        _ => this.values(&at.child(key), uv, ov),
                    }
                }
            });
        }
    }

    fn scopes(&mut self, location: &Location, up: Option<&'a Node>, our: Option<&'a Node>) {
        let (ups, ours) = (sorted(up), sorted(our));
        let removed: Vec<&str> = ups
            .keys()
            .filter(|k| !ours.contains_key(*k))
            .copied()
            .collect();
        let added: Vec<&str> = ours
            .keys()
            .filter(|k| !ups.contains_key(*k))
            .copied()
            .collect();
        for (kind, names, side) in [(Kind::Removed, removed, &ups), (Kind::Added, added, &ours)] {
            if names.len() > SCOPES_LISTED_ONE_BY_ONE {
                let listed = Some(format!(
                    "{} scopes ({}, …, {})",
                    names.len(),
                    names[..3].join(", "),
                    names[names.len() - 1]
                ));
                let (before, after) = match kind {
                    Kind::Removed => (listed, None),
                    _ => (None, listed),
                };
                self.note(location, kind, before, after);
                continue;
            }
            for name in names {
                let value = side.get(name).copied();
                match kind {
                    Kind::Removed => self.values(&location.child(name), value, None),
                    _ => self.values(&location.child(name), None, value),
                }
            }
        }
        for (name, u) in &ups {
            if let Some(o) = ours.get(name) {
                self.values(&location.child(*name), Some(u), Some(o));
            }
        }
    }

    /// Compare a component both sides define, once, under `components › kind › name`.
    pub(super) fn component(&mut self, kind: &str, name: &str) {
        if !self.done.insert((kind.to_owned(), name.to_owned())) {
            return;
        }
        let (Some(u), Some(o)) = (
            self.up.component(kind, name),
            self.our.component(kind, name),
        ) else {
            return;
        };
        let location = Location::root("components").child(kind).child(name);
        match kind {
            "schemas" => self.schema(&location, u, o),
            "responses" => self.response(&location, u, o),
            "parameters" => self.parameter(&location, u, o),
            "headers" => self.header(&location, u, o),
            "requestBodies" => self.request_body(&location, Some(u), Some(o)),
            "securitySchemes" => self.security_scheme(&location, u, o),
            _ => self.values(&location, Some(u), Some(o)),
        }
    }
}

/// `parameter group_by` for query parameters (all of CNM's), `header parameter X` otherwise.
fn parameter_segment((place, name): &ParameterKey) -> String {
    if place == "query" {
        format!("parameter {name}")
    } else {
        format!("{place} parameter {name}")
    }
}

fn sorted(node: Option<&Node>) -> std::collections::BTreeMap<&str, &Node> {
    node.map(Node::sorted).unwrap_or_default()
}
