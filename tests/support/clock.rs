//! A virtual clock for retry tests: sleeping records the duration and advances time at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use datadog_cnm::test_util::Clock;

/// Time that moves only when someone sleeps.
#[derive(Debug)]
pub struct VirtualClock {
    start: Instant,
    wall_start: SystemTime,
    state: Mutex<(Duration, Vec<Duration>)>,
}

impl Default for VirtualClock {
    fn default() -> Self {
        // Whole seconds, so HTTP dates (second precision) give exact delays.
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| UNIX_EPOCH + Duration::from_secs(d.as_secs()))
            .unwrap_or(UNIX_EPOCH);
        Self {
            start: Instant::now(),
            wall_start: wall,
            state: Mutex::new((Duration::ZERO, Vec::new())),
        }
    }
}

impl VirtualClock {
    /// Every sleep so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.state.lock().map(|s| s.1.clone()).unwrap_or_default()
    }

    /// Virtual wall-clock time now.
    pub fn wall_now(&self) -> SystemTime {
        self.wall()
    }

    fn elapsed(&self) -> Duration {
        self.state.lock().map(|s| s.0).unwrap_or_default()
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Instant {
        self.start + self.elapsed()
    }

    fn wall(&self) -> SystemTime {
        self.wall_start + self.elapsed()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        if let Ok(mut state) = self.state.lock() {
            state.0 += duration;
            state.1.push(duration);
        }
        Box::pin(std::future::ready(()))
    }
}
