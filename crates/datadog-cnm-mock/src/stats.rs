//! Counters and the request log.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::SystemTime;

use crate::endpoint::Endpoint;
use crate::faults::Fault;

/// The request log keeps the most recent requests only, so a long-running server stays small.
pub(crate) const MAX_RECORDED: usize = 10_000;

/// Counters of what the server answered; see [`MockServer::stats`](crate::MockServer::stats).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MockStats {
    /// Every request received (a complete HTTP request head) and answered (or reset), whatever
    /// the outcome.
    pub requests: u64,
    /// Successful (200) API responses with data.
    pub ok: u64,
    /// 429 responses from the configured rate limit (not from a [`Fault`](crate::Fault); see
    /// [`too_many_requests`](Self::too_many_requests)).
    pub rate_limited: u64,
    /// Every 429 response sent, from the rate limit or from a fault.
    pub too_many_requests: u64,
    /// Requests a [`Fault`](crate::Fault) was applied to. A [`Fault::Delay`](crate::Fault)ed
    /// request is counted here and by its eventual outcome.
    pub faults: u64,
    /// 4xx answers other than 429: validation (400), authentication (403), unknown path (404),
    /// wrong method (405).
    pub rejected: u64,
    /// The most requests admitted in any one rate-limit period: charged to the limit and
    /// answered 200 with data. Never more than the configured limit; compare it with a lower
    /// budget to check that a client paces itself. Periods are those of
    /// [`MockServerBuilder::rate_limit`](crate::MockServerBuilder::rate_limit).
    pub peak_admitted_per_period: u64,
}

/// One request as the server saw it; see [`MockServer::requests`](crate::MockServer::requests).
/// Key and token values are never kept, only whether they were present.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The request's number: 1 for the first request the server read, 2 for the next, and so
    /// on, across connections (what [`Target::Request`](crate::Target) refers to).
    pub number: u64,
    /// When the request was read, on Tokio's clock: under paused time
    /// (`#[tokio::test(start_paused = true)]`) this is virtual time. `received.into_std()` gives
    /// a `std::time::Instant` to compare with instants the test took itself.
    pub received: tokio::time::Instant,
    /// The method, e.g. `GET`.
    pub method: String,
    /// The path, without the query string (`/api/v2/network/dns/aggregate`).
    pub path: String,
    /// The endpoint the path names, if any.
    pub endpoint: Option<Endpoint>,
    /// Query parameters, percent-decoded, in order. Values of parameters that look like
    /// credentials (`api_key`, `application_key`, …) are replaced by `** redacted **`.
    pub query: Vec<(String, String)>,
    /// A non-empty `DD-API-KEY` header was present.
    pub has_api_key: bool,
    /// A non-empty `DD-APPLICATION-KEY` header was present.
    pub has_app_key: bool,
    /// A non-empty `Authorization: Bearer` token was present.
    pub has_bearer_token: bool,
    /// The fault applied to it, with `times: 1`, if any.
    pub fault: Option<Fault>,
    /// The status sent; `0` when the connection was reset without a response.
    pub status: u16,
    /// When the request was read, on the wall clock (not the
    /// [`now`](crate::MockServerBuilder::now) override, not paused by Tokio).
    pub at: SystemTime,
}

/// How a response counts in [`MockStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    RateLimited,
    Fault,
    Rejected,
}

#[derive(Debug, Default)]
pub(crate) struct Recorder(Mutex<(MockStats, VecDeque<RecordedRequest>)>);

impl Recorder {
    /// Counts a finished request and logs it in arrival order.
    pub(crate) fn record(&self, request: RecordedRequest, outcome: Outcome) {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (stats, log) = &mut *guard;
        stats.requests += 1;
        match outcome {
            Outcome::Ok => stats.ok += 1,
            Outcome::RateLimited => stats.rate_limited += 1,
            Outcome::Rejected => stats.rejected += 1,
            // Counted below, with the delayed faults that end in a normal outcome.
            Outcome::Fault => {}
        }
        if request.fault.is_some() {
            stats.faults += 1;
        }
        if request.status == 429 {
            stats.too_many_requests += 1;
        }
        // Requests finish out of order; most finish in order, so look from the back.
        let at = log
            .iter()
            .rposition(|logged| logged.number < request.number)
            .map_or(0, |i| i + 1);
        log.insert(at, request);
        if log.len() > MAX_RECORDED {
            log.pop_front();
        }
    }

    pub(crate) fn stats(&self) -> MockStats {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        let guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        guard.1.iter().cloned().collect()
    }
}
