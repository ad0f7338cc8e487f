//! A fixed-window request counter on Tokio's clock, with periods aligned like the real API's,
//! that produces the `X-RateLimit-*` headers.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// `X-RateLimit-Name` on every response.
pub(crate) const RATE_LIMIT_NAME: &str = "cnm_aggregate";

/// How many recent periods keep their count of admitted requests: a request admitted in a
/// period is counted when its response is ready, which may be a little later.
const ADMITTED_PERIODS: usize = 8;

/// The values of the five `X-RateLimit-*` headers, and the period they describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateLimitState {
    pub(crate) limit: u32,
    pub(crate) period: u64,
    pub(crate) remaining: u32,
    pub(crate) reset: u64,
    /// Which period: 0 for the one the server started in.
    pub(crate) index: u64,
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

#[derive(Debug, Default)]
struct Window {
    index: u64,
    used: u32,
    /// `(period index, requests admitted)` for the most recent periods.
    admitted: VecDeque<(u64, u64)>,
    peak: u64,
}

/// Periods are fixed (not sliding) and aligned on the server's clock: the clock reads the wall
/// time the server started at (or its `now` override) and runs on from there with Tokio's
/// clock, and periods begin at whole multiples of the period since the Unix epoch, as the real
/// API's calendar-aligned periods do. So under paused time, with a fixed `now`, every count and
/// countdown is the same on every run.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: u32,
    period: u64,
    /// When the server started.
    origin: Instant,
    /// How far into its period the server started.
    phase: Duration,
    window: Mutex<Window>,
}

impl RateLimiter {
    /// `period` is rounded up to whole seconds (at least one): the headers speak in seconds.
    /// `origin` is the server's start on Tokio's clock, `since_epoch` the wall time then.
    pub(crate) fn new(
        limit: u32,
        period: Duration,
        origin: Instant,
        since_epoch: Duration,
    ) -> Self {
        let period = (period.as_secs() + u64::from(period.subsec_nanos() > 0)).max(1);
        // Less than one period, which is far less than u64::MAX nanoseconds.
        let phase = since_epoch.as_nanos() % (u128::from(period) * 1_000_000_000);
        let phase = Duration::from_nanos(u64::try_from(phase).unwrap_or(0));
        Self {
            limit,
            period,
            origin,
            phase,
            window: Mutex::new(Window::default()),
        }
    }

    /// Charges one request; `Err` (not charged) when the period's budget is spent.
    pub(crate) fn acquire(&self, now: Instant) -> Result<RateLimitState, RateLimitState> {
        let mut window = self.lock();
        // A request that read the clock just before another moved the window on counts in the
        // newer period.
        let index = self.index(now).max(window.index);
        if index != window.index {
            window.index = index;
            window.used = 0;
        }
        if window.used >= self.limit {
            return Err(self.state(index, window.used, now));
        }
        window.used += 1;
        Ok(self.state(index, window.used, now))
    }

    /// The headers for a response that is not charged (authentication failures, faults).
    pub(crate) fn peek(&self, now: Instant) -> RateLimitState {
        let window = self.lock();
        let index = self.index(now).max(window.index);
        let used = if index == window.index {
            window.used
        } else {
            0
        };
        self.state(index, used, now)
    }

    /// Counts a request charged in period `index` that was answered 200.
    pub(crate) fn admit(&self, index: u64) {
        let mut window = self.lock();
        let count = match window.admitted.iter_mut().find(|(i, _)| *i == index) {
            Some((_, count)) => {
                *count += 1;
                *count
            }
            None => {
                window.admitted.push_back((index, 1));
                if window.admitted.len() > ADMITTED_PERIODS {
                    window.admitted.pop_front();
                }
                1
            }
        };
        window.peak = window.peak.max(count);
    }

    /// The most requests admitted in one period so far.
    pub(crate) fn peak(&self) -> u64 {
        self.lock().peak
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn period_nanos(&self) -> u128 {
        u128::from(self.period) * 1_000_000_000
    }

    /// Time since the start of period 0 (the one the server started in).
    fn elapsed(&self, now: Instant) -> u128 {
        (now.saturating_duration_since(self.origin) + self.phase).as_nanos()
    }

    fn index(&self, now: Instant) -> u64 {
        u64::try_from(self.elapsed(now) / self.period_nanos()).unwrap_or(u64::MAX)
    }

    fn state(&self, index: u64, used: u32, now: Instant) -> RateLimitState {
        let end = u128::from(index)
            .saturating_add(1)
            .saturating_mul(self.period_nanos());
        let left = end.saturating_sub(self.elapsed(now));
        // Rounded up: waiting `reset` seconds always reaches the next period.
        let reset = u64::try_from(left.div_ceil(1_000_000_000)).unwrap_or(u64::MAX);
        RateLimitState {
            limit: self.limit,
            period: self.period,
            remaining: self.limit.saturating_sub(used),
            reset: reset.max(1),
            index,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::time::Instant;

    use super::RateLimiter;

    #[test]
    fn counts_down_then_refuses_until_the_period_ends() {
        let t0 = Instant::now();
        // Started on a period boundary of the wall clock.
        let limiter =
            RateLimiter::new(2, Duration::from_millis(1_500), t0, Duration::from_secs(40));
        let first = limiter.acquire(t0);
        assert_eq!(
            first.map(|s| (s.remaining, s.reset, s.period, s.index)),
            Ok((1, 2, 2, 0))
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
            limiter
                .acquire(next)
                .map(|s| (s.remaining, s.reset, s.index)),
            Ok((1, 2, 1))
        );
    }

    #[test]
    fn periods_are_aligned_to_the_wall_clock() {
        let t0 = Instant::now();
        // 10.25 s into a 60 s period.
        let limiter = RateLimiter::new(
            1,
            Duration::from_secs(60),
            t0,
            Duration::from_millis(60 * 1_000 * 30_000_000 + 10_250),
        );
        assert_eq!(limiter.acquire(t0).map(|s| s.reset), Ok(50));
        assert_eq!(
            limiter
                .acquire(t0 + Duration::from_millis(49_700))
                .map_err(|s| s.reset),
            Err(1)
        );
        let next = t0 + Duration::from_millis(49_750);
        assert_eq!(
            limiter
                .acquire(next)
                .map(|s| (s.remaining, s.reset, s.index)),
            Ok((0, 60, 1))
        );
    }

    #[test]
    fn the_peak_is_the_most_admitted_in_one_period() {
        let limiter = RateLimiter::new(10, Duration::from_secs(1), Instant::now(), Duration::ZERO);
        for index in [0, 0, 1, 1, 1, 0, 2] {
            limiter.admit(index);
        }
        assert_eq!(limiter.peak(), 3);
    }
}
