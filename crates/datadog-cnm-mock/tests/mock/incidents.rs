//! Declaring incidents: what they change, how they combine, what is refused and why, and
//! scenario names.

use std::io::ErrorKind;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use datadog_cnm_mock::{
    Aggregation, DEFAULT_SEED, Dataset, Effect, Incident, MetricSet, MockServer, Scenario,
};
use serde_json::Value;

use crate::support::{CONNECTIONS, DNS, NOW_SECS, TestResult, conn_metric, dns_metrics, get, id};

const PAIR: &str = "client_service:orders-web,server_service:checkout-cache";

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn pair_incident(name: &str, from: u64, minutes: u64) -> Incident {
    Incident::new(name, at(from), Duration::from_secs(minutes * 60))
        .tag("client_service", "orders-web")
        .tag("server_service", "checkout-cache")
}

/// The pair's row over `[from, to)`.
fn pair_row(data: &Dataset, from: u64, to: u64) -> Option<Value> {
    let query = format!("from={from}&to={to}&limit=7500");
    let body = data.connections_body(&query, at(NOW_SECS)).unwrap();
    let json: Value = serde_json::from_slice(&body).unwrap();
    json["data"]
        .as_array()?
        .iter()
        .find(|r| id(r) == PAIR)
        .cloned()
}

fn metric(row: &Option<Value>, name: &str) -> i64 {
    row.as_ref().and_then(|r| conn_metric(r, name)).unwrap_or(0)
}

#[test]
fn effects_scale_add_silence_and_combine() {
    let calm = || Dataset::with_scenario(DEFAULT_SEED, Scenario::Calm, at(NOW_SECS));
    let t = NOW_SECS - 3 * 3_600;
    let data = calm()
        .with_incidents([
            pair_incident("rtt × 4", t, 60)
                .metrics("rtt_micro_seconds")
                .effect(Effect::Scale(4.0)),
            pair_incident("+2 timeouts/s", t, 60)
                .metrics("tcp_timeouts")
                .effect(Effect::Add(2.0)),
            // Overlaps the second half of the hour: its factor multiplies the first's.
            pair_incident("rtt × 2 more", t + 1_800, 60)
                .metrics("rtt_micro_seconds")
                .effect(Effect::Scale(2.0)),
            pair_incident("silence", t + 7_200, 10),
        ])
        .unwrap();
    let normal = calm();
    let (before, during) = ((t - 3_600, t), (t, t + 3_600));

    let rtt = |d: &Dataset, (from, to)| metric(&pair_row(d, from, to), "rtt_micro_seconds");
    assert_eq!(rtt(&data, before), rtt(&normal, before));
    let (usual, stormy) = (rtt(&normal, during), rtt(&data, during));
    // Half the hour at ×4, half at ×8: about ×6 on a byte-weighted mean.
    assert!(
        (usual * 5..=usual * 7).contains(&stormy),
        "{usual} → {stormy}"
    );

    let timeouts = |d: &Dataset, (from, to)| metric(&pair_row(d, from, to), "tcp_timeouts");
    // Two per second per flow for the hour: the pair has 2+ client hosts × 2+ server hosts.
    let added = timeouts(&data, during) - timeouts(&normal, during);
    assert!(added >= 4 * 7_200, "{added}");
    assert_eq!(added % 7_200, 0, "whole flows × 2/s × 3600 s");

    // Ten silent minutes: less traffic, none at all inside.
    let silent = (t + 7_200, t + 7_800);
    assert!(pair_row(&data, silent.0, silent.1).is_none());
    let around = (t + 7_000, t + 8_000);
    let bytes = |d: &Dataset| metric(&pair_row(d, around.0, around.1), "bytes_sent_by_client");
    assert!(bytes(&data) < bytes(&normal) / 2);
}

#[test]
fn incidents_aim_at_dns_names_and_keep_the_invariants() {
    let t = NOW_SECS - 3_600;
    let name = "*.internal.example.com";
    let data = Dataset::with_scenario(DEFAULT_SEED, Scenario::Flat, at(NOW_SECS))
        .with_incidents([
            Incident::new("servfail wave", at(t), Duration::from_secs(1_800))
                .tag("network.dns_query", name)
                .metrics("dns_responses.servfail")
                .effect(Effect::Add(1.0)),
            Incident::new("half the lookups", at(t), Duration::from_secs(1_800))
                .tag("network.dns_query", name)
                .metrics("dns_total_requests")
                .effect(Effect::Scale(0.5)),
        ])
        .unwrap();
    let query = format!("from={t}&to={}&limit=7500", t + 3_600);
    let body = data.dns_body(&query, at(NOW_SECS)).unwrap();
    let json: Value = serde_json::from_slice(&body).unwrap();
    let rows = json["data"].as_array().unwrap();
    let mut internal = 0;
    for row in rows {
        let m = dns_metrics(row);
        assert_eq!(
            m["dns_total_requests"],
            m["dns_successful_responses"] + m["dns_failures"]
        );
        assert_eq!(
            m["dns_failed_responses"],
            m["dns_responses.nxdomain"] + m["dns_responses.servfail"] + m["dns_responses.other"]
        );
        if id(row).ends_with(".internal.example.com") {
            internal += 1;
            assert!(m["dns_responses.servfail"] >= 1_800, "{row}");
        }
    }
    assert!(internal > 0);
}

#[tokio::test]
async fn the_builder_refuses_incidents_it_cannot_serve() -> TestResult {
    let t = at(NOW_SECS - 3_600);
    let hour = Duration::from_secs(3_600);
    let cases = [
        (
            Incident::new("negative", t, hour).effect(Effect::Scale(-1.0)),
            "out of range",
        ),
        (
            Incident::new("nan", t, hour).effect(Effect::Add(f64::NAN)),
            "out of range",
        ),
        (
            Incident::new("instant", t, Duration::ZERO),
            "no whole second",
        ),
        (
            Incident::new("typo", t, hour).metrics("tcp_retransmit"),
            "`tcp_retransmit`",
        ),
        (
            Incident::new("nobody", t, hour).tag("client_service", "no-such-service"),
            "changes nothing",
        ),
        (
            // DNS flows have no `client_port`: nothing matches.
            Incident::new("no key", t, hour)
                .tag("client_port", "443")
                .metrics(MetricSet::Aggregation(Aggregation::Sum)),
            "changes nothing",
        ),
        (
            Incident::new("wrong endpoint", t, hour)
                .tag("network.dns_query", "*")
                .metrics("tcp_retransmits"),
            "changes nothing",
        ),
        (
            Incident::new("empty", t, hour).metrics(MetricSet::Names(Vec::new())),
            "no metric",
        ),
    ];
    for (incident, words) in cases {
        let name = incident.name.clone();
        let error = MockServer::builder().incident(incident).start().await.err();
        let error = error.unwrap_or_else(|| panic!("`{name}` accepted"));
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        let message = error.to_string();
        assert!(message.contains(&format!("`{name}`")), "{message}");
        assert!(message.contains(words), "{message}");
    }
    Ok(())
}

#[tokio::test]
async fn a_served_incident_is_listed_after_the_scenarios_and_visible_over_http() -> TestResult {
    let t = NOW_SECS - 1_800;
    let server = MockServer::builder()
        .now(at(NOW_SECS))
        // The default effect on every metric: an outage.
        .incident(pair_incident("orders outage", t, 15))
        .start()
        .await?;
    let last = server.incidents().last().map(|i| i.name.as_str());
    assert_eq!(last, Some("orders outage"));
    assert!(
        server.incidents().len() > 1,
        "the default scenario's come first"
    );
    let shown = server.incidents().last().map(ToString::to_string);
    assert_eq!(
        shown.as_deref(),
        Some(
            "orders outage: ×0 on every metric of client_service:orders-web,\
             server_service:checkout-cache over [1799998200, 1799999100) (Unix seconds)"
        )
    );
    let during = format!("from={t}&to={}&limit=7500", t + 900);
    let rows = get(&server, CONNECTIONS, &during).await?.rows()?;
    assert!(rows.iter().all(|r| id(r) != PAIR));
    let after = format!("from={}&to={NOW_SECS}&limit=7500", t + 900);
    let rows = get(&server, CONNECTIONS, &after).await?.rows()?;
    assert!(rows.iter().any(|r| id(r) == PAIR));
    assert_eq!(get(&server, DNS, &during).await?.status, 200);
    Ok(())
}

#[test]
fn scenarios_have_names_for_command_lines() {
    for scenario in Scenario::ALL {
        assert_eq!(scenario.name().parse::<Scenario>(), Ok(scenario));
        assert_eq!(scenario.to_string(), scenario.name());
        assert!(!scenario.description().is_empty());
    }
    assert_eq!(" Calm ".parse::<Scenario>(), Ok(Scenario::Calm));
    assert_eq!(Scenario::default(), Scenario::Default);
    let error = "busy".parse::<Scenario>().unwrap_err();
    assert_eq!(error.name(), "busy");
    assert_eq!(
        error.to_string(),
        "unknown scenario `busy`; the scenarios are: default, calm, flat"
    );
}
