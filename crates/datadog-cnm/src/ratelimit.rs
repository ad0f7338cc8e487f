//! `X-RateLimit-*` headers, and the rate-limit state one client shares between requests.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::HeaderMap;
use serde::{Deserialize, Serialize};

/// The rate-limit state the API reported with a response.
///
/// Parsed from `X-RateLimit-Limit`, `-Remaining`, `-Period`, `-Reset` and `-Name`. Each
/// field is `None` when its header is missing or unreadable: a malformed header never
/// fails a request. Repeated values (`"7, 7"`, as proxies sometimes merge them) use the
/// first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Requests allowed per period (`X-RateLimit-Limit`).
    pub limit: Option<u64>,
    /// Requests left in the current period (`X-RateLimit-Remaining`).
    pub remaining: Option<u64>,
    /// Length of a period (`X-RateLimit-Period`, seconds).
    #[serde(with = "opt_secs")]
    pub period: Option<Duration>,
    /// Time until the current period ends (`X-RateLimit-Reset`, seconds).
    #[serde(with = "opt_secs")]
    pub reset: Option<Duration>,
    /// Which limit applies (`X-RateLimit-Name`).
    pub name: Option<String>,
}

impl RateLimit {
    /// Read the rate-limit headers; `None` when there are none at all.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let number = |name: &str| first_value(headers, name).and_then(|v| v.parse::<u64>().ok());
        let rate_limit = Self {
            limit: number("x-ratelimit-limit"),
            remaining: number("x-ratelimit-remaining"),
            period: number("x-ratelimit-period").map(Duration::from_secs),
            reset: number("x-ratelimit-reset").map(Duration::from_secs),
            name: first_value(headers, "x-ratelimit-name")
                .filter(|name| !name.is_empty())
                .map(str::to_owned),
        };
        (rate_limit != Self::default()).then_some(rate_limit)
    }

    /// `true` when the server said no request is left in this period.
    pub fn is_exhausted(&self) -> bool {
        self.remaining == Some(0)
    }
}

/// The first comma-separated value of the first `name` header, trimmed.
fn first_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let value = headers.get(name)?.to_str().ok()?;
    value.split(',').next().map(str::trim)
}

mod opt_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) => serializer.serialize_some(&duration.as_secs()),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(deserializer)?.map(Duration::from_secs))
    }
}

/// What one client knows about its rate limit, shared by all its requests.
///
/// After a 429, or a response saying nothing is left in the period, every request of the
/// client waits for the same reset instead of being sent (and answered 429) in the
/// meantime. Requests already on the wire are counted against what is left, so a burst
/// of concurrent requests does not overshoot the limit either.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    state: Mutex<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    /// No request may be sent before this instant.
    closed_until: Option<Instant>,
    /// Requests the server said are left, minus those sent since.
    remaining: Option<u64>,
    /// When `remaining` stops being meaningful (the period's end).
    remaining_until: Option<Instant>,
    /// Requests sent and not yet answered.
    in_flight: u64,
    /// The last rate-limit state a response reported.
    last_known: Option<RateLimit>,
}

/// What a request must do before it may be sent.
#[derive(Debug)]
pub(crate) enum Admission<'g> {
    /// Send now: the ticket holds the request's place until its answer is recorded.
    Send(Ticket<'g>),
    /// Wait until this instant, then ask again.
    WaitUntil(Instant),
}

/// An admitted request's place among those in flight. Recording the answer gives it back;
/// so does dropping the ticket (a request cancelled before it was answered).
#[derive(Debug)]
#[must_use = "a ticket holds a place among the requests in flight until it is recorded"]
pub(crate) struct Ticket<'g> {
    gate: &'g Gate,
}

impl Ticket<'_> {
    /// Record the answer (`rate_limit` and `status` of the response; `None` when no
    /// response arrived).
    pub(crate) fn record(self, now: Instant, rate_limit: Option<&RateLimit>, status: Option<u16>) {
        self.gate.record(now, rate_limit, status);
        // The place was given back by `record`.
        std::mem::forget(self);
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut state = self.gate.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
    }
}

impl Gate {
    /// Ask to send one request at `now`.
    pub(crate) fn admit(&self, now: Instant) -> Admission<'_> {
        let mut state = self.lock();
        if let Some(until) = state.closed_until {
            if now < until {
                return Admission::WaitUntil(until);
            }
            state.closed_until = None;
        }
        if state.remaining_until.is_some_and(|until| now >= until) {
            // A new period started: the server's count restarted.
            state.remaining = None;
            state.remaining_until = None;
        }
        if let (Some(remaining), Some(until)) = (state.remaining, state.remaining_until)
            && remaining <= state.in_flight
        {
            return Admission::WaitUntil(until);
        }
        state.in_flight += 1;
        Admission::Send(Ticket { gate: self })
    }

    /// The last rate-limit state a response reported.
    pub(crate) fn last_known(&self) -> Option<RateLimit> {
        self.lock().last_known.clone()
    }

    fn record(&self, now: Instant, rate_limit: Option<&RateLimit>, status: Option<u16>) {
        let mut state = self.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        let Some(rate_limit) = rate_limit else {
            return;
        };
        state.last_known = Some(rate_limit.clone());
        let reset_at = rate_limit.reset.map(|reset| now + reset);
        if let (Some(remaining), Some(reset_at)) = (rate_limit.remaining, reset_at) {
            // The freshest count wins only if it is lower: answers can arrive out of order.
            let current_period = state.remaining_until.is_some_and(|until| now < until);
            let known = state.remaining.filter(|_| current_period);
            state.remaining = Some(known.map_or(remaining, |known| known.min(remaining)));
            state.remaining_until = Some(reset_at);
        }
        if status == Some(429)
            && let Some(reset_at) = reset_at
        {
            close(&mut state, reset_at);
        }
    }

    /// Hold every request of this client until `until` (a 429 asked for a pause).
    pub(crate) fn close_until(&self, until: Instant) {
        close(&mut self.lock(), until);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        // A panic while holding this lock cannot leave the counters inconsistent in a way
        // that matters more than losing rate-limit politeness, so recover the guard.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn close(state: &mut GateState, until: Instant) {
    if state.closed_until.is_none_or(|current| current < until) {
        state.closed_until = Some(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, http::HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn parses_all_five_headers() {
        let parsed = RateLimit::from_headers(&headers(&[
            ("x-ratelimit-limit", "100"),
            ("x-ratelimit-remaining", "7"),
            ("x-ratelimit-period", "60"),
            ("x-ratelimit-reset", "13"),
            ("x-ratelimit-name", "cnm_aggregate"),
        ]));
        assert_eq!(
            parsed,
            Some(RateLimit {
                limit: Some(100),
                remaining: Some(7),
                period: Some(Duration::from_secs(60)),
                reset: Some(Duration::from_secs(13)),
                name: Some("cnm_aggregate".into()),
            })
        );
    }

    #[test]
    fn repeated_values_use_the_first_and_garbage_is_ignored() {
        let parsed = RateLimit::from_headers(&headers(&[
            ("x-ratelimit-reset", "7, 7"),
            ("x-ratelimit-limit", "lots"),
            ("x-ratelimit-remaining", "-1"),
        ]));
        assert_eq!(
            parsed,
            Some(RateLimit {
                reset: Some(Duration::from_secs(7)),
                ..RateLimit::default()
            })
        );
        assert_eq!(
            RateLimit::from_headers(&headers(&[("x-ratelimit-limit", "x")])),
            None
        );
        assert_eq!(RateLimit::from_headers(&HeaderMap::new()), None);
    }

    fn ticket(admission: Admission<'_>) -> Ticket<'_> {
        match admission {
            Admission::Send(ticket) => ticket,
            Admission::WaitUntil(until) => panic!("not admitted: wait until {until:?}"),
        }
    }

    fn waits_until(admission: Admission<'_>) -> Option<Instant> {
        match admission {
            Admission::Send(_) => None,
            Admission::WaitUntil(until) => Some(until),
        }
    }

    #[test]
    fn a_429_closes_the_gate_until_the_reset() {
        let gate = Gate::default();
        let t0 = Instant::now();
        let limited = RateLimit {
            remaining: Some(0),
            reset: Some(Duration::from_secs(5)),
            ..RateLimit::default()
        };
        ticket(gate.admit(t0)).record(t0, Some(&limited), Some(429));
        assert_eq!(
            waits_until(gate.admit(t0)),
            Some(t0 + Duration::from_secs(5))
        );
        assert_eq!(gate.last_known(), Some(limited));
        assert!(waits_until(gate.admit(t0 + Duration::from_secs(5))).is_none());
    }

    #[test]
    fn in_flight_requests_count_against_what_is_left() {
        let gate = Gate::default();
        let t0 = Instant::now();
        let two_left = RateLimit {
            remaining: Some(2),
            reset: Some(Duration::from_secs(10)),
            ..RateLimit::default()
        };
        ticket(gate.admit(t0)).record(t0, Some(&two_left), Some(200));
        let first = ticket(gate.admit(t0));
        let second = ticket(gate.admit(t0));
        let reset_at = t0 + Duration::from_secs(10);
        assert_eq!(waits_until(gate.admit(t0)), Some(reset_at));
        // A request cancelled before its answer gives its place back.
        drop(second);
        let third = ticket(gate.admit(t0));
        assert_eq!(waits_until(gate.admit(t0)), Some(reset_at));
        first.record(t0, None, None);
        third.record(t0, None, None);
        assert!(waits_until(gate.admit(reset_at)).is_none());
    }
}
