//! What works under paused Tokio time with real loopback sockets, when the test, the client
//! and the server share the test's current-thread runtime (`start_paused` needs one).
//!
//! The paused clock moves only when every task waits and a timer is pending: it then jumps to
//! the earliest timer. Before that the runtime polls the sockets without blocking, and a
//! readiness found then wakes a task, which cancels the jump; a write on loopback has already
//! reached the peer's socket when it returns, so an exchange in progress is never mistaken for
//! idleness: requests, responses and closes go through at the same virtual instant, and only
//! the timers (latency, delays, the idle timeout, the client's own timeouts and sleeps) move
//! the clock, deterministically. A client outside the runtime is another matter (last test).

use std::time::{Duration, Instant as RealInstant};

use datadog_cnm_mock::{Fault, MockServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::support::{CONNECTIONS, DNS, KEYS, TestResult, get, http};

/// An hour of virtual waiting must take far less than a minute of real time.
const REAL_BUDGET: Duration = Duration::from_secs(60);

#[tokio::test(start_paused = true)]
async fn latency_takes_virtual_time_and_requests_are_stamped_with_it() -> TestResult {
    let real = RealInstant::now();
    let server = MockServer::builder()
        .latency(Duration::from_secs(600))
        .start()
        .await?;
    let t0 = Instant::now();
    let reply = get(&server, DNS, "limit=1").await?;
    assert_eq!(reply.status, 200);
    assert_eq!(t0.elapsed(), Duration::from_secs(600));
    let second = get(&server, CONNECTIONS, "limit=1").await?;
    assert_eq!(second.status, 200);
    assert_eq!(t0.elapsed(), Duration::from_secs(1_200));
    let received: Vec<Duration> = server.requests().iter().map(|r| r.received - t0).collect();
    assert_eq!(received, [Duration::ZERO, Duration::from_secs(600)]);
    assert!(real.elapsed() < REAL_BUDGET, "{:?}", real.elapsed());
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_client_timeout_shorter_than_a_delay_fires_at_its_virtual_deadline() -> TestResult {
    let server = MockServer::start().await?;
    server.inject(Fault::Delay {
        delay: Duration::from_secs(3_600),
        times: 1,
    });
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()?;
    let url = format!("{}{CONNECTIONS}?limit=1", server.url());
    let t0 = Instant::now();
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
    assert_eq!(t0.elapsed(), Duration::from_secs(30));
    let fine = get(&server, CONNECTIONS, "limit=1").await?;
    assert_eq!(fine.status, 200);
    assert_eq!(t0.elapsed(), Duration::from_secs(30));
    Ok(())
}

/// Sends one GET on a raw connection and reads the whole response; returns its status line.
async fn exchange(
    stream: &mut TcpStream,
    path: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let request = format!(
        "GET {path} HTTP/1.1\r\nhost: mock\r\n{}: {}\r\n{}: {}\r\n\r\n",
        KEYS[0].0, KEYS[0].1, KEYS[1].0, KEYS[1].1
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err("closed before the response ended".into());
        }
        response.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&response);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .ok_or("no content-length")?
                .parse()?;
            if body.len() >= length {
                return Ok(head.lines().next().unwrap_or_default().to_owned());
            }
        }
    }
}

/// Waits for the server to close `stream`; how long that took on Tokio's clock.
async fn closed_after(stream: &mut TcpStream) -> Result<Duration, Box<dyn std::error::Error>> {
    let t0 = Instant::now();
    let mut byte = [0u8; 1];
    match stream.read(&mut byte).await {
        Ok(0) => Ok(t0.elapsed()),
        other => Err(format!("expected a close, got {other:?}").into()),
    }
}

#[tokio::test(start_paused = true)]
async fn idle_connections_are_closed_after_the_idle_timeout() -> TestResult {
    let real = RealInstant::now();
    let server = MockServer::builder()
        .idle_timeout(Duration::from_secs(30))
        .start()
        .await?;

    // Connected, never a request.
    let mut silent = TcpStream::connect(server.addr()).await?;
    assert_eq!(closed_after(&mut silent).await?, Duration::from_secs(30));

    // Kept alive between requests that come in time; closed 30 s after the last response.
    let mut stream = TcpStream::connect(server.addr()).await?;
    assert_eq!(exchange(&mut stream, DNS).await?, "HTTP/1.1 200 OK");
    tokio::time::sleep(Duration::from_secs(29)).await;
    assert_eq!(
        exchange(&mut stream, "/nope").await?,
        "HTTP/1.1 404 Not Found"
    );
    assert_eq!(closed_after(&mut stream).await?, Duration::from_secs(30));

    // Half a request head counts as idle too.
    let mut slow = TcpStream::connect(server.addr()).await?;
    slow.write_all(b"GET / HTTP/1.1\r\n").await?;
    assert_eq!(closed_after(&mut slow).await?, Duration::from_secs(30));

    assert_eq!(server.stats().requests, 2);
    assert!(real.elapsed() < REAL_BUDGET, "{:?}", real.elapsed());
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn the_default_idle_timeout_is_five_seconds() -> TestResult {
    let server = MockServer::start().await?;
    let mut silent = TcpStream::connect(server.addr()).await?;
    assert_eq!(closed_after(&mut silent).await?, Duration::from_secs(5));
    assert_eq!(
        datadog_cnm_mock::DEFAULT_IDLE_TIMEOUT,
        Duration::from_secs(5)
    );
    Ok(())
}

/// reqwest keeps connections alive; when the server closes one for idleness, the pool notices
/// the close (delivered before the clock can move on) and the next request opens a new one.
#[tokio::test(start_paused = true)]
async fn a_pooled_client_survives_the_idle_timeout() -> TestResult {
    let server = MockServer::start().await?;
    let client = http()?;
    let url = format!("{}{DNS}?limit=1", server.url());
    for _ in 0..3 {
        let response = client
            .get(&url)
            .header(KEYS[0].0, KEYS[0].1)
            .header(KEYS[1].0, KEYS[1].1)
            .send()
            .await?;
        assert_eq!(response.status(), 200);
        response.bytes().await?;
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    assert_eq!(server.stats().ok, 3);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn latency_applies_to_requests_that_are_not_http_too() -> TestResult {
    let server = MockServer::builder()
        .latency(Duration::from_secs(2))
        .start()
        .await?;
    let mut stream = TcpStream::connect(server.addr()).await?;
    let t0 = Instant::now();
    stream.write_all(b"NOT HTTP\r\n\r\n").await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    assert_eq!(t0.elapsed(), Duration::from_secs(2));
    Ok(())
}

/// What does not hold the paused clock: a client outside the runtime (a plain thread, another
/// runtime, a child process). The runtime sees nothing to do but its timers and jumps to the
/// next one, here the idle timeout, while the client has not even sent its request. A client
/// on `spawn_blocking` does hold it: Tokio does not auto-advance while a blocking task runs.
#[tokio::test(start_paused = true)]
async fn a_client_outside_the_runtime_does_not_hold_the_clock_unless_on_spawn_blocking()
-> TestResult {
    use std::io::{Read, Write};

    let server = MockServer::start().await?;
    let addr = server.addr();

    let t0 = Instant::now();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let read = (|| {
            let mut stream = std::net::TcpStream::connect(addr)?;
            // Only a guard: the close comes at once in real time.
            stream.set_read_timeout(Some(REAL_BUDGET))?;
            stream.read(&mut [0u8; 1])
        })();
        tx.send(read.map_err(|e| e.to_string())).ok();
    });
    assert_eq!(rx.await?, Ok(0), "closed for idleness");
    assert_eq!(t0.elapsed(), Duration::from_secs(5));

    let t1 = Instant::now();
    let response = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
        let mut stream = std::net::TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(REAL_BUDGET))?;
        // A client busy in real time before it sends its request.
        std::thread::sleep(Duration::from_millis(50));
        let request = format!(
            "GET {DNS}?limit=1 HTTP/1.1\r\nhost: mock\r\nconnection: close\r\n\
             {}: {}\r\n{}: {}\r\n\r\n",
            KEYS[0].0, KEYS[0].1, KEYS[1].0, KEYS[1].1
        );
        stream.write_all(request.as_bytes())?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        Ok(response)
    })
    .await??;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert_eq!(t1.elapsed(), Duration::ZERO);
    assert_eq!(server.stats().ok, 1);
    Ok(())
}
