//! Living data and the default scenario's incidents, measured the way a user would see them:
//! hour by hour over the last day. The ratios are printed (`--nocapture`) as well as checked.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use datadog_cnm_mock::{DEFAULT_SEED, Dataset, Incident, MockServer, Scenario};
use serde_json::Value;

use crate::support::{
    CONNECTIONS, NOW_SECS, TestResult, conn_group, conn_metric, dns_metrics, get, id,
};

const HOUR: u64 = 3_600;
/// A second clock, on another weekday and time of day than `NOW_SECS`.
const OTHER_NOW: u64 = 1_764_115_200 + 13 * HOUR + 1_234;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn rows(body: &[u8]) -> Vec<Value> {
    let json: Value = serde_json::from_slice(body).unwrap();
    json["data"].as_array().cloned().unwrap_or_default()
}

/// One metric per group and hour over the 24 hours before `now`; `total` is per hour.
struct Hours {
    by_group: BTreeMap<String, Vec<i64>>,
    total: Vec<i64>,
}

fn hours(data: &Dataset, now: u64, dns: bool, group_by: &str, metric: &str) -> Hours {
    let mut hours = Hours {
        by_group: BTreeMap::new(),
        total: vec![0; 24],
    };
    for hour in 0..24 {
        let from = now - 24 * HOUR + hour * HOUR;
        let query = format!(
            "from={from}&to={}&group_by={group_by}&limit=7500",
            from + HOUR
        );
        let body = if dns {
            data.dns_body(&query, at(now)).unwrap()
        } else {
            data.connections_body(&query, at(now)).unwrap()
        };
        let rows = rows(&body);
        assert!(rows.len() < 7_500, "a page must hold every group");
        for row in rows {
            let value = if dns {
                dns_metrics(&row).get(metric).copied().unwrap_or(0)
            } else if metric == "bytes" {
                conn_metric(&row, "bytes_sent_by_client").unwrap_or(0)
                    + conn_metric(&row, "bytes_sent_by_server").unwrap_or(0)
            } else {
                conn_metric(&row, metric).unwrap_or(0)
            };
            hours
                .by_group
                .entry(id(&row))
                .or_insert_with(|| vec![0; 24])[hour as usize] = value;
            hours.total[hour as usize] += value;
        }
    }
    hours
}

/// A group's worst hour over its median hour (a zero median counts as one).
fn spike(hours: &Hours, group: &str) -> f64 {
    let Some(values) = hours.by_group.get(group) else {
        panic!("no {group} in the last day");
    };
    let mut sorted = values.clone();
    sorted.sort_unstable();
    let median = ((sorted[11] + sorted[12]) / 2).max(1);
    sorted[23] as f64 / median as f64
}

fn tag<'a>(incident: &'a Incident, key: &str) -> &'a str {
    let found = incident.target.iter().find(|(k, _)| k == key);
    found.map(|(_, v)| v.as_str()).unwrap_or_default()
}

/// The acceptance ratios of the default scenario at `now`, for the groups of its incidents.
fn assert_lively(now: u64) {
    let data = Dataset::with_scenario(DEFAULT_SEED, Scenario::Default, at(now));
    let pairs = "client_service,server_service";

    let bytes = hours(&data, now, false, pairs, "bytes");
    let (quiet, busy) = (
        *bytes.total.iter().min().unwrap(),
        *bytes.total.iter().max().unwrap(),
    );
    let swing = busy as f64 / quiet as f64;

    let storm = incident(data.incidents(), "retransmit storm");
    let pair = format!(
        "client_service:{},server_service:{}",
        tag(storm, "client_service"),
        tag(storm, "server_service")
    );
    let retransmits = hours(&data, now, false, pairs, "tcp_retransmits");
    let storm = spike(&retransmits, &pair);

    let surge = incident(data.incidents(), "NXDOMAIN surge");
    let name = format!("network.dns_query:{}", tag(surge, "network.dns_query"));
    let nxdomain = hours(
        &data,
        now,
        true,
        "network.dns_query",
        "dns_responses.nxdomain",
    );
    let surge = spike(&nxdomain, &name);

    println!(
        "now {now}: busiest/quietest hour of bytes {swing:.2}; tcp_retransmits worst/median \
         hour {storm:.1} ({pair}); dns_responses.nxdomain worst/median hour {surge:.1} ({name})"
    );
    assert!(swing >= 1.3, "bytes per hour hardly move: {swing}");
    assert!(storm >= 5.0, "no retransmit storm: {storm} ({pair})");
    assert!(surge >= 5.0, "no NXDOMAIN surge: {surge} ({name})");
}

#[test]
fn the_default_scenario_lives_and_its_incidents_stand_out_at_two_clocks() {
    assert_lively(NOW_SECS);
    assert_lively(OTHER_NOW);
}

#[test]
fn flat_data_hardly_moves_and_calm_data_has_no_incidents() {
    let flat = Dataset::with_scenario(DEFAULT_SEED, Scenario::Flat, at(NOW_SECS));
    assert!(flat.incidents().is_empty());
    let bytes = hours(&flat, NOW_SECS, false, "client_team", "bytes");
    let (quiet, busy) = (
        *bytes.total.iter().min().unwrap(),
        *bytes.total.iter().max().unwrap(),
    );
    assert!((busy as f64) < quiet as f64 * 1.1, "{quiet} {busy}");
    assert!(
        Dataset::with_scenario(DEFAULT_SEED, Scenario::Calm, at(NOW_SECS))
            .incidents()
            .is_empty()
    );
    assert!(Dataset::new(DEFAULT_SEED).incidents().is_empty());
}

fn incident<'a>(incidents: &'a [Incident], prefix: &str) -> &'a Incident {
    incidents
        .iter()
        .find(|i| i.name.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` incident in {incidents:#?}"))
}

#[tokio::test]
async fn the_default_scenario_places_its_incidents_relative_to_the_clock() -> TestResult {
    let now = NOW_SECS;
    let server = MockServer::builder().now(at(now)).start().await?;
    assert_eq!(server.scenario(), Scenario::Default);
    let incidents = server.incidents();
    assert_eq!(incidents.len(), 6, "{incidents:#?}");

    let storm = incident(incidents, "retransmit storm");
    assert_eq!(storm.duration, Duration::from_secs(40 * 60));
    assert!(secs(storm.start) >= now - 4 * HOUR && secs(storm.end()) <= now - 2 * HOUR);
    let surge = incident(incidents, "NXDOMAIN surge");
    assert_eq!(surge.duration, Duration::from_secs(2 * HOUR));
    assert!(secs(surge.start) >= now - 10 * HOUR && secs(surge.end()) <= now - 6 * HOUR);

    // The new pair: nothing before it appeared 12–18 h ago, traffic since.
    let new = incident(incidents, "new pair:");
    let first = secs(new.end());
    assert!(
        (now - 18 * HOUR..=now - 12 * HOUR).contains(&first),
        "{new}"
    );
    let pair = |incident: &Incident| {
        format!(
            "client_service:{},server_service:{}",
            tag(incident, "client_service"),
            tag(incident, "server_service")
        )
    };
    let bytes_of = |from: u64, to: u64, pair: String| {
        let server = &server;
        async move {
            let query = format!("from={from}&to={to}&limit=7500");
            let rows = get(server, CONNECTIONS, &query).await?.rows()?;
            let row = rows.into_iter().find(|r| id(r) == pair);
            let bytes = row
                .as_ref()
                .and_then(|r| conn_metric(r, "bytes_sent_by_client"));
            Ok::<_, Box<dyn std::error::Error>>(bytes.unwrap_or(0))
        }
    };
    assert_eq!(bytes_of(now - 30 * 86_400, first, pair(new)).await?, 0);
    assert!(bytes_of(first, now, pair(new)).await? > 0);
    assert!(
        bytes_of(first, first + 60, pair(new)).await? > 0,
        "from the minute it appeared"
    );

    // The gone pair: traffic until 20–28 h ago, nothing since.
    let gone = incident(incidents, "gone pair:");
    let last = secs(gone.start);
    assert!(
        (now - 28 * HOUR..=now - 20 * HOUR).contains(&last),
        "{gone}"
    );
    assert!(bytes_of(now - 7 * 86_400, last, pair(gone)).await? > 0);
    assert_eq!(bytes_of(last, now + 86_400, pair(gone)).await?, 0);

    // Their DNS lookups follow.
    let lookups = incident(incidents, "gone pair's DNS lookups");
    let client = tag(lookups, "client_service");
    let names = tag(lookups, "network.dns_query");
    let dns = |from: u64, to: u64| {
        let dataset = server.dataset();
        let query = format!(
            "from={from}&to={to}&group_by=client_service&limit=7500&query=client_service:{client}%20network.dns_query:{names}"
        );
        let rows = rows(&dataset.dns_body(&query, at(now)).unwrap());
        rows.first()
            .map_or(0, |r| dns_metrics(r)["dns_total_requests"])
    };
    assert!(dns(now - 7 * 86_400, last) > 0);
    assert_eq!(dns(last, now), 0);

    // What a client sees in the last 15 minutes includes the new pair, not the gone one.
    let rows = get(&server, CONNECTIONS, "limit=7500").await?.rows()?;
    let seen = |p: &str| rows.iter().any(|r| id(r) == p);
    assert!(seen(&pair(new)) && !seen(&pair(gone)));
    assert!(
        rows.iter()
            .all(|r| conn_group(r, "client_service").is_some())
    );
    Ok(())
}

#[tokio::test]
async fn without_a_fixed_clock_incidents_are_anchored_at_the_start() -> TestResult {
    let before = secs(SystemTime::now());
    let server = MockServer::start().await?;
    let storm = incident(server.incidents(), "retransmit storm");
    let after = secs(SystemTime::now());
    assert!(secs(storm.start) >= before - 4 * HOUR - 60 && secs(storm.end()) <= after - 2 * HOUR);
    // Stable for the server's lifetime.
    assert_eq!(server.incidents(), server.incidents());
    Ok(())
}
