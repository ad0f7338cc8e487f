//! The metric tables, read from the spec's `x-cnm-*` extensions and checked.
//!
//! Connection metrics are the integer properties of
//! `SingleAggregatedConnectionResponseDataAttributes` (each with `x-cnm-aggregation`, and
//! optionally `x-cnm-unit`, `x-cnm-label`, `x-cnm-column`); DNS metrics are the values of
//! the `DnsMetricKey` enum, with the same facts as lists parallel to it
//! (`x-cnm-aggregations`, …). Anything missing or unreadable is an error that names the
//! metric and says what to add.

use anyhow::{Result, bail};
use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, Type};
use serde_json::Value;

/// The schema holding the connection metrics.
pub const CONNECTION_ATTRIBUTES: &str = "SingleAggregatedConnectionResponseDataAttributes";
/// The schema listing the DNS metric keys.
pub const DNS_METRIC_KEY: &str = "DnsMetricKey";

/// The aggregations the spec may name, as spelled there.
pub const AGGREGATIONS: [&str; 4] = ["sum", "mean", "rate", "percentile"];
/// The units the spec may name (`count`, the default, is not written).
pub const UNITS: [&str; 4] = ["bytes", "packets", "microseconds", "milliseconds"];

/// One metric, as the generated code describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricSpec {
    /// The wire name.
    pub name: String,
    /// The Rust field name.
    pub field: String,
    /// The DNS enum variant (`DnsTotalRequests`); empty for connections.
    pub variant: String,
    /// The spec's description (one line).
    pub description: String,
    /// `sum`, `mean`, `rate` or `percentile`.
    pub aggregation: String,
    /// `count`, `bytes`, `packets`, `microseconds` or `milliseconds`.
    pub unit: String,
    /// The column label.
    pub label: String,
    /// The place in the default table.
    pub column: Option<u8>,
}

/// Both tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricTables {
    /// The connection metrics, in the spec's (alphabetical) property order.
    pub connection: Vec<MetricSpec>,
    /// The DNS metrics, in enum order.
    pub dns: Vec<MetricSpec>,
}

/// Read both tables from `spec`.
pub fn read(spec: &OpenAPI) -> Result<MetricTables> {
    let tables = MetricTables {
        connection: connection_metrics(spec)?,
        dns: dns_metrics(spec)?,
    };
    check_columns("connection", &tables.connection)?;
    check_columns("DNS", &tables.dns)?;
    Ok(tables)
}

fn schema<'a>(spec: &'a OpenAPI, name: &str) -> Result<&'a Schema> {
    let components = spec.components.as_ref();
    match components.and_then(|c| c.schemas.get(name)) {
        Some(ReferenceOr::Item(schema)) => Ok(schema),
        Some(ReferenceOr::Reference { .. }) => {
            bail!("components.schemas.{name} is a $ref; write the schema itself there")
        }
        None => bail!("the spec has no components.schemas.{name}"),
    }
}

fn connection_metrics(spec: &OpenAPI) -> Result<Vec<MetricSpec>> {
    let attributes = schema(spec, CONNECTION_ATTRIBUTES)?;
    let SchemaKind::Type(Type::Object(object)) = &attributes.schema_kind else {
        bail!("components.schemas.{CONNECTION_ATTRIBUTES} must be an object");
    };
    let mut metrics = Vec::new();
    for (name, property) in &object.properties {
        if name == "group_bys" {
            continue;
        }
        let where_ = format!("{CONNECTION_ATTRIBUTES}.properties.{name}");
        let ReferenceOr::Item(property) = property else {
            bail!("{where_} is a $ref; write the metric's schema inline");
        };
        if !matches!(property.schema_kind, SchemaKind::Type(Type::Integer(_))) {
            bail!(
                "{where_} is not an integer: every connection attribute but `group_bys` is a \
                 metric (an `int64`); teach the row decoder (crates/datadog-cnm-raw/src/rows/) \
                 about any other kind first"
            );
        }
        let extensions = &property.schema_data.extensions;
        let Some(aggregation) = extensions.get("x-cnm-aggregation") else {
            bail!(
                "metric `{name}` has no `x-cnm-aggregation`: add `x-cnm-aggregation: sum` (a \
                 count that adds up over adjacent windows), `mean` (an average), `rate` (a \
                 per-second gauge) or `percentile` to {where_} in spec/datadog-cnm.yaml"
            );
        };
        metrics.push(MetricSpec {
            field: field_name(name, "", &where_)?,
            variant: String::new(),
            description: one_line(property.schema_data.description.as_deref(), name),
            aggregation: aggregation_of(aggregation, name, &where_)?,
            unit: unit_of(extensions.get("x-cnm-unit"), name, &where_)?,
            label: label_of(extensions.get("x-cnm-label"), name, &where_)?,
            column: column_of(extensions.get("x-cnm-column"), name, &where_)?,
            name: name.clone(),
        });
    }
    if metrics.is_empty() {
        bail!("{CONNECTION_ATTRIBUTES} lists no metric");
    }
    Ok(metrics)
}

fn dns_metrics(spec: &OpenAPI) -> Result<Vec<MetricSpec>> {
    let key = schema(spec, DNS_METRIC_KEY)?;
    let SchemaKind::Type(Type::String(string)) = &key.schema_kind else {
        bail!("components.schemas.{DNS_METRIC_KEY} must be a string enum");
    };
    let values: Vec<&str> = string
        .enumeration
        .iter()
        .flatten()
        .map(String::as_str)
        .collect();
    if values.is_empty() {
        bail!("components.schemas.{DNS_METRIC_KEY} lists no value");
    }
    let extensions = &key.schema_data.extensions;
    let list = |name: &str| -> Result<Vec<Value>> {
        match extensions.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) if items.len() <= values.len() => Ok(items.clone()),
            Some(Value::Array(items)) => bail!(
                "{DNS_METRIC_KEY}.{name} has {} entries for {} enum values: one per value, \
                 in enum order",
                items.len(),
                values.len()
            ),
            Some(_) => bail!("{DNS_METRIC_KEY}.{name} must be a list parallel to the enum"),
        }
    };
    let aggregations = list("x-cnm-aggregations")?;
    let (units, labels, columns) = (
        list("x-cnm-units")?,
        list("x-cnm-labels")?,
        list("x-cnm-columns")?,
    );
    let descriptions = list("x-enum-descriptions")?;
    let at = |items: &[Value], i: usize| items.get(i).filter(|v| !v.is_null()).cloned();
    let mut metrics = Vec::new();
    for (i, name) in values.iter().enumerate() {
        let where_ = format!(
            "{DNS_METRIC_KEY} value `{name}` (entry {} of the lists)",
            i + 1
        );
        let Some(aggregation) = at(&aggregations, i) else {
            bail!(
                "DNS metric `{name}` has no aggregation: {DNS_METRIC_KEY}.x-cnm-aggregations \
                 has {} entries for {} enum values; add `sum` (a count that adds up over \
                 adjacent windows), `mean`, `rate` or `percentile` as entry {} in \
                 spec/datadog-cnm.yaml",
                aggregations.len(),
                values.len(),
                i + 1
            );
        };
        let description = at(&descriptions, i);
        metrics.push(MetricSpec {
            field: field_name(name, "dns_", &where_)?,
            variant: variant_name(name),
            description: one_line(description.as_ref().and_then(Value::as_str), name),
            aggregation: aggregation_of(&aggregation, name, &where_)?,
            unit: unit_of(at(&units, i).as_ref(), name, &where_)?,
            label: label_of(at(&labels, i).as_ref(), name, &where_)?,
            column: column_of(at(&columns, i).as_ref(), name, &where_)?,
            name: (*name).to_owned(),
        });
    }
    Ok(metrics)
}

/// The Rust field of a metric: its name without `prefix`, `.` as `_`; a valid identifier.
fn field_name(name: &str, prefix: &str, where_: &str) -> Result<String> {
    let field = name.strip_prefix(prefix).unwrap_or(name).replace('.', "_");
    let valid = field
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && field
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && syn::parse_str::<syn::Ident>(&field).is_ok();
    if !valid {
        bail!(
            "{where_}: metric `{name}` would be the Rust field `{field}`, which is not a plain \
             lowercase identifier; rename it or extend xtask/src/codegen/metrics.rs"
        );
    }
    Ok(field)
}

/// `dns_responses.nxdomain` → `DnsResponsesNxdomain`.
fn variant_name(name: &str) -> String {
    name.split(['_', '.'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn aggregation_of(value: &Value, name: &str, where_: &str) -> Result<String> {
    match value.as_str() {
        Some(text) if AGGREGATIONS.contains(&text) => Ok(text.to_owned()),
        _ => bail!(
            "{where_}: the aggregation of `{name}` is {value}; it must be one of {}",
            AGGREGATIONS.join(", ")
        ),
    }
}

fn unit_of(value: Option<&Value>, name: &str, where_: &str) -> Result<String> {
    match value.map(Value::as_str) {
        None => Ok("count".to_owned()),
        Some(Some(text)) if UNITS.contains(&text) => Ok(text.to_owned()),
        Some(_) => bail!(
            "{where_}: the unit of `{name}` must be one of {} (or absent for a plain count)",
            UNITS.join(", ")
        ),
    }
}

fn label_of(value: Option<&Value>, name: &str, where_: &str) -> Result<String> {
    match value.map(Value::as_str) {
        None => {
            let bare = name
                .strip_prefix("tcp_")
                .or_else(|| name.strip_prefix("dns_"))
                .unwrap_or(name);
            Ok(bare.replace(['_', '.'], " "))
        }
        Some(Some(label)) if !label.trim().is_empty() => Ok(label.trim().to_owned()),
        Some(_) => bail!("{where_}: the label of `{name}` must be a non-empty string"),
    }
}

fn column_of(value: Option<&Value>, name: &str, where_: &str) -> Result<Option<u8>> {
    match value {
        None => Ok(None),
        Some(number) => match number.as_u64().and_then(|n| u8::try_from(n).ok()) {
            Some(column) if column > 0 => Ok(Some(column)),
            _ => bail!("{where_}: the column of `{name}` must be a number from 1 to 255"),
        },
    }
}

fn check_columns(table: &str, metrics: &[MetricSpec]) -> Result<()> {
    for (i, metric) in metrics.iter().enumerate() {
        let Some(column) = metric.column else {
            continue;
        };
        if let Some(other) = metrics[..i].iter().find(|m| m.column == Some(column)) {
            bail!(
                "the {table} metrics `{}` and `{}` both ask for default table column {column}",
                other.name,
                metric.name
            );
        }
    }
    Ok(())
}

/// The description on one line, with a fallback for metrics that have none.
fn one_line(description: Option<&str>, name: &str) -> String {
    match description {
        Some(text) if !text.trim().is_empty() => {
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        }
        _ => format!("`{name}` (no description in the spec)."),
    }
}
