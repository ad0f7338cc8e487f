//! `fields`: what each endpoint groups by and measures, from the library's tables (the
//! group-by fields, the metric tables generated from the spec, the derived metrics).

use std::io::{self, Write};

use comfy_table::ContentArrangement;
use datadog_cnm::analysis::Measure;
use datadog_cnm::fields::group_by_fields;
use datadog_cnm::{Connection, DnsRow, Operation, Row};

use crate::cli::{EndpointArg, OutputFormat};
use crate::output::Out;
use crate::view::table::{new_grid, render};

/// The columns of `-o json` and `-o csv`.
const COLUMNS: [&str; 7] = [
    "endpoint",
    "kind",
    "name",
    "unit",
    "aggregation",
    "example",
    "description",
];

/// One line of the glossary.
struct Field {
    endpoint: &'static str,
    kind: &'static str,
    name: &'static str,
    unit: &'static str,
    aggregation: String,
    example: &'static str,
    description: &'static str,
}

fn endpoint_name(operation: Operation) -> &'static str {
    match operation {
        Operation::GetAggregatedDns => "dns",
        _ => "connections",
    }
}

/// Every field of rows `R`: group-by fields, metrics, derived metrics.
fn fields_of<R: Row>() -> Vec<Field> {
    let endpoint = endpoint_name(R::OPERATION);
    let mut fields: Vec<Field> = group_by_fields(R::OPERATION)
        .map(|field| Field {
            endpoint,
            kind: "group-by",
            name: field.name,
            unit: "",
            aggregation: String::new(),
            example: field.example,
            description: field.description,
        })
        .collect();
    fields.extend(Measure::<R>::all().into_iter().map(|measure| {
        Field {
            endpoint,
            kind: if measure.is_derived() {
                "derived"
            } else {
                "metric"
            },
            name: measure.name(),
            unit: measure.unit().as_str(),
            aggregation: measure
                .aggregation()
                .map_or_else(|| "ratio of sums".to_owned(), |a| a.to_string()),
            example: "",
            description: measure.description(),
        }
    }));
    fields
}

/// Print the glossary of `endpoint` (or both).
pub fn run<W: Write>(endpoint: Option<EndpointArg>, out: &mut Out<W>) -> io::Result<()> {
    let mut fields = Vec::new();
    if endpoint != Some(EndpointArg::Dns) {
        fields.extend(fields_of::<Connection>());
    }
    if endpoint != Some(EndpointArg::Connections) {
        fields.extend(fields_of::<DnsRow>());
    }
    if !matches!(out.format, OutputFormat::Table | OutputFormat::Wide) {
        let records: Vec<Vec<String>> = fields
            .iter()
            .map(|f| {
                vec![
                    f.endpoint.to_owned(),
                    f.kind.to_owned(),
                    f.name.to_owned(),
                    f.unit.to_owned(),
                    f.aggregation.clone(),
                    f.example.to_owned(),
                    f.description.to_owned(),
                ]
            })
            .collect();
        return out.records(&COLUMNS, &records);
    }
    let sections = [
        (
            "group-by",
            "group-by fields (any client_/server_ tag key also works)",
        ),
        (
            "metric",
            "metrics (`aggregation`: how values combine over windows)",
        ),
        (
            "derived",
            "derived metrics (computed from the metrics, not fetched)",
        ),
    ];
    let mut first = true;
    for endpoint in ["connections", "dns"] {
        for (kind, title) in sections {
            let rows: Vec<&Field> = fields
                .iter()
                .filter(|f| f.endpoint == endpoint && f.kind == kind)
                .collect();
            if rows.is_empty() {
                continue;
            }
            if !first {
                writeln!(out.results)?;
            }
            first = false;
            writeln!(out.results, "{endpoint}: {title}")?;
            let mut grid = new_grid();
            grid.set_content_arrangement(ContentArrangement::Dynamic);
            grid.set_width(100);
            match kind {
                "group-by" => {
                    grid.set_header(["field", "example", "description"]);
                    for f in rows {
                        grid.add_row([f.name, f.example, f.description]);
                    }
                }
                _ => {
                    grid.set_header(["name", "unit", "aggregation", "description"]);
                    for f in rows {
                        grid.add_row([f.name, f.unit, &f.aggregation, f.description]);
                    }
                }
            }
            out.results.write_all(render(&grid).as_bytes())?;
        }
    }
    out.results.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_and_derived_metric_is_listed_once() {
        let connections = fields_of::<Connection>();
        let metrics = connections.iter().filter(|f| f.kind == "metric").count();
        assert_eq!(metrics, Connection::METRICS.len());
        let names: Vec<&str> = connections.iter().map(|f| f.name).collect();
        for name in [
            "client_service",
            "tcp_retransmits",
            "rtt_micro_seconds",
            "total_bytes",
        ] {
            assert_eq!(names.iter().filter(|n| **n == name).count(), 1, "{name}");
        }
        let dns = fields_of::<DnsRow>();
        assert!(
            dns.iter()
                .any(|f| f.name == "dns_responses.nxdomain" && f.kind == "metric")
        );
        assert!(
            dns.iter()
                .any(|f| f.name == "network.dns_query" && f.kind == "group-by")
        );
    }
}
