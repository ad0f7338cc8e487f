//! Human formatting of numbers and windows for the table output.

use std::time::{Duration, SystemTime};

use datadog_cnm::analysis::Number;
use datadog_cnm::{Unit, Window};

use crate::time::rfc3339;

/// `value` of a metric in `unit`, for a table cell: `1.50 KiB`, `1,234`, `850 µs`,
/// `77 ms`, `4.56 %`; per-second values (`--rate`) read the same, with fractions.
pub fn value(unit: Unit, value: Number) -> String {
    match (unit, value) {
        (Unit::Ratio, value) => percent(value.as_f64()),
        (Unit::Bytes, value) => bytes(rounded(value)),
        (Unit::Microseconds, value) => micros(rounded(value)),
        (Unit::Milliseconds, Number::Int(n)) => millis(n),
        (Unit::Milliseconds, Number::Float(x)) if x.abs() < 1000.0 => {
            format!("{} ms", three_digits(x))
        }
        (Unit::Milliseconds, value) => millis(rounded(value)),
        (_, Number::Int(n)) => count(n),
        (_, Number::Float(x)) if x.abs() < 100.0 => three_digits(x),
        (_, value) => count(rounded(value)),
    }
}

/// A signed change of a value in `unit`: `+1.50 KiB`, `-1,234`, `+0.5 %` (points).
pub fn delta(unit: Unit, change: f64) -> String {
    let sign = if change < 0.0 { "-" } else { "+" };
    let magnitude = if unit == Unit::Ratio {
        Number::Float(change.abs())
    } else if change.fract() == 0.0 && change.abs() < 9.0e18 {
        Number::Int(change.abs() as i64)
    } else {
        Number::Float(change.abs())
    };
    format!("{sign}{}", value(unit, magnitude))
}

/// A relative change: `+12.3 %`, `-50 %`, `+2,446 %`.
pub fn change(ratio: f64) -> String {
    let sign = if ratio < 0.0 { "-" } else { "+" };
    let percent = ratio.abs() * 100.0;
    if percent >= 1000.0 {
        format!("{sign}{} %", count(percent.round() as i64))
    } else {
        format!("{sign}{} %", trimmed_digits(percent))
    }
}

/// `6h`, `1h30m`, `2d`, `45s`.
pub fn span(duration: Duration) -> String {
    let mut secs = duration.as_secs();
    if secs == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    out
}

/// A fraction as a percentage: `0.0456` → `4.56 %`.
pub fn percent(fraction: f64) -> String {
    format!("{} %", trimmed_digits(fraction * 100.0))
}

/// The unit shown under a column label: the symbol of a unit that cells do not carry
/// themselves (`pkts`; cells of bytes, times and ratios show their own), then `/s` for
/// per-second values. Empty for a plain count.
pub fn unit_label(unit: Unit, per_second: bool) -> String {
    let symbol = match unit {
        Unit::Bytes | Unit::Microseconds | Unit::Milliseconds | Unit::Ratio => "",
        other => other.symbol(),
    };
    if per_second && unit != Unit::Ratio {
        format!("{symbol}/s")
    } else {
        symbol.to_owned()
    }
}

fn rounded(value: Number) -> i64 {
    match value {
        Number::Int(n) => n,
        Number::Float(x) => x.round() as i64,
    }
}

/// Three significant digits, trailing zeros dropped: `12.3`, `0.0456`, `450`.
fn trimmed_digits(value: f64) -> String {
    if value == 0.0 {
        return "0".to_owned();
    }
    let magnitude = value.abs();
    let decimals = if magnitude >= 100.0 {
        0
    } else if magnitude >= 10.0 {
        1
    } else if magnitude >= 1.0 {
        2
    } else {
        // Enough decimals for three significant digits of a small number.
        (2 - magnitude.log10().floor() as i32).clamp(2, 9) as usize
    };
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
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

/// Three significant digits for values in `1.0..1024.0` (or fewer, with decimals, below).
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
    fn spans_in_the_flags_own_words() {
        assert_eq!(span(Duration::from_secs(6 * 3600)), "6h");
        assert_eq!(span(Duration::from_secs(5400)), "1h30m");
        assert_eq!(span(Duration::from_secs(2 * 86_400 + 45)), "2d45s");
    }

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
    fn values_read_by_unit() {
        assert_eq!(value(Unit::Bytes, Number::Int(1536)), "1.50 KiB");
        assert_eq!(value(Unit::Count, Number::Int(1234)), "1,234");
        assert_eq!(value(Unit::Count, Number::Float(12.345)), "12.3");
        assert_eq!(value(Unit::Ratio, Number::Float(0.0456)), "4.56 %");
        assert_eq!(value(Unit::Ratio, Number::Float(0.000_123)), "0.0123 %");
        assert_eq!(value(Unit::Milliseconds, Number::Int(77)), "77 ms");
        assert_eq!(delta(Unit::Count, -1234.0), "-1,234");
        assert_eq!(delta(Unit::Bytes, 1536.0), "+1.50 KiB");
        assert_eq!(change(0.123), "+12.3 %");
        assert_eq!(change(-0.5), "-50 %");
        assert_eq!(change(24.46), "+2,446 %");
        assert_eq!(unit_label(Unit::Bytes, true), "/s");
        assert_eq!(unit_label(Unit::Bytes, false), "");
        assert_eq!(unit_label(Unit::Packets, false), "pkts");
        assert_eq!(unit_label(Unit::Packets, true), "pkts/s");
        assert_eq!(unit_label(Unit::Ratio, true), "");
        assert_eq!(unit_label(Unit::Count, false), "");
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
