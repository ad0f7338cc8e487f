//! Counters and the request log.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::SystemTime;

/// The request log keeps the most recent requests only, so a long-running server stays small.
pub(crate) const MAX_RECORDED: usize = 10_000;

/// Counters of what the server answered; see [`MockServer::stats`](crate::MockServer::stats).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MockStats {
    /// Every request received (a complete HTTP request head), whatever the outcome.
    pub requests: u64,
    /// Successful (200) API responses with data.
    pub ok: u64,
    /// 429 responses from the configured rate limit (not from [`Fault::Status`](crate::Fault)).
    pub rate_limited: u64,
    /// Requests a [`Fault`](crate::Fault) was applied to. A [`Fault::Delay`](crate::Fault)ed
    /// request is counted here and by its eventual outcome.
    pub faults: u64,
    /// 4xx answers other than 429: validation (400), authentication (403), unknown path (404),
    /// wrong method (405).
    pub rejected: u64,
}

/// One request as the server saw it; see [`MockServer::requests`](crate::MockServer::requests).
/// Key and token values are never kept, only whether they were present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The path, without the query string (`/api/v2/network/dns/aggregate`).
    pub path: String,
    /// Query parameters, percent-decoded, in order. Values of parameters that look like
    /// credentials (`api_key`, `application_key`, …) are replaced by `** redacted **`.
    pub query: Vec<(String, String)>,
    /// A non-empty `DD-API-KEY` header was present.
    pub has_api_key: bool,
    /// A non-empty `DD-APPLICATION-KEY` header was present.
    pub has_app_key: bool,
    /// A non-empty `Authorization: Bearer` token was present.
    pub has_bearer_token: bool,
    /// The status sent; `0` when the connection was reset without a response.
    pub status: u16,
    /// When the request was received (wall clock, not the [`now`](crate::MockServerBuilder::now)
    /// override).
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
    pub(crate) fn record(&self, request: RecordedRequest, outcome: Outcome) {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (stats, log) = &mut *guard;
        stats.requests += 1;
        match outcome {
            Outcome::Ok => stats.ok += 1,
            Outcome::RateLimited => stats.rate_limited += 1,
            Outcome::Fault => stats.faults += 1,
            Outcome::Rejected => stats.rejected += 1,
        }
        if log.len() == MAX_RECORDED {
            log.pop_front();
        }
        log.push_back(request);
    }

    /// A [`Fault::Delay`](crate::Fault) is counted when applied, before the request's outcome.
    pub(crate) fn count_fault(&self) {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        guard.0.faults += 1;
    }

    pub(crate) fn stats(&self) -> MockStats {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        let guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        guard.1.iter().cloned().collect()
    }
}
