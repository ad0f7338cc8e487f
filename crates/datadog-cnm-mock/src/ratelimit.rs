//! A fixed-window request counter that produces the `X-RateLimit-*` headers.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `X-RateLimit-Name` on every response.
pub(crate) const RATE_LIMIT_NAME: &str = "cnm_aggregate";

/// The values of the five `X-RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateLimitState {
    pub(crate) limit: u32,
    pub(crate) period: u64,
    pub(crate) remaining: u32,
    pub(crate) reset: u64,
}

impl RateLimitState {
    pub(crate) fn headers(&self) -> [(&'static str, String); 5] {
        [
            ("x-ratelimit-limit", self.limit.to_string()),
            ("x-ratelimit-period", self.period.to_string()),
            ("x-ratelimit-remaining", self.remaining.to_string()),
            ("x-ratelimit-reset", self.reset.to_string()),
            ("x-ratelimit-name", RATE_LIMIT_NAME.to_owned()),
        ]
    }
}

/// Windows are fixed (not sliding) and start at the first request charged after the previous
/// window ended, so a test sees the same countdown whenever it starts.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: u32,
    period: u64,
    window: Mutex<Option<(Instant, u32)>>,
}

impl RateLimiter {
    /// `period` is rounded up to whole seconds (at least one): the headers speak in seconds.
    pub(crate) fn new(limit: u32, period: Duration) -> Self {
        let period = period.as_secs() + u64::from(period.subsec_nanos() > 0);
        Self {
            limit,
            period: period.max(1),
            window: Mutex::new(None),
        }
    }

    /// Charges one request; `Err` (not charged) when the window's budget is spent.
    pub(crate) fn acquire(&self, now: Instant) -> Result<RateLimitState, RateLimitState> {
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        let (start, used) = match *window {
            Some((start, used)) if now < start + self.period_duration() => (start, used),
            _ => (now, 0),
        };
        if used >= self.limit {
            *window = Some((start, used));
            return Err(self.state(start, used, now));
        }
        *window = Some((start, used + 1));
        Ok(self.state(start, used + 1, now))
    }

    /// The headers for a response that is not charged (authentication failures, faults).
    pub(crate) fn peek(&self, now: Instant) -> RateLimitState {
        let window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        match *window {
            Some((start, used)) if now < start + self.period_duration() => {
                self.state(start, used, now)
            }
            _ => RateLimitState {
                limit: self.limit,
                period: self.period,
                remaining: self.limit,
                reset: self.period,
            },
        }
    }

    fn period_duration(&self) -> Duration {
        Duration::from_secs(self.period)
    }

    fn state(&self, start: Instant, used: u32, now: Instant) -> RateLimitState {
        let left = (start + self.period_duration()).saturating_duration_since(now);
        // Rounded up: waiting `reset` seconds always reaches the next window.
        let reset = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        RateLimitState {
            limit: self.limit,
            period: self.period,
            remaining: self.limit.saturating_sub(used),
            reset: reset.max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::RateLimiter;

    #[test]
    fn counts_down_then_refuses_until_the_window_ends() {
        let limiter = RateLimiter::new(2, Duration::from_millis(1_500));
        let t0 = Instant::now();
        let first = limiter.acquire(t0);
        assert_eq!(
            first.map(|s| (s.remaining, s.reset, s.period)),
            Ok((1, 2, 2))
        );
        assert_eq!(limiter.acquire(t0).map(|s| s.remaining), Ok(0));
        let later = t0 + Duration::from_millis(1_200);
        assert_eq!(
            limiter.acquire(later).map_err(|s| (s.remaining, s.reset)),
            Err((0, 1))
        );
        assert_eq!(limiter.peek(later).remaining, 0);
        let next = t0 + Duration::from_secs(2);
        assert_eq!(limiter.peek(next).remaining, 2);
        assert_eq!(
            limiter.acquire(next).map(|s| (s.remaining, s.reset)),
            Ok((1, 2))
        );
    }
}
