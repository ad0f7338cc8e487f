//! Query windows: half-open `[from, to)` spans of whole Unix seconds.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A query window `[from, to)` in whole Unix seconds, the API's resolution.
///
/// ```
/// use std::time::Duration;
/// use datadog_cnm::Window;
///
/// let day = Window::last(Duration::from_secs(86_400));
/// let hours = day.split(Duration::from_secs(3_600))?;
/// assert_eq!(hours.len(), 24);
/// assert_eq!(hours[0].from, day.from);
/// assert_eq!(hours[23].to, day.to);
/// # Ok::<(), datadog_cnm::Error>(())
/// ```
///
/// Serialized as `{"from": <unix seconds>, "to": <unix seconds>}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Window {
    /// Start, inclusive.
    #[serde(with = "unix_secs")]
    pub from: SystemTime,
    /// End, exclusive.
    #[serde(with = "unix_secs")]
    pub to: SystemTime,
}

impl Window {
    /// The `duration` (whole seconds) ending now.
    pub fn last(duration: Duration) -> Self {
        Self::ending_at(SystemTime::now(), duration)
    }

    /// The `duration` (whole seconds) ending at `end` (truncated to the second).
    pub fn ending_at(end: SystemTime, duration: Duration) -> Self {
        let to = truncate(end);
        let from = to
            .checked_sub(Duration::from_secs(duration.as_secs()))
            .unwrap_or(UNIX_EPOCH);
        Self { from, to }
    }

    /// `[from, to)`, both truncated to the second; an error unless `from < to`.
    pub fn between(from: SystemTime, to: SystemTime) -> Result<Self> {
        let window = Self {
            from: truncate(from),
            to: truncate(to),
        };
        window.validate()?;
        Ok(window)
    }

    /// `[from, to)` from Unix seconds; an error unless `0 <= from < to`.
    pub fn from_unix(from: i64, to: i64) -> Result<Self> {
        let at = |secs: i64| {
            u64::try_from(secs)
                .map(|secs| UNIX_EPOCH + Duration::from_secs(secs))
                .map_err(|_| Error::invalid("window", format!("{secs} is before 1970")))
        };
        Self::between(at(from)?, at(to)?)
    }

    /// The start as Unix seconds.
    pub fn from_unix_secs(&self) -> i64 {
        unix(self.from)
    }

    /// The end as Unix seconds.
    pub fn to_unix_secs(&self) -> i64 {
        unix(self.to)
    }

    /// `to - from` (zero for an empty or inverted window).
    pub fn duration(&self) -> Duration {
        self.to.duration_since(self.from).unwrap_or(Duration::ZERO)
    }

    /// Contiguous windows of `step` covering this one exactly: `[t0,t1), [t1,t2), …`;
    /// the last one is shorter when `step` does not divide the duration.
    ///
    /// `step` is truncated to whole seconds and must be at least one second.
    pub fn split(&self, step: Duration) -> Result<Vec<Window>> {
        self.validate()?;
        let step = step.as_secs();
        if step == 0 {
            return Err(Error::invalid("step", "must be at least one second"));
        }
        let (start, end) = (self.from_unix_secs(), self.to_unix_secs());
        let span = u64::try_from(end - start).unwrap_or(0);
        let count = span.div_ceil(step);
        // Refuse absurd splits rather than allocating millions of windows.
        const MAX_WINDOWS: u64 = 100_000;
        if count > MAX_WINDOWS {
            return Err(Error::invalid(
                "step",
                format!(
                    "splitting {span}s by {step}s gives {count} windows (at most {MAX_WINDOWS})"
                ),
            ));
        }
        let at = |secs: i64| UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs());
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        Ok((0..count as i64)
            .map(|i| {
                let from = start + i * step;
                Window {
                    from: at(from),
                    to: at((from + step).min(end)),
                }
            })
            .collect())
    }

    /// Windows of `step` aligned on the clock, covering this one exactly: boundaries fall
    /// on multiples of `step` since the Unix epoch (hours on the hour, days at midnight
    /// UTC), and only the first and last windows may be shorter than `step` (partial). The
    /// window is never widened.
    ///
    /// ```
    /// use std::time::Duration;
    /// use datadog_cnm::Window;
    ///
    /// // 05:20 to 08:10 in hours: 05:20–06:00 (partial), 06:00–07:00, 07:00–08:00, 08:00–08:10.
    /// let window = Window::from_unix(5 * 3600 + 1200, 8 * 3600 + 600)?;
    /// let hours = window.split_aligned(Duration::from_secs(3600))?;
    /// assert_eq!(hours.len(), 4);
    /// assert_eq!(hours[1].from_unix_secs(), 6 * 3600);
    /// assert!(hours[0].duration() < Duration::from_secs(3600));
    /// # Ok::<(), datadog_cnm::Error>(())
    /// ```
    pub fn split_aligned(&self, step: Duration) -> Result<Vec<Window>> {
        self.validate()?;
        let seconds = step.as_secs();
        if seconds == 0 {
            return Err(Error::invalid("step", "must be at least one second"));
        }
        let (start, end) = (self.from_unix_secs(), self.to_unix_secs());
        let step_i = i64::try_from(seconds).unwrap_or(i64::MAX);
        // The first boundary after `start` on the step's grid.
        let first = (start.div_euclid(step_i) + 1).saturating_mul(step_i);
        if first >= end {
            return Ok(vec![*self]);
        }
        let head = Window::from_unix(start, first)?;
        let rest = Window::from_unix(first, end)?.split(step)?;
        // When `start` is on the grid, `head` is a whole step: the first boundary after it
        // is a step away.
        let mut windows = Vec::with_capacity(rest.len() + 1);
        windows.push(head);
        windows.extend(rest);
        Ok(windows)
    }

    /// The same window, `by` earlier (e.g. a day before, to compare with).
    pub fn shifted_back(&self, by: Duration) -> Window {
        let back = |t: SystemTime| {
            t.checked_sub(Duration::from_secs(by.as_secs()))
                .unwrap_or(UNIX_EPOCH)
        };
        Window {
            from: back(self.from),
            to: back(self.to),
        }
    }

    /// An error unless `from < to`, both at or after 1970.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.from.duration_since(UNIX_EPOCH).is_err() {
            return Err(Error::invalid("window", "starts before 1970"));
        }
        if self.from >= self.to {
            return Err(Error::invalid(
                "window",
                format!(
                    "`from` ({}) must be before `to` ({})",
                    rfc3339(self.from),
                    rfc3339(self.to)
                ),
            ));
        }
        Ok(())
    }
}

impl fmt::Display for Window {
    /// `[2026-11-26T06:00:00Z, 2026-11-26T07:00:00Z)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {})", rfc3339(self.from), rfc3339(self.to))
    }
}

fn truncate(time: SystemTime) -> SystemTime {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => UNIX_EPOCH + Duration::from_secs(since.as_secs()),
        Err(_) => UNIX_EPOCH,
    }
}

fn unix(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// `time` as RFC 3339 UTC with second precision, e.g. `2026-11-26T06:00:00Z`.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let secs = unix(time);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

mod unix_secs {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        time: &SystemTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(super::unix(*time))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<SystemTime, D::Error> {
        let secs = u64::deserialize(deserializer)?;
        Ok(UNIX_EPOCH + Duration::from_secs(secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(at(0)), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(at(1_764_140_400)), "2025-11-26T07:00:00Z");
        assert_eq!(rfc3339(at(951_782_400)), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn split_covers_exactly_with_a_short_tail() {
        let window = Window::from_unix(1000, 1000 + 3 * 3600 + 5).unwrap();
        let parts = window.split(Duration::from_secs(3600)).unwrap();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[3].duration(), Duration::from_secs(5));
        assert!(parts.windows(2).all(|p| p[0].to == p[1].from));
        assert!(window.split(Duration::from_millis(999)).is_err());
    }

    #[test]
    fn split_allows_exactly_100_000_windows_and_refuses_more() {
        let window = Window::from_unix(0, 100_000).unwrap();
        let parts = window.split(Duration::from_secs(1)).unwrap();
        assert_eq!(parts.len(), 100_000);
        let longer = Window::from_unix(0, 100_001).unwrap();
        let error = match longer.split(Duration::from_secs(1)) {
            Ok(parts) => panic!("{} one-second windows were not refused", parts.len()),
            Err(error) => error,
        };
        assert!(error.to_string().contains("100001 windows"), "{error}");
    }

    #[test]
    fn aligned_splits_never_widen_and_only_the_ends_are_partial() {
        let hour = Duration::from_secs(3600);
        let window = Window::from_unix(3600 + 1200, 4 * 3600 + 600).unwrap();
        let parts = window.split_aligned(hour).unwrap();
        let bounds: Vec<(i64, i64)> = parts
            .iter()
            .map(|w| (w.from_unix_secs(), w.to_unix_secs()))
            .collect();
        assert_eq!(
            bounds,
            [(4800, 7200), (7200, 10800), (10800, 14400), (14400, 15000)]
        );
        let on_grid = Window::from_unix(3600, 3 * 3600).unwrap();
        assert_eq!(on_grid.split_aligned(hour).unwrap().len(), 2);
        let inside = Window::from_unix(3700, 3800).unwrap();
        assert_eq!(inside.split_aligned(hour).unwrap(), vec![inside]);
        assert_eq!(
            window
                .shifted_back(Duration::from_secs(600))
                .from_unix_secs(),
            4200
        );
    }

    #[test]
    fn between_rejects_empty_and_inverted_windows() {
        assert!(Window::between(at(10), at(10)).is_err());
        assert!(Window::between(at(11), at(10)).is_err());
        assert!(Window::between(at(10), at(11)).is_ok());
        // Sub-second parts are dropped before comparing.
        let almost = at(10) + Duration::from_millis(900);
        assert!(Window::between(at(10), almost).is_err());
    }
}
