//! The synthetic data: additivity, determinism, sorting and limits, filtering.

use std::collections::{BTreeMap, HashSet};

use datadog_cnm_mock::{Aggregation, Dataset, MockServer, Scenario};
use datadog_cnm_raw::{Connection, DnsMetricKey, Metric};
use serde_json::Value;

use crate::support::{
    CONNECTIONS, DNS, NOW_SECS, TestResult, conn_group, conn_metric, dns_group, dns_metrics, get,
    id, now,
};

const DAY_START: u64 = NOW_SECS - 86_400;

/// Sums of each metric per row id.
type Totals = BTreeMap<String, BTreeMap<String, i64>>;

fn connection_totals(rows: &[Value], into: &mut Totals) {
    for row in rows {
        let totals = into.entry(id(row)).or_default();
        for metric in &Connection::METRICS {
            let value = conn_metric(row, metric.name).unwrap_or(i64::MIN);
            *totals.entry(metric.name.to_owned()).or_default() += value;
        }
    }
}

fn dns_totals(rows: &[Value], into: &mut Totals) {
    for row in rows {
        let totals = into.entry(id(row)).or_default();
        for (metric, value) in dns_metrics(row) {
            *totals.entry(metric).or_default() += value;
        }
    }
}

/// The value over 24 adjacent hours equals the 24-hour value, for every `sum` metric of
/// every group, and the hours' mean for every `rate` metric, to the unit (all groups fit in
/// one page, so nothing is cut).
async fn assert_additive(
    server: &MockServer,
    path: &str,
    group_by: &str,
    table: &[Metric],
    totals: fn(&[Value], &mut Totals),
) -> TestResult {
    let mut day = Totals::new();
    let query = format!("from={DAY_START}&to={NOW_SECS}&group_by={group_by}&limit=7500");
    let rows = get(server, path, &query).await?.rows()?;
    assert!(
        rows.len() >= 10 && rows.len() < 7_500,
        "{group_by}: {} rows",
        rows.len()
    );
    totals(&rows, &mut day);

    let mut hours = Totals::new();
    for hour in 0..24 {
        let from = DAY_START + hour * 3_600;
        let query = format!(
            "from={from}&to={}&group_by={group_by}&limit=7500",
            from + 3_600
        );
        totals(&get(server, path, &query).await?.rows()?, &mut hours);
    }
    assert_eq!(hours.len(), day.len(), "{group_by}: same groups");
    for (group, day_metrics) in &day {
        let Some(hour_metrics) = hours.get(group) else {
            panic!("{group_by}: group {group} missing from the hourly windows");
        };
        for metric in table {
            let (whole, parts) = (day_metrics.get(metric.name), hour_metrics.get(metric.name));
            assert!(whole.is_some(), "{group}: {} missing", metric.name);
            match metric.aggregation {
                Aggregation::Sum => {
                    assert_eq!(whole, parts, "{group_by}: {group}: {}", metric.name)
                }
                Aggregation::Rate => {
                    let mean = parts.copied().unwrap_or_default() as f64 / 24.0;
                    let whole = whole.copied().unwrap_or_default() as f64;
                    assert!(
                        (mean - whole).abs() <= 1.0,
                        "{group}: {}: {mean} vs {whole}",
                        metric.name
                    );
                }
                _ => {}
            }
        }
    }
    Ok(())
}

fn count(table: &[Metric], aggregation: Aggregation) -> usize {
    table
        .iter()
        .filter(|m| m.aggregation == aggregation)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_metrics_of_24_hourly_windows_sum_to_the_daily_value() -> TestResult {
    let server = MockServer::builder().now(now()).start().await?;
    assert_eq!(count(&Connection::METRICS, Aggregation::Sum), 14);
    assert_eq!(count(&Connection::METRICS, Aggregation::Rate), 2);
    for group_by in ["client_service,server_service", "client_team,server_env"] {
        assert_additive(
            &server,
            CONNECTIONS,
            group_by,
            &Connection::METRICS,
            connection_totals,
        )
        .await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_counts_of_24_hourly_windows_sum_to_the_daily_value() -> TestResult {
    let server = MockServer::builder().now(now()).start().await?;
    assert_eq!(count(&DnsMetricKey::METRICS, Aggregation::Sum), 8);
    for group_by in ["network.dns_query", "server_host"] {
        assert_additive(&server, DNS, group_by, &DnsMetricKey::METRICS, dns_totals).await?;
    }
    Ok(())
}

#[tokio::test]
async fn every_metric_is_present_and_plausible() -> TestResult {
    let server = MockServer::builder().now(now()).start().await?;
    let rows = get(&server, CONNECTIONS, "limit=7500").await?.rows()?;
    for row in &rows {
        assert_eq!(row["type"], "aggregated_connection");
        for metric in &Connection::METRICS {
            let value = conn_metric(row, metric.name);
            assert!(value.is_some_and(|v| v >= 0), "{} in {row}", metric.name);
        }
        let rtt = conn_metric(row, "rtt_micro_seconds").unwrap_or_default();
        assert!((80..=4_000).contains(&rtt), "rtt {rtt}");
        assert!(conn_metric(row, "bytes_sent_by_client") > Some(0));
        let attributes = row["attributes"].as_object().map(|a| a.len());
        assert_eq!(
            attributes,
            Some(Connection::METRICS.len() + 1),
            "the table's metrics and group_bys"
        );
    }
    let rows = get(&server, DNS, "limit=7500").await?.rows()?;
    for row in &rows {
        assert_eq!(row["type"], "aggregated_dns");
        let m = dns_metrics(row);
        let keys: Vec<&str> = row["attributes"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["key"].as_str())
            .collect();
        let table: Vec<&str> = DnsMetricKey::METRICS.iter().map(|m| m.name).collect();
        assert_eq!(keys, table, "metrics in the table's order");
        let get = |k: &str| m.get(k).copied().unwrap_or(-1);
        assert_eq!(
            get("dns_total_requests"),
            get("dns_successful_responses") + get("dns_failures")
        );
        assert_eq!(
            get("dns_failures"),
            get("dns_failed_responses") + get("dns_timeouts")
        );
        assert_eq!(
            get("dns_failed_responses"),
            get("dns_responses.nxdomain")
                + get("dns_responses.servfail")
                + get("dns_responses.other")
        );
        assert!(
            get("dns_total_requests") > 0,
            "rows without traffic are left out"
        );
        let success_latency = get("dns_success_latency_percentile");
        assert!((0..=150).contains(&success_latency), "{row}");
        assert_eq!(
            success_latency > 0,
            get("dns_successful_responses") > 0,
            "{row}"
        );
        assert!(
            (0..=2_000).contains(&get("dns_failure_latency_percentile")),
            "{row}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn same_seed_gives_identical_bodies_and_another_seed_different_ones() -> TestResult {
    let a = MockServer::builder().seed(7).now(now()).start().await?;
    let b = MockServer::builder().seed(7).now(now()).start().await?;
    let c = MockServer::builder().seed(8).now(now()).start().await?;
    for (path, query) in [
        (CONNECTIONS, ""),
        (
            CONNECTIONS,
            "group_by=client_host,server_host&limit=500&tags=env:prod",
        ),
        (DNS, ""),
        (DNS, "group_by=client_service,network.dns_query&limit=500"),
    ] {
        let (ra, rb, rc) = (
            get(&a, path, query).await?,
            get(&b, path, query).await?,
            get(&c, path, query).await?,
        );
        assert_eq!(ra.status, 200);
        assert_eq!(ra.text, rb.text, "{path}?{query}");
        assert_ne!(ra.text, rc.text, "{path}?{query}");
        // The data layer computes the same bytes without HTTP.
        let data = Dataset::with_scenario(7, Scenario::Default, now());
        let direct = if path == DNS {
            data.dns_body(query, now())?
        } else {
            data.connections_body(query, now())?
        };
        assert_eq!(direct, ra.text.as_bytes());
    }
    Ok(())
}

fn bytes(row: &Value) -> i64 {
    conn_metric(row, "bytes_sent_by_client").unwrap_or_default()
        + conn_metric(row, "bytes_sent_by_server").unwrap_or_default()
}

fn requests(row: &Value) -> i64 {
    dns_metrics(row)
        .get("dns_total_requests")
        .copied()
        .unwrap_or_default()
}

#[tokio::test]
async fn rows_are_sorted_descending_then_cut_at_limit() -> TestResult {
    let server = MockServer::builder().now(now()).start().await?;
    let default = get(&server, CONNECTIONS, "").await?.rows()?;
    assert_eq!(default.len(), 100, "default limit");
    let all = get(&server, CONNECTIONS, "limit=7500").await?.rows()?;
    assert!(all.len() > 100);
    assert!(
        all.windows(2).all(|w| bytes(&w[0]) >= bytes(&w[1])),
        "sorted by bytes"
    );
    assert_eq!(
        default[..],
        all[..100],
        "the page is the top of the full list"
    );
    let five = get(&server, CONNECTIONS, "limit=5").await?.rows()?;
    assert_eq!(five[..], all[..5]);
    // The default connections grouping is client_service,server_service.
    let first = &all[0];
    assert!(
        conn_group(first, "client_service").is_some()
            && conn_group(first, "server_service").is_some()
    );
    assert_eq!(
        id(first),
        format!(
            "client_service:{},server_service:{}",
            conn_group(first, "client_service").unwrap_or_default(),
            conn_group(first, "server_service").unwrap_or_default()
        )
    );

    let dns = get(&server, DNS, "limit=7500").await?.rows()?;
    assert!(
        dns.windows(2).all(|w| requests(&w[0]) >= requests(&w[1])),
        "sorted by requests"
    );
    assert!(
        dns_group(&dns[0], "network.dns_query").is_some(),
        "default DNS grouping"
    );
    assert_eq!(get(&server, DNS, "limit=7").await?.rows()?[..], dns[..7]);

    // Full pages are reachable on both endpoints.
    let hosts = get(
        &server,
        CONNECTIONS,
        "group_by=client_host,server_host&limit=7500",
    )
    .await?;
    assert_eq!(hosts.rows()?.len(), 7_500);
    let names = get(
        &server,
        DNS,
        "group_by=network.dns_query,client_host&limit=7500",
    )
    .await?;
    assert_eq!(names.rows()?.len(), 7_500);
    Ok(())
}

fn values(rows: &[Value], key: &str, group: fn(&Value, &str) -> Option<String>) -> HashSet<String> {
    rows.iter().filter_map(|row| group(row, key)).collect()
}

#[tokio::test]
async fn tags_filter_with_and_semantics_and_wildcards() -> TestResult {
    let server = MockServer::builder().now(now()).start().await?;
    let group_by = "group_by=client_env,client_team,server_service&limit=7500";
    let all = get(&server, CONNECTIONS, group_by).await?.rows()?;
    let staging = get(
        &server,
        CONNECTIONS,
        &format!("{group_by}&tags=env:staging"),
    )
    .await?
    .rows()?;
    assert!(!staging.is_empty() && staging.len() < all.len());
    assert_eq!(
        values(&staging, "client_env", conn_group),
        HashSet::from(["staging".to_owned()])
    );

    let both = format!("{group_by}&tags=env:prod,server_service:*-db");
    let rows = get(&server, CONNECTIONS, &both).await?.rows()?;
    assert!(!rows.is_empty());
    for row in &rows {
        assert_eq!(conn_group(row, "client_env").as_deref(), Some("prod"));
        assert!(
            conn_group(row, "server_service").is_some_and(|s| s.ends_with("-db")),
            "{row}"
        );
    }

    let dns = get(
        &server,
        DNS,
        "group_by=network.dns_query,server_service&limit=7500&tags=server_service:unbound",
    )
    .await?;
    let rows = dns.rows()?;
    assert!(!rows.is_empty());
    assert_eq!(
        values(&rows, "server_service", dns_group),
        HashSet::from(["unbound".to_owned()])
    );
    let none = get(&server, DNS, "tags=client_service:no-such-service")
        .await?
        .rows()?;
    assert!(none.is_empty());
    Ok(())
}

#[tokio::test]
async fn query_supports_and_or_not_wildcards_and_parentheses() -> TestResult {
    let server = MockServer::builder().now(now()).start().await?;
    let base = "group_by=client_env,server_service,client_team&limit=7500";
    let run = |query: &'static str| {
        let server = &server;
        async move {
            let encoded: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
            get(server, CONNECTIONS, &format!("{base}&query={encoded}"))
                .await?
                .rows()
        }
    };

    let rows = run("client_env:prod AND NOT server_service:*-db").await?;
    assert!(!rows.is_empty());
    for row in &rows {
        assert_eq!(conn_group(row, "client_env").as_deref(), Some("prod"));
        assert!(
            !conn_group(row, "server_service")
                .unwrap_or_default()
                .ends_with("-db")
        );
    }

    let rows = run("(client_env:staging OR client_env:dev) -server_service:*-cache").await?;
    assert_eq!(
        values(&rows, "client_env", conn_group),
        HashSet::from(["staging".to_owned(), "dev".to_owned()])
    );
    assert!(rows.iter().all(|r| {
        !conn_group(r, "server_service")
            .unwrap_or_default()
            .ends_with("-cache")
    }));

    let implicit = run("client_env:prod client_team:networks").await?;
    let explicit = run("client_env:prod AND client_team:networks").await?;
    assert_eq!(implicit, explicit);
    assert!(
        implicit
            .iter()
            .all(|r| conn_group(r, "client_team").as_deref() == Some("networks"))
    );

    // `query` wins over `tags`.
    let encoded: String = form_urlencoded::byte_serialize(b"client_env:dev").collect();
    let reply = get(
        &server,
        CONNECTIONS,
        &format!("{base}&tags=env:prod&query={encoded}"),
    )
    .await?;
    assert_eq!(
        values(&reply.rows()?, "client_env", conn_group),
        HashSet::from(["dev".to_owned()])
    );

    let dns = get(
        &server,
        DNS,
        "query=network.dns_query:*.amazonaws.com%20OR%20network.dns_query:api.*&limit=7500",
    )
    .await?;
    let rows = dns.rows()?;
    assert!(!rows.is_empty());
    for row in &rows {
        let name = dns_group(row, "network.dns_query").unwrap_or_default();
        assert!(
            name.ends_with(".amazonaws.com") || name.starts_with("api."),
            "{name}"
        );
    }
    Ok(())
}

#[test]
fn a_year_long_window_splits_exactly_too() -> TestResult {
    let data = Dataset::with_scenario(7, Scenario::Default, now());
    let (from, mid, to) = (NOW_SECS - 365 * 86_400, NOW_SECS - 1_234_567, NOW_SECS);
    let sums = |from: u64, to: u64| -> Result<Totals, Box<dyn std::error::Error>> {
        let query = format!("from={from}&to={to}&group_by=client_team,server_env&limit=7500");
        let json: Value = serde_json::from_slice(&data.connections_body(&query, now())?)?;
        let mut totals = Totals::new();
        connection_totals(
            json["data"].as_array().map_or(&[], Vec::as_slice),
            &mut totals,
        );
        Ok(totals)
    };
    let (year, first, last) = (sums(from, to)?, sums(from, mid)?, sums(mid, to)?);
    assert!(year.len() > 10);
    for (group, metrics) in &year {
        for metric in Connection::METRICS
            .iter()
            .filter(|m| m.aggregation == Aggregation::Sum)
        {
            let part = |t: &Totals| t.get(group).and_then(|m| m.get(metric.name)).copied();
            let parts = part(&first).unwrap_or(0) + part(&last).unwrap_or(0);
            assert_eq!(
                Some(parts),
                metrics.get(metric.name).copied(),
                "{group}: {}",
                metric.name
            );
        }
    }
    Ok(())
}
