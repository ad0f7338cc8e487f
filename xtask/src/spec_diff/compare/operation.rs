//! Operations and what hangs off them: parameters, responses, headers, media types,
//! security requirements and schemes, and components compared by name.

use std::collections::BTreeSet;

use super::{Differ, Kind, Location, Note, operation_path, pairs, same_component};
use crate::spec_diff::node::{Node, NodePath, Seg};
use crate::spec_diff::slice::{Operation, Spec, effective_security};

/// More scopes than this added or removed at once are reported as one difference: an
/// OAuth scheme that lists every scope of the API would otherwise drown the report.
const SCOPES_LISTED_ONE_BY_ONE: usize = 5;

/// `(in, name)`, how parameters are told apart.
type ParameterKey = (String, String);

/// A parameter as declared: its key, its (possibly `$ref`) node and where that is written.
type Parameter<'a> = (ParameterKey, &'a Node, NodePath);

/// Add a declared parameter; one with the same `(in, name)` replaces the earlier one.
fn push_parameter<'a>(
    list: &mut Vec<Parameter<'a>>,
    spec: &'a Spec,
    raw: &'a Node,
    path: NodePath,
) {
    let resolved = spec.resolved(raw);
    let field = |name: &str| {
        resolved
            .get(name)
            .and_then(Node::as_str)
            .unwrap_or("?")
            .to_owned()
    };
    let key = (field("in"), field("name"));
    match list.iter_mut().find(|(k, _, _)| *k == key) {
        Some(existing) => {
            existing.1 = raw;
            existing.2 = path;
        }
        None => list.push((key, raw, path)),
    }
}

impl<'a> Differ<'a> {
    pub(super) fn operation(&mut self, up: &Operation<'a>, our: &Operation<'a>) {
        let location = Location::root_at(up.id, operation_path(up), operation_path(our));
        let (before, after) = (up.endpoint(), our.endpoint());
        if before != after {
            self.note(
                Note::Endpoint,
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
            let at = |op: &Operation<'a>| {
                let mut path = operation_path(op);
                if op.op.get("servers").is_none() {
                    path.pop();
                    if op.item.get("servers").is_none() {
                        path.clear();
                    }
                }
                path.push(Seg::key("servers"));
                path
            };
            self.servers(&location.child_at_paths("servers", at(up), at(our)), u, o);
        }
    }

    /// NodePath-level parameters, overridden by operation-level ones with the same `(in, name)`,
    /// each with where it is written.
    fn effective_parameters(spec: &'a Spec, op: &Operation<'a>) -> Vec<Parameter<'a>> {
        let mut parameters: Vec<Parameter<'a>> = Vec::new();
        let mut item_path = operation_path(op);
        item_path.pop();
        let declared = [
            (item_path, op.item.get("parameters")),
            (operation_path(op), op.op.get("parameters")),
        ];
        for (base, list) in declared {
            let items = list.and_then(Node::items).unwrap_or_default();
            for (index, raw) in items.iter().enumerate() {
                let mut path = base.clone();
                path.extend([Seg::key("parameters"), Seg::Index(index)]);
                push_parameter(&mut parameters, spec, raw, path);
            }
        }
        parameters
    }

    fn parameters(&mut self, location: &Location, up: &Operation<'a>, our: &Operation<'a>) {
        let ups = Self::effective_parameters(self.up, up);
        let ours = Self::effective_parameters(self.our, our);
        let find = |list: &[Parameter<'a>], key: &ParameterKey| {
            list.iter()
                .find_map(|(k, node, path)| (k == key).then_some((*node, path.clone())))
        };
        // Where a parameter a side lacks would go: its operation's own list.
        let new = |op: &Operation<'a>| {
            let mut path = operation_path(op);
            path.extend([Seg::key("parameters"), Seg::New]);
            path
        };
        // Upstream's order, then what only we have, in our order.
        let mut keys: Vec<&ParameterKey> = ups.iter().map(|(k, _, _)| k).collect();
        keys.extend(
            ours.iter()
                .map(|(k, _, _)| k)
                .filter(|k| find(&ups, k).is_none()),
        );
        for key in keys {
            let (u, o) = (find(&ups, key), find(&ours, key));
            let (up_path, our_path) = (
                u.as_ref().map_or_else(|| new(up), |(_, p)| p.clone()),
                o.as_ref().map_or_else(|| new(our), |(_, p)| p.clone()),
            );
            let child = location.child_at_paths(parameter_segment(key), up_path, our_path);
            match (u, o) {
                (Some((u, _)), Some((o, _))) => self.parameter(&child, u, o),
                (None, Some((o, _))) => self.added(&child, o),
                (Some((u, _)), None) => self.removed(&child, u),
                (None, None) => {}
            }
        }
        // Order matters (generated clients use it for positional arguments), but a
        // parameter added or removed is reported once, not as an order change too.
        let common = |list: &[Parameter<'a>], other: &[Parameter<'a>]| {
            list.iter()
                .filter(|(k, _, _)| find(other, k).is_some())
                .map(|(k, _, _)| k.clone())
                .collect::<Vec<_>>()
        };
        if common(&ups, &ours) != common(&ours, &ups) {
            let names = |list: &[Parameter<'a>]| {
                list.iter()
                    .map(|(k, _, _)| k.1.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let (before, after) = (names(&ups), names(&ours));
            self.note(
                Note::ParameterOrder,
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
        let location = &self.resolved_location(location, up, our);
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
            let child = location.child_at(
                format!("response {code}"),
                &[Seg::key("responses"), Seg::key(code)],
                &[Seg::key("responses"), Seg::key(code)],
            );
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
        let location = &self.resolved_location(location, up, our);
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
            let (u, o) = (ups.get(name), ours.get(name));
            // Shown as ours names it; each side at its own spelling.
            let Some(&(shown, _)) = o.or(u) else { continue };
            let key = |side: Option<&(&str, &Node)>| Seg::key(side.map_or(shown, |(k, _)| *k));
            let child = location.child_at(shown, &[key(u)], &[key(o)]);
            match (u, o) {
                (Some((_, u)), Some((_, o))) => self.header(&child, u, o),
                (None, Some((_, o))) => self.added(&child, o),
                (Some((_, u)), None) => self.removed(&child, u),
                (None, None) => {}
            }
        }
    }

    fn header(&mut self, location: &Location, up: &'a Node, our: &'a Node) {
        if let Some((kind, name)) = same_component(up, our) {
            return self.component(&kind, &name);
        }
        let location = &self.resolved_location(location, up, our);
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
        let location = &self.resolved_location(location, up, our);
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
                .enumerate()
                .map(|(index, requirement)| {
                    let schemes: Vec<&str> = requirement.sorted().into_keys().collect();
                    let name = if schemes.is_empty() {
                        "(anonymous)".to_owned()
                    } else {
                        schemes.join(" + ")
                    };
                    (name, (index, requirement))
                })
                .collect::<std::collections::BTreeMap<String, (usize, &'a Node)>>()
        };
        // The list the alternatives come from: the operation's own, else the document's.
        let base = |op: &Operation<'a>| {
            let mut path = operation_path(op);
            if op.op.get("security").is_none() {
                path.clear();
            }
            path.push(Seg::key("security"));
            path
        };
        let at = |op: &Operation<'a>, found: Option<&(usize, &'a Node)>| {
            let mut path = base(op);
            path.push(found.map_or(Seg::New, |(i, _)| Seg::Index(*i)));
            path
        };
        let (ups, ours) = (alternatives(self.up, up), alternatives(self.our, our));
        let names: BTreeSet<&String> = ups.keys().chain(ours.keys()).collect();
        for name in names {
            let (u, o) = (ups.get(name), ours.get(name));
            let child = location.child_at_paths(name.as_str(), at(up, u), at(our, o));
            match (u, o) {
                (Some((_, u)), Some((_, o))) => self.requirement(&child, u, o),
                (None, Some((_, o))) => self.added(&child, o),
                (Some((_, u)), None) => self.removed(&child, u),
                (None, None) => {}
            }
        }
    }

    /// The scopes of one security requirement alternative.
    fn requirement(&mut self, location: &Location, up: &'a Node, our: &'a Node) {
        let single = up.sorted().len() == 1;
        // Shown name → (scheme, position in the scheme's list).
        let scopes = |node: &'a Node| {
            node.sorted()
                .into_iter()
                .flat_map(|(scheme, scopes)| {
                    scopes
                        .items()
                        .unwrap_or_default()
                        .iter()
                        .enumerate()
                        .filter_map(|(i, scope)| Some((i, scope.as_str()?)))
                        .map(move |(i, scope)| {
                            let shown = if single {
                                scope.to_owned()
                            } else {
                                format!("{scheme}:{scope}")
                            };
                            (shown, (scheme, i))
                        })
                })
                .collect::<std::collections::BTreeMap<String, (&'a str, usize)>>()
        };
        let (ups, ours) = (scopes(up), scopes(our));
        let location = location.child_at("scopes", &[], &[]);
        let at = |(scheme, i): (&str, usize), present: bool| {
            let position = if present { Seg::Index(i) } else { Seg::New };
            [Seg::key(scheme), position]
        };
        for (scope, &place) in ups.iter().filter(|(s, _)| !ours.contains_key(*s)) {
            let child = location.child_at(scope.as_str(), &at(place, true), &at(place, false));
            self.note(
                Note::Scope,
                &child,
                Kind::Removed,
                Some(scope.clone()),
                None,
            );
        }
        for (scope, &place) in ours.iter().filter(|(s, _)| !ups.contains_key(*s)) {
            let child = location.child_at(scope.as_str(), &at(place, false), &at(place, true));
            self.note(Note::Scope, &child, Kind::Added, None, Some(scope.clone()));
        }
    }

    pub(super) fn security_scheme(&mut self, location: &Location, up: &'a Node, our: &'a Node) {
        let location = &self.resolved_location(location, up, our);
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
                self.note(Note::Scopes, location, kind, before, after);
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
