//! The generation is a function of the metric tables: metrics the spec does not have yet
//! (a new `sum` on connections, a new DNS response code, a new DNS rate) get values like any
//! other, exactly additive, with no edit to the mock. The tables cannot be regenerated in a
//! test, so these tests build synthetic ones from the generated ones.

// Test code: a panic that shows the error is the right way to fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use datadog_cnm_raw::{Aggregation, Connection, DnsMetricKey, Metric};
use serde_json::Value;

use crate::body;
use crate::effects::Effects;
use crate::endpoint::Endpoint;
use crate::incident::{Effect, Incident};
use crate::params;
use crate::shape::Style;
use crate::topology::Topology;

const NOW: u64 = 1_800_000_000;

/// A copy of `table`'s metric `like`, renamed.
fn renamed(table: &[Metric], like: &str, name: &'static str) -> Metric {
    let mut metric = *table.iter().find(|m| m.name == like).unwrap();
    metric.name = name;
    metric.field = name;
    metric.label = name;
    metric.column = None;
    metric
}

/// Today's tables plus `tcp_syn_retransmits` (sum), `dns_responses.refused` (sum, among the
/// response codes) and `dns_requests_per_second` (rate).
fn tables() -> (Vec<Metric>, Vec<Metric>) {
    let mut conn = Connection::METRICS.to_vec();
    conn.push(renamed(&conn, "tcp_retransmits", "tcp_syn_retransmits"));
    let mut dns = DnsMetricKey::METRICS.to_vec();
    let refused = renamed(&dns, "dns_responses.other", "dns_responses.refused");
    dns.insert(8, refused);
    let mut rate = renamed(&dns, "dns_total_requests", "dns_requests_per_second");
    rate.aggregation = Aggregation::Rate;
    dns.push(rate);
    (conn, dns)
}

/// Per row id, each metric's value.
type Rows = BTreeMap<String, BTreeMap<String, i64>>;

fn rows(topology: &Topology, effects: &Effects, endpoint: Endpoint, query: &str) -> Rows {
    let params = params::parse(endpoint, query, NOW).unwrap();
    let body = match endpoint {
        Endpoint::Connections => body::connections(topology, effects, &params),
        Endpoint::Dns => body::dns(topology, effects, &params),
    };
    let json: Value = serde_json::from_slice(&body).unwrap();
    let mut rows = Rows::new();
    for row in json["data"].as_array().unwrap() {
        let id = row["id"].as_str().unwrap().to_owned();
        let attributes = &row["attributes"];
        let metrics: BTreeMap<String, i64> = match endpoint {
            Endpoint::Connections => attributes
                .as_object()
                .unwrap()
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_i64()?)))
                .collect(),
            Endpoint::Dns => attributes["metrics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        m["key"].as_str().unwrap().to_owned(),
                        m["value"].as_i64().unwrap(),
                    )
                })
                .collect(),
        };
        rows.insert(id, metrics);
    }
    rows
}

/// Three adjacent windows against their union, for every `sum` and `rate` metric of `table`:
/// sums add up exactly, rates average by duration (± rounding).
fn assert_additive(
    topology: &Topology,
    effects: &Effects,
    endpoint: Endpoint,
    group_by: &str,
    table: &[Metric],
    cuts: [u64; 4],
) -> Rows {
    let window = |from: u64, to: u64| {
        let query = format!("from={from}&to={to}&group_by={group_by}&limit=7500");
        rows(topology, effects, endpoint, &query)
    };
    let whole = window(cuts[0], cuts[3]);
    let parts: Vec<(u64, Rows)> = cuts
        .windows(2)
        .map(|w| (w[1] - w[0], window(w[0], w[1])))
        .collect();
    assert!(whole.len() > 10, "{} groups", whole.len());
    for (id, metrics) in &whole {
        for metric in table {
            let got = |rows: &Rows| rows.get(id).and_then(|m| m.get(metric.name)).copied();
            let union = got(&whole).unwrap_or_else(|| panic!("{id}: {} missing", metric.name));
            match metric.aggregation {
                Aggregation::Sum => {
                    let sum: i64 = parts.iter().map(|(_, p)| got(p).unwrap_or(0)).sum();
                    assert_eq!(sum, union, "{id}: {}", metric.name);
                }
                Aggregation::Rate => {
                    let weighted: u64 = parts
                        .iter()
                        .map(|(secs, p)| got(p).unwrap_or(0) as u64 * secs)
                        .sum();
                    let mean = weighted as f64 / (cuts[3] - cuts[0]) as f64;
                    assert!(
                        (mean - union as f64).abs() <= 1.0,
                        "{id}: {} {mean} vs {union}",
                        metric.name
                    );
                }
                _ => assert!(union >= 0),
            }
        }
        assert_eq!(
            metrics.len(),
            table.len(),
            "{id}: every metric of the table"
        );
    }
    whole
}

const CUTS: [u64; 4] = [NOW - 6 * 3_600, NOW - 6 * 3_600 + 1_234, NOW - 7_200, NOW];

#[test]
fn metrics_added_to_the_tables_get_values_and_stay_additive() {
    let (conn, dns) = tables();
    let topology = Topology::generate(42, Style::Living, &conn, &dns);
    let effects = Effects::default();

    let pairs = "client_service,server_service";
    let rows = assert_additive(
        &topology,
        &effects,
        Endpoint::Connections,
        pairs,
        &conn,
        CUTS,
    );
    let syn: Vec<i64> = rows.values().map(|m| m["tcp_syn_retransmits"]).collect();
    assert!(
        syn.iter().filter(|&&v| v > 0).count() > rows.len() / 2,
        "{syn:?}"
    );
    // Not a copy of the metric it was made from.
    assert!(
        rows.values()
            .any(|m| m["tcp_syn_retransmits"] != m["tcp_retransmits"])
    );

    let names = "network.dns_query";
    let rows = assert_additive(&topology, &effects, Endpoint::Dns, names, &dns, CUTS);
    let refused = rows
        .values()
        .filter(|m| m["dns_responses.refused"] > 0)
        .count();
    assert!(refused > rows.len() / 4, "{refused} of {}", rows.len());
    assert!(rows.values().any(|m| m["dns_requests_per_second"] > 0));
    for m in rows.values() {
        // The new code is outside the documented breakdown, which still holds.
        assert_eq!(
            m["dns_failed_responses"],
            m["dns_responses.nxdomain"] + m["dns_responses.servfail"] + m["dns_responses.other"]
        );
        assert_eq!(
            m["dns_total_requests"],
            m["dns_successful_responses"] + m["dns_failures"]
        );
    }
    // Table order on the wire.
    let params = params::parse(Endpoint::Dns, "limit=1", NOW).unwrap();
    let body = String::from_utf8(body::dns(&topology, &effects, &params)).unwrap();
    let refused = body.find("dns_responses.refused").unwrap();
    assert!(body.find("dns_responses.other").unwrap() < refused);
    assert!(refused < body.find("dns_success_latency_percentile").unwrap());
}

#[test]
fn incidents_reach_new_metrics_and_keep_them_additive() {
    let (conn, dns) = tables();
    let topology = Topology::generate(42, Style::Living, &conn, &dns);
    let start = UNIX_EPOCH + Duration::from_secs(CUTS[1] - 600);
    let incidents = [
        Incident::new("syn storm", start, Duration::from_secs(3_000))
            .tag("client_env", "prod")
            .metrics("tcp_syn_retransmits")
            .effect(Effect::Scale(30.0)),
        Incident::new("refusals", start, Duration::from_secs(900))
            .tag("network.dns_query", "*.svc.cluster.local")
            .metrics("dns_responses.refused")
            .effect(Effect::Add(0.5)),
    ];
    let effects = Effects::compile(&topology, &incidents).unwrap();
    let calm = Effects::default();
    let pairs = "client_service,server_service";
    let stormy = assert_additive(
        &topology,
        &effects,
        Endpoint::Connections,
        pairs,
        &conn,
        CUTS,
    );
    let normal = assert_additive(&topology, &calm, Endpoint::Connections, pairs, &conn, CUTS);
    let more = stormy
        .iter()
        .filter(|(id, m)| m["tcp_syn_retransmits"] > normal[*id]["tcp_syn_retransmits"] * 2)
        .count();
    assert!(more > 10, "{more}");
    let names = "network.dns_query";
    let rows = assert_additive(&topology, &effects, Endpoint::Dns, names, &dns, CUTS);
    let cluster = rows
        .iter()
        .filter(|(id, _)| id.ends_with(".svc.cluster.local"))
        .all(|(_, m)| m["dns_responses.refused"] >= 900 / 2);
    assert!(cluster, "every cluster name got its refusals");
}
