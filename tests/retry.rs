//! The retry fault matrix against the bundled mock, on paused Tokio time: each scenario
//! checks the outcome, the number of attempts the server saw, and the exact virtual time
//! between them (the client's default clock follows Tokio's, so every wait shows up there
//! and none takes real time). `docs/retries.md` has the table.

// Test code: a panic that shows the error is the right way to fail (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use datadog_cnm::test_util::FixedJitter;
use datadog_cnm::{Client, ConnectionsPage, Error, Result, RetryPolicy};
use datadog_cnm_mock::{CustomResponse, Fault, MockServer};
use tokio::time::Instant;

const HALF: f64 = 0.5;

const LIMITED: &str = r#"{"errors":[{"status":"429","title":"Too many requests"}]}"#;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// One answer of `status` with these headers and body, for the next request.
fn respond(status: u16, headers: &[(&str, &str)], body: &str) -> Fault {
    respond_times(status, headers, body, 1)
}

/// The same answer for the next `times` requests.
fn respond_times(status: u16, headers: &[(&str, &str)], body: &str, times: u32) -> Fault {
    let response = headers
        .iter()
        .fold(CustomResponse::new(status), |response, (name, value)| {
            response.header(*name, *value)
        })
        .body(body);
    Fault::Respond { response, times }
}

fn too_many(headers: &[(&str, &str)]) -> Fault {
    respond(429, headers, LIMITED)
}

/// What one scenario did.
struct Run {
    result: Result<ConnectionsPage>,
    /// Requests the server read.
    attempts: u64,
    /// Virtual time from each answered request to the next one.
    gaps: Vec<Duration>,
}

/// A client of `server` with jitter `jitter` on the default (Tokio) clock.
fn client(server: &MockServer, policy: RetryPolicy, timeout: Duration, jitter: f64) -> Client {
    Client::builder()
        .base_url(server.url())
        .api_key("k")
        .app_key("a")
        .retry(policy)
        .timeout(timeout)
        .jitter(Arc::new(FixedJitter(jitter)))
        .build()
        .unwrap()
}

/// Serve `faults` (then the mock's usual answers) and query once with jitter 0.5.
async fn run(faults: Vec<Fault>, policy: RetryPolicy, timeout: Duration) -> Run {
    let mut builder = MockServer::builder();
    for fault in faults {
        builder = builder.fault(fault);
    }
    let server = builder.start().await.unwrap();
    let result = client(&server, policy, timeout, HALF)
        .connections()
        .send()
        .await;
    Run {
        result,
        attempts: server.requests_received(),
        gaps: gaps(&server),
    }
}

async fn run_default(faults: Vec<Fault>) -> Run {
    run(faults, RetryPolicy::default(), Duration::from_secs(5)).await
}

/// The virtual time between consecutive requests the server answered.
fn gaps(server: &MockServer) -> Vec<Duration> {
    let received: Vec<Instant> = server.requests().iter().map(|r| r.received).collect();
    received.windows(2).map(|w| w[1] - w[0]).collect()
}

#[tokio::test(start_paused = true)]
async fn s01_429_with_reset_then_200_waits_the_reset_plus_jitter() {
    let r = run_default(vec![too_many(&[
        ("x-ratelimit-reset", "3"),
        ("x-ratelimit-remaining", "0"),
    ])])
    .await;
    assert!(r.result.is_ok(), "{:?}", r.result.err());
    assert_eq!(r.attempts, 2);
    assert_eq!(r.gaps, vec![secs(3.0 * 1.05)]);
}

#[tokio::test(start_paused = true)]
async fn s02_429_with_a_repeated_reset_value() {
    let r = run_default(vec![too_many(&[("x-ratelimit-reset", "2, 2")])]).await;
    assert!(r.result.is_ok());
    assert_eq!(r.attempts, 2);
    assert_eq!(r.gaps, vec![secs(2.0 * 1.05)]);
}

#[tokio::test(start_paused = true)]
async fn s03_429_with_retry_after_seconds() {
    let r = run_default(vec![too_many(&[("retry-after", "7")])]).await;
    assert!(r.result.is_ok());
    assert_eq!(r.attempts, 2);
    assert_eq!(r.gaps, vec![secs(7.0 * 1.05)]);
}

#[tokio::test(start_paused = true)]
async fn s04_429_with_retry_after_http_date() {
    // The date is read against the wall clock, which does not pause: a date 5 s ahead is a
    // wait of at most 5 s (less the time the test took to get there, and the date's
    // second-precision rounding).
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(5));
    let r = run_default(vec![too_many(&[("retry-after", date.as_str())])]).await;
    assert!(r.result.is_ok());
    assert_eq!(r.attempts, 2);
    let wait = r.gaps[0];
    assert!(
        wait >= secs(3.0 * 1.05) && wait <= secs(5.0 * 1.05),
        "{wait:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn s05_429_without_headers_backs_off_exponentially() {
    let r = run_default(vec![respond_times(429, &[], LIMITED, 2)]).await;
    assert!(r.result.is_ok());
    assert_eq!(r.attempts, 3);
    // Full jitter at 0.5 of the ceilings 500 ms and 1 s.
    assert_eq!(r.gaps, vec![secs(0.25), secs(0.5)]);
}

#[tokio::test(start_paused = true)]
async fn s06_429_with_an_html_body_is_still_a_rate_limit() {
    let html = "<html><body><h1>429 Too Many Requests</h1></body></html>";
    let r = run_default(vec![respond(
        429,
        &[("content-type", "text/html"), ("x-ratelimit-reset", "1")],
        html,
    )])
    .await;
    assert!(r.result.is_ok(), "{:?}", r.result.err());
    assert_eq!(r.attempts, 2);
    assert_eq!(r.gaps, vec![secs(1.05)]);
}

#[tokio::test(start_paused = true)]
async fn s07_429_asking_longer_than_the_budget_gives_up_at_once() {
    let started = Instant::now();
    let r = run_default(vec![too_many(&[
        ("x-ratelimit-reset", "600"),
        ("x-ratelimit-limit", "100"),
        ("x-ratelimit-name", "cnm"),
    ])])
    .await;
    assert_eq!(r.attempts, 1);
    assert_eq!(started.elapsed(), Duration::ZERO, "no wait at all");
    match r.result {
        Err(Error::RateLimited {
            rate_limit,
            attempts,
            retry_in,
        }) => {
            assert_eq!(attempts, 1);
            assert_eq!(retry_in, Some(Duration::from_secs(600)));
            let rate_limit = rate_limit.map(|r| *r).unwrap_or_default();
            assert_eq!(rate_limit.reset, Some(Duration::from_secs(600)));
            assert_eq!(rate_limit.name.as_deref(), Some("cnm"));
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn s08_429_until_attempts_run_out() {
    let headers = [("x-ratelimit-reset", "1"), ("x-ratelimit-remaining", "0")];
    let r = run_default(vec![respond_times(429, &headers, LIMITED, 5)]).await;
    assert_eq!(r.attempts, 4);
    assert_eq!(r.gaps, vec![secs(1.05); 3]);
    match r.result {
        Err(error @ Error::RateLimited { attempts: 4, .. }) => {
            assert_eq!(error.status(), Some(429));
            assert_eq!(error.rate_limit().and_then(|r| r.remaining), Some(0));
        }
        other => panic!("expected RateLimited after 4 attempts, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn s09_500_then_200() {
    let r = run_default(vec![respond(
        500,
        &[],
        r#"{"errors":["Internal Server Error"]}"#,
    )])
    .await;
    assert!(r.result.is_ok());
    assert_eq!(r.attempts, 2);
    assert_eq!(r.gaps, vec![secs(0.25)]);
}

#[tokio::test(start_paused = true)]
async fn s09b_a_5xx_backs_off_even_when_it_carries_a_rate_limit_reset() {
    // The reset says when the rate limit's period ends, not when the service recovers.
    let headers = [("x-ratelimit-reset", "55"), ("x-ratelimit-remaining", "90")];
    let r = run_default(vec![respond(500, &headers, "")]).await;
    assert!(r.result.is_ok());
    assert_eq!(r.gaps, vec![secs(0.25)]);
}

#[tokio::test(start_paused = true)]
async fn s10_503_with_an_empty_body_then_200() {
    let r = run_default(vec![respond(503, &[], "")]).await;
    assert!(r.result.is_ok(), "{:?}", r.result.err());
    assert_eq!(r.attempts, 2);
    assert_eq!(r.gaps, vec![secs(0.25)]);
}

#[tokio::test(start_paused = true)]
async fn s11_400_is_not_retried() {
    let body = r#"{"errors":[{"status":"400","title":"Invalid limit"}]}"#;
    let r = run_default(vec![respond(400, &[], body)]).await;
    assert_eq!(r.attempts, 1);
    assert!(
        matches!(
            r.result,
            Err(Error::Api {
                status: 400,
                attempts: 1,
                ..
            })
        ),
        "{:?}",
        r.result
    );
}

#[tokio::test(start_paused = true)]
async fn s12_403_is_not_retried() {
    let body = r#"{"errors":[{"status":"403","title":"Forbidden"}]}"#;
    let r = run_default(vec![respond(403, &[], body)]).await;
    assert_eq!(r.attempts, 1);
    assert!(
        matches!(r.result, Err(Error::Api { status: 403, .. })),
        "{:?}",
        r.result
    );
}

#[tokio::test(start_paused = true)]
async fn s13_connection_refused_is_retried_then_reported() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .api_key("k")
        .app_key("a")
        .jitter(Arc::new(FixedJitter(1.0)))
        .build()
        .unwrap();
    let started = Instant::now();
    let result = client.dns().send().await;
    assert!(
        matches!(result, Err(Error::Transport { attempts: 4, .. })),
        "{result:?}"
    );
    // Full backoff ceilings: 0.5 s, 1 s and 2 s.
    assert_eq!(started.elapsed(), secs(3.5));
    assert!(result.err().is_some_and(|e| e.is_retryable()));
}

#[tokio::test(start_paused = true)]
async fn s14_connection_reset_before_and_during_the_body() {
    let full = r#"{"data":[{"attributes":{"bytes_sent_by_client":12}}]}"#;
    let partial = CustomResponse::new(200).body(full).truncate_after(20);
    let r = run_default(vec![
        Fault::ConnectionReset { times: 1 },
        Fault::Respond {
            response: partial,
            times: 1,
        },
    ])
    .await;
    assert!(r.result.is_ok(), "{:?}", r.result.err());
    assert_eq!(r.attempts, 3);
    assert_eq!(r.gaps, vec![secs(0.25), secs(0.5)]);
}

#[tokio::test(start_paused = true)]
async fn s15_truncated_json_is_a_decode_error_not_a_panic() {
    let cut = r#"{"data":[{"attributes":{"bytes_sent_by_client":12,"group_bys":{"client_se"#;
    let r = run_default(vec![respond(200, &[], cut)]).await;
    assert_eq!(r.attempts, 1);
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

#[tokio::test(start_paused = true)]
async fn s16_a_server_slower_than_the_timeout() {
    let slow = Fault::Delay {
        delay: Duration::from_secs(5),
        times: 2,
    };
    let policy = RetryPolicy::default().max_attempts(2);
    let started = Instant::now();
    let r = run(vec![slow], policy, Duration::from_millis(200)).await;
    assert_eq!(r.attempts, 2);
    // Two timeouts of 200 ms and one backoff of 250 ms between them.
    assert_eq!(started.elapsed(), secs(0.65));
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

/// A deadline bounds the attempt in flight too: a server that holds its answer past it is
/// abandoned at the deadline, not at the (longer) per-attempt timeout.
#[tokio::test(start_paused = true)]
async fn s17_a_deadline_abandons_an_attempt_in_flight() {
    let hang = Fault::Delay {
        delay: Duration::from_secs(600),
        times: 5,
    };
    let server = MockServer::builder().fault(hang).start().await.unwrap();
    let client = client(
        &server,
        RetryPolicy::default(),
        Duration::from_secs(30),
        HALF,
    );
    let window = datadog_cnm::Window::last(Duration::from_secs(3600));
    let started = Instant::now();
    let result = client
        .connections()
        .series(window, Duration::from_secs(3600))
        .deadline(Duration::from_secs(5))
        .collect()
        .await;
    assert_eq!(started.elapsed(), secs(5.0));
    match result {
        Err(Error::Series { source, .. }) => match *source {
            error @ Error::OutOfTime { sent: true, .. } => assert_eq!(
                error.to_string(),
                "the time budget of 5s ran out while waiting for the answer"
            ),
            other => panic!("expected OutOfTime, got {other:?}"),
        },
        other => panic!("expected a series error, got {other:?}"),
    }
    assert_eq!(server.requests_received(), 1);
    // Without a deadline, the retry policy's budget bounds it the same way.
    let policy = RetryPolicy::default().max_elapsed(Duration::from_secs(8));
    let started = Instant::now();
    let result = client_with(&server, policy).connections().send().await;
    assert_eq!(started.elapsed(), secs(8.0));
    assert!(
        matches!(result, Err(Error::OutOfTime { sent: true, .. })),
        "{result:?}"
    );
}

/// Gateways and WAFs answer with JSON of their own shape: the status still decides (a 429
/// is retried, a 403 is a 403), and the body is shown as it came.
#[tokio::test(start_paused = true)]
async fn s18_error_bodies_of_another_json_shape_keep_their_status() {
    let gateway = r#"{"message":"Rate limit exceeded"}"#;
    let r = run_default(vec![respond(429, &[("x-ratelimit-reset", "1")], gateway)]).await;
    assert!(r.result.is_ok(), "{:?}", r.result.err());
    assert_eq!(r.attempts, 2);
    for (status, body) in [(403, r#"{"message":"Forbidden"}"#), (400, "{}")] {
        let r = run_default(vec![respond(status, &[], body)]).await;
        assert_eq!(r.attempts, 1);
        match r.result {
            Err(error @ Error::Api { .. }) => {
                assert!(matches!(error, Error::Api { status: s, .. } if s == status));
                assert!(error.to_string().contains(body), "{error}");
            }
            other => panic!("expected Api, got {other:?}"),
        }
    }
    let r = run_default(vec![respond_times(500, &[], r#"{"message":"oops"}"#, 2)]).await;
    assert!(r.result.is_ok(), "{:?}", r.result.err());
    assert_eq!(r.attempts, 3, "a 500 of any shape is retried");
}

fn client_with(server: &MockServer, policy: RetryPolicy) -> Client {
    client(server, policy, Duration::from_secs(30), HALF)
}

#[tokio::test(start_paused = true)]
async fn retries_can_be_disabled() {
    let r = run(
        vec![respond(503, &[], "")],
        RetryPolicy::disabled(),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(r.attempts, 1);
    assert!(matches!(r.result, Err(Error::Api { status: 503, .. })));
}

#[tokio::test(start_paused = true)]
async fn the_time_budget_caps_backoff() {
    // Ceilings 500 ms, 1 s, 2 s at full jitter would need 3.5 s; the budget is 1.6 s.
    let server = MockServer::builder()
        .fault(respond_times(502, &[], "", 4))
        .start()
        .await
        .unwrap();
    let policy = RetryPolicy::default()
        .max_attempts(10)
        .max_elapsed(Duration::from_millis(1600));
    let result = client(&server, policy, Duration::from_secs(5), 1.0)
        .connections()
        .send()
        .await;
    assert!(
        matches!(
            result,
            Err(Error::Api {
                status: 502,
                attempts: 3,
                ..
            })
        ),
        "{result:?}"
    );
    assert_eq!(gaps(&server), vec![secs(0.5), secs(1.0)]);
}

/// Eight concurrent requests of one client all get a 429 with a one-second reset; every
/// retry waits for it, and there is exactly one wave of retries.
#[tokio::test(start_paused = true)]
async fn concurrent_requests_share_one_reset_and_retry_in_one_wave() {
    let headers = [("x-ratelimit-reset", "1"), ("x-ratelimit-remaining", "0")];
    let server = MockServer::builder()
        .fault(respond_times(429, &headers, LIMITED, 8))
        .start()
        .await
        .unwrap();
    let client = datadog_cnm_tests::client(server.url());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.connections().send().await })
        })
        .collect();
    for task in tasks {
        let result = task.await.unwrap();
        assert!(result.is_ok(), "{:?}", result.err());
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 16, "eight 429s and eight retries");
    let (limited, retries) = requests.split_at(8);
    assert!(limited.iter().all(|r| r.status == 429));
    let (first_429, last_429) = (limited[0].received, limited[7].received);
    for retry in retries {
        assert_eq!(retry.status, 200);
        // At least the reset, at most the reset and 10 % jitter after the last 429.
        let waited = retry.received - first_429;
        assert!(waited >= Duration::from_secs(1), "{waited:?}");
        assert!(retry.received - last_429 <= secs(1.1), "retry too late");
    }
}

/// Without an injected clock, the client waits on Tokio's: a 429 with
/// `X-RateLimit-Reset: 1` delays the retry by the reset plus at most 10 %.
#[tokio::test(start_paused = true)]
async fn the_wait_really_happens() {
    let server = MockServer::builder()
        .fault(too_many(&[
            ("x-ratelimit-reset", "1"),
            ("x-ratelimit-remaining", "0"),
        ]))
        .start()
        .await
        .unwrap();
    let client = datadog_cnm_tests::client(server.url());
    let result = client.dns().send().await;
    assert!(result.is_ok(), "{:?}", result.err());
    let waited = gaps(&server);
    assert_eq!(waited.len(), 1);
    assert!(
        waited[0] >= Duration::from_secs(1) && waited[0] <= secs(1.1),
        "{waited:?}"
    );
}

/// The shared state also keeps the client's *other* requests (under the same rate limit)
/// back after a 429, retries disabled or not.
#[tokio::test(start_paused = true)]
async fn a_429_holds_back_the_clients_other_requests() {
    let server = MockServer::builder()
        .fault(too_many(&[
            ("x-ratelimit-reset", "1"),
            ("x-ratelimit-remaining", "0"),
        ]))
        .start()
        .await
        .unwrap();
    let client = client(
        &server,
        RetryPolicy::disabled(),
        Duration::from_secs(5),
        HALF,
    );
    let first = client.connections().send().await;
    assert!(
        matches!(first, Err(Error::RateLimited { attempts: 1, .. })),
        "{first:?}"
    );
    let second = client.connections().send().await;
    assert!(second.is_ok(), "{:?}", second.err());
    assert_eq!(gaps(&server), vec![Duration::from_secs(1)]);
}
