//! The server's lifecycle: builder, bind, accept loop, shutdown.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::dataset::Dataset;
use crate::faults::{FaultQueue, FaultRule};
use crate::handler::{Credentials, Shared};
use crate::incident::Incident;
use crate::ratelimit::RateLimiter;
use crate::scenario::Scenario;
use crate::stats::{MockStats, RecordedRequest, Recorder};

/// The seed used unless [`MockServerBuilder::seed`] says otherwise.
pub const DEFAULT_SEED: u64 = 42;
/// Requests per [`DEFAULT_RATE_LIMIT_PERIOD`] unless [`MockServerBuilder::rate_limit`] says
/// otherwise: far more than any test or benchmark sends, so it never gets in the way, while the
/// `X-RateLimit-*` headers still count down as they do on the real API.
pub const DEFAULT_RATE_LIMIT: u32 = 1_000_000;
/// The rate-limit window unless [`MockServerBuilder::rate_limit`] says otherwise.
pub const DEFAULT_RATE_LIMIT_PERIOD: Duration = Duration::from_secs(60);

/// How long a connection may stay idle before the server closes it, unless
/// [`MockServerBuilder::idle_timeout`] says otherwise.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

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

    /// A builder for a server with a seed, a scenario, incidents, credentials, rate limit,
    /// latency or faults.
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

    /// The scenario the data follows ([`MockServerBuilder::scenario`]).
    pub fn scenario(&self) -> Scenario {
        self.shared.dataset.scenario()
    }

    /// The incidents in the data: those the scenario placed (their names say what they
    /// are, their tags which services or names, their times when), then those given to
    /// [`MockServerBuilder::incident`], in order.
    pub fn incidents(&self) -> &[Incident] {
        self.shared.dataset.incidents()
    }

    /// Adds a fault behind those already queued: a plain [`Fault`](crate::Fault) applies to
    /// the next requests that no earlier rule claims, a [`FaultRule`] to the requests it
    /// targets. See [`FaultRule`] for how requests and rules are matched.
    pub fn inject(&self, fault: impl Into<FaultRule>) {
        self.shared.faults.push(fault.into());
    }

    /// Counters of the responses sent so far.
    pub fn stats(&self) -> MockStats {
        MockStats {
            peak_admitted_per_period: self.shared.limiter.peak(),
            ..self.shared.recorder.stats()
        }
    }

    /// How many requests the server has read so far, including those still in progress
    /// (waiting on latency or a delay, which [`requests`](Self::requests) and
    /// [`stats`](Self::stats) do not show yet): the number the last one got.
    pub fn requests_received(&self) -> u64 {
        self.shared.faults.received()
    }

    /// The requests answered so far (a request still waiting on latency or a delay is not
    /// there yet), in the order they arrived, by [`number`](RecordedRequest::number); the most
    /// recent 10 000. Never holds key or token values.
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
    idle_timeout: Duration,
    credentials: Credentials,
    faults: Vec<FaultRule>,
    now: Option<SystemTime>,
    scenario: Scenario,
    incidents: Vec<Incident>,
}

impl Default for MockServerBuilder {
    fn default() -> Self {
        Self {
            seed: DEFAULT_SEED,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            rate_limit: (DEFAULT_RATE_LIMIT, DEFAULT_RATE_LIMIT_PERIOD),
            latency: Duration::ZERO,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            credentials: Credentials::default(),
            faults: Vec::new(),
            now: None,
            scenario: Scenario::Default,
            incidents: Vec::new(),
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
    /// Periods are fixed, not sliding, and calendar-aligned like the real API's: they begin at
    /// whole multiples of `period` since the Unix epoch. The server's clock for this reads the
    /// wall time when the server starts (or the [`now`](Self::now) override) and then runs on
    /// Tokio's clock, so under paused time (`#[tokio::test(start_paused = true)]`) and with a
    /// fixed `now` every `X-RateLimit-Remaining` and `X-RateLimit-Reset` is the same on every
    /// run, and `tokio::time::sleep` moves the server into the next period. `X-RateLimit-Reset`
    /// is the time left in the current period, rounded up to whole seconds, at least 1:
    /// waiting that long always reaches the next period. `period` is rounded up to whole
    /// seconds, at least one.
    ///
    /// Every request that passes authentication is charged, including those rejected by
    /// validation; requests answered 429, 403, 404, 405 or by a fault are not.
    /// [`MockStats::peak_admitted_per_period`] tells the most requests that got data in one
    /// period. Default: [`DEFAULT_RATE_LIMIT`] per [`DEFAULT_RATE_LIMIT_PERIOD`].
    pub fn rate_limit(mut self, limit: u32, period: Duration) -> Self {
        self.rate_limit = (limit, period);
        self
    }

    /// Waits this long before every response, faults and malformed requests included
    /// (default none). The wait is a `tokio::time::sleep`, so it takes no real time under
    /// paused time.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Closes a connection when its client has not sent a complete request within `timeout`
    /// of connecting or of the previous response (default [`DEFAULT_IDLE_TIMEOUT`], 5 s), so
    /// idle keep-alive connections never hold a server task for ever. The close is a plain
    /// FIN, without a response, as real servers do with idle keep-alive connections. The time
    /// is Tokio's: under paused time it elapses whenever the runtime has nothing else to do.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
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

    /// Queues a fault: a plain [`Fault`](crate::Fault) for the first requests, a
    /// [`FaultRule`] for the requests it targets; repeatable, matched in order (see
    /// [`FaultRule`]).
    pub fn fault(mut self, fault: impl Into<FaultRule>) -> Self {
        self.faults.push(fault.into());
        self
    }

    /// Freezes the server's clock at `now`: a request without `from`/`to` gets the window
    /// `[now - 15m, now]`, so its body is the same on every run (default: the system clock).
    /// The scenario's incidents are placed relative to it (without it, relative to the time
    /// the server starts).
    pub fn now(mut self, now: SystemTime) -> Self {
        self.now = Some(now);
        self
    }

    /// What the data looks like (default [`Scenario::Default`]: living data with a few
    /// incidents in the last day; [`Scenario::Calm`] without them; [`Scenario::Flat`] for
    /// nearly flat numbers).
    pub fn scenario(mut self, scenario: Scenario) -> Self {
        self.scenario = scenario;
        self
    }

    /// Adds an incident to the data, after the scenario's; repeatable. See [`Incident`].
    /// [`start`](Self::start) fails with [`io::ErrorKind::InvalidInput`] if the incident is
    /// out of range or would change nothing.
    pub fn incident(mut self, incident: Incident) -> Self {
        self.incidents.push(incident);
        self
    }

    /// Binds the port, generates the data, and starts serving on the current Tokio runtime.
    ///
    /// Fails if the address cannot be bound, if called outside a Tokio runtime, or
    /// ([`io::ErrorKind::InvalidInput`], with an [`IncidentError`](crate::IncidentError)
    /// inside) if an [`incident`](Self::incident) cannot be served.
    pub async fn start(self) -> io::Result<MockServer> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| io::Error::other(format!("MockServer needs a Tokio runtime: {e}")))?;
        let anchor = self.now.unwrap_or_else(SystemTime::now);
        let dataset = Dataset::with_scenario(self.seed, self.scenario, anchor)
            .with_incidents(self.incidents)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let listener = TcpListener::bind(self.addr).await?;
        let addr = listener.local_addr()?;
        let faults = FaultQueue::default();
        for fault in self.faults {
            faults.push(fault);
        }
        // Read both clocks after the data is generated, just before serving.
        let wall = self.now.unwrap_or_else(SystemTime::now);
        let since_epoch = wall.duration_since(UNIX_EPOCH).unwrap_or_default();
        let limiter = RateLimiter::new(
            self.rate_limit.0,
            self.rate_limit.1,
            tokio::time::Instant::now(),
            since_epoch,
        );
        let shared = Arc::new(Shared {
            dataset,
            limiter,
            faults,
            recorder: Recorder::default(),
            latency: self.latency,
            idle_timeout: self.idle_timeout,
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
            .field("idle_timeout", &self.idle_timeout)
            .field("keys", &redacted(self.credentials.pair.is_some()))
            .field("bearer_token", &redacted(self.credentials.bearer.is_some()))
            .field("faults", &self.faults)
            .field("now", &self.now)
            .field("scenario", &self.scenario)
            .field("incidents", &self.incidents)
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
