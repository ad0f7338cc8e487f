//! Rate limiting, every fault knob, latency, the request log and shutdown.

use std::time::Duration;

use datadog_cnm_mock::{Fault, MockServer, MockStats};

use crate::support::{CONNECTIONS, DNS, KEYS, TestResult, assert_error, get, get_with, http, now};

/// Matches no flow: the requests cost next to nothing.
const CHEAP: &str = "tags=env:none";

/// Paused time: the countdown is exact and waiting for the reset takes no real time.
#[tokio::test(start_paused = true)]
async fn rate_limit_answers_429_after_n_requests_with_a_countdown_in_reset() -> TestResult {
    let real = std::time::Instant::now();
    let t0 = tokio::time::Instant::now();
    // `now()` is a multiple of 60 s since the epoch: the server starts as a period begins.
    let server = MockServer::builder()
        .rate_limit(3, Duration::from_secs(60))
        .now(now())
        .start()
        .await?;
    for (expected, reset) in [(2, 60), (1, 50), (0, 40)] {
        tokio::time::sleep_until(t0 + Duration::from_secs(60 - reset)).await;
        let reply = get(&server, CONNECTIONS, CHEAP).await?;
        assert_eq!(reply.status, 200);
        let limit = reply.rate_limit()?;
        assert_eq!(
            (
                limit.limit,
                limit.period,
                limit.remaining,
                limit.reset,
                limit.name.as_str()
            ),
            (3, 60, expected, reset, "cnm_aggregate")
        );
    }

    tokio::time::sleep(Duration::from_millis(25_500)).await;
    let limited = get(&server, DNS, CHEAP).await?;
    assert_error(&limited, 429, "Too many requests")?;
    assert_eq!(
        limited.text,
        r#"{"errors":[{"status":"429","title":"Too many requests"}]}"#
    );
    let limit = limited.rate_limit()?;
    // 14.5 s left, rounded up.
    assert_eq!((limit.limit, limit.remaining, limit.reset), (3, 0, 15));

    // Rejected before the limiter, still with its headers.
    let forbidden = get_with(&server, CONNECTIONS, "", &[]).await?;
    assert_error(&forbidden, 403, "Forbidden")?;
    assert_eq!(forbidden.rate_limit()?.remaining, 0);

    // Waiting `reset` seconds always reaches the next period.
    tokio::time::sleep(Duration::from_secs(limit.reset)).await;
    let again = get(&server, CONNECTIONS, CHEAP).await?;
    assert_eq!(again.status, 200);
    let limit = again.rate_limit()?;
    assert_eq!((limit.remaining, limit.reset), (2, 60));

    let stats = server.stats();
    assert_eq!(
        (
            stats.ok,
            stats.rate_limited,
            stats.too_many_requests,
            stats.peak_admitted_per_period
        ),
        (4, 1, 1, 3)
    );
    // Stamped in virtual time, exactly.
    let arrivals: Vec<Duration> = server.requests().iter().map(|r| r.received - t0).collect();
    let secs = |s: &[u64]| {
        s.iter()
            .map(|&s| Duration::from_secs(s))
            .collect::<Vec<_>>()
    };
    let mut expected = secs(&[0, 10, 20]);
    expected.extend([Duration::from_millis(45_500); 2]);
    expected.push(Duration::from_millis(60_500));
    assert_eq!(arrivals, expected);
    // 60 virtual seconds went by in far less real time.
    assert!(
        real.elapsed() < Duration::from_secs(30),
        "{:?}",
        real.elapsed()
    );
    Ok(())
}

/// Paused time: periods are aligned to the wall clock, and on the real clock the two requests
/// could straddle a period's end.
#[tokio::test(start_paused = true)]
async fn without_a_configured_limit_the_headers_still_count_down() -> TestResult {
    let server = MockServer::start().await?;
    let first = get(&server, CONNECTIONS, "limit=1").await?.rate_limit()?;
    let second = get(&server, DNS, "limit=1").await?.rate_limit()?;
    assert_eq!((first.limit, first.period), (1_000_000, 60));
    assert_eq!(second.remaining + 1, first.remaining);
    Ok(())
}

#[tokio::test]
async fn status_faults_take_precedence_and_apply_in_fifo_order() -> TestResult {
    let server = MockServer::builder()
        .fault(Fault::Status {
            status: 503,
            times: 2,
        })
        .start()
        .await?;
    server.inject(Fault::Status {
        status: 429,
        times: 1,
    });

    // No credentials and an invalid limit: the fault still wins.
    let first = get_with(&server, CONNECTIONS, "limit=0", &[]).await?;
    assert_error(&first, 503, "Service Unavailable")?;
    let second = get(&server, DNS, "").await?;
    assert_error(&second, 503, "Service Unavailable")?;
    let third = get(&server, DNS, "").await?;
    assert_error(&third, 429, "Too Many Requests")?;
    let limit = third.rate_limit()?;
    assert_eq!((limit.remaining, limit.reset), (0, 1));
    assert!(third.header("retry-after").is_none());

    let fourth = get(&server, DNS, "").await?;
    assert_eq!(fourth.status, 200);
    assert_eq!(
        server.stats(),
        MockStats {
            requests: 4,
            ok: 1,
            faults: 3,
            too_many_requests: 1,
            peak_admitted_per_period: 1,
            ..MockStats::default()
        }
    );
    Ok(())
}

#[tokio::test]
async fn malformed_body_is_a_200_that_is_not_json() -> TestResult {
    let server = MockServer::start().await?;
    server.inject(Fault::MalformedBody { times: 1 });
    let reply = get(&server, CONNECTIONS, "").await?;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("application/vnd.api+json")
    );
    assert!(reply.json().is_err(), "{}", reply.text);
    assert_eq!(get(&server, CONNECTIONS, "").await?.status, 200);
    Ok(())
}

#[tokio::test]
async fn truncated_body_sends_headers_then_fails_the_body() -> TestResult {
    let server = MockServer::start().await?;
    server.inject(Fault::TruncatedBody { times: 1 });
    let response = http()?
        .get(format!("{}{DNS}?limit=500", server.url()))
        .header(KEYS[0].0, KEYS[0].1)
        .header(KEYS[1].0, KEYS[1].1)
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    let announced = response.content_length().unwrap_or_default();
    assert!(announced > 1_000, "content-length {announced}");
    let body = response.bytes().await;
    assert!(body.is_err(), "the body read must fail, got {body:?}");
    assert_eq!(get(&server, DNS, "").await?.status, 200);
    Ok(())
}

#[tokio::test]
async fn connection_reset_fails_the_request_without_a_response() -> TestResult {
    let server = MockServer::start().await?;
    server.inject(Fault::ConnectionReset { times: 2 });
    for _ in 0..2 {
        let result = http()?
            .get(format!("{}{CONNECTIONS}", server.url()))
            .header(KEYS[0].0, KEYS[0].1)
            .header(KEYS[1].0, KEYS[1].1)
            .send()
            .await;
        match result {
            Ok(response) => panic!("expected a connection error, got {}", response.status()),
            Err(error) => {
                assert!(error.status().is_none() && !error.is_timeout(), "{error:?}");
            }
        }
    }
    assert_eq!(get(&server, CONNECTIONS, "").await?.status, 200);
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [0, 0, 200]);
    Ok(())
}

#[tokio::test]
async fn html_and_retry_after_faults_look_like_a_proxy() -> TestResult {
    let server = MockServer::start().await?;
    server.inject(Fault::Html {
        status: 502,
        times: 1,
    });
    server.inject(Fault::RetryAfter {
        status: 503,
        seconds: 7,
        times: 1,
    });
    let html = get(&server, CONNECTIONS, "").await?;
    assert_eq!(html.status, 502);
    assert_eq!(html.header("content-type"), Some("text/html"));
    assert!(
        html.text.contains("<h1>502 Bad Gateway</h1>"),
        "{}",
        html.text
    );
    assert!(html.header("x-ratelimit-limit").is_none());

    let retry = get(&server, CONNECTIONS, "").await?;
    assert_eq!(retry.status, 503);
    assert_eq!(retry.header("retry-after"), Some("7"));
    assert!(retry.header("x-ratelimit-reset").is_none());
    assert_eq!(retry.json()?["errors"][0]["status"], "503");
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn delay_fault_and_latency_hold_the_response() -> TestResult {
    let server = MockServer::start().await?;
    server.inject(Fault::Delay {
        delay: Duration::from_secs(2),
        times: 1,
    });
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(200))
        .build()?;
    let url = format!("{}{CONNECTIONS}", server.url());
    let timed_out = client
        .get(&url)
        .header(KEYS[0].0, KEYS[0].1)
        .header(KEYS[1].0, KEYS[1].1)
        .send()
        .await;
    assert!(
        timed_out.as_ref().is_err_and(reqwest::Error::is_timeout),
        "{timed_out:?}"
    );
    let fine = http()?
        .get(&url)
        .header(KEYS[0].0, KEYS[0].1)
        .header(KEYS[1].0, KEYS[1].1)
        .send()
        .await?;
    assert_eq!(fine.status(), 200);

    let slow = MockServer::builder()
        .latency(Duration::from_millis(150))
        .start()
        .await?;
    let started = tokio::time::Instant::now();
    let reply = get_with(&slow, DNS, "", &[]).await?;
    assert_eq!(reply.status, 403, "latency applies to every response");
    assert_eq!(started.elapsed(), Duration::from_millis(150));
    Ok(())
}

#[tokio::test]
async fn requests_are_recorded_without_key_values() -> TestResult {
    let server = MockServer::start().await?;
    get(
        &server,
        DNS,
        "group_by=client_service&limit=3&api_key=leaked",
    )
    .await?;
    get_with(
        &server,
        CONNECTIONS,
        "",
        &[("Authorization", "Bearer secret-token")],
    )
    .await?;
    get_with(&server, "/nope", "", &[]).await?;
    let log = server.requests();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].path, DNS);
    assert_eq!(
        log[0].query,
        [
            ("group_by".to_owned(), "client_service".to_owned()),
            ("limit".to_owned(), "3".to_owned()),
            ("api_key".to_owned(), "** redacted **".to_owned()),
        ]
    );
    assert!(log[0].has_api_key && log[0].has_app_key && !log[0].has_bearer_token);
    assert_eq!(log[0].status, 200);
    assert!(log[1].has_bearer_token && !log[1].has_api_key);
    assert_eq!((log[2].path.as_str(), log[2].status), ("/nope", 404));
    let everything = format!("{log:?} {server:?}");
    for secret in [KEYS[0].1, KEYS[1].1, "secret-token", "leaked"] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked into {everything}"
        );
    }
    let stats = server.stats();
    assert_eq!((stats.requests, stats.ok, stats.rejected), (3, 2, 1));
    Ok(())
}

async fn refuses_connections(addr: std::net::SocketAddr) -> bool {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Paused time: the polling for the dropped server's close takes no real time.
#[tokio::test(start_paused = true)]
async fn shutdown_and_drop_stop_the_server() -> TestResult {
    let server = MockServer::start().await?;
    let addr = server.addr();
    assert_eq!(server.url(), format!("http://{addr}"));
    assert!(addr.ip().is_loopback());
    assert_eq!(get(&server, DNS, "").await?.status, 200);
    server.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());

    let dropped = MockServer::start().await?;
    let addr = dropped.addr();
    drop(dropped);
    assert!(
        refuses_connections(addr).await,
        "still accepting after drop"
    );
    Ok(())
}
