//! Times (`T`) and durations (`DUR`) as users type them.
//!
//! - `DUR`: `90s`, `15m`, `1h30m`, `2d`, `1w` (also `1 hour 30 minutes`): whole seconds,
//!   parsed with jiff's "friendly" format; days are 24 hours and weeks 7 days.
//! - `T`: `now`, an RFC 3339 timestamp (`2026-11-26T06:00:00Z`, any offset), Unix seconds
//!   (`1795500000`), or a duration meaning that long ago (`-15m`, `2h`, `1d`, `now-1h`).
//!
//! A relative `T` is resolved against one `now` taken once per command, so `--from -2h
//! --to -1h` is exactly one hour.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jiff::{SpanRelativeTo, Timestamp};

/// What a duration looks like, for error messages.
const DUR_HELP: &str = "use a number and a unit, e.g. 90s, 15m, 1h30m, 2d (units: w, d, h, m, s)";
/// What a time looks like, for error messages.
const TIME_HELP: &str = "use `now`, an RFC 3339 time (2026-11-26T06:00:00Z), Unix seconds, \
                         or how long ago (-15m, 2h, 1d)";
/// Unix seconds beyond this are almost certainly milliseconds (year 5138).
const MAX_UNIX_SECS: u64 = 99_999_999_999;

/// A parsed `DUR`: a positive whole number of seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl FromStr for Dur {
    type Err = String;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        parse_duration(input).map(Dur)
    }
}

/// A `DUR` that may have a fraction of a second (`200ms`, `1.5s`): the mock's latency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FineDur(pub Duration);

impl FromStr for FineDur {
    type Err = String;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        parse(input, false).map(FineDur)
    }
}

/// Parse a `DUR`: positive, whole seconds.
pub fn parse_duration(input: &str) -> Result<Duration, String> {
    parse(input, true)
}

/// Parse a positive `DUR`, in whole seconds if `whole_seconds`.
fn parse(input: &str, whole_seconds: bool) -> Result<Duration, String> {
    let text = input.trim();
    if text.is_empty() {
        return Err(format!("empty duration; {DUR_HELP}"));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{text}` has no unit; did you mean {text}s or {text}m?"
        ));
    }
    if text.starts_with(['-', '+']) {
        return Err(format!("`{text}` must be a positive duration; {DUR_HELP}"));
    }
    let span: jiff::Span = text
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; {DUR_HELP}"))?;
    if span.get_years() != 0 || span.get_months() != 0 {
        return Err(format!(
            "`{text}`: months and years have no fixed length; use days or weeks"
        ));
    }
    let signed = span
        .to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|e| format!("`{text}` is out of range: {e}"))?;
    let duration = Duration::try_from(signed)
        .map_err(|_| format!("`{text}` must be a positive duration; {DUR_HELP}"))?;
    if whole_seconds && duration.subsec_nanos() != 0 {
        return Err(format!("`{text}`: the API works in whole seconds"));
    }
    if duration.is_zero() {
        return Err(format!("`{text}` must be longer than zero"));
    }
    Ok(duration)
}

/// A parsed `T`, resolved against a fixed `now` with [`TimeSpec::resolve`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeSpec {
    /// `now`.
    Now,
    /// An absolute instant.
    At(SystemTime),
    /// That long before now.
    Ago(Duration),
}

impl TimeSpec {
    /// The instant this names when the command started at `now`.
    pub fn resolve(self, now: SystemTime) -> SystemTime {
        match self {
            Self::Now => now,
            Self::At(at) => at,
            Self::Ago(ago) => now.checked_sub(ago).unwrap_or(UNIX_EPOCH),
        }
    }
}

impl FromStr for TimeSpec {
    type Err = String;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        parse_time(input)
    }
}

impl fmt::Display for TimeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Now => f.write_str("now"),
            Self::At(at) => f.write_str(&rfc3339(*at)),
            Self::Ago(ago) => write!(f, "-{}s", ago.as_secs()),
        }
    }
}

/// `time` as RFC 3339 UTC with second precision, e.g. `2026-11-26T06:00:00Z`.
pub fn rfc3339(time: SystemTime) -> String {
    match Timestamp::try_from(time) {
        Ok(at) => at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        // Out of jiff's range (years before -9999 or after 9999): say so rather than lie.
        Err(_) => format!("{time:?}"),
    }
}

/// Parse a `T`.
pub fn parse_time(input: &str) -> Result<TimeSpec, String> {
    let text = input.trim();
    if text.is_empty() {
        return Err(format!("empty time; {TIME_HELP}"));
    }
    if text.eq_ignore_ascii_case("now") {
        return Ok(TimeSpec::Now);
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let secs: u64 = text
            .parse()
            .map_err(|_| format!("`{text}` is too large for Unix seconds"))?;
        if secs > MAX_UNIX_SECS {
            return Err(format!(
                "`{text}` looks like milliseconds; the API takes Unix seconds"
            ));
        }
        return Ok(TimeSpec::At(UNIX_EPOCH + Duration::from_secs(secs)));
    }
    // An RFC 3339 time always has a date, so it starts with a digit and has a `-` after
    // the year; durations never contain a `-` after their first character.
    if text.len() > 4 && text.as_bytes()[4] == b'-' && text.as_bytes()[0].is_ascii_digit() {
        let timestamp: Timestamp = text.parse().map_err(|e| {
            format!(
                "`{text}` is not an RFC 3339 time ({}); e.g. 2026-11-26T06:00:00Z or \
                 2026-11-26T07:00:00+01:00",
                first_line(&e)
            )
        })?;
        return Ok(TimeSpec::At(SystemTime::from(timestamp)));
    }
    if text.starts_with('+') {
        return Err(format!(
            "`{text}` is in the future; a relative time means that long ago, e.g. -15m"
        ));
    }
    let ago = text
        .strip_prefix("now-")
        .or_else(|| text.strip_prefix("now -"))
        .or_else(|| text.strip_prefix('-'))
        .unwrap_or(text);
    parse_duration(ago)
        .map(TimeSpec::Ago)
        .map_err(|_| format!("`{text}` is not a time; {TIME_HELP}"))
}

fn first_line(error: &impl fmt::Display) -> String {
    let text = error.to_string();
    text.lines().next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn dur(input: &str) -> Result<u64, String> {
        parse_duration(input).map(|d| d.as_secs())
    }

    #[test]
    fn durations_in_the_documented_forms() {
        assert_eq!(dur("90s"), Ok(90));
        assert_eq!(dur("15m"), Ok(900));
        assert_eq!(dur("1h30m"), Ok(5400));
        assert_eq!(dur("1h 30m"), Ok(5400));
        assert_eq!(dur("2d"), Ok(172_800));
        assert_eq!(dur("1w"), Ok(604_800));
        assert_eq!(dur(" 1 hour "), Ok(3600));
        // The mock's latency may be finer: the example of `mock-server --help`.
        assert_eq!(
            "200ms".parse::<FineDur>(),
            Ok(FineDur(Duration::from_millis(200)))
        );
        assert!("0ms".parse::<FineDur>().is_err());
    }

    #[test]
    fn bad_durations_say_what_is_expected() {
        for (input, needle) in [
            ("", "empty"),
            ("15", "no unit"),
            ("15x", "not a duration"),
            ("-5m", "positive"),
            ("0s", "longer than zero"),
            ("1mo", "months"),
            ("1y", "months and years"),
            ("1.5s", "whole seconds"),
            ("500ms", "whole seconds"),
        ] {
            let message = parse_duration(input).err().unwrap_or_default();
            assert!(message.contains(needle), "{input:?}: {message}");
        }
    }

    #[test]
    fn times_in_every_documented_form() {
        let now = UNIX_EPOCH + secs(1_800_000_000);
        let at = |input: &str| parse_time(input).map(|t| t.resolve(now));
        assert_eq!(at("now"), Ok(now));
        assert_eq!(at("NOW"), Ok(now));
        assert_eq!(at("1700000000"), Ok(UNIX_EPOCH + secs(1_700_000_000)));
        assert_eq!(at("-15m"), Ok(now - secs(900)));
        assert_eq!(at("2h"), Ok(now - secs(7200)));
        assert_eq!(at("1d"), Ok(now - secs(86_400)));
        assert_eq!(at("now-1h"), Ok(now - secs(3600)));
        assert_eq!(
            at("2026-11-26T06:00:00Z"),
            Ok(UNIX_EPOCH + secs(1_795_672_800))
        );
        assert_eq!(
            at("2026-11-26T07:00:00+01:00"),
            Ok(UNIX_EPOCH + secs(1_795_672_800))
        );
    }

    #[test]
    fn bad_times_say_what_is_expected() {
        for (input, needle) in [
            ("", "empty"),
            ("yesterday", "is not a time"),
            ("+15m", "future"),
            ("1700000000000", "milliseconds"),
            ("2026-13-01T00:00:00Z", "RFC 3339"),
            ("2026-11-26T06:00:00", "RFC 3339"),
        ] {
            let message = parse_time(input).err().unwrap_or_default();
            assert!(message.contains(needle), "{input:?}: {message}");
        }
    }

    proptest! {
        #[test]
        fn hms_durations_round_trip(h in 0u64..500, m in 0u64..60, s in 0u64..60) {
            prop_assume!(h + m + s > 0);
            let text = format!("{h}h{m}m{s}s");
            prop_assert_eq!(dur(&text), Ok(h * 3600 + m * 60 + s));
        }

        #[test]
        fn rfc3339_and_unix_seconds_agree(secs in 0u64..=253_402_300_799) {
            let time = UNIX_EPOCH + Duration::from_secs(secs);
            let rfc = rfc3339(time);
            prop_assert_eq!(parse_time(&rfc), Ok(TimeSpec::At(time)));
            if secs <= MAX_UNIX_SECS {
                prop_assert_eq!(parse_time(&secs.to_string()), Ok(TimeSpec::At(time)));
            }
        }

        #[test]
        fn arbitrary_input_never_panics(input in "\\PC{0,24}") {
            let _ = parse_time(&input);
            let _ = parse_duration(&input);
        }
    }
}
