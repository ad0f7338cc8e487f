//! The retry policy, and how long to wait before the next attempt.
//!
//! Every CNM call is a `GET`, so every attempt is idempotent and safe to repeat. What is
//! retried: 429, 408, 500, 502, 503 and 504 responses, and network failures (connect
//! errors, timeouts, connections reset before or during the body). Other 4xx never are.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

use crate::ratelimit::RateLimit;

/// How often, and for how long, a request is retried.
///
/// Defaults: 4 attempts in all, a 2-minute budget, exponential backoff with full jitter
/// from 500 ms up to 30 s. A 429 waits exactly what `X-RateLimit-Reset` (or `Retry-After`)
/// asks for, plus at most 10 % jitter; when that would exceed what is left of the budget,
/// the request gives up at once with [`Error::RateLimited`](crate::Error::RateLimited).
///
/// ```
/// use std::time::Duration;
/// use datadog_cnm::RetryPolicy;
///
/// let patient = RetryPolicy::default().max_attempts(8).max_elapsed(Duration::from_secs(600));
/// let never = RetryPolicy::disabled();
/// # let _ = (patient, never);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    max_elapsed: Duration,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            max_elapsed: Duration::from_secs(120),
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn disabled() -> Self {
        Self::default().max_attempts(1)
    }

    /// Attempts in all, including the first (at least 1).
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Total time a request may take, waits included, before it gives up.
    #[must_use]
    pub fn max_elapsed(mut self, budget: Duration) -> Self {
        self.max_elapsed = budget;
        self
    }

    /// Backoff ceiling for the first retry; it doubles with each further retry.
    #[must_use]
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The largest backoff ceiling.
    #[must_use]
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// Attempts in all, including the first.
    pub fn attempts_allowed(&self) -> u32 {
        self.max_attempts
    }

    /// The time budget of one request, waits included.
    pub fn time_budget(&self) -> Duration {
        self.max_elapsed
    }

    /// Whether attempt number `attempt` (1-based) may be followed by another.
    pub(crate) fn allows_another(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }

    /// The backoff after failed attempt `attempt` (1-based): uniformly random in
    /// `[0, min(max_backoff, initial_backoff * 2^(attempt-1))]` ("full jitter").
    pub(crate) fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        let ceiling = self
            .initial_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff);
        ceiling.mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// Statuses worth another attempt.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// The least a 429 waits, so that `X-RateLimit-Reset: 0` does not become a busy loop.
const MIN_RATE_LIMIT_WAIT: Duration = Duration::from_millis(100);

/// How long the server asked us to wait, from `X-RateLimit-Reset` or `Retry-After`.
///
/// `X-RateLimit-Reset` wins: it is Datadog's own header and counts whole seconds until the
/// period ends. `Retry-After` is either seconds or an HTTP date.
pub(crate) fn server_requested_wait(
    rate_limit: Option<&RateLimit>,
    headers: &HeaderMap,
    wall_now: SystemTime,
) -> Option<Duration> {
    if let Some(reset) = rate_limit.and_then(|r| r.reset) {
        return Some(reset);
    }
    let retry_after = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = retry_after.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(retry_after).ok()?;
    Some(date.duration_since(wall_now).unwrap_or(Duration::ZERO))
}

/// The wait before retrying after a response the server asked us to wait on: what it
/// asked, plus at most 10 % jitter, and never less than 100 ms.
pub(crate) fn requested_wait_with_jitter(requested: Duration, jitter: f64) -> Duration {
    let extra = requested.mul_f64(0.1 * jitter.clamp(0.0, 1.0));
    (requested + extra).max(MIN_RATE_LIMIT_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default();
        let ceilings: Vec<u128> = (1..=9)
            .map(|a| policy.backoff(a, 1.0).as_millis())
            .collect();
        assert_eq!(
            ceilings,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
        assert_eq!(policy.backoff(3, 0.5), Duration::from_secs(1));
        assert_eq!(policy.backoff(3, 0.0), Duration::ZERO);
        assert_eq!(policy.backoff(u32::MAX, 1.0), Duration::from_secs(30));
    }

    #[test]
    fn reset_wins_over_retry_after_and_dates_are_read() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("9"),
        );
        let reset = RateLimit {
            reset: Some(Duration::from_secs(3)),
            ..RateLimit::default()
        };
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            server_requested_wait(Some(&reset), &headers, now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            server_requested_wait(None, &headers, now),
            Some(Duration::from_secs(9))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(42));
        headers.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_str(&date).unwrap(),
        );
        assert_eq!(
            server_requested_wait(None, &headers, now),
            Some(Duration::from_secs(42))
        );
        assert_eq!(server_requested_wait(None, &HeaderMap::new(), now), None);
    }

    #[test]
    fn requested_waits_get_at_most_ten_percent_and_at_least_100ms() {
        assert_eq!(
            requested_wait_with_jitter(Duration::from_secs(10), 1.0),
            Duration::from_secs(11)
        );
        assert_eq!(
            requested_wait_with_jitter(Duration::from_secs(10), 0.0),
            Duration::from_secs(10)
        );
        assert_eq!(
            requested_wait_with_jitter(Duration::ZERO, 0.5),
            Duration::from_millis(100)
        );
    }
}
