//! Where every request meets the network: credentials, retries, rate limits, tracing.
//!
//! The generated client hands each built request to [`CallTransport::execute`] (through
//! the raw crate's `Seam`). Here the HTTP status and headers of every attempt are visible
//! before anything is decoded, so retry decisions never depend on the body being JSON.
//! The body is read here too, inside the retry loop, so a connection that dies mid-body
//! is retried like any other network failure.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use datadog_cnm_raw::{Transport, TransportFuture};
use http::{HeaderMap, StatusCode};
use tracing::Instrument;

use crate::client::Shared;
use crate::ratelimit::{Admission, RateLimit};
use crate::retry::{is_retryable_status, requested_wait_with_jitter, server_requested_wait};

/// What happened to one call, read by the query after the generated client returns.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Attempts sent.
    pub(crate) attempts: u32,
    /// Status of the final response, if one arrived.
    pub(crate) status: Option<u16>,
    /// Rate-limit headers of the final response.
    pub(crate) rate_limit: Option<RateLimit>,
    /// The request id of the final response, if the server sent one.
    pub(crate) request_id: Option<String>,
    /// The call never got a response it could use because the rate limit asked for a
    /// longer wait than the retry budget had left.
    pub(crate) gave_up_on_rate_limit: bool,
}

/// The transport of one call: shared client state plus this call's [`Outcome`].
#[derive(Debug)]
pub(crate) struct CallTransport {
    shared: Arc<Shared>,
    outcome: Mutex<Outcome>,
}

/// A response read to the end.
struct Buffered {
    status: StatusCode,
    version: http::Version,
    headers: HeaderMap,
    body: Bytes,
}

/// Why an attempt is not the last one.
enum Retry {
    /// Wait this long, then try again.
    After(Duration),
    /// Stop here and return what we have.
    No,
    /// The server asked for a longer wait than the budget allows.
    BudgetExhausted,
}

impl CallTransport {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            outcome: Mutex::new(Outcome::default()),
        }
    }

    /// Take the outcome once the call is over.
    pub(crate) fn take_outcome(&self) -> Outcome {
        self.outcome
            .lock()
            .map(|mut outcome| std::mem::take(&mut *outcome))
            .unwrap_or_default()
    }

    fn set_outcome(&self, outcome: Outcome) {
        if let Ok(mut slot) = self.outcome.lock() {
            *slot = outcome;
        }
    }

    async fn run(
        &self,
        request: reqwest::Request,
        operation: &'static str,
    ) -> reqwest::Result<reqwest::Response> {
        let shared = &self.shared;
        let clock = &shared.clock;
        let started = clock.now();
        let mut attempt = 0u32;
        loop {
            if !self.wait_for_admission(started).await {
                self.set_outcome(Outcome {
                    attempts: attempt,
                    gave_up_on_rate_limit: true,
                    ..Outcome::default()
                });
                return Ok(synthetic_rate_limited());
            }
            attempt += 1;
            let span = tracing::info_span!(
                "cnm_request",
                operation,
                attempt,
                status = tracing::field::Empty,
                elapsed_ms = tracing::field::Empty,
                rate_limit.remaining = tracing::field::Empty,
                rate_limit.reset_s = tracing::field::Empty,
            );
            let sent_at = clock.now();
            let result = self.send_once(&request).instrument(span.clone()).await;
            let answered_at = clock.now();
            span.record("elapsed_ms", millis(answered_at - sent_at));
            match result {
                Ok(response) => {
                    let status = response.status.as_u16();
                    let rate_limit = RateLimit::from_headers(&response.headers);
                    span.record("status", status);
                    if let Some(rate_limit) = &rate_limit {
                        if let Some(remaining) = rate_limit.remaining {
                            span.record("rate_limit.remaining", remaining);
                        }
                        if let Some(reset) = rate_limit.reset {
                            span.record("rate_limit.reset_s", reset.as_secs());
                        }
                    }
                    shared
                        .rate_limit
                        .record(answered_at, rate_limit.as_ref(), Some(status));
                    let decision = if is_retryable_status(status) {
                        self.decide_after_status(
                            status,
                            attempt,
                            started,
                            &response.headers,
                            rate_limit.as_ref(),
                        )
                    } else {
                        Retry::No
                    };
                    match decision {
                        Retry::After(delay) => {
                            if status == 429 {
                                shared.rate_limit.close_until(answered_at + delay);
                            }
                            let _enter = span.enter();
                            tracing::warn!(
                                attempt,
                                delay_ms = millis(delay),
                                reason = status,
                                "retrying after HTTP {status}"
                            );
                            drop(_enter);
                            clock.sleep(delay).await;
                            continue;
                        }
                        Retry::No | Retry::BudgetExhausted => {
                            self.set_outcome(Outcome {
                                attempts: attempt,
                                status: Some(status),
                                request_id: request_id(&response.headers),
                                rate_limit,
                                gave_up_on_rate_limit: matches!(decision, Retry::BudgetExhausted),
                            });
                            return Ok(rebuild(response));
                        }
                    }
                }
                Err(error) => {
                    shared.rate_limit.record(answered_at, None, None);
                    let retryable = !error.is_builder() && !error.is_redirect();
                    let delay = shared.retry.backoff(attempt, shared.jitter.sample());
                    if retryable && self.may_retry(attempt, started, delay) {
                        let _enter = span.enter();
                        tracing::warn!(attempt, delay_ms = millis(delay), reason = %error, "retrying after a network error");
                        drop(_enter);
                        clock.sleep(delay).await;
                        continue;
                    }
                    self.set_outcome(Outcome {
                        attempts: attempt,
                        ..Outcome::default()
                    });
                    return Err(error);
                }
            }
        }
    }

    /// Wait until the shared rate limit admits a request; `false` when that would take
    /// longer than the retry budget has left.
    async fn wait_for_admission(&self, started: Instant) -> bool {
        let shared = &self.shared;
        loop {
            let now = shared.clock.now();
            match shared.rate_limit.admit(now) {
                Admission::Send => return true,
                Admission::WaitUntil(until) => {
                    if until.saturating_duration_since(started) > shared.retry.time_budget() {
                        return false;
                    }
                    tracing::debug!(
                        wait_ms = millis(until - now),
                        "waiting for the rate limit to reset"
                    );
                    shared
                        .clock
                        .sleep(until.saturating_duration_since(now))
                        .await;
                }
            }
        }
    }

    fn decide_after_status(
        &self,
        status: u16,
        attempt: u32,
        started: Instant,
        headers: &HeaderMap,
        rate_limit: Option<&RateLimit>,
    ) -> Retry {
        let shared = &self.shared;
        // `X-RateLimit-Reset` says when the rate limit resets; it only tells how long to
        // wait when the rate limit is why we were refused.
        let rate_limit = if status == 429 { rate_limit } else { None };
        let requested = server_requested_wait(rate_limit, headers, shared.clock.wall());
        let delay = match requested {
            Some(requested) => requested_wait_with_jitter(requested, shared.jitter.sample()),
            None => shared.retry.backoff(attempt, shared.jitter.sample()),
        };
        if !shared.retry.allows_another(attempt) {
            return Retry::No;
        }
        if self.may_retry(attempt, started, delay) {
            Retry::After(delay)
        } else if requested.is_some() {
            Retry::BudgetExhausted
        } else {
            Retry::No
        }
    }

    fn may_retry(&self, attempt: u32, started: Instant, delay: Duration) -> bool {
        let retry = &self.shared.retry;
        let elapsed = self.shared.clock.now().saturating_duration_since(started);
        retry.allows_another(attempt) && elapsed + delay <= retry.time_budget()
    }

    /// One attempt: credentials added, response read to the end.
    async fn send_once(&self, request: &reqwest::Request) -> reqwest::Result<Buffered> {
        let shared = &self.shared;
        // CNM requests are GETs without a body, so cloning always succeeds; build a fresh
        // one from parts if that ever changes rather than panicking.
        let mut attempt = match request.try_clone() {
            Some(attempt) => attempt,
            None => reqwest::Request::new(request.method().clone(), request.url().clone()),
        };
        for (name, value) in &shared.auth_headers {
            attempt.headers_mut().insert(name, value.clone());
        }
        let response = shared.http.execute(attempt).await?;
        let status = response.status();
        let version = response.version();
        let headers = response.headers().clone();
        let body = response.bytes().await?;
        Ok(Buffered {
            status,
            version,
            headers,
            body,
        })
    }
}

impl Transport for CallTransport {
    fn execute(&self, request: reqwest::Request, operation: &'static str) -> TransportFuture<'_> {
        Box::pin(self.run(request, operation))
    }
}

/// The response handed back to the generated client: the same status, headers and body.
fn rebuild(buffered: Buffered) -> reqwest::Response {
    let mut response = http::Response::new(buffered.body);
    *response.status_mut() = buffered.status;
    *response.version_mut() = buffered.version;
    *response.headers_mut() = buffered.headers;
    reqwest::Response::from(response)
}

/// Stands in for a response when the call gave up before sending: the outcome says why.
fn synthetic_rate_limited() -> reqwest::Response {
    let mut response = http::Response::new(Bytes::new());
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    reqwest::Response::from(response)
}

/// The request id, under the names Datadog and common proxies use.
fn request_id(headers: &HeaderMap) -> Option<String> {
    ["x-request-id", "dd-request-id", "x-datadog-request-id"]
        .iter()
        .find_map(|name| headers.get(*name)?.to_str().ok())
        .map(str::to_owned)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
