//! Loading an OpenAPI document and slicing the two CNM operations out of it.
//!
//! The slice holds the operations and everything they reference, transitively: `$ref`ed
//! parameters, responses, headers, schemas, …, the security schemes their (effective)
//! security requirements name, the servers, and their tags. Top-level `x-*` generator
//! settings (such as upstream's `x-group-parameters`) are left out: they describe how
//! Datadog generates its clients, not the API.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

use super::node::{Node, NodePath, Seg};

/// The operations `spec-diff` compares, in report order.
pub const OPERATION_IDS: [&str; 2] = ["GetAggregatedConnections", "GetAggregatedDns"];

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A parsed OpenAPI document and the name it is reported under.
pub struct Spec {
    /// How the report names the file (the path as the user gave it).
    pub label: String,
    /// The whole document.
    pub root: Node,
}

/// `(kind, name)` of a component: `("schemas", "APIErrorResponse")`.
pub type ComponentId = (String, String);

impl Spec {
    /// Read and parse `path`, failing with one clear sentence when it cannot be used.
    pub fn load(path: &Path, label: &str) -> Result<Spec> {
        let text = fs::read_to_string(path).with_context(|| format!("cannot read {label}"))?;
        Spec::parse(&text, label)
    }

    /// Parse `text` (YAML or JSON) as an OpenAPI 3 document.
    pub fn parse(text: &str, label: &str) -> Result<Spec> {
        let root: Node =
            serde_norway::from_str(text).map_err(|e| anyhow!("{label} is not valid YAML: {e}"))?;
        let version = root.get("openapi").and_then(Node::as_str);
        if !version.is_some_and(|v| v.starts_with("3.")) {
            bail!("{label} is not an OpenAPI 3 document (no `openapi: 3.x` field)");
        }
        if root.get("paths").and_then(Node::entries).is_none() {
            bail!("{label} is not an OpenAPI 3 document (no `paths` mapping)");
        }
        Ok(Spec {
            label: label.to_owned(),
            root,
        })
    }

    /// The document's `openapi` version.
    pub fn version(&self) -> &str {
        self.root
            .get("openapi")
            .and_then(Node::as_str)
            .unwrap_or("?")
    }

    /// Find both operations, or say which are missing.
    pub fn operations(&self) -> Result<Vec<Operation<'_>>> {
        let mut found: BTreeMap<&str, Vec<Operation<'_>>> = BTreeMap::new();
        let mut searched = 0_usize;
        for (path, item) in self
            .root
            .get("paths")
            .and_then(Node::entries)
            .unwrap_or_default()
        {
            for (method, op) in item.entries().unwrap_or_default() {
                if !METHODS.contains(&method.as_str()) {
                    continue;
                }
                searched += 1;
                let id = op.get("operationId").and_then(Node::as_str);
                if let Some(id) = id.and_then(|id| OPERATION_IDS.iter().find(|&&w| w == id)) {
                    found.entry(id).or_default().push(Operation {
                        id,
                        path,
                        method,
                        item,
                        op,
                    });
                }
            }
        }
        let missing: Vec<&str> = OPERATION_IDS
            .into_iter()
            .filter(|id| !found.contains_key(id))
            .collect();
        if !missing.is_empty() {
            let searched = match searched {
                1 => "the 1 operation".to_owned(),
                n => format!("{n} operations"),
            };
            bail!(
                "{} does not define operationId {} (searched {searched} under `paths`)",
                self.label,
                missing.join(" or ")
            );
        }
        let mut operations = Vec::new();
        for id in OPERATION_IDS {
            let mut candidates = found.remove(id).unwrap_or_default();
            if candidates.len() > 1 {
                bail!("{} defines operationId {id} more than once", self.label);
            }
            operations.extend(candidates.pop());
        }
        Ok(operations)
    }

    /// Follow `node`'s `$ref` chain to the value it stands for.
    pub fn resolve<'a>(&'a self, node: &'a Node) -> Result<&'a Node> {
        let mut current = node;
        for _ in 0..32 {
            let Some(target) = current.reference() else {
                return Ok(current);
            };
            current = self.pointer(target)?;
        }
        bail!(
            "{}: $ref chain too long (a cycle?) at {}",
            self.label,
            node.json()
        )
    }

    /// Like `resolve`, for values already checked by `slice` (which fails on broken refs).
    pub fn resolved<'a>(&'a self, node: &'a Node) -> &'a Node {
        self.resolve(node).unwrap_or(node)
    }

    /// The value a local `$ref` (`#/components/schemas/Name`) points at.
    pub fn pointer(&self, reference: &str) -> Result<&Node> {
        let Some(pointer) = reference.strip_prefix('#') else {
            bail!(
                "{}: external $ref {reference:?} is not supported (only refs inside the file)",
                self.label
            );
        };
        let mut current = &self.root;
        for token in pointer.split('/').skip(1) {
            let token = token.replace("~1", "/").replace("~0", "~");
            let next = match current {
                Node::Seq(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => current.get(&token),
            };
            current = next
                .ok_or_else(|| anyhow!("{}: $ref {reference:?} points at nothing", self.label))?;
        }
        Ok(current)
    }

    /// Where `node`'s `$ref` chain ends, as a concrete path; `None` when `node` is not a
    /// `$ref` (or the chain is broken, which `slice` has already refused).
    pub fn target_path(&self, node: &Node) -> Option<NodePath> {
        let mut current = node;
        let mut path = None;
        for _ in 0..32 {
            let Some(reference) = current.reference() else {
                return path;
            };
            let target = self.pointer_path(reference)?;
            current = self.root.at(&target)?;
            path = Some(target);
        }
        None
    }

    /// A local `$ref` as a concrete path, if it points at something.
    pub fn pointer_path(&self, reference: &str) -> Option<NodePath> {
        let pointer = reference.strip_prefix('#')?;
        let mut current = &self.root;
        let mut path = NodePath::new();
        for token in pointer.split('/').skip(1) {
            let token = token.replace("~1", "/").replace("~0", "~");
            let seg = match current {
                Node::Seq(_) => Seg::Index(token.parse().ok()?),
                _ => Seg::Key(token),
            };
            current = current.at(std::slice::from_ref(&seg))?;
            path.push(seg);
        }
        Some(path)
    }

    /// The component `components/<kind>/<name>`, if the document defines it.
    pub fn component(&self, kind: &str, name: &str) -> Option<&Node> {
        self.root.get("components")?.get(kind)?.get(name)
    }
}

/// `#/components/<kind>/<name>` → `(kind, name)`.
pub fn component_id(reference: &str) -> Option<ComponentId> {
    let rest = reference.strip_prefix("#/components/")?;
    let (kind, name) = rest.split_once('/')?;
    (!name.contains('/')).then(|| (kind.to_owned(), name.replace("~1", "/").replace("~0", "~")))
}

/// One operation and where it sits.
#[derive(Clone, Copy)]
pub struct Operation<'a> {
    /// The operationId (one of `OPERATION_IDS`).
    pub id: &'static str,
    /// The path template, `/api/v2/network/dns/aggregate`.
    pub path: &'a str,
    /// The lower-case method, `get`.
    pub method: &'a str,
    /// The path item (for path-level parameters and servers).
    pub item: &'a Node,
    /// The operation object.
    pub op: &'a Node,
}

impl Operation<'_> {
    /// `GET /api/v2/network/dns/aggregate`.
    pub fn endpoint(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.path)
    }
}

/// Security scheme names the operation's effective security requirements use.
pub fn security_schemes_used<'a>(spec: &'a Spec, op: &Operation<'a>) -> BTreeSet<&'a str> {
    effective_security(spec, op)
        .and_then(Node::items)
        .unwrap_or_default()
        .iter()
        .flat_map(|requirement| requirement.entries().unwrap_or_default())
        .map(|(name, _)| name.as_str())
        .collect()
}

/// The operation's own `security`, else the document's.
pub fn effective_security<'a>(spec: &'a Spec, op: &Operation<'a>) -> Option<&'a Node> {
    op.op.get("security").or_else(|| spec.root.get("security"))
}

/// The slice: a standalone document with the operations and everything they use.
pub struct Slice {
    /// The sliced document, in the source's key order.
    pub document: Node,
    /// Every component the operations use, transitively.
    pub components: BTreeSet<ComponentId>,
}

/// Slice `operations` out of `spec`, failing on a `$ref` that points nowhere.
pub fn slice(spec: &Spec, operations: &[Operation<'_>]) -> Result<Slice> {
    let mut used: BTreeSet<ComponentId> = BTreeSet::new();
    let mut pending: Vec<&Node> = Vec::new();
    for op in operations {
        pending.push(op.op);
        pending.extend(op.item.get("parameters"));
        for scheme in security_schemes_used(spec, op) {
            if spec.component("securitySchemes", scheme).is_none() {
                bail!(
                    "{}: {} requires security scheme {scheme:?}, which components/securitySchemes does not define",
                    spec.label,
                    op.id
                );
            }
            used.insert(("securitySchemes".to_owned(), scheme.to_owned()));
        }
    }
    while let Some(node) = pending.pop() {
        match node {
            Node::Map(entries) => {
                if let Some(reference) = node.reference() {
                    let target = spec.pointer(reference)?;
                    let Some(id) = component_id(reference) else {
                        bail!(
                            "{}: $ref {reference:?} is not under #/components/, which the slice cannot hold",
                            spec.label
                        );
                    };
                    if used.insert(id) {
                        pending.push(target);
                    }
                }
                pending.extend(entries.iter().map(|(_, v)| v));
            }
            Node::Seq(items) => pending.extend(items),
            _ => {}
        }
    }
    Ok(Slice {
        document: build(spec, operations, &used),
        components: used,
    })
}

fn build(spec: &Spec, operations: &[Operation<'_>], used: &BTreeSet<ComponentId>) -> Node {
    let root = &spec.root;
    let mut document = Vec::new();
    for key in ["openapi", "info", "servers", "security"] {
        if let Some(value) = root.get(key) {
            document.push((key.to_owned(), value.clone()));
        }
    }
    let tag_names: BTreeSet<&str> = operations
        .iter()
        .flat_map(|op| op.op.get("tags").and_then(Node::items).unwrap_or_default())
        .filter_map(Node::as_str)
        .collect();
    let tags: Vec<Node> = root
        .get("tags")
        .and_then(Node::items)
        .unwrap_or_default()
        .iter()
        .filter(|tag| {
            tag.get("name")
                .and_then(Node::as_str)
                .is_some_and(|name| tag_names.contains(name))
        })
        .cloned()
        .collect();
    if !tags.is_empty() {
        document.push(("tags".to_owned(), Node::Seq(tags)));
    }
    let mut paths: Vec<(String, Node)> = Vec::new();
    for op in operations {
        let mut item: Vec<(String, Node)> = op
            .item
            .entries()
            .unwrap_or_default()
            .iter()
            .filter(|(k, _)| !METHODS.contains(&k.as_str()) || k == op.method)
            .cloned()
            .collect();
        match paths.iter_mut().find(|(p, _)| p == op.path) {
            Some((_, Node::Map(existing))) => {
                existing.extend(item.drain(..).filter(|(k, _)| k == op.method));
            }
            _ => paths.push((op.path.to_owned(), Node::Map(item))),
        }
    }
    document.push(("paths".to_owned(), Node::Map(paths)));
    let components: Vec<(String, Node)> = root
        .get("components")
        .and_then(Node::entries)
        .unwrap_or_default()
        .iter()
        .filter_map(|(kind, defined)| {
            let kept: Vec<(String, Node)> = defined
                .entries()
                .unwrap_or_default()
                .iter()
                .filter(|(name, _)| used.contains(&(kind.clone(), name.clone())))
                .cloned()
                .collect();
            (!kept.is_empty()).then(|| (kind.clone(), Node::Map(kept)))
        })
        .collect();
    if !components.is_empty() {
        document.push(("components".to_owned(), Node::Map(components)));
    }
    Node::Map(document)
}

/// The slice as YAML, with a header saying where it came from.
pub fn to_yaml(spec: &Spec, slice: &Slice) -> Result<String> {
    let body = serde_norway::to_string(&slice.document).context("writing the slice as YAML")?;
    Ok(format!(
        "# {} with everything they reference,\n\
         # sliced out of {} by `cargo xtask spec-diff`.\n{body}",
        OPERATION_IDS.join(" and "),
        spec.label
    ))
}
