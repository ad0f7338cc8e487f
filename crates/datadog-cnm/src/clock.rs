//! Where a client takes time and randomness from: real by default, injectable in tests.
//!
//! The default clock reads Tokio's clock, so a test on a paused runtime
//! (`#[tokio::test(start_paused = true)]`) sees every wait of the client happen in virtual
//! time without installing anything. The traits are public under the `test-util` feature
//! (see [`crate::test_util`]), for tests that need exact control.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// The source of time for waits, retries and default windows.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// A monotonic instant.
    fn now(&self) -> Instant;
    /// Wall-clock time: default query windows end now, and `Retry-After` dates are read
    /// against it.
    fn wall(&self) -> SystemTime;
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
}

/// Tokio's clock (which is the system's unless the runtime's time is paused) and the
/// system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// The source of randomness for backoff jitter.
pub trait Jitter: Send + Sync + fmt::Debug + 'static {
    /// A number in `[0, 1]`.
    fn sample(&self) -> f64;
}

/// Jitter from the standard library's randomly keyed hasher (no RNG dependency needed:
/// jitter only has to decorrelate clients, not be cryptographically strong).
#[derive(Debug, Default)]
pub struct RandomJitter {
    counter: AtomicU64,
}

impl Jitter for RandomJitter {
    fn sample(&self) -> f64 {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(self.counter.fetch_add(1, Ordering::Relaxed));
        // The top 53 bits make an exactly representable fraction in [0, 1).
        (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A fixed jitter value: `FixedJitter(1.0)` always takes the full backoff ceiling,
/// `FixedJitter(0.0)` none of it.
#[cfg(feature = "test-util")]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FixedJitter(pub f64);

#[cfg(feature = "test-util")]
impl Jitter for FixedJitter {
    fn sample(&self) -> f64 {
        self.0.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_jitter_stays_in_range_and_varies() {
        let jitter = RandomJitter::default();
        let samples: Vec<f64> = (0..100).map(|_| jitter.sample()).collect();
        assert!(samples.iter().all(|s| (0.0..1.0).contains(s)));
        assert!(samples.windows(2).any(|w| w[0] != w[1]));
    }

    #[tokio::test(start_paused = true)]
    async fn the_default_clock_follows_paused_tokio_time() {
        let clock = TokioClock;
        let before = clock.now();
        clock.sleep(Duration::from_secs(3600)).await;
        assert_eq!(clock.now() - before, Duration::from_secs(3600));
    }
}
