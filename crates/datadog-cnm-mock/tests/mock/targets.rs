//! Fault targets: by endpoint, by request number, by header, and the FIFO of plain faults,
//! deterministic whatever order concurrent requests arrive in.

use std::time::Duration;

use datadog_cnm_mock::{CustomResponse, Endpoint, Fault, FaultRule, MockServer, Target};

use crate::support::{CONNECTIONS, DNS, KEYS, TestResult, get, get_with, http};

fn status(code: u16, times: u32) -> Fault {
    Fault::Status {
        status: code,
        times,
    }
}

/// Statuses of the recorded requests, in arrival order.
fn statuses(server: &MockServer) -> Vec<u16> {
    server.requests().iter().map(|r| r.status).collect()
}

#[tokio::test]
async fn an_operation_target_only_faults_that_endpoint() -> TestResult {
    let server = MockServer::start().await?;
    server.inject(status(503, 2).on(Target::Operation(Endpoint::Dns)));
    for path in [CONNECTIONS, DNS, CONNECTIONS, DNS, DNS] {
        get(&server, path, "limit=1").await?;
    }
    assert_eq!(statuses(&server), [200, 503, 200, 503, 200]);
    let log = server.requests();
    let endpoints: Vec<_> = log.iter().filter_map(|r| r.endpoint).collect();
    assert_eq!(
        endpoints,
        [
            Endpoint::Connections,
            Endpoint::Dns,
            Endpoint::Connections,
            Endpoint::Dns,
            Endpoint::Dns
        ]
    );
    assert_eq!(log[1].fault, Some(status(503, 1)));
    assert_eq!(log[2].fault, None);
    assert_eq!(server.stats().faults, 2);
    Ok(())
}

#[tokio::test]
async fn a_request_number_target_faults_that_request_and_the_next_times_minus_one() -> TestResult {
    let server = MockServer::builder()
        .fault(Fault::ConnectionReset { times: 1 }.on(Target::Request(3)))
        .fault(status(500, 2).on(Target::Request(5)))
        .start()
        .await?;
    for _ in 0..7 {
        // The reset is an error on the client's side; the log tells what happened.
        let _ = get(&server, CONNECTIONS, "limit=1").await;
    }
    assert_eq!(statuses(&server), [200, 200, 0, 200, 500, 500, 200]);
    let numbers: Vec<u64> = server.requests().iter().map(|r| r.number).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6, 7]);
    Ok(())
}

/// Ten concurrent requests, five tagged: the tagged ones get the header rule's fault, and the
/// plain fault queued after it goes to exactly one untagged request, whatever the order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_target_faults_only_tagged_requests_under_concurrency() -> TestResult {
    let server = MockServer::start().await?;
    server.inject(status(503, 5).on(Target::header("X-Mock-Fault", "a")));
    server.inject(status(502, 1));
    let url = format!("{}{CONNECTIONS}?limit=1", server.url());
    let client = http()?;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let request = client
                .get(&url)
                .header(KEYS[0].0, KEYS[0].1)
                .header(KEYS[1].0, KEYS[1].1)
                .header("x-mock-fault", if i % 2 == 0 { "a" } else { "b" });
            tokio::spawn(async move { (i, request.send().await.map(|r| r.status().as_u16())) })
        })
        .collect();
    let mut untagged = Vec::new();
    for task in tasks {
        let (i, status) = task.await?;
        let status = status?;
        if i % 2 == 0 {
            assert_eq!(status, 503, "tagged request {i}");
        } else {
            untagged.push(status);
        }
    }
    untagged.sort_unstable();
    assert_eq!(untagged, [200, 200, 200, 200, 502]);
    Ok(())
}

#[tokio::test]
async fn plain_faults_and_rules_share_one_queue_in_injection_order() -> TestResult {
    let server = MockServer::start().await?;
    // Any request: the first arrival takes it, DNS or not.
    server.inject(status(500, 1));
    server.inject(status(503, 1).on(Target::Operation(Endpoint::Connections)));
    server.inject(FaultRule::new(status(504, 1)));
    get(&server, DNS, "limit=1").await?;
    get(&server, DNS, "limit=1").await?;
    get(&server, CONNECTIONS, "limit=1").await?;
    get(&server, CONNECTIONS, "limit=1").await?;
    assert_eq!(statuses(&server), [500, 504, 503, 200]);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_rule_can_hold_any_fault_back() -> TestResult {
    let server = MockServer::start().await?;
    let slow = CustomResponse::new(429).header("retry-after", "7");
    server.inject(
        Fault::Respond {
            response: slow,
            times: 1,
        }
        .after(Duration::from_secs(30)),
    );
    server.inject(
        Fault::ConnectionReset { times: 1 }
            .on(Target::header("x-mock-fault", "stall"))
            .after(Duration::from_secs(10)),
    );
    let started = tokio::time::Instant::now();
    let reply = get(&server, DNS, "").await?;
    assert_eq!(
        (reply.status, reply.header("retry-after")),
        (429, Some("7"))
    );
    assert_eq!(started.elapsed(), Duration::from_secs(30));

    let mut headers = KEYS.to_vec();
    headers.push(("x-mock-fault", "stall"));
    let started = tokio::time::Instant::now();
    let reset = get_with(&server, DNS, "", &headers).await;
    assert!(reset.is_err(), "{reset:?}");
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    assert_eq!(statuses(&server), [429, 0]);
    Ok(())
}

#[tokio::test]
async fn a_request_number_in_the_past_never_matches_and_is_dropped() -> TestResult {
    let server = MockServer::start().await?;
    get(&server, DNS, "limit=1").await?;
    server.inject(status(500, 1).on(Target::Request(1)));
    get(&server, DNS, "limit=1").await?;
    assert_eq!(statuses(&server), [200, 200]);
    Ok(())
}
