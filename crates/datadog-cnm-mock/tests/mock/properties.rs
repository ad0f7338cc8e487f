//! Property tests: adjacent windows add up exactly for every `sum` metric of every group,
//! wherever they fall, in particular across the edges of incidents (the scenario's and
//! overlapping ones of our own); `rate` metrics average by duration; DNS counts keep their
//! invariants.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use datadog_cnm_mock::{Aggregation, DEFAULT_SEED, Dataset, Effect, Incident, MetricSet, Scenario};
use datadog_cnm_raw::{Connection, DnsMetricKey, Metric};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

use crate::support::{NOW_SECS, conn_metric, dns_metrics, id};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The default scenario at `NOW_SECS`, plus overlapping incidents: a factor on every `sum`
/// of prod, an addition to timeouts of databases inside it, a silence of some teams
/// inside that, and a latency bump.
fn dataset() -> Dataset {
    let hours = |h: u64| Duration::from_secs(h * 3_600);
    let now = at(NOW_SECS);
    let ours = [
        Incident::new("prod ×3", now - hours(5), hours(4))
            .tag("client_env", "prod")
            .metrics(Aggregation::Sum)
            .effect(Effect::Scale(3.0)),
        Incident::new("db timeouts", now - hours(3), Duration::from_secs(1_800))
            .tag("server_service", "*-db")
            .metrics("tcp_timeouts")
            .effect(Effect::Add(0.7)),
        Incident::new(
            "p teams silent",
            now - hours(3) + Duration::from_secs(600),
            hours(2),
        )
        .tag("client_team", "p*"),
        Incident::new("slow lookups", now - hours(4), hours(3))
            .tag("network.dns_query", "*.svc.cluster.local")
            .metrics(MetricSet::Aggregation(Aggregation::Percentile))
            .effect(Effect::Add(250.0)),
    ];
    Dataset::with_scenario(DEFAULT_SEED, Scenario::Default, now)
        .with_incidents(ours)
        .unwrap()
}

/// Per row id, each metric's value.
type Rows = BTreeMap<String, BTreeMap<String, i64>>;

fn rows(data: &Dataset, dns: bool, group_by: &str, (from, to): (u64, u64)) -> Rows {
    let query = format!("from={from}&to={to}&group_by={group_by}&limit=7500");
    let body = if dns {
        data.dns_body(&query, at(NOW_SECS))
    } else {
        data.connections_body(&query, at(NOW_SECS))
    };
    let json: Value = serde_json::from_slice(&body.unwrap()).unwrap();
    let table: &[Metric] = if dns {
        &DnsMetricKey::METRICS
    } else {
        &Connection::METRICS
    };
    let mut rows = Rows::new();
    for row in json["data"].as_array().unwrap() {
        let values = if dns {
            dns_metrics(row)
        } else {
            table
                .iter()
                .filter_map(|m| Some((m.name.to_owned(), conn_metric(row, m.name)?)))
                .collect()
        };
        assert_eq!(values.len(), table.len(), "{row}");
        rows.insert(id(row), values);
    }
    assert!(rows.len() < 7_500);
    rows
}

fn check(data: &Dataset, dns: bool, group_by: &str, cuts: [u64; 3]) -> Result<(), TestCaseError> {
    let table: &[Metric] = if dns {
        &DnsMetricKey::METRICS
    } else {
        &Connection::METRICS
    };
    let whole = rows(data, dns, group_by, (cuts[0], cuts[2]));
    let first = rows(data, dns, group_by, (cuts[0], cuts[1]));
    let second = rows(data, dns, group_by, (cuts[1], cuts[2]));
    let seconds = [cuts[1] - cuts[0], cuts[2] - cuts[1]];
    for id in first.keys().chain(second.keys()) {
        prop_assert!(whole.contains_key(id), "{id} in a part, not in the union");
    }
    for (id, metrics) in &whole {
        let part = |rows: &Rows, name: &str| rows.get(id).and_then(|m| m.get(name)).copied();
        for metric in table {
            let union = metrics[metric.name];
            let (a, b) = (
                part(&first, metric.name).unwrap_or(0),
                part(&second, metric.name).unwrap_or(0),
            );
            match metric.aggregation {
                Aggregation::Sum => prop_assert_eq!(a + b, union, "{} {}", id, metric.name),
                Aggregation::Rate => {
                    let mean = (a as f64 * seconds[0] as f64 + b as f64 * seconds[1] as f64)
                        / (seconds[0] + seconds[1]) as f64;
                    prop_assert!((mean - union as f64).abs() <= 1.0, "{id} {}", metric.name);
                }
                _ => prop_assert!(union >= 0),
            }
        }
        if dns {
            let m = |k: &str| metrics[k];
            prop_assert_eq!(
                m("dns_total_requests"),
                m("dns_successful_responses") + m("dns_failures")
            );
            prop_assert_eq!(
                m("dns_failures"),
                m("dns_failed_responses") + m("dns_timeouts")
            );
            prop_assert_eq!(
                m("dns_failed_responses"),
                m("dns_responses.nxdomain")
                    + m("dns_responses.servfail")
                    + m("dns_responses.other")
            );
        }
    }
    Ok(())
}

#[test]
fn adjacent_windows_add_up_across_incident_edges() {
    let data = dataset();
    // Windows cut near the incidents' edges, a few seconds to a few hours away.
    let mut edges: Vec<u64> = data
        .incidents()
        .iter()
        .flat_map(|i| [secs(i.start), secs(i.end())])
        .filter(|&t| t > NOW_SECS - 40 * 3_600 && t <= NOW_SECS)
        .collect();
    edges.sort_unstable();
    edges.dedup();
    assert!(edges.len() >= 10, "{edges:?}");
    let offset = prop_oneof![-90_i64..90, -7_200_i64..7_200];
    let point = (0..edges.len(), offset).prop_map(|(e, off)| edges[e].saturating_add_signed(off));
    let cuts = (point.clone(), point.clone(), point).prop_filter_map("distinct", |(a, b, c)| {
        let mut cuts = [a, b, c];
        cuts.sort_unstable();
        (cuts[0] < cuts[1] && cuts[1] < cuts[2]).then_some(cuts)
    });
    let mut runner = TestRunner::new(Config {
        cases: 8,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&cuts, |cuts| {
        check(&data, false, "client_service,server_service", cuts)?;
        check(&data, true, "network.dns_query,client_service", cuts)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
