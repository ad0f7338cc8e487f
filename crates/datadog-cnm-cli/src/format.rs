//! Human formatting of numbers and windows for the table output.

use std::time::SystemTime;

use datadog_cnm::Window;

use crate::time::rfc3339;

/// How a metric's number reads best.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Bytes: `1.5 KiB`, `12.3 MiB`.
    Bytes,
    /// A count: `1,234,567`.
    Count,
    /// Microseconds: `850 µs`, `12.3 ms`, `1.20 s`.
    Micros,
    /// Milliseconds: `850 ms`, `1.20 s`.
    Millis,
}

impl Kind {
    /// `value` formatted for a table cell.
    pub fn format(self, value: i64) -> String {
        match self {
            Self::Bytes => bytes(value),
            Self::Count => count(value),
            Self::Micros => micros(value),
            Self::Millis => millis(value),
        }
    }
}

/// `1234567` → `1,234,567`.
pub fn count(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// IEC units with three significant digits: `999 B`, `1.50 KiB`, `12.3 MiB`, `456 GiB`.
pub fn bytes(value: i64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let sign = if value < 0 { "-" } else { "" };
    let magnitude = value.unsigned_abs();
    if magnitude < 1024 {
        return format!("{sign}{magnitude} B");
    }
    // Display only: f64 is exact enough for three significant digits.
    let mut scaled = magnitude as f64;
    let mut unit = UNITS[0];
    for candidate in UNITS {
        scaled /= 1024.0;
        unit = candidate;
        if scaled < 1024.0 {
            break;
        }
    }
    format!("{sign}{} {unit}", three_digits(scaled))
}

/// Microseconds as µs below a millisecond, ms below a second, s above.
pub fn micros(value: i64) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let magnitude = value.unsigned_abs();
    if magnitude < 1000 {
        format!("{sign}{magnitude} µs")
    } else if magnitude < 1_000_000 {
        format!("{sign}{} ms", three_digits(magnitude as f64 / 1e3))
    } else {
        format!("{sign}{} s", three_digits(magnitude as f64 / 1e6))
    }
}

/// Milliseconds as ms below a second, s above.
pub fn millis(value: i64) -> String {
    if value.unsigned_abs() < 1000 {
        format!("{value} ms")
    } else {
        micros(value.saturating_mul(1000))
    }
}

/// Three significant digits for values in `1.0..1024.0`.
fn three_digits(value: f64) -> String {
    if value >= 99.95 {
        format!("{value:.0}")
    } else if value >= 9.995 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// A window for a table cell: `2026-11-26 06:00 → 07:00`, with seconds only when they
/// are not zero and the end's date only when it differs from the start's.
pub fn window(window: &Window) -> String {
    let (from, to) = (short_time(window.from), short_time(window.to));
    match (from.split_once(' '), to.split_once(' ')) {
        (Some((from_date, _)), Some((to_date, to_time))) if from_date == to_date => {
            format!("{from} → {to_time}")
        }
        _ => format!("{from} → {to}"),
    }
}

/// `2026-11-26 06:00` (or `06:00:30` when the seconds are not zero).
fn short_time(time: SystemTime) -> String {
    let text = rfc3339(time);
    let text = text.trim_end_matches('Z').replacen('T', " ", 1);
    match text.strip_suffix(":00") {
        Some(minutes) => minutes.to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(-1_234), "-1,234");
        assert_eq!(count(i64::MIN), "-9,223,372,036,854,775,808");
    }

    #[test]
    fn bytes_use_iec_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1024), "1.00 KiB");
        assert_eq!(bytes(1536), "1.50 KiB");
        assert_eq!(bytes(12_900_000), "12.3 MiB");
        assert_eq!(bytes(500 * 1024 * 1024 * 1024), "500 GiB");
        assert_eq!(bytes(i64::MAX), "8.00 EiB");
        assert_eq!(bytes(-2048), "-2.00 KiB");
    }

    #[test]
    fn millis_pick_a_unit() {
        assert_eq!(millis(77), "77 ms");
        assert_eq!(millis(1_128), "1.13 s");
    }

    #[test]
    fn micros_pick_a_unit() {
        assert_eq!(micros(850), "850 µs");
        assert_eq!(micros(12_345), "12.3 ms");
        assert_eq!(micros(1_200_000), "1.20 s");
    }

    #[test]
    fn windows_are_short() {
        let at = |s: u64| UNIX_EPOCH + Duration::from_secs(s);
        let hour = Window {
            from: at(1_795_672_800),
            to: at(1_795_676_400),
        };
        assert_eq!(window(&hour), "2026-11-26 06:00 → 07:00");
        let odd = Window {
            from: at(1_795_672_830),
            to: at(1_795_759_200),
        };
        assert_eq!(window(&odd), "2026-11-26 06:00:30 → 2026-11-27 06:00");
    }
}
