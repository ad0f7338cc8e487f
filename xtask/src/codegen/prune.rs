//! Leave out of the generated client the types nothing uses.
//!
//! progenitor generates a type for every component schema. The row and document schemas are
//! replaced by hand-written types, and the schemas only they refer to (the attribute
//! objects, the `{key, value}` items, the `type` enums) would remain as public types that no
//! request or response uses. This finds them from the spec's references and removes them,
//! and everything that implements something for them, from the generated `types` module.

use std::collections::{BTreeSet, VecDeque};

use anyhow::Result;
use openapiv3::OpenAPI;
use serde_json::Value;

/// The component schemas no operation reaches except through a replaced schema.
pub fn unused_schemas(spec: &OpenAPI, replaced: &[&str]) -> Result<BTreeSet<String>> {
    let document = serde_json::to_value(spec)?;
    let components = &document["components"];
    let mut queue: VecDeque<String> = VecDeque::new();
    for item in document["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        collect_refs(item, &mut queue);
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut used: BTreeSet<String> = BTreeSet::new();
    while let Some(reference) = queue.pop_front() {
        if !seen.insert(reference.clone()) {
            continue;
        }
        let Some((kind, name)) = reference
            .strip_prefix("#/components/")
            .and_then(|rest| rest.split_once('/'))
        else {
            continue;
        };
        if kind == "schemas" {
            if replaced.contains(&name) {
                continue;
            }
            used.insert(name.to_owned());
        }
        collect_refs(&components[kind][name], &mut queue);
    }
    let all = components["schemas"]
        .as_object()
        .into_iter()
        .flat_map(|s| s.keys());
    Ok(all
        .filter(|name| !used.contains(*name) && !replaced.contains(&name.as_str()))
        .cloned()
        .collect())
}

fn collect_refs(value: &Value, out: &mut VecDeque<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(reference)) => out.push_back(reference.clone()),
                    _ => collect_refs(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, out)),
        _ => {}
    }
}

/// `SingleAggregatedDnsResponseDataType` and the type progenitor names after it compare
/// equal: letters and digits, case ignored (`JSONAPIErrorItem` ~ `JsonapiErrorItem`).
fn same_name(schema: &str, rust: &str) -> bool {
    let normal = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    normal(schema) == normal(rust)
}

/// Remove from `file`'s `types` module (and its `builder` module) every item that defines,
/// or implements something for, a type named after one of `schemas`.
pub fn prune(file: &mut syn::File, schemas: &BTreeSet<String>) {
    let unused = |ident: &syn::Ident| schemas.iter().any(|s| same_name(s, &ident.to_string()));
    for item in &mut file.items {
        if let syn::Item::Mod(module) = item
            && module.ident == "types"
        {
            prune_module(module, &unused);
        }
    }
}

fn prune_module(module: &mut syn::ItemMod, unused: &impl Fn(&syn::Ident) -> bool) {
    let Some((_, items)) = &mut module.content else {
        return;
    };
    items.retain(|item| !item_name(item).is_some_and(unused));
    for item in items {
        if let syn::Item::Mod(inner) = item {
            prune_module(inner, unused);
        }
    }
}

/// The type an item defines, or the type an `impl` is for.
fn item_name(item: &syn::Item) -> Option<&syn::Ident> {
    match item {
        syn::Item::Struct(item) => Some(&item.ident),
        syn::Item::Enum(item) => Some(&item.ident),
        syn::Item::Type(item) => Some(&item.ident),
        syn::Item::Impl(item) => match item.self_ty.as_ref() {
            syn::Type::Path(path) => path.path.segments.last().map(|s| &s.ident),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_without_case_or_separators() {
        assert!(same_name("JSONAPIErrorItem", "JsonapiErrorItem"));
        assert!(same_name(
            "SingleAggregatedDnsResponseDataType",
            "SingleAggregatedDnsResponseDataType"
        ));
        assert!(!same_name("ApiErrorResponse", "ApiErrorItem"));
    }
}
