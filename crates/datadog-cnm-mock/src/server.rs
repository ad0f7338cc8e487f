//! The server's lifecycle: builder, bind, accept loop, shutdown.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::dataset::Dataset;
use crate::faults::{Fault, FaultQueue};
use crate::handler::{Credentials, Shared};
use crate::ratelimit::RateLimiter;
use crate::stats::{MockStats, RecordedRequest, Recorder};

/// The seed used unless [`MockServerBuilder::seed`] says otherwise.
pub const DEFAULT_SEED: u64 = 42;
/// Requests per [`DEFAULT_RATE_LIMIT_PERIOD`] unless [`MockServerBuilder::rate_limit`] says
/// otherwise: far more than any test or benchmark sends, so it never gets in the way, while the
/// `X-RateLimit-*` headers still count down as they do on the real API.
pub const DEFAULT_RATE_LIMIT: u32 = 1_000_000;
/// The rate-limit window unless [`MockServerBuilder::rate_limit`] says otherwise.
pub const DEFAULT_RATE_LIMIT_PERIOD: Duration = Duration::from_secs(60);

/// How long [`MockServer::shutdown`] lets open connections finish their current response.
const DRAIN: Duration = Duration::from_secs(5);

/// A running mock of the Datadog CNM aggregate API on a local TCP port.
///
/// Start one with [`MockServer::start`] (all defaults) or [`MockServer::builder`], point your
/// client at [`url`](Self::url), and drop it (or `.shutdown().await`) when done. The server runs
/// on the Tokio runtime that started it, which may be a current-thread runtime such as the one
/// `#[tokio::test]` creates.
pub struct MockServer {
    addr: SocketAddr,
    url: String,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl MockServer {
    /// Starts a server with the defaults on `127.0.0.1` and a free port.
    ///
    /// Fails if the port cannot be bound or if called outside a Tokio runtime.
    pub async fn start() -> io::Result<Self> {
        Self::builder().start().await
    }

    /// A builder for a server with a seed, credentials, rate limit, latency or faults.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }

    /// The base URL, `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The seed the data was generated from.
    pub fn seed(&self) -> u64 {
        self.shared.dataset.seed()
    }

    /// The data the server serves, to compute expected bodies without HTTP.
    pub fn dataset(&self) -> &Dataset {
        &self.shared.dataset
    }

    /// Queues a fault behind those already queued; it applies to the next requests.
    pub fn inject(&self, fault: Fault) {
        self.shared.faults.push(fault);
    }

    /// Counters of the responses sent so far.
    pub fn stats(&self) -> MockStats {
        self.shared.recorder.stats()
    }

    /// The requests received so far, oldest first (the most recent 10 000). Never holds key or
    /// token values.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.recorder.requests()
    }

    /// Stops accepting connections, lets open connections finish the response they are
    /// writing (for up to five seconds), and waits until everything has stopped.
    pub async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        if let Some(task) = self.task.take() {
            task.await.ok();
        }
    }
}

impl Drop for MockServer {
    /// Signals the server to stop; it finishes in the background on its runtime.
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer")
            .field("url", &self.url)
            .field("seed", &self.seed())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Configures a [`MockServer`]; from [`MockServer::builder`].
#[derive(Clone)]
pub struct MockServerBuilder {
    seed: u64,
    addr: SocketAddr,
    rate_limit: (u32, Duration),
    latency: Duration,
    credentials: Credentials,
    faults: Vec<Fault>,
    now: Option<SystemTime>,
}

impl Default for MockServerBuilder {
    fn default() -> Self {
        Self {
            seed: DEFAULT_SEED,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            rate_limit: (DEFAULT_RATE_LIMIT, DEFAULT_RATE_LIMIT_PERIOD),
            latency: Duration::ZERO,
            credentials: Credentials::default(),
            faults: Vec::new(),
            now: None,
        }
    }
}

impl MockServerBuilder {
    /// The seed of the synthetic data (default [`DEFAULT_SEED`]). Same seed, same bodies.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The address to listen on (default `127.0.0.1:0`, a free loopback port).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Allows `limit` requests per `period` and answers 429 beyond that.
    ///
    /// Windows are fixed, not sliding: one starts at the first request after the previous one
    /// ended (the real API aligns them to the clock; starting at the first request makes tests
    /// independent of when they run). `period` is rounded up to whole seconds, at least one.
    /// Every request that passes authentication is charged, including those rejected by
    /// validation; requests answered 429, 403, 404, 405 or by a fault are not. Default:
    /// [`DEFAULT_RATE_LIMIT`] per [`DEFAULT_RATE_LIMIT_PERIOD`].
    pub fn rate_limit(mut self, limit: u32, period: Duration) -> Self {
        self.rate_limit = (limit, period);
        self
    }

    /// Waits this long before every response, faults included (default none).
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Accepts only this `DD-API-KEY` / `DD-APPLICATION-KEY` pair (and the bearer token from
    /// [`require_bearer_token`](Self::require_bearer_token), if one is set); anything else gets
    /// a 403. By default any non-empty pair, or any non-empty bearer token, is accepted.
    pub fn require_keys(mut self, api_key: impl Into<String>, app_key: impl Into<String>) -> Self {
        self.credentials.pair = Some((api_key.into(), app_key.into()));
        self
    }

    /// Accepts only this `Authorization: Bearer` token (and the pair from
    /// [`require_keys`](Self::require_keys), if one is set); anything else gets a 403.
    pub fn require_bearer_token(mut self, token: impl Into<String>) -> Self {
        self.credentials.bearer = Some(token.into());
        self
    }

    /// Queues a fault for the first requests; repeatable, applied in order.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// Freezes the server's clock at `now`: a request without `from`/`to` gets the window
    /// `[now - 15m, now]`, so its body is the same on every run (default: the system clock).
    pub fn now(mut self, now: SystemTime) -> Self {
        self.now = Some(now);
        self
    }

    /// Binds the port, generates the data, and starts serving on the current Tokio runtime.
    ///
    /// Fails if the address cannot be bound or if called outside a Tokio runtime.
    pub async fn start(self) -> io::Result<MockServer> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| io::Error::other(format!("MockServer needs a Tokio runtime: {e}")))?;
        let listener = TcpListener::bind(self.addr).await?;
        let addr = listener.local_addr()?;
        let faults = FaultQueue::default();
        for fault in self.faults {
            faults.push(fault);
        }
        let shared = Arc::new(Shared {
            dataset: Dataset::new(self.seed),
            limiter: RateLimiter::new(self.rate_limit.0, self.rate_limit.1),
            faults,
            recorder: Recorder::default(),
            latency: self.latency,
            credentials: self.credentials,
            now: self.now,
        });
        let (shutdown, signal) = watch::channel(false);
        let task = runtime.spawn(accept_loop(listener, Arc::clone(&shared), signal));
        Ok(MockServer {
            addr,
            url: format!("http://{addr}"),
            shared,
            shutdown,
            task: Some(task),
        })
    }
}

impl fmt::Debug for MockServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |set: bool| if set { "** redacted **" } else { "any" };
        f.debug_struct("MockServerBuilder")
            .field("seed", &self.seed)
            .field("addr", &self.addr)
            .field("rate_limit", &self.rate_limit)
            .field("latency", &self.latency)
            .field("keys", &redacted(self.credentials.pair.is_some()))
            .field("bearer_token", &redacted(self.credentials.bearer.is_some()))
            .field("faults", &self.faults)
            .field("now", &self.now)
            .finish()
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut signal: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            // Also fires when the sender is gone: the `MockServer` was dropped.
            _ = signal.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(crate::http::serve(stream, Arc::clone(&shared), signal.clone()));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    tokio::time::timeout(DRAIN, async {
        while connections.join_next().await.is_some() {}
    })
    .await
    .ok();
}
