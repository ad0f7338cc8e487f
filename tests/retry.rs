//! The retry fault matrix: each scenario checks the outcome, the number of attempts the
//! server saw, and the exact delays the client waited (through a virtual clock).

// Test code: a panic that shows the error is the right way to fail (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use datadog_cnm::test_util::FixedJitter;
use datadog_cnm::{Client, ConnectionsPage, Error, Result, RetryPolicy};
use datadog_cnm_tests::{ScriptedServer, Step, VirtualClock};

const HALF: f64 = 0.5;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

struct Run {
    result: Result<ConnectionsPage>,
    attempts: usize,
    sleeps: Vec<Duration>,
}

/// Serve `script` (then 200s), query once with a virtual clock and jitter 0.5.
async fn run(script: Vec<Step>, policy: RetryPolicy, timeout: Duration) -> Run {
    let server = ScriptedServer::start(script, Step::ok()).await;
    let clock = Arc::new(VirtualClock::default());
    let client = Client::builder()
        .base_url(server.url())
        .api_key("k")
        .app_key("a")
        .retry(policy)
        .timeout(timeout)
        .clock(clock.clone())
        .jitter(Arc::new(FixedJitter(HALF)))
        .build()
        .unwrap();
    let result = client.connections().send().await;
    Run {
        result,
        attempts: server.hits().len(),
        sleeps: clock.sleeps(),
    }
}

/// A client of `server` on the real clock, with random jitter.
fn real_clock_client(server: &ScriptedServer, policy: RetryPolicy) -> Client {
    Client::builder()
        .base_url(server.url())
        .api_key("k")
        .app_key("a")
        .retry(policy)
        .build()
        .unwrap()
}

async fn run_default(script: Vec<Step>) -> Run {
    run(script, RetryPolicy::default(), Duration::from_secs(5)).await
}

fn too_many(headers: &[(&str, &str)], body: &str) -> Step {
    Step::respond(429, headers, body)
}

const LIMITED: &str = r#"{"errors":[{"status":"429","title":"Too many requests"}]}"#;

#[tokio::test]
async fn s01_429_with_reset_then_200_waits_the_reset_plus_jitter() {
    let r = run_default(vec![too_many(
        &[("x-ratelimit-reset", "3"), ("x-ratelimit-remaining", "0")],
        LIMITED,
    )])
    .await;
    assert!(r.result.is_ok(), "{:?}", r.result.err());
    assert_eq!(r.attempts, 2);
    assert_eq!(r.sleeps, vec![secs(3.0 * 1.05)]);
}

#[tokio::test]
async fn s02_429_with_a_repeated_reset_value() {
    let r = run_default(vec![too_many(&[("x-ratelimit-reset", "2, 2")], LIMITED)]).await;
    assert!(r.result.is_ok());
    assert_eq!(r.attempts, 2);
    assert_eq!(r.sleeps, vec![secs(2.0 * 1.05)]);
}

#[tokio::test]
async fn s03_429_with_retry_after_seconds() {
    let r = run_default(vec![too_many(&[("retry-after", "7")], LIMITED)]).await;
    assert!(r.result.is_ok());
    assert_eq!(r.attempts, 2);
    assert_eq!(r.sleeps, vec![secs(7.0 * 1.05)]);
}

#[tokio::test]
async fn s04_429_with_retry_after_http_date() {
    // The virtual wall clock starts at the real time (whole seconds) and only moves on
    // sleeps, so a date 5 s ahead of now is a 5 s wait.
    let date = httpdate_in(Duration::from_secs(5));
    let r = run_default(vec![too_many(&[("retry-after", date.as_str())], LIMITED)]).await;
    assert!(r.result.is_ok());
    assert_eq!(r.attempts, 2);
    assert_eq!(r.sleeps.len(), 1);
    // The date is rendered at second precision from a clock read a moment before the
    // client's: allow the one-second rounding, nothing more.
    let wait = r.sleeps[0];
    assert!(
        wait >= secs(4.0 * 1.05) && wait <= secs(5.0 * 1.05),
        "{wait:?}"
    );
}

fn httpdate_in(ahead: Duration) -> String {
    httpdate::fmt_http_date(VirtualClock::default().wall_now() + ahead)
}

#[tokio::test]
async fn s05_429_without_headers_backs_off_exponentially() {
    let r = run_default(vec![too_many(&[], LIMITED), too_many(&[], LIMITED)]).await;
    assert!(r.result.is_ok());
    assert_eq!(r.attempts, 3);
    // Full jitter at 0.5 of the ceilings 500 ms and 1 s.
    assert_eq!(r.sleeps, vec![secs(0.25), secs(0.5)]);
}

#[tokio::test]
async fn s06_429_with_an_html_body_is_still_a_rate_limit() {
    let html = "<html><body><h1>429 Too Many Requests</h1></body></html>";
    let r = run_default(vec![too_many(
        &[("content-type", "text/html"), ("x-ratelimit-reset", "1")],
        html,
    )])
    .await;
    assert!(r.result.is_ok(), "{:?}", r.result.err());
    assert_eq!(r.attempts, 2);
    assert_eq!(r.sleeps, vec![secs(1.05)]);
}

#[tokio::test]
async fn s07_429_asking_longer_than_the_budget_gives_up_at_once() {
    let headers = [
        ("x-ratelimit-reset", "600"),
        ("x-ratelimit-limit", "100"),
        ("x-ratelimit-name", "cnm"),
    ];
    let r = run_default(vec![too_many(&headers, LIMITED)]).await;
    assert_eq!(r.attempts, 1);
    assert!(r.sleeps.is_empty(), "slept {:?}", r.sleeps);
    match r.result {
        Err(Error::RateLimited {
            rate_limit,
            attempts,
            ..
        }) => {
            assert_eq!(attempts, 1);
            let rate_limit = rate_limit.map(|r| *r).unwrap_or_default();
            assert_eq!(rate_limit.reset, Some(Duration::from_secs(600)));
            assert_eq!(rate_limit.name.as_deref(), Some("cnm"));
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

#[tokio::test]
async fn s08_429_until_attempts_run_out() {
    let limited = || {
        too_many(
            &[("x-ratelimit-reset", "1"), ("x-ratelimit-remaining", "0")],
            LIMITED,
        )
    };
    let r = run_default(vec![limited(), limited(), limited(), limited(), limited()]).await;
    assert_eq!(r.attempts, 4);
    assert_eq!(r.sleeps, vec![secs(1.05); 3]);
    match r.result {
        Err(error @ Error::RateLimited { attempts: 4, .. }) => {
            assert_eq!(error.status(), Some(429));
            assert_eq!(error.rate_limit().and_then(|r| r.remaining), Some(0));
        }
        other => panic!("expected RateLimited after 4 attempts, got {other:?}"),
    }
}

#[tokio::test]
async fn s09_500_then_200() {
    let r = run_default(vec![Step::respond(
        500,
        &[],
        r#"{"errors":["Internal Server Error"]}"#,
    )])
    .await;
    assert!(r.result.is_ok());
    assert_eq!(r.attempts, 2);
    assert_eq!(r.sleeps, vec![secs(0.25)]);
}

#[tokio::test]
async fn s09b_a_5xx_backs_off_even_when_it_carries_a_rate_limit_reset() {
    // The reset says when the rate limit's period ends, not when the service recovers.
    let headers = [("x-ratelimit-reset", "55"), ("x-ratelimit-remaining", "90")];
    let r = run_default(vec![Step::respond(500, &headers, "")]).await;
    assert!(r.result.is_ok());
    assert_eq!(r.sleeps, vec![secs(0.25)]);
}

#[tokio::test]
async fn s10_503_with_an_empty_body_then_200() {
    let r = run_default(vec![Step::respond(503, &[], "")]).await;
    assert!(r.result.is_ok(), "{:?}", r.result.err());
    assert_eq!(r.attempts, 2);
    assert_eq!(r.sleeps, vec![secs(0.25)]);
}

#[tokio::test]
async fn s11_400_is_not_retried() {
    let body = r#"{"errors":[{"status":"400","title":"Invalid limit"}]}"#;
    let r = run_default(vec![Step::respond(400, &[], body)]).await;
    assert_eq!((r.attempts, r.sleeps.len()), (1, 0));
    assert!(
        matches!(r.result, Err(Error::Api { status: 400, .. })),
        "{:?}",
        r.result
    );
}

#[tokio::test]
async fn s12_403_is_not_retried() {
    let body = r#"{"errors":[{"status":"403","title":"Forbidden"}]}"#;
    let r = run_default(vec![Step::respond(403, &[], body)]).await;
    assert_eq!((r.attempts, r.sleeps.len()), (1, 0));
    assert!(
        matches!(r.result, Err(Error::Api { status: 403, .. })),
        "{:?}",
        r.result
    );
}

#[tokio::test]
async fn s13_connection_refused_is_retried_then_reported() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let clock = Arc::new(VirtualClock::default());
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .api_key("k")
        .app_key("a")
        .clock(clock.clone())
        .jitter(Arc::new(FixedJitter(1.0)))
        .build()
        .unwrap();
    let result = client.dns().send().await;
    assert!(
        matches!(result, Err(Error::Transport { attempts: 4, .. })),
        "{result:?}"
    );
    assert_eq!(clock.sleeps(), vec![secs(0.5), secs(1.0), secs(2.0)]);
    assert!(result.err().is_some_and(|e| e.is_retryable()));
}

#[tokio::test]
async fn s14_connection_reset_before_and_during_the_body() {
    let partial = Step::Truncated {
        status: 200,
        body: r#"{"data":[{"attributes":{"bytes_sent_"#.into(),
    };
    let r = run_default(vec![Step::Reset, partial]).await;
    assert!(r.result.is_ok(), "{:?}", r.result.err());
    assert_eq!(r.attempts, 3);
    assert_eq!(r.sleeps, vec![secs(0.25), secs(0.5)]);
}

#[tokio::test]
async fn s15_truncated_json_is_a_decode_error_not_a_panic() {
    let cut = r#"{"data":[{"attributes":{"bytes_sent_by_client":12,"group_bys":{"client_se"#;
    let r = run_default(vec![Step::respond(200, &[], cut)]).await;
    assert_eq!((r.attempts, r.sleeps.len()), (1, 0));
    match r.result {
        Err(Error::Decode {
            body_excerpt, path, ..
        }) => {
            assert!(body_excerpt.starts_with(r#"{"data":"#));
            assert!(path.starts_with("data[0].attributes"), "{path}");
        }
        other => panic!("expected Decode, got {other:?}"),
    }
}

#[tokio::test]
async fn s16_a_server_slower_than_the_timeout() {
    let slow = || Step::Delay(Duration::from_secs(5), Box::new(Step::ok()));
    let policy = RetryPolicy::default().max_attempts(2);
    let r = run(vec![slow(), slow()], policy, Duration::from_millis(200)).await;
    assert_eq!(r.attempts, 2);
    assert_eq!(r.sleeps, vec![secs(0.25)]);
    match r.result {
        Err(error @ Error::Timeout { attempts: 2, .. }) => {
            assert!(
                error.to_string().contains("timed out after 2 attempts"),
                "{error}"
            );
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn retries_can_be_disabled() {
    let r = run(
        vec![Step::respond(503, &[], "")],
        RetryPolicy::disabled(),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!((r.attempts, r.sleeps.len()), (1, 0));
    assert!(matches!(r.result, Err(Error::Api { status: 503, .. })));
}

#[tokio::test]
async fn the_time_budget_caps_backoff() {
    // Ceilings 500 ms, 1 s, 2 s at full jitter would need 3.5 s; the budget is 1.6 s.
    let failing = || Step::respond(502, &[], "");
    let policy = RetryPolicy::default()
        .max_attempts(10)
        .max_elapsed(Duration::from_millis(1600));
    let server =
        ScriptedServer::start(vec![failing(), failing(), failing(), failing()], Step::ok()).await;
    let clock = Arc::new(VirtualClock::default());
    let client = Client::builder()
        .base_url(server.url())
        .api_key("k")
        .app_key("a")
        .retry(policy)
        .clock(clock.clone())
        .jitter(Arc::new(FixedJitter(1.0)))
        .build()
        .unwrap();
    let result = client.connections().send().await;
    assert!(
        matches!(result, Err(Error::Api { status: 502, .. })),
        "{result:?}"
    );
    assert_eq!(clock.sleeps(), vec![secs(0.5), secs(1.0)]);
    assert_eq!(server.hits().len(), 3);
}

/// Real clock: eight concurrent requests of one client all get a 429 with a one-second
/// reset; every retry waits for it, and there is exactly one wave of retries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_share_one_reset_and_retry_in_one_wave() {
    let limited = || {
        too_many(
            &[("x-ratelimit-reset", "1"), ("x-ratelimit-remaining", "0")],
            LIMITED,
        )
    };
    let server = ScriptedServer::start((0..8).map(|_| limited()).collect(), Step::ok()).await;
    let client = real_clock_client(&server, RetryPolicy::default());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.connections().send().await })
        })
        .collect();
    for task in tasks {
        let result = task.await.unwrap_or_else(|e| panic!("task: {e}"));
        assert!(result.is_ok(), "{:?}", result.err());
    }
    let hits = server.hits();
    assert_eq!(hits.len(), 16, "eight 429s and eight retries");
    let last_429 = hits[7].at;
    let first_429 = hits[0].at;
    let retries: Vec<Instant> = hits[8..].iter().map(|h| h.at).collect();
    for at in &retries {
        let waited = at.duration_since(first_429);
        // At least the reset; at most reset + 10 % jitter + scheduling slack.
        assert!(
            waited >= Duration::from_secs(1),
            "a retry came {waited:?} after the first 429"
        );
        assert!(
            at.duration_since(last_429) < Duration::from_secs(2),
            "retry too late"
        );
    }
}

/// Real clock: a 429 with `X-RateLimit-Reset: 1` makes the next request of the same client
/// wait at least one second, and less than two.
#[tokio::test]
async fn the_wait_really_happens() {
    let limited = too_many(
        &[("x-ratelimit-reset", "1"), ("x-ratelimit-remaining", "0")],
        LIMITED,
    );
    let server = ScriptedServer::start(vec![limited], Step::ok()).await;
    let client = real_clock_client(&server, RetryPolicy::default());
    let result = client.dns().send().await;
    assert!(result.is_ok(), "{:?}", result.err());
    let hits = server.hits();
    assert_eq!(hits.len(), 2);
    let waited = hits[1].at.duration_since(hits[0].at);
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
}

/// The shared state also keeps *other* requests of the client back after a 429.
#[tokio::test]
async fn a_429_holds_back_the_clients_other_requests() {
    let limited = too_many(
        &[("x-ratelimit-reset", "1"), ("x-ratelimit-remaining", "0")],
        LIMITED,
    );
    let server = ScriptedServer::start(vec![limited], Step::ok()).await;
    let client = real_clock_client(&server, RetryPolicy::disabled());
    let first = client.connections().send().await;
    assert!(
        matches!(first, Err(Error::RateLimited { attempts: 1, .. })),
        "{first:?}"
    );
    let second = client.dns().send().await;
    assert!(second.is_ok(), "{:?}", second.err());
    let hits = server.hits();
    let waited = hits[1].at.duration_since(hits[0].at);
    assert!(
        waited >= Duration::from_millis(900),
        "the second request went out after {waited:?}"
    );
}
