//! Series under a rate limit, on paused Tokio time: the client learns the limit from the
//! first answer and paces the rest, so every window completes, 429s stay rare and the
//! series takes about what the limit allows (`windows / limit × period`), whatever the
//! concurrency.

// Test code: a panic that shows the error is the right way to fail (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use datadog_cnm::{Client, Error, RetryPolicy, Window};
use datadog_cnm_mock::MockServer;
use futures::StreamExt;
use tokio::time::Instant;

const WINDOWS: u64 = 48;

/// Run a 48-window series at `concurrency` against a mock allowing `limit` requests per
/// second; `(virtual seconds taken, 429s, requests, peak admitted in one period)`.
async fn paced(concurrency: usize, limit: u32) -> (f64, u64, u64, u64) {
    // A now that is not on a period boundary, so the first period is a partial one.
    let now = UNIX_EPOCH + Duration::from_millis(1_764_000_000_300);
    let server = MockServer::builder()
        .rate_limit(limit, Duration::from_secs(1))
        .now(now)
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .base_url(server.url())
        .api_key("k")
        .app_key("a")
        .retry(RetryPolicy::default().max_elapsed(Duration::from_secs(600)))
        .build()
        .unwrap();
    let day = Window::ending_at(
        now - Duration::from_secs(3600),
        Duration::from_secs(WINDOWS * 60),
    );
    let started = Instant::now();
    // Pacing does not depend on what the pages hold: a filter nothing matches keeps the
    // mock's work small.
    let pages = client
        .connections()
        .tags(["env:nowhere"])
        .series(day, Duration::from_secs(60))
        .concurrency(concurrency)
        .collect()
        .await;
    let took = started.elapsed().as_secs_f64();
    let pages = pages.unwrap_or_else(|e| panic!("c={concurrency} l={limit}: {e}"));
    assert_eq!(pages.len() as u64, WINDOWS);
    assert!(
        pages.windows(2).all(|w| w[0].0.to == w[1].0.from),
        "in window order"
    );
    let stats = server.stats();
    (
        took,
        stats.too_many_requests,
        stats.requests,
        stats.peak_admitted_per_period,
    )
}

#[tokio::test(start_paused = true)]
async fn series_pace_themselves_under_any_limit_at_any_concurrency() {
    let mut report = Vec::new();
    for limit in [2, 5, 50] {
        for concurrency in [1, 8, 32, 64] {
            let (took, limited, requests, peak) = paced(concurrency, limit).await;
            let bound = WINDOWS as f64 / f64::from(limit);
            report.push(format!(
                "limit {limit}/s, concurrency {concurrency}: {took:.2}s for a {bound:.2}s bound \
                 ({:.3}×), {limited} × 429 of {requests} requests, peak {peak} per period",
                took / bound
            ));
            assert!(
                limited as f64 <= 0.05 * requests as f64,
                "too many 429s: {}",
                report.join("\n")
            );
            assert!(peak <= u64::from(limit), "{}", report.join("\n"));
            assert!(took <= 1.1 * bound, "too slow: {}", report.join("\n"));
        }
    }
    println!("{}", report.join("\n"));
}

/// A series given a deadline shorter than the limit allows keeps the windows that made
/// it and reports the others with their error, in window order.
#[tokio::test(start_paused = true)]
async fn a_deadline_keeps_what_finished() {
    let now = UNIX_EPOCH + Duration::from_secs(1_764_000_000);
    let server = MockServer::builder()
        .rate_limit(2, Duration::from_secs(1))
        .now(now)
        .start()
        .await
        .unwrap();
    let client = datadog_cnm_tests::client(server.url());
    let window = Window::ending_at(
        now - Duration::from_secs(3600),
        Duration::from_secs(20 * 60),
    );
    let results: Vec<_> = client
        .dns()
        .series(window, Duration::from_secs(60))
        .concurrency(8)
        .deadline(Duration::from_secs(5))
        .keep_going()
        .stream()
        .collect()
        .await;
    assert_eq!(results.len(), 20);
    let done = results.iter().take_while(|(_, r)| r.is_ok()).count();
    // About 2 per second for 5 seconds.
    assert!((8..=12).contains(&done), "{done} windows finished");
    for (window, result) in &results[done..] {
        match result {
            Err(Error::RateLimited { .. } | Error::OutOfTime { .. }) => {}
            other => panic!("{window}: {other:?}"),
        }
    }
}

/// Rate-limit waits are reported to the client's hook, with the limit as last reported.
#[tokio::test(start_paused = true)]
async fn waits_are_reported() {
    let server = MockServer::builder()
        .rate_limit(1, Duration::from_secs(10))
        .now(SystemTime::now())
        .start()
        .await
        .unwrap();
    let waits = Arc::new(Mutex::new(Vec::new()));
    let heard = waits.clone();
    let client = Client::builder()
        .base_url(server.url())
        .api_key("k")
        .app_key("a")
        .on_rate_limit_wait(move |wait| heard.lock().unwrap().push(wait.clone()))
        .build()
        .unwrap();
    client.dns().send().await.unwrap();
    client.dns().send().await.unwrap();
    let waits = waits.lock().unwrap();
    assert!(!waits.is_empty());
    let first = &waits[0];
    assert!(first.wait > Duration::ZERO && first.wait <= Duration::from_secs(10));
    let limit = first.rate_limit.as_ref().unwrap();
    assert_eq!(
        (limit.limit, limit.name.as_deref()),
        (Some(1), Some("cnm_aggregate"))
    );
    assert_eq!(server.stats().too_many_requests, 0);
}
