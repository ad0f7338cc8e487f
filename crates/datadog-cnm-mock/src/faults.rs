//! Fault injection: rules saying which requests misbehave ([`Target`]) and how ([`Fault`]),
//! matched in injection order when a request arrives.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use crate::endpoint::Endpoint;

/// A misbehaviour for `times` requests, queued with
/// [`MockServerBuilder::fault`](crate::MockServerBuilder::fault) or
/// [`MockServer::inject`](crate::MockServer::inject).
///
/// A plain `Fault` applies to the next requests, whatever they are, in FIFO order, one unit per
/// request: `[Status { 503, times: 2 }, ConnectionReset { times: 1 }]` answers the next two
/// requests with 503 and drops the third connection. To aim it at particular requests instead,
/// give it a [`Target`] with [`Fault::on`]; to hold it back first, a delay with
/// [`Fault::after`] (both make a [`FaultRule`]).
///
/// A fault takes precedence over routing, authentication, rate limiting and validation (a
/// faulted request is not charged to the rate limit), and the configured
/// [`latency`](crate::MockServerBuilder::latency) still applies before it. A fault with
/// `times: 0` is ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Respond with `status` and a JSON:API error body
    /// (`{"errors":[{"status":"503","title":"Service Unavailable","detail":"…"}]}`), with the
    /// usual `X-RateLimit-*` headers. For a 429 they say the limit is exhausted
    /// (`X-RateLimit-Remaining: 0`) and resets in one second (`X-RateLimit-Reset: 1`), so a
    /// client that honours them retries quickly; no `Retry-After` is sent (see
    /// [`Fault::RetryAfter`]). A `status` outside `100..=999` is sent as 500.
    Status {
        /// The HTTP status code.
        status: u16,
        /// How many requests get it.
        times: u32,
    },
    /// Respond 200 with `Content-Type: application/vnd.api+json` and a body that is not JSON.
    MalformedBody {
        /// How many requests get it.
        times: u32,
    },
    /// Respond 200 with a `Content-Length` of the full body, send only half of it, then close
    /// the connection: the headers arrive, reading the body fails. For a chosen status and
    /// body, or a reset instead of a close, see [`CustomResponse::truncate_after`] and
    /// [`CustomResponse::reset_after`].
    TruncatedBody {
        /// How many requests get it.
        times: u32,
    },
    /// Read the request, then drop the connection with a TCP RST (`SO_LINGER` 0) before
    /// sending anything.
    ConnectionReset {
        /// How many requests get it.
        times: u32,
    },
    /// Respond with `status` and an HTML error page, as a proxy or load balancer in front of
    /// the API would: `Content-Type: text/html` and no `X-RateLimit-*` headers.
    Html {
        /// The HTTP status code (502 is typical).
        status: u16,
        /// How many requests get it.
        times: u32,
    },
    /// Respond with `status`, a JSON:API error body and `Retry-After: seconds`, without any
    /// `X-RateLimit-*` headers (a gateway's 429/503), so clients must fall back on
    /// `Retry-After`.
    RetryAfter {
        /// The HTTP status code (429 or 503 are typical).
        status: u16,
        /// The `Retry-After` value, in seconds.
        seconds: u32,
        /// How many requests get it.
        times: u32,
    },
    /// Wait `delay` (on top of any configured latency), then handle the request normally:
    /// for client timeout tests. [`Fault::after`] holds back any other fault the same way.
    Delay {
        /// The extra wait.
        delay: Duration,
        /// How many requests get it.
        times: u32,
    },
    /// Send exactly this response (status, headers, body), or the start of it: see
    /// [`CustomResponse`].
    Respond {
        /// What to send.
        response: CustomResponse,
        /// How many requests get it.
        times: u32,
    },
}

impl Fault {
    /// This fault for the requests `target` selects (instead of any request).
    ///
    /// ```
    /// use datadog_cnm_mock::{Endpoint, Fault, Target};
    ///
    /// let rule = Fault::Status { status: 503, times: 1 }.on(Target::Operation(Endpoint::Dns));
    /// assert_eq!(rule.target(), &Target::Operation(Endpoint::Dns));
    /// ```
    pub fn on(self, target: Target) -> FaultRule {
        FaultRule::new(self).on(target)
    }

    /// This fault, applied after waiting `delay` (on top of any configured latency): a slow
    /// error, a slow custom response, a reset after a stall.
    pub fn after(self, delay: Duration) -> FaultRule {
        FaultRule::new(self).after(delay)
    }

    /// How many requests this fault is (still) for.
    pub fn times(&self) -> u32 {
        match *self {
            Self::Status { times, .. }
            | Self::MalformedBody { times }
            | Self::TruncatedBody { times }
            | Self::ConnectionReset { times }
            | Self::Html { times, .. }
            | Self::RetryAfter { times, .. }
            | Self::Delay { times, .. }
            | Self::Respond { times, .. } => times,
        }
    }

    fn times_mut(&mut self) -> &mut u32 {
        match self {
            Self::Status { times, .. }
            | Self::MalformedBody { times }
            | Self::TruncatedBody { times }
            | Self::ConnectionReset { times }
            | Self::Html { times, .. }
            | Self::RetryAfter { times, .. }
            | Self::Delay { times, .. }
            | Self::Respond { times, .. } => times,
        }
    }
}

/// A response sent verbatim by [`Fault::Respond`]: any status, any headers, any body, and
/// optionally only part of it before the connection closes or resets.
///
/// By default nothing is added but `Content-Length` (always the length of the whole body: the
/// framing is the server's) and, when the connection is closed afterwards, `Connection: close`.
/// In particular no `Content-Type` and no `X-RateLimit-*` headers are sent unless asked for.
/// Headers named `Content-Length` or `Transfer-Encoding`, and names or values that could not
/// be sent as one header line (empty names, control characters), are left out.
///
/// ```
/// use datadog_cnm_mock::{CustomResponse, Fault};
///
/// // A gateway's 429 that only says when to come back, as an HTTP date.
/// let gateway = CustomResponse::new(429)
///     .header("Retry-After", "Wed, 21 Oct 2026 07:28:00 GMT")
///     .header("Content-Type", "text/html")
///     .body("<html><body><h1>429 Too Many Requests</h1></body></html>");
/// // The API's own 429, with the mock's X-RateLimit-* headers and one of them overridden.
/// let limited = CustomResponse::new(429)
///     .rate_limit_headers()
///     .header("X-RateLimit-Reset", "2, 2")
///     .body(r#"{"errors":[{"status":"429","title":"Too many requests"}]}"#);
/// // A 200 whose body stops after 20 bytes, then a TCP reset.
/// let cut = CustomResponse::new(200)
///     .body(r#"{"data":[{"attributes":{"bytes_sent_by_client":12}}]}"#)
///     .reset_after(20);
/// let faults = [gateway, limited, cut].map(|response| Fault::Respond { response, times: 1 });
/// assert_eq!(faults.len(), 3);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct CustomResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) rate_limit_headers: bool,
    pub(crate) cut: Option<Cut>,
    pub(crate) repeat: Option<Repeat>,
}

/// A [`CustomResponse`] whose body is its bytes repeated, streamed as it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Repeat {
    /// The body's whole length.
    pub(crate) length: u64,
    /// Sent with `Transfer-Encoding: chunked` instead of a `Content-Length`.
    pub(crate) chunked: bool,
}

/// Where a [`CustomResponse`] stops: after `after` bytes of body, with a FIN or an RST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cut {
    pub(crate) after: usize,
    pub(crate) reset: bool,
}

impl CustomResponse {
    /// A response with `status` (sent as 500 when outside `100..=999`), no headers and an empty
    /// body.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            rate_limit_headers: false,
            cut: None,
            repeat: None,
        }
    }

    /// Repeats the body until it is `length` bytes long, announced in `Content-Length` and
    /// streamed as it is written: a body of hundreds of megabytes costs the server a few
    /// kilobytes. A client that stops reading (or hangs up) ends it. With an empty body,
    /// spaces are repeated.
    pub fn repeated_to(mut self, length: u64) -> Self {
        self.repeat = Some(Repeat {
            length,
            chunked: self.repeat.is_some_and(|r| r.chunked),
        });
        self
    }

    /// With [`repeated_to`](Self::repeated_to): sends the body with `Transfer-Encoding:
    /// chunked`, so that no length is announced and a client learns the size only by
    /// reading.
    pub fn chunked(mut self) -> Self {
        let length = self.repeat.map_or(self.body.len() as u64, |r| r.length);
        self.repeat = Some(Repeat {
            length,
            chunked: true,
        });
        self
    }

    /// Adds a header, sent as given (repeat the call for several values). A header also produced
    /// by [`rate_limit_headers`](Self::rate_limit_headers) replaces the mock's value.
    /// `Connection: close` makes the server close the connection after the response.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The body, sent as is (no `Content-Type` is implied: add the header).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Also sends the mock's five `X-RateLimit-*` headers with the limiter's current state
    /// (the request is not charged). For a 429 they say the limit is exhausted
    /// (`X-RateLimit-Remaining: 0`) until the current period ends.
    pub fn rate_limit_headers(mut self) -> Self {
        self.rate_limit_headers = true;
        self
    }

    /// Announces the whole body in `Content-Length`, sends only its first `bytes` bytes, then
    /// closes the connection (FIN): the client sees a body that ends early. With `bytes` at or
    /// past the body's length, the whole response is sent before the close.
    pub fn truncate_after(mut self, bytes: usize) -> Self {
        self.cut = Some(Cut {
            after: bytes,
            reset: false,
        });
        self
    }

    /// Like [`truncate_after`](Self::truncate_after), but resets the connection (RST) after
    /// the first `bytes` bytes of body: a reset in the middle of the body. The client reads the
    /// bytes that reached it before the reset: all of them for a body that fits the loopback
    /// buffers (hundreds of kilobytes), possibly fewer beyond.
    pub fn reset_after(mut self, bytes: usize) -> Self {
        self.cut = Some(Cut {
            after: bytes,
            reset: true,
        });
        self
    }
}

impl fmt::Debug for CustomResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &String::from_utf8_lossy(&self.body))
            .field("rate_limit_headers", &self.rate_limit_headers)
            .field("cut", &self.cut)
            .field("repeat", &self.repeat)
            .finish()
    }
}

/// Which requests a [`FaultRule`] applies to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// The next requests, whatever they are (FIFO among the rules that match): what a plain
    /// [`Fault`] means.
    #[default]
    Any,
    /// Requests to one endpoint's path, whatever their method.
    Operation(Endpoint),
    /// The request with this number and, for a fault with `times: n`, the `n - 1` following
    /// ones: requests are numbered 1, 2, 3, … as the server reads them (see
    /// [`RecordedRequest::number`](crate::RecordedRequest::number)). A rule whose requests
    /// have all arrived is dropped, used or not.
    Request(u64),
    /// Requests carrying this header (name compared case-insensitively) with exactly this
    /// value (surrounding whitespace ignored): a test sends `x-mock-fault: a` on the requests
    /// it wants faulted. Credential headers (`DD-API-KEY`, `DD-APPLICATION-KEY`,
    /// `Authorization`) never match.
    Header {
        /// The header's name.
        name: String,
        /// The header's value.
        value: String,
    },
}

impl Target {
    /// [`Target::Header`] from anything string-like.
    pub fn header(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self::Header {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A [`Fault`] with the requests it targets and an optional delay; from [`Fault::on`],
/// [`Fault::after`], [`FaultRule::new`] or a plain `Fault` (any request, no delay).
///
/// When a request arrives, the server numbers it and gives it one unit of the first rule, in
/// injection order, that targets it and is not used up; a request gets at most one fault.
/// Choosing at arrival makes the outcome independent of how long earlier requests take.
///
/// ```
/// use std::time::Duration;
/// use datadog_cnm_mock::{CustomResponse, Endpoint, Fault, FaultRule, MockServer, Target};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let server = MockServer::builder()
///     // The third request, whatever it is, is reset.
///     .fault(Fault::ConnectionReset { times: 1 }.on(Target::Request(3)))
///     .start()
///     .await?;
/// // Every DNS request gets a 503 twice; connections requests are not affected.
/// server.inject(Fault::Status { status: 503, times: 2 }.on(Target::Operation(Endpoint::Dns)));
/// // Requests sent with `x-mock-fault: slow` wait 30 s, then get a 429 with Retry-After.
/// let limited = CustomResponse::new(429).header("Retry-After", "7");
/// server.inject(
///     Fault::Respond { response: limited, times: 1 }
///         .on(Target::header("x-mock-fault", "slow"))
///         .after(Duration::from_secs(30)),
/// );
/// // A plain fault: the next request that no earlier rule claims.
/// server.inject(FaultRule::new(Fault::MalformedBody { times: 1 }));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    fault: Fault,
    target: Target,
    delay: Duration,
}

impl FaultRule {
    /// `fault` for any request, without delay.
    pub fn new(fault: Fault) -> Self {
        Self {
            fault,
            target: Target::Any,
            delay: Duration::ZERO,
        }
    }

    /// Targets the requests `target` selects.
    pub fn on(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    /// Waits `delay` (after the configured latency) before applying the fault.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// The fault.
    pub fn fault(&self) -> &Fault {
        &self.fault
    }

    /// The requests it applies to.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The wait before it applies.
    pub fn delay(&self) -> Duration {
        self.delay
    }
}

impl From<Fault> for FaultRule {
    fn from(fault: Fault) -> Self {
        Self::new(fault)
    }
}

/// One unit of a rule, taken for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Applied {
    /// With `times: 1`.
    pub(crate) fault: Fault,
    pub(crate) delay: Duration,
}

/// What a request looks like to the targets.
pub(crate) struct Arrival<'a> {
    pub(crate) endpoint: Option<Endpoint>,
    /// Lower-case names, trimmed values, credentials left out.
    pub(crate) headers: &'a [(String, String)],
}

#[derive(Debug)]
struct Armed {
    rule: FaultRule,
    /// For [`Target::Request`]: one past the last request number it covers.
    end: u64,
}

impl Armed {
    fn matches(&self, number: u64, arrival: &Arrival<'_>) -> bool {
        match &self.rule.target {
            Target::Any => true,
            Target::Operation(endpoint) => arrival.endpoint == Some(*endpoint),
            Target::Request(first) => (*first..self.end).contains(&number),
            Target::Header { name, value } => arrival
                .headers
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case(name) && v == value.trim()),
        }
    }

    /// A request-number rule none of whose requests can still arrive.
    fn stale(&self, number: u64) -> bool {
        matches!(self.rule.target, Target::Request(_)) && self.end <= number + 1
    }
}

#[derive(Debug, Default)]
struct State {
    /// Requests numbered so far.
    received: u64,
    rules: VecDeque<Armed>,
}

/// The rules of one server and the request counter, under one lock so that numbering and
/// matching happen in the same order.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue(Mutex<State>);

impl FaultQueue {
    pub(crate) fn push(&self, rule: FaultRule) {
        let times = rule.fault.times();
        if times == 0 {
            return;
        }
        let end = match rule.target {
            Target::Request(first) => first.saturating_add(u64::from(times)),
            _ => u64::MAX,
        };
        self.lock().rules.push_back(Armed { rule, end });
    }

    /// Numbers an arriving request and takes one unit of the first rule that targets it.
    pub(crate) fn arrive(&self, arrival: &Arrival<'_>) -> (u64, Option<Applied>) {
        let mut state = self.lock();
        state.received += 1;
        let number = state.received;
        let found = state
            .rules
            .iter()
            .position(|armed| armed.matches(number, arrival));
        let applied = found.and_then(|index| {
            let armed = state.rules.get_mut(index)?;
            let times = armed.rule.fault.times_mut();
            *times = times.saturating_sub(1);
            let exhausted = *times == 0;
            let mut fault = armed.rule.fault.clone();
            *fault.times_mut() = 1;
            let delay = armed.rule.delay;
            if exhausted {
                state.rules.remove(index);
            }
            Some(Applied { fault, delay })
        });
        state.rules.retain(|armed| !armed.stale(number));
        (number, applied)
    }

    /// Requests numbered so far.
    pub(crate) fn received(&self) -> u64 {
        self.lock().received
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Applied, Arrival, Fault, FaultQueue, FaultRule, Target};
    use crate::endpoint::Endpoint;

    fn any() -> Arrival<'static> {
        Arrival {
            endpoint: Some(Endpoint::Connections),
            headers: &[],
        }
    }

    fn taken(queue: &FaultQueue, arrival: &Arrival<'_>) -> Option<Fault> {
        queue.arrive(arrival).1.map(|applied| applied.fault)
    }

    #[test]
    fn units_are_taken_in_fifo_order() {
        let queue = FaultQueue::default();
        queue.push(
            Fault::Status {
                status: 503,
                times: 2,
            }
            .into(),
        );
        queue.push(Fault::MalformedBody { times: 0 }.into());
        queue.push(Fault::ConnectionReset { times: 1 }.into());
        let unit = Fault::Status {
            status: 503,
            times: 1,
        };
        assert_eq!(taken(&queue, &any()), Some(unit.clone()));
        assert_eq!(taken(&queue, &any()), Some(unit));
        assert_eq!(
            taken(&queue, &any()),
            Some(Fault::ConnectionReset { times: 1 })
        );
        assert_eq!(queue.arrive(&any()), (4, None));
    }

    #[test]
    fn targets_select_by_endpoint_number_and_header() {
        let queue = FaultQueue::default();
        let reset = Fault::ConnectionReset { times: 1 };
        let malformed = Fault::MalformedBody { times: 1 };
        queue.push(
            Fault::Html {
                status: 502,
                times: 5,
            }
            .on(Target::header("X-Mock-Fault", "a")),
        );
        queue.push(Fault::TruncatedBody { times: 2 }.on(Target::Operation(Endpoint::Dns)));
        queue.push(
            reset
                .clone()
                .on(Target::Request(2))
                .after(Duration::from_secs(3)),
        );
        queue.push(malformed.clone().on(Target::Request(1)));
        let dns = Arrival {
            endpoint: Some(Endpoint::Dns),
            headers: &[],
        };
        let tagged_headers = [("x-mock-fault".to_owned(), "a".to_owned())];
        let tagged = Arrival {
            endpoint: None,
            headers: &tagged_headers,
        };
        let other_headers = [("x-mock-fault".to_owned(), "b".to_owned())];
        let other = Arrival {
            endpoint: Some(Endpoint::Connections),
            headers: &other_headers,
        };
        assert_eq!(taken(&queue, &other), Some(malformed));
        let (number, applied) = queue.arrive(&other);
        assert_eq!(number, 2);
        assert_eq!(
            applied,
            Some(Applied {
                fault: reset,
                delay: Duration::from_secs(3)
            })
        );
        assert_eq!(taken(&queue, &other), None);
        assert_eq!(taken(&queue, &dns), Some(Fault::TruncatedBody { times: 1 }));
        assert!(matches!(
            taken(&queue, &tagged),
            Some(Fault::Html { status: 502, .. })
        ));
        assert_eq!(taken(&queue, &dns), Some(Fault::TruncatedBody { times: 1 }));
        assert_eq!(taken(&queue, &dns), None);
    }

    #[test]
    fn request_rules_cover_a_range_and_are_dropped_once_passed() {
        let queue = FaultQueue::default();
        let unit = Fault::Status {
            status: 500,
            times: 1,
        };
        queue.push(
            Fault::Status {
                status: 500,
                times: 2,
            }
            .on(Target::Request(2)),
        );
        // Arrives too late: request 1 is numbered before it could match.
        queue.push(FaultRule::new(Fault::MalformedBody { times: 1 }).on(Target::Request(0)));
        assert_eq!(taken(&queue, &any()), None);
        assert_eq!(taken(&queue, &any()), Some(unit.clone()));
        assert_eq!(taken(&queue, &any()), Some(unit));
        assert_eq!(taken(&queue, &any()), None);
        assert!(queue.lock().rules.is_empty());
    }
}
