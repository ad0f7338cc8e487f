//! The retry matrix's server behaviours (the workspace's `tests/retry.rs`), produced by the
//! mock and checked from the wire: what a client under test would see.

use std::time::Duration;

use datadog_cnm_mock::{CustomResponse, Fault, MockServer};

use crate::support::{CONNECTIONS, DNS, KEYS, Reply, TestResult, get, http};

const LIMITED: &str = r#"{"errors":[{"status":"429","title":"Too many requests"}]}"#;

fn respond(response: CustomResponse) -> Fault {
    Fault::Respond { response, times: 1 }
}

fn reply_429(headers: &[(&str, &str)], body: &str) -> CustomResponse {
    headers
        .iter()
        .fold(CustomResponse::new(429), |r, (name, value)| {
            r.header(*name, *value)
        })
        .body(body)
}

/// The response's header names, sorted, without `content-length`.
fn names(reply: &Reply) -> Vec<String> {
    let mut names: Vec<String> = reply
        .headers
        .keys()
        .map(|n| n.as_str().to_owned())
        .filter(|n| n != "content-length")
        .collect();
    names.sort();
    names
}

/// One request through a fresh server that has exactly `fault` queued, then a normal one.
async fn one(fault: Fault) -> Result<Reply, Box<dyn std::error::Error>> {
    let server = MockServer::builder().fault(fault).start().await?;
    let reply = get(&server, CONNECTIONS, "limit=1").await?;
    assert_eq!(get(&server, CONNECTIONS, "limit=1").await?.status, 200);
    Ok(reply)
}

#[tokio::test]
async fn rate_limit_headers_exactly_as_given() -> TestResult {
    // s01, s02, s07: the reset as a number, repeated, or past any budget.
    for (reset, extra) in [
        ("3", vec![("x-ratelimit-remaining", "0")]),
        ("2, 2", vec![]),
        (
            "600",
            vec![("x-ratelimit-limit", "100"), ("x-ratelimit-name", "cnm")],
        ),
    ] {
        let mut headers = vec![("x-ratelimit-reset", reset)];
        headers.extend(extra.iter().copied());
        let reply = one(respond(reply_429(&headers, LIMITED))).await?;
        assert_eq!(reply.status, 429);
        assert_eq!(reply.text, LIMITED);
        assert_eq!(reply.header("x-ratelimit-reset"), Some(reset));
        let mut expected: Vec<String> = headers.iter().map(|(n, _)| (*n).to_owned()).collect();
        expected.sort();
        assert_eq!(names(&reply), expected, "nothing but the given headers");
    }
    Ok(())
}

#[tokio::test]
async fn retry_after_in_seconds_or_as_a_date_and_429_without_any_header() -> TestResult {
    // s03, s04, s05.
    let date = "Wed, 21 Oct 2026 07:28:00 GMT";
    for value in ["7", date] {
        let reply = one(respond(reply_429(&[("retry-after", value)], LIMITED))).await?;
        assert_eq!(
            (reply.status, reply.header("retry-after")),
            (429, Some(value))
        );
        assert_eq!(names(&reply), ["retry-after"]);
    }
    let bare = one(respond(reply_429(&[], LIMITED))).await?;
    assert_eq!((bare.status, bare.text.as_str()), (429, LIMITED));
    assert!(names(&bare).is_empty(), "{:?}", bare.headers);
    Ok(())
}

#[tokio::test]
async fn a_429_with_an_html_body() -> TestResult {
    // s06.
    let html = "<html><body><h1>429 Too Many Requests</h1></body></html>";
    let headers = [("content-type", "text/html"), ("x-ratelimit-reset", "1")];
    let reply = one(respond(reply_429(&headers, html))).await?;
    assert_eq!((reply.status, reply.text.as_str()), (429, html));
    assert_eq!(reply.header("content-type"), Some("text/html"));
    Ok(())
}

#[tokio::test]
async fn server_errors_with_json_empty_or_rate_limit_headers() -> TestResult {
    // s09, s09b, s10, and the 502s of the time-budget test.
    let json = one(respond(
        CustomResponse::new(500).body(r#"{"errors":["Internal Server Error"]}"#),
    ))
    .await?;
    assert_eq!(json.status, 500);
    assert_eq!(json.text, r#"{"errors":["Internal Server Error"]}"#);
    let with_reset = one(respond(
        CustomResponse::new(500)
            .header("x-ratelimit-reset", "55")
            .header("x-ratelimit-remaining", "90"),
    ))
    .await?;
    assert_eq!(
        (
            with_reset.status,
            with_reset.header("x-ratelimit-reset"),
            with_reset.text.as_str()
        ),
        (500, Some("55"), "")
    );
    for code in [503, 502] {
        let empty = one(respond(CustomResponse::new(code))).await?;
        assert_eq!((empty.status, empty.text.as_str()), (code, ""));
        assert_eq!(empty.header("content-length"), Some("0"));
    }
    Ok(())
}

#[tokio::test]
async fn client_errors_with_json_api_bodies() -> TestResult {
    // s11, s12.
    for (code, title) in [(400, "Invalid limit"), (403, "Forbidden")] {
        let body = format!(r#"{{"errors":[{{"status":"{code}","title":"{title}"}}]}}"#);
        let reply = one(respond(CustomResponse::new(code).body(body.clone()))).await?;
        assert_eq!((reply.status, reply.text), (code, body));
    }
    Ok(())
}

#[tokio::test]
async fn a_reset_before_the_response_then_one_in_the_middle_of_the_body() -> TestResult {
    // s14, with both ways a body can stop: FIN (truncate_after) and RST (reset_after).
    let body = r#"{"data":[{"attributes":{"bytes_sent_by_client":12}}]}"#;
    for partial in [
        CustomResponse::new(200).body(body).truncate_after(35),
        CustomResponse::new(200).body(body).reset_after(35),
    ] {
        let server = MockServer::builder()
            .fault(Fault::ConnectionReset { times: 1 })
            .fault(respond(partial))
            .start()
            .await?;
        let request = || {
            http().map(|c| {
                c.get(format!("{}{DNS}", server.url()))
                    .header(KEYS[0].0, KEYS[0].1)
                    .header(KEYS[1].0, KEYS[1].1)
            })
        };
        let reset = request()?.send().await;
        let error = reset.err().ok_or("the reset request succeeded")?;
        assert!(error.status().is_none() && !error.is_timeout(), "{error:?}");

        let response = request()?.send().await?;
        assert_eq!(response.status(), 200);
        assert_eq!(response.content_length(), Some(body.len() as u64));
        let read = response.bytes().await;
        assert!(read.is_err(), "the body read must fail, got {read:?}");

        assert_eq!(request()?.send().await?.status(), 200);
        let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
        assert_eq!(statuses, [0, 200, 200]);
    }
    Ok(())
}

#[tokio::test]
async fn a_complete_message_with_cut_json() -> TestResult {
    // s15.
    let cut = r#"{"data":[{"attributes":{"bytes_sent_by_client":12,"group_bys":{"client_se"#;
    let reply = one(respond(
        CustomResponse::new(200)
            .header("content-type", "application/vnd.api+json")
            .body(cut),
    ))
    .await?;
    assert_eq!((reply.status, reply.text.as_str()), (200, cut));
    assert_eq!(
        reply.header("content-length"),
        Some(cut.len().to_string().as_str())
    );
    assert!(reply.json().is_err());
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_server_slower_than_the_client_timeout() -> TestResult {
    // s16: twice 5 s against a 200 ms timeout, with a normal or a custom response behind it.
    let server = MockServer::builder()
        .fault(Fault::Delay {
            delay: Duration::from_secs(5),
            times: 1,
        })
        .fault(
            respond(CustomResponse::new(200).body(r#"{"data":[]}"#)).after(Duration::from_secs(5)),
        )
        .start()
        .await?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(200))
        .build()?;
    let url = format!("{}{CONNECTIONS}", server.url());
    for _ in 0..2 {
        let started = tokio::time::Instant::now();
        let result = client
            .get(&url)
            .header(KEYS[0].0, KEYS[0].1)
            .header(KEYS[1].0, KEYS[1].1)
            .send()
            .await;
        assert!(
            result.as_ref().is_err_and(reqwest::Error::is_timeout),
            "{result:?}"
        );
        assert_eq!(started.elapsed(), Duration::from_millis(200));
    }
    // Both arrived; neither is answered yet.
    assert_eq!(server.requests_received(), 2);
    let answered: Vec<u64> = server.requests().iter().map(|r| r.number).collect();
    assert!(answered.is_empty(), "still waiting: {answered:?}");
    // Once the delays are over, both show up as answered.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(server.requests().len(), 2);
    Ok(())
}

/// Eight concurrent requests all get a 429 with a one-second reset; the retries, a second
/// later, get data. The log has the arrivals in order with their virtual times.
#[tokio::test(start_paused = true)]
async fn eight_concurrent_requests_all_answered_429_then_one_wave_of_retries() -> TestResult {
    let limited = reply_429(
        &[("x-ratelimit-reset", "1"), ("x-ratelimit-remaining", "0")],
        LIMITED,
    );
    let server = MockServer::builder()
        .fault(Fault::Respond {
            response: limited,
            times: 8,
        })
        .start()
        .await?;
    let client = http()?;
    let url = format!("{}{CONNECTIONS}?limit=1", server.url());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let request = || {
                client
                    .get(&url)
                    .header(KEYS[0].0, KEYS[0].1)
                    .header(KEYS[1].0, KEYS[1].1)
            };
            let (first, retry) = (request(), request());
            tokio::spawn(async move {
                let status = first.send().await?.status().as_u16();
                tokio::time::sleep(Duration::from_secs(1)).await;
                Ok::<_, reqwest::Error>((status, retry.send().await?.status().as_u16()))
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await??, (429, 200));
    }
    let log = server.requests();
    let numbers: Vec<u64> = log.iter().map(|r| r.number).collect();
    assert_eq!(numbers, (1..=16).collect::<Vec<_>>());
    let statuses: Vec<u16> = log.iter().map(|r| r.status).collect();
    assert_eq!(statuses[..8], [429; 8]);
    assert_eq!(statuses[8..], [200; 8]);
    let first = log[0].received;
    for retry in &log[8..] {
        assert_eq!(retry.received - first, Duration::from_secs(1));
    }
    let stats = server.stats();
    assert_eq!(
        (stats.too_many_requests, stats.rate_limited, stats.faults),
        (8, 0, 8)
    );
    Ok(())
}

#[tokio::test]
async fn the_mocks_own_rate_limit_headers_can_be_added_and_overridden() -> TestResult {
    let server = MockServer::builder()
        .rate_limit(5, Duration::from_secs(60))
        .start()
        .await?;
    server.inject(respond(
        reply_429(&[("X-RateLimit-Reset", "2, 2")], LIMITED).rate_limit_headers(),
    ));
    let reply = get(&server, DNS, "").await?;
    assert_eq!(reply.status, 429);
    assert_eq!(reply.header("x-ratelimit-reset"), Some("2, 2"));
    assert_eq!(reply.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(reply.header("x-ratelimit-limit"), Some("5"));
    assert_eq!(reply.header("x-ratelimit-name"), Some("cnm_aggregate"));
    assert_eq!(reply.headers.get_all("x-ratelimit-reset").iter().count(), 1);
    // Not charged.
    let next = get(&server, DNS, "limit=1").await?;
    assert_eq!(next.rate_limit()?.remaining, 4);
    Ok(())
}

#[tokio::test]
async fn unsendable_headers_are_left_out_and_connection_close_closes() -> TestResult {
    let server = MockServer::start().await?;
    server.inject(respond(
        CustomResponse::new(1_000)
            .header("bad name", "x")
            .header("x-split", "a\r\nx-injected: yes")
            .header("content-length", "999")
            .header("transfer-encoding", "chunked")
            .header("", "empty")
            .header("x-fine", "  kept  ")
            .header("Connection", "close")
            .body("done"),
    ));
    let reply = get(&server, DNS, "").await?;
    assert_eq!((reply.status, reply.text.as_str()), (500, "done"));
    assert_eq!(names(&reply), ["connection", "x-fine"]);
    assert_eq!(reply.header("x-fine"), Some("kept"));
    assert_eq!(reply.header("connection"), Some("close"));
    Ok(())
}
