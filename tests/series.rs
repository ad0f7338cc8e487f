//! Window series, totals, truncation and multi-site fan-out against the bundled mock.

// Test code: a panic that shows the error is the right way to fail (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use datadog_cnm::{
    Client, Connection, ConnectionsPage, DnsPage, Error, GroupBys, Page, RetryPolicy, Site, Window,
};
use datadog_cnm_mock::{Fault, MockServer};
use proptest::prelude::*;

const DAY: Duration = Duration::from_secs(86_400);
const HOUR: Duration = Duration::from_secs(3_600);

async fn mock() -> MockServer {
    MockServer::start()
        .await
        .unwrap_or_else(|e| panic!("mock server: {e}"))
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(server.url())
        .api_key("demo-api-key")
        .app_key("demo-app-key")
        .build()
        .unwrap()
}

/// The windows whose page was cut at the limit.
fn truncated_windows<R>(pages: &[(Window, Page<R>)]) -> Vec<Window> {
    pages
        .iter()
        .filter(|(_, page)| page.truncated)
        .map(|(window, _)| *window)
        .collect()
}

/// A fixed day in the past, so runs are comparable.
fn day() -> Window {
    let end = UNIX_EPOCH + Duration::from_secs(1_764_115_200);
    Window::ending_at(end, DAY)
}

fn additive(row: &Connection) -> [Option<i64>; 14] {
    [
        row.bytes_sent_by_client,
        row.bytes_sent_by_server,
        row.packets_sent_by_client,
        row.packets_sent_by_server,
        row.tcp_refusals,
        row.tcp_resets,
        row.tcp_retransmits,
        row.tcp_timeouts,
        row.tcp_delivered_ce,
        row.tcp_probe0_count,
        row.tcp_rcv_ooo_pack,
        row.tcp_recovery_count,
        row.tcp_reord_seen,
        row.tcp_rto_count,
    ]
}

#[tokio::test]
async fn a_24_hour_series_adds_up_to_the_24_hour_query_for_every_group() {
    let server = mock().await;
    let query = client(&server)
        .connections()
        .group_by(["client_team", "server_team"])
        .limit(7500);
    let whole = query.clone().window(day()).send().await.unwrap();
    let series = query
        .series(day(), HOUR)
        .concurrency(8)
        .collect()
        .await
        .unwrap();

    assert_eq!(series.len(), 24);
    assert_eq!(series[0].0.from, day().from);
    assert_eq!(series[23].0.to, day().to);
    for (pair, (window, page)) in series.windows(2).zip(&series) {
        assert_eq!(
            pair[0].0.to, pair[1].0.from,
            "gap or overlap after {}",
            pair[0].0
        );
        assert_eq!(*window, page.window, "rows are labelled with their window");
    }
    assert!(!whole.truncated && truncated_windows(&series).is_empty());
    assert!(whole.rows.len() > 10, "only {} groups", whole.rows.len());

    let pages: Vec<&ConnectionsPage> = series.iter().map(|(_, page)| page).collect();
    let total = ConnectionsPage::total(pages.iter().copied()).unwrap_or_else(|| panic!("no pages"));
    assert_eq!(total.window, day());
    let by_group: BTreeMap<&GroupBys, &Connection> =
        total.rows.iter().map(|r| (&r.group_bys, r)).collect();
    assert_eq!(by_group.len(), whole.rows.len(), "same groups");
    for row in &whole.rows {
        let summed = by_group
            .get(&row.group_bys)
            .unwrap_or_else(|| panic!("{:?} missing", row.group_bys));
        assert_eq!(additive(summed), additive(row), "{:?}", row.group_bys);
        assert!(additive(row).iter().all(Option::is_some));
    }
}

#[tokio::test]
async fn dns_series_totals_match_too() {
    let server = mock().await;
    let query = client(&server)
        .dns()
        .group_by(["client_service"])
        .limit(7500);
    let whole = query.clone().window(day()).send().await.unwrap();
    let series = query
        .series(day(), Duration::from_secs(5 * 3600))
        .collect()
        .await;
    let series = series.unwrap();
    assert_eq!(series.len(), 5, "4 × 5 h and a 4 h tail");
    assert_eq!(series[4].0.duration(), Duration::from_secs(4 * 3600));
    let total = DnsPage::total(series.iter().map(|(_, p)| p)).unwrap_or_else(|| panic!("no pages"));
    let mut expected: Vec<_> = whole
        .rows
        .iter()
        .map(|r| {
            (
                r.group_bys.clone(),
                r.metrics.total_requests,
                r.metrics.responses_nxdomain,
            )
        })
        .collect();
    let mut got: Vec<_> = total
        .rows
        .iter()
        .map(|r| {
            (
                r.group_bys.clone(),
                r.metrics.total_requests,
                r.metrics.responses_nxdomain,
            )
        })
        .collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    assert!(
        total
            .rows
            .iter()
            .all(|r| r.metrics.success_latency_percentile.is_none())
    );
}

#[tokio::test]
async fn truncated_windows_are_reported() {
    let server = mock().await;
    let series = client(&server)
        .connections()
        .group_by(["client_host", "server_host"])
        .limit(5)
        .series(day(), Duration::from_secs(6 * 3600))
        .collect()
        .await
        .unwrap();
    let truncated = truncated_windows(&series);
    assert_eq!(truncated.len(), 4);
    assert!(
        series
            .iter()
            .all(|(_, page)| page.truncated && page.rows.len() == 5)
    );
}

#[tokio::test]
async fn progress_is_reported_for_every_window() {
    let server = mock().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let pages = client(&server)
        .dns()
        .series(day(), HOUR * 4)
        .concurrency(3)
        .on_progress(move |p| {
            if let Ok(mut seen) = sink.lock() {
                seen.push((p.done, p.total, p.failed));
            }
        })
        .collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 6);
    let mut seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    seen.sort();
    assert_eq!(seen, (1..=6).map(|d| (d, 6, false)).collect::<Vec<_>>());
}

#[tokio::test]
async fn retain_fetches_only_the_windows_kept_whatever_the_alignment() {
    let server = mock().await;
    // 00:20 to 06:00 in hours, aligned: a partial first window, then five whole ones.
    let window = Window::from_unix(1_764_115_200 + 1200, 1_764_115_200 + 6 * 3600).unwrap();
    let all = window.split_aligned(HOUR).unwrap();
    let skip = [all[0], all[3]];
    let series = client(&server)
        .connections()
        .limit(5)
        .series(window, HOUR)
        .retain(move |w| !skip.contains(w))
        .aligned(true);
    let expected: Vec<Window> = all.iter().copied().filter(|w| !skip.contains(w)).collect();
    assert_eq!(series.windows(), expected);
    let before = server.stats().requests;
    let pages = series.collect().await.unwrap();
    assert_eq!(pages.iter().map(|(w, _)| *w).collect::<Vec<_>>(), expected);
    assert_eq!(
        server.stats().requests - before,
        4,
        "the skipped windows were not sent"
    );
}

/// A series whose window has not ended, or with a parameter the API would refuse, fails
/// as a whole before anything is sent: not after its first windows were fetched.
#[tokio::test]
async fn a_series_that_cannot_run_sends_nothing() {
    let server = mock().await;
    let now = std::time::SystemTime::now();
    let future = Window::between(now - 2 * HOUR, now + 2 * HOUR).unwrap();
    let past = Window::between(now - 4 * HOUR, now - 2 * HOUR).unwrap();
    let client = client(&server);
    let series = [
        client.connections().series(future, HOUR),
        client.connections().limit(9000).series(past, HOUR),
    ];
    for series in series {
        let error = series.check().unwrap_err();
        assert!(matches!(error, Error::InvalidInput { .. }), "{error}");
        let mut stream = std::pin::pin!(series.keep_going().stream());
        let mut results = Vec::new();
        while let Some((window, result)) = futures::StreamExt::next(&mut stream).await {
            results.push((window, result.is_ok()));
        }
        assert_eq!(results.len(), 1, "one failure of the whole window");
        assert!(!results[0].1);
    }
    let series = client.connections().series(future, HOUR);
    assert!(series.collect().await.is_err());
    assert_eq!(server.stats().requests, 0, "nothing was sent");
    assert!(client.connections().series(past, HOUR).check().is_ok());
}

#[tokio::test]
async fn a_failed_window_fails_the_series_with_its_window_named_unless_keep_going() {
    let server = MockServer::builder()
        .fault(Fault::Status {
            status: 404,
            times: 1,
        })
        .start()
        .await
        .unwrap();
    let query = client(&server)
        .connections()
        .series(day(), HOUR * 6)
        .concurrency(1);
    match query.collect().await {
        Err(Error::Series { window, source }) => {
            assert_eq!(window, Window::ending_at(day().from + HOUR * 6, HOUR * 6));
            assert_eq!(source.status(), Some(404));
        }
        other => panic!("expected a series error, got {other:?}"),
    }

    server.inject(Fault::Status {
        status: 400,
        times: 1,
    });
    let results = client(&server)
        .connections()
        .series(day(), HOUR * 6)
        .concurrency(1)
        .keep_going()
        .collect()
        .await;
    let results = results.unwrap();
    let failed: Vec<bool> = results.iter().map(|(_, r)| r.is_err()).collect();
    assert_eq!(failed, [true, false, false, false]);

    let invalid = client(&server)
        .dns()
        .series(day(), Duration::ZERO)
        .collect()
        .await;
    assert!(
        matches!(invalid, Err(Error::InvalidInput { field: "step", .. })),
        "{invalid:?}"
    );
}

/// With a limit of 10 requests per period, 24 windows finish without a single failure
/// and without a single request reaching the server while the limit was exhausted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_series_stays_within_the_rate_limit() {
    let server = MockServer::builder()
        .rate_limit(10, Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let series = client(&server)
        .connections()
        .group_by(["client_service"])
        .series(day(), HOUR)
        .concurrency(4)
        .keep_going()
        .collect()
        .await
        .unwrap();
    assert_eq!(series.len(), 24);
    let failed = series.iter().filter(|(_, r)| r.is_err()).count();
    assert_eq!(failed, 0);
    let stats = server.stats();
    assert_eq!(
        stats.rate_limited, 0,
        "requests sent while the limit was exhausted: {stats:?}"
    );
    assert_eq!(stats.requests, 24);
}

#[tokio::test]
async fn fan_out_keeps_the_healthy_sites_rows() {
    let (a, b, broken) = (mock().await, mock().await, mock().await);
    broken.inject(Fault::Status {
        status: 500,
        times: 1000,
    });
    let retry = RetryPolicy::default()
        .max_attempts(2)
        .initial_backoff(Duration::from_millis(10));
    let client_of = |server: &MockServer| {
        Client::builder()
            .base_url(server.url())
            .api_key("k")
            .app_key("a")
            .retry(retry.clone())
            .build()
            .unwrap()
    };
    let results = client_of(&a)
        .fan_out([client_of(&b), client_of(&broken)])
        .connections(|q| q.group_by(["client_service"]).limit(50))
        .await;
    assert_eq!(results.len(), 3);
    let site_of = |server: &MockServer| server.url().parse::<Site>().unwrap();
    assert_eq!(results[0].0, site_of(&a));
    assert_eq!(results[2].0, site_of(&broken));
    for (_, result) in &results[..2] {
        let page = result.as_ref().unwrap();
        assert_eq!(page.rows.len(), 50);
    }
    match &results[2].1 {
        Err(error) => assert_eq!(error.status(), Some(500)),
        Ok(page) => panic!("the broken site answered {} rows", page.rows.len()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `split` covers the window exactly: contiguous, no gap or overlap, every piece
    /// `step` long except possibly the last, which is shorter. Splits into more than
    /// 100 000 windows are refused with a typed error instead.
    #[test]
    fn split_covers_any_window_exactly(from in 0u64..4_000_000_000, len in 1u64..2_000_000, step in 1u64..200_000) {
        let at = |s: u64| UNIX_EPOCH + Duration::from_secs(s);
        let window = Window::between(at(from), at(from + len)).unwrap();
        let split = window.split(Duration::from_secs(step));
        if len.div_ceil(step) > 100_000 {
            let error = split.err().map(|e| e.to_string()).unwrap_or_default();
            prop_assert!(error.contains("at most 100000"), "{}", error);
            return Ok(());
        }
        let parts = split.unwrap();
        prop_assert_eq!(parts.len() as u64, len.div_ceil(step));
        prop_assert_eq!(parts[0].from, window.from);
        prop_assert_eq!(parts[parts.len() - 1].to, window.to);
        for pair in parts.windows(2) {
            prop_assert_eq!(pair[0].to, pair[1].from);
            prop_assert_eq!(pair[0].duration(), Duration::from_secs(step));
        }
        let last = parts[parts.len() - 1].duration();
        prop_assert!(last > Duration::ZERO && last <= Duration::from_secs(step));
        let total: Duration = parts.iter().map(Window::duration).sum();
        prop_assert_eq!(total, window.duration());
    }

    /// Sub-second inputs are truncated, never rounded up into the future.
    #[test]
    fn windows_are_whole_seconds(nanos in 0u64..4_000_000_000_000_000_000) {
        let t = UNIX_EPOCH + Duration::from_nanos(nanos);
        let w = Window::ending_at(t, HOUR);
        prop_assert!(w.to <= t);
        prop_assert_eq!(w.to.duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).ok(), Some(0));
        prop_assert!(t.duration_since(w.to).is_ok_and(|d| d < Duration::from_secs(1)));
    }
}

#[test]
fn window_display_is_a_half_open_rfc3339_pair() {
    let w = Window::ending_at(UNIX_EPOCH + Duration::from_secs(1_764_140_400), HOUR);
    assert_eq!(
        w.to_string(),
        "[2025-11-26T06:00:00Z, 2025-11-26T07:00:00Z)"
    );
}
