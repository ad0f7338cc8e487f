//! What the maintainer must decide about metrics after a sync: every connection metric and
//! every DNS metric key needs an aggregation (`x-cnm-aggregation`, `x-cnm-aggregations`)
//! before `cargo xtask codegen` accepts the spec (N5 in `spec/FIXES.md`).

use std::collections::BTreeSet;

use crate::spec_diff::node::Node;
use crate::spec_diff::slice::Spec;

/// The schema whose properties are the connection metrics.
pub const CONNECTION_ATTRIBUTES: &str = "SingleAggregatedConnectionResponseDataAttributes";
/// The schema whose enum values are the DNS metric keys.
pub const DNS_METRIC_KEY: &str = "DnsMetricKey";
/// What an aggregation may be.
pub const AGGREGATIONS: &str = "sum|mean|rate|percentile";

const REFUSES: &str = "`cargo xtask codegen` will refuse it until you do";

/// The connection metrics (numeric properties) of `spec`, by name.
pub fn connection_metrics(spec: &Spec) -> Vec<(&str, &Node)> {
    spec.component("schemas", CONNECTION_ATTRIBUTES)
        .and_then(|schema| spec.resolved(schema).get("properties"))
        .and_then(Node::entries)
        .unwrap_or_default()
        .iter()
        .map(|(name, property)| (name.as_str(), spec.resolved(property)))
        .filter(|(_, property)| {
            matches!(
                property.get("type").and_then(Node::as_str),
                Some("integer" | "number")
            )
        })
        .collect()
}

/// The DNS metric keys of `spec`.
pub fn dns_metrics(spec: &Spec) -> Vec<&str> {
    spec.component("schemas", DNS_METRIC_KEY)
        .and_then(|schema| spec.resolved(schema).get("enum"))
        .and_then(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(Node::as_str)
        .collect()
}

/// One sentence per metric still without an aggregation; `new` names the metrics this run
/// took from upstream.
pub fn decisions(spec: &Spec, new: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    let what = |name: &str, kind: &str| {
        if new.contains(name) {
            format!("new {kind}`{name}`")
        } else {
            format!("{kind}`{name}` (no aggregation yet)")
        }
    };
    for (name, property) in connection_metrics(spec) {
        if property.get("x-cnm-aggregation").is_none() {
            out.push(format!(
                "{}: add `x-cnm-aggregation` ({AGGREGATIONS}) under \
                 components.schemas.{CONNECTION_ATTRIBUTES}.properties.{name} \
                 (`x-cnm-unit`, `x-cnm-label`, `x-cnm-column` are optional) — {REFUSES}",
                what(name, "metric ")
            ));
        }
    }
    let Some(schema) = spec.component("schemas", DNS_METRIC_KEY) else {
        return out;
    };
    let aggregations = spec
        .resolved(schema)
        .get("x-cnm-aggregations")
        .and_then(Node::items)
        .unwrap_or_default();
    for (i, name) in dns_metrics(spec).into_iter().enumerate() {
        if aggregations.get(i).is_none_or(|a| matches!(a, Node::Null)) {
            let what = what(name, "DNS metric ");
            let list = format!("`x-cnm-aggregations` of components.schemas.{DNS_METRIC_KEY}");
            let ask = if i >= aggregations.len() {
                format!("append its aggregation ({AGGREGATIONS}) to {list}")
            } else {
                format!(
                    "set entry {} of {list} to its aggregation ({AGGREGATIONS})",
                    i + 1
                )
            };
            out.push(format!(
                "{what}: {ask} — entry {}, in the order of `enum` (`x-cnm-units`, \
                 `x-cnm-labels`, `x-cnm-columns` may stay shorter) — {REFUSES}",
                i + 1
            ));
        }
    }
    out
}

/// One sentence per metric this run removed (upstream dropped it) that had a column in
/// `ddcnm`'s default table, read from our fragment before the run.
pub fn removed(before: &Spec, gone: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    let note = |kind: &str, name: &str, column: &Node| {
        format!(
            "{kind}`{name}` is gone upstream and was removed here with its semantics; it was \
             column {} of `ddcnm`'s default table: check the columns that remain",
            column.json()
        )
    };
    for (name, property) in connection_metrics(before) {
        if let Some(column) = property.get("x-cnm-column").filter(|_| gone.contains(name)) {
            out.push(note("metric ", name, column));
        }
    }
    let columns = before
        .component("schemas", DNS_METRIC_KEY)
        .and_then(|schema| before.resolved(schema).get("x-cnm-columns"))
        .and_then(Node::items)
        .unwrap_or_default();
    for (i, name) in dns_metrics(before).into_iter().enumerate() {
        let column = columns.get(i).filter(|c| !matches!(c, Node::Null));
        if let Some(column) = column.filter(|_| gone.contains(name)) {
            out.push(note("DNS metric ", name, column));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_without_aggregations_are_named() {
        let spec = Spec::parse(
            "openapi: 3.0.3\npaths: {}\ncomponents:\n  schemas:\n    \
             SingleAggregatedConnectionResponseDataAttributes:\n      properties:\n        \
             a: {type: integer, x-cnm-aggregation: sum}\n        b: {type: integer}\n        \
             group_bys: {type: object}\n    DnsMetricKey:\n      enum: [x, y, z]\n      \
             x-cnm-aggregations: [sum, null]\n",
            "spec",
        )
        .unwrap();
        let new: BTreeSet<String> = ["b".to_owned(), "z".to_owned()].into();
        let found = decisions(&spec, &new);
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(found[0].starts_with("new metric `b`: add `x-cnm-aggregation` (sum|mean|rate|percentile) under components.schemas.SingleAggregatedConnectionResponseDataAttributes.properties.b"));
        assert!(found[1].starts_with(
            "DNS metric `y` (no aggregation yet): set entry 2 of `x-cnm-aggregations` of components.schemas.DnsMetricKey to its aggregation"
        ));
        assert!(found[2].starts_with(
            "new DNS metric `z`: append its aggregation (sum|mean|rate|percentile) to `x-cnm-aggregations`"
        ));
        assert!(found[2].ends_with("`cargo xtask codegen` will refuse it until you do"));
    }
}
