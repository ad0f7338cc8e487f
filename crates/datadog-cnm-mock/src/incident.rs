//! Incidents as data: what happens to which flows' metrics, and when.

use std::error::Error;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use datadog_cnm_raw::Aggregation;

use crate::shape::MAX_TIMESTAMP;

/// The largest [`Effect::Scale`] factor.
pub const MAX_SCALE: f64 = 1e6;
/// The largest [`Effect::Add`] amount.
pub const MAX_ADD: f64 = 1e12;

/// Something that happens to some flows' metrics for a while: a retransmit storm between
/// two services, an NXDOMAIN surge for a name, a pair of services going silent.
///
/// An incident changes the *rate* of the chosen metrics of the chosen flows over
/// `[start, start + duration)`, and the mock integrates the changed rate exactly, like the
/// normal one: `sum` metrics stay exactly additive over adjacent windows, across the
/// incident's edges too, and DNS counts keep their invariants.
///
/// - [`target`](Self::target): `key:value` tag matchers, all of which a flow must match
///   (values may use `*`; keys and values match case-insensitively, as in the API's `tags`).
///   Connection flows carry `client_service`, `server_service`, `client_team`,
///   `server_team`, `client_env`, `server_env`, `client_host`, `server_host` and `env`; DNS
///   flows `network.dns_query`, `client_service`, `client_team`, `client_env`,
///   `client_host`, `server_service`, `server_team`, `server_env`, `server_host` (the
///   resolver) and `env`. A matcher on a key an endpoint's flows do not have matches none of
///   them, so one incident can aim at connections only (`server_service:payments-db`) or at
///   DNS only (`network.dns_query:*.internal.example.com`). No matcher: every flow.
/// - [`metrics`](Self::metrics): which metrics of those flows ([`MetricSet`]); a DNS count
///   made of others (`dns_total_requests`, `dns_failures`, …) stands for all its parts.
/// - [`effect`](Self::effect): what happens to them ([`Effect`]).
///
/// Several incidents on one flow and metric combine: the factors of those active at a time
/// multiply, their additions add up.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use datadog_cnm_mock::{Aggregation, Effect, Incident, MockServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let now = UNIX_EPOCH + Duration::from_secs(1_764_151_200);
/// let hour = Duration::from_secs(3_600);
/// // Retransmits ×40 between two services (with the default seed, orders-web calls
/// // checkout-cache) for 40 minutes, an hour ago.
/// let storm = Incident::new("retransmit storm", now - hour, Duration::from_secs(2_400))
///     .tag("client_service", "orders-web")
///     .tag("server_service", "checkout-cache")
///     .metrics(["tcp_retransmits", "tcp_rto_count"])
///     .effect(Effect::Scale(40.0));
/// // Every `dev` client silent for two hours (an outage: the default effect).
/// let outage = Incident::new("dev is down", now - 3 * hour, 2 * hour).tag("client_env", "dev");
/// // Two more NXDOMAIN answers per second per flow for names of the example domain.
/// let typo = Incident::new("bad config", now - hour, hour)
///     .tag("network.dns_query", "*.internal.example.com")
///     .metrics("dns_responses.nxdomain")
///     .effect(Effect::Add(2.0));
/// let server = MockServer::builder()
///     .now(now)
///     .incident(storm)
///     .incident(outage)
///     .incident(typo)
///     .start()
///     .await?;
/// assert!(server.incidents().iter().any(|i| i.name == "dev is down"));
///
/// // An incident that would change nothing is refused rather than silently ignored.
/// let nobody = Incident::new("nobody", now - hour, hour)
///     .tag("server_service", "no-such-service")
///     .metrics(Aggregation::Sum);
/// let refused = MockServer::builder().incident(nobody).start().await.err();
/// assert_eq!(refused.map(|e| e.kind()), Some(std::io::ErrorKind::InvalidInput));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Incident {
    /// A name for reports and test messages, e.g. `retransmit storm: web-api → ledger-db`.
    pub name: String,
    /// Which flows: `(key, value)` tag matchers, all of which must match; empty: every flow.
    pub target: Vec<(String, String)>,
    /// Which of their metrics.
    pub metrics: MetricSet,
    /// What happens to them.
    pub effect: Effect,
    /// When it begins (times before the Unix epoch count as the epoch).
    pub start: SystemTime,
    /// How long it lasts; it ends at `start + duration` (at most at the API's latest
    /// timestamp, 9999-12-31T23:59:59Z).
    pub duration: Duration,
}

impl Incident {
    /// An incident over `[start, start + duration)` that silences every metric of every flow
    /// (an outage: [`Effect::Scale`]`(0.0)`, [`MetricSet::All`], no tag matcher) until the
    /// setters below narrow it down.
    pub fn new(name: impl Into<String>, start: SystemTime, duration: Duration) -> Self {
        Self {
            name: name.into(),
            target: Vec::new(),
            metrics: MetricSet::All,
            effect: Effect::Scale(0.0),
            start,
            duration,
        }
    }

    /// Adds a tag matcher: only flows whose `key` matches `value` (which may use `*`).
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.target.push((key.into(), value.into()));
        self
    }

    /// Which metrics change: names (`["tcp_retransmits", "tcp_timeouts"]`), an
    /// [`Aggregation`] (`Aggregation::Sum`), or [`MetricSet::All`].
    pub fn metrics(mut self, metrics: impl Into<MetricSet>) -> Self {
        self.metrics = metrics.into();
        self
    }

    /// What happens to them.
    pub fn effect(mut self, effect: Effect) -> Self {
        self.effect = effect;
        self
    }

    /// When it ends: `start + duration`.
    pub fn end(&self) -> SystemTime {
        self.start.checked_add(self.duration).unwrap_or(self.start)
    }

    /// Validates the incident and converts its times and amounts for the data layer.
    pub(crate) fn check(&self) -> Result<Checked, IncidentError> {
        let fail = |problem: String| IncidentError {
            incident: self.name.clone(),
            problem,
        };
        let max = MAX_TIMESTAMP as u64 + 1;
        let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let start = secs(self.start).min(max);
        let end = start.saturating_add(self.duration.as_secs()).min(max);
        if end <= start {
            return Err(fail(format!(
                "it lasts no whole second (from {start} to {end}, Unix seconds)"
            )));
        }
        if let Some((key, value)) = self
            .target
            .iter()
            .find(|(k, v)| k.is_empty() || v.is_empty())
        {
            return Err(fail(format!(
                "the tag matcher `{key}:{value}` is incomplete"
            )));
        }
        if let MetricSet::Names(names) = &self.metrics
            && names.is_empty()
        {
            return Err(fail("it names no metric".to_owned()));
        }
        let (scale, add) = match self.effect {
            Effect::Scale(f) if f.is_finite() && (0.0..=MAX_SCALE).contains(&f) => {
                ((f * 65_536.0).round() as u64, 0.0)
            }
            Effect::Add(a) if a.is_finite() && (0.0..=MAX_ADD).contains(&a) => (1 << 16, a),
            effect => {
                return Err(fail(format!(
                    "{effect:?} is out of range (factors 0 to {MAX_SCALE}, additions 0 to \
                     {MAX_ADD}; to reduce a metric, scale it below 1)"
                )));
            }
        };
        Ok(Checked {
            start,
            end,
            scale,
            add,
        })
    }
}

/// An incident's window in Unix seconds and its effect in fixed point.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Checked {
    pub(crate) start: u64,
    pub(crate) end: u64,
    /// The factor, 2^16 = 1.
    pub(crate) scale: u64,
    /// The addition, per second for lanes, per flow value for means.
    pub(crate) add: f64,
}

impl fmt::Display for Incident {
    /// `name: ×40 on tcp_retransmits of client_service:a,server_service:b over
    /// [1799989200, 1799991600) (Unix seconds)`; an open end shows as `…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} on {} of ", self.name, self.effect, self.metrics)?;
        if self.target.is_empty() {
            f.write_str("every flow")?;
        }
        for (i, (key, value)) in self.target.iter().enumerate() {
            let sep = if i > 0 { "," } else { "" };
            write!(f, "{sep}{key}:{value}")?;
        }
        let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let (start, end) = (secs(self.start), secs(self.end()));
        let show = |t: u64, open: bool| {
            if open {
                "…".to_owned()
            } else {
                t.to_string()
            }
        };
        write!(
            f,
            " over [{}, {}) (Unix seconds)",
            show(start, start == 0),
            show(end, end > MAX_TIMESTAMP as u64)
        )
    }
}

/// Which metrics an [`Incident`] changes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricSet {
    /// Every metric of both endpoints.
    All,
    /// Every metric with this aggregation (`Aggregation::Sum`: all counts).
    Aggregation(Aggregation),
    /// These metrics, by their wire names (`tcp_retransmits`, `dns_responses.nxdomain`); a
    /// name neither endpoint reports makes the server refuse to start.
    Names(Vec<String>),
}

impl From<Aggregation> for MetricSet {
    fn from(aggregation: Aggregation) -> Self {
        Self::Aggregation(aggregation)
    }
}

impl From<&str> for MetricSet {
    fn from(name: &str) -> Self {
        Self::Names(vec![name.to_owned()])
    }
}

impl<S: Into<String>, const N: usize> From<[S; N]> for MetricSet {
    fn from(names: [S; N]) -> Self {
        Self::Names(names.into_iter().map(Into::into).collect())
    }
}

impl From<Vec<String>> for MetricSet {
    fn from(names: Vec<String>) -> Self {
        Self::Names(names)
    }
}

impl fmt::Display for MetricSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("every metric"),
            Self::Aggregation(a) => write!(f, "every {a} metric"),
            Self::Names(names) => f.write_str(&names.join(", ")),
        }
    }
}

/// What an [`Incident`] does to its metrics while it lasts, per flow.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Effect {
    /// Multiplies the metric's normal rate (`sum`, `rate`) or value (`mean`, `percentile`)
    /// by this factor, from 0 (silence) to [`MAX_SCALE`]: `Scale(40.0)` for a storm.
    Scale(f64),
    /// Adds this much to each matching flow, from 0 to [`MAX_ADD`]: per second to a `sum` or
    /// `rate` metric (in its unit: `Add(2.0)` on `dns_responses.nxdomain` is two more
    /// NXDOMAIN answers per second per flow), to the value of a `mean` or `percentile` one
    /// (`Add(200.0)` on a latency in ms). Useful where the normal rate is zero.
    Add(f64),
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Scale(factor) => write!(f, "×{factor}"),
            Self::Add(amount) => write!(f, "+{amount}"),
        }
    }
}

/// Why an [`Incident`] cannot be served: an effect out of range, a window of no time, an
/// unknown metric name, or nothing it would change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncidentError {
    incident: String,
    problem: String,
}

impl IncidentError {
    pub(crate) fn new(incident: &str, problem: String) -> Self {
        Self {
            incident: incident.to_owned(),
            problem,
        }
    }

    /// The incident's name.
    pub fn incident(&self) -> &str {
        &self.incident
    }
}

impl fmt::Display for IncidentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "incident `{}`: {}", self.incident, self.problem)
    }
}

impl Error for IncidentError {}
