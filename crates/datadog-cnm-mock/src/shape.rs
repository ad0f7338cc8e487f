//! Activity over time as integer cumulative curves: where the data's cycles, trends and noise
//! come from, and why every `sum` metric is exactly additive over adjacent windows.
//!
//! A flow's activity has a rate `r(t) ≥ 0`, in activity units per second ([`UNIT`] is an
//! ordinary rate): a constant base plus triangle waves, each with its own period, phase and
//! amplitude (a daily cycle, a weekly one, a multi-week trend, short incommensurate periods
//! for noise). A triangle wave integrates to a piecewise quadratic, so the cumulative
//! activity `A(t) = ∫ r` has a closed form: [`Shape::at`] computes it with integer
//! arithmetic, floored, in a few operations whatever `t`. Floors of non-decreasing functions
//! never decrease, so `A` is an integer function of an integer time that never decreases.
//!
//! Every count the mock reports is a cumulative count `C(t)`, an integer function of such
//! curves that never decreases, and a window `[from, to)` reports `C(to) − C(from)`. For
//! adjacent windows the values telescope, `(C(b) − C(a)) + (C(c) − C(b)) = C(c) − C(a)`,
//! exactly, with no rounding anywhere: that is the whole additivity argument, and it holds
//! for any rate function with an exact integer integral, incidents included.

use crate::prng::SplitMix64;

/// Latest timestamp the API accepts (9999-12-31T23:59:59Z); it keeps every curve in `u64`.
pub(crate) const MAX_TIMESTAMP: i64 = 253_402_300_799;
/// An ordinary activity rate: 1.0 in the curves' fixed point, per second.
pub(crate) const UNIT: u64 = 1 << 10;

pub(crate) const MINUTE: u64 = 60;
pub(crate) const HOUR: u64 = 3_600;
pub(crate) const DAY: u64 = 86_400;
pub(crate) const WEEK: u64 = 7 * DAY;

/// What the rates look like: the living data of the default scenarios, or the nearly flat
/// data of [`Scenario::Flat`](crate::Scenario::Flat).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    Living,
    Flat,
}

/// A triangle wave of rate: 0 at its troughs, `amp` units per second at its peaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Wave {
    period: u32,
    phase: u32,
    amp: u32,
}

impl Wave {
    /// A wave of `period` seconds (made even, at least 2, at most about 49 days) that peaks
    /// at `amp` units per second at the times `peak` modulo `period`.
    pub(crate) fn peaking_at(period: u64, peak: u64, amp: u64) -> Self {
        let period = (period.clamp(2, 1 << 22) + 1) & !1;
        let half = period / 2;
        // The wave peaks where `(t + phase) mod period == period / 2`.
        let phase = (half + period - peak % period) % period;
        Self {
            period: period as u32,
            phase: phase as u32,
            amp: amp.min(1 << 16) as u32,
        }
    }

    /// `floor(amp · ∫₀^{t+phase} w)`, where `w` is the unit triangle wave, up to a constant;
    /// never decreases. Within a period, `∫ w` is `u²/P` on the rising half and
    /// `2u − P/2 − u²/P` on the falling one; each whole period adds `P/2`.
    #[inline]
    fn integral(self, t: u64) -> u64 {
        if self.amp == 0 {
            return 0;
        }
        let (p, amp) = (u64::from(self.period), u64::from(self.amp));
        let x = t + u64::from(self.phase);
        let (q, u) = (x / p, x % p);
        let half = p / 2;
        let g = if u <= half {
            u * u
        } else {
            2 * u * p - half * p - u * u
        };
        // amp · q · P/2 is exact; the partial period is floored (continuous at the wrap:
        // g(P) = P²/2, so the floored part reaches amp · P/2 just as q steps up).
        amp * q * half + amp * g / p
    }
}

/// A base rate plus `N` waves; [`at`](Self::at) is the cumulative activity `A(t)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape<const N: usize> {
    base: u32,
    waves: [Wave; N],
}

impl<const N: usize> Shape<N> {
    /// `A(t)` for `0 <= t <= MAX_TIMESTAMP`: integer, never decreasing. With at most four
    /// units per second of base and waves it stays below 2^52.
    #[inline]
    pub(crate) fn at(&self, t: u64) -> u64 {
        let mut a = u64::from(self.base) * t;
        for wave in &self.waves {
            a = a.saturating_add(wave.integral(t));
        }
        a
    }
}

/// What a service's traffic does over days, shared by all its flows as clients.
///
/// Living: a base, a daily cycle peaking around 14:00 UTC (± 3 h per service), a smaller
/// twice-daily ripple, a weekly cycle peaking on Wednesdays with quiet weekends, and for
/// about one service in eight a trend: a wave of two to six weeks that makes it grow for
/// days, then shrink. Flat: a constant rate.
pub(crate) fn service(seed: u64, style: Style) -> Shape<4> {
    let mut rng = SplitMix64::new(seed);
    if style == Style::Flat {
        return Shape {
            base: UNIT as u32,
            waves: [Wave::default(); 4],
        };
    }
    let daily_peak = 11 * HOUR + rng.below(6 * HOUR);
    let daily = Wave::peaking_at(DAY, daily_peak, rng.range(UNIT / 2, UNIT));
    let ripple = Wave::peaking_at(DAY / 2, rng.below(DAY), rng.range(0, UNIT * 3 / 16));
    // Day 0 of the epoch was a Thursday: day 6 is a Wednesday, and the trough half a week
    // after its noon is Sunday 00:00.
    let weekly = Wave::peaking_at(
        WEEK,
        6 * DAY + 12 * HOUR + rng.below(HOUR * 12),
        rng.range(UNIT * 3 / 32, UNIT * 5 / 16),
    );
    let trend = if rng.chance(12) {
        Wave::peaking_at(
            rng.range(14, 42) * DAY,
            rng.below(42 * DAY),
            rng.range(UNIT, 3 * UNIT),
        )
    } else {
        Wave::default()
    };
    Shape {
        base: (UNIT / 2) as u32,
        waves: [daily, ripple, weekly, trend],
    }
}

/// A flow's own variation around its service's curve: two short waves of incommensurate
/// periods (10–30 min and 40–120 min), so hours and minutes differ from flow to flow.
/// Flat: a daily wave at a random phase, as the mock's data always had, which averages out
/// over many flows.
pub(crate) fn noise(seed: u64, style: Style) -> Shape<2> {
    let mut rng = SplitMix64::new(seed);
    let waves = match style {
        Style::Living => [
            Wave::peaking_at(
                2 * rng.range(300, 900),
                rng.below(DAY),
                rng.range(0, UNIT * 5 / 32),
            ),
            Wave::peaking_at(
                2 * rng.range(1_200, 3_600),
                rng.below(DAY),
                rng.range(0, UNIT * 5 / 32),
            ),
        ],
        Style::Flat => [
            Wave::peaking_at(DAY, rng.below(DAY), rng.range(0, UNIT / 2)),
            Wave::default(),
        ],
    };
    Shape { base: 0, waves }
}

/// The burstier second curve `B(t)` that error counters partly follow (15–60 min and
/// 3–9 h bursts over a low base), so a flow's errors are not proportional to its traffic.
/// Flat: a constant rate.
pub(crate) fn errors(seed: u64, style: Style) -> Shape<2> {
    let mut rng = SplitMix64::new(seed);
    match style {
        Style::Living => Shape {
            base: (UNIT / 4) as u32,
            waves: [
                Wave::peaking_at(
                    2 * rng.range(450, 1_800),
                    rng.below(DAY),
                    rng.range(0, UNIT),
                ),
                Wave::peaking_at(
                    2 * rng.range(5_400, 16_200),
                    rng.below(DAY),
                    rng.range(0, UNIT),
                ),
            ],
        },
        Style::Flat => Shape {
            base: UNIT as u32,
            waves: [Wave::default(); 2],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::{DAY, HOUR, MAX_TIMESTAMP, Style, UNIT, Wave, errors, noise, service};
    use crate::prng::SplitMix64;

    #[test]
    fn waves_integrate_exactly_over_whole_periods_and_never_decrease() {
        let wave = Wave::peaking_at(DAY, 14 * HOUR, UNIT);
        // A whole period of a wave peaking at `amp` holds amp · P / 2.
        for start in [0, 17, 50_000, 1_800_000_000] {
            assert_eq!(
                wave.integral(start + DAY) - wave.integral(start),
                UNIT * DAY / 2
            );
        }
        let mut rng = SplitMix64::new(1);
        for _ in 0..50 {
            let wave = Wave::peaking_at(rng.range(2, 5_000_000), rng.below(DAY), rng.below(4096));
            let start = rng.below(MAX_TIMESTAMP as u64 - 10_000);
            let mut last = wave.integral(start);
            for t in start..start + 5_000 {
                let next = wave.integral(t + 1);
                assert!(next >= last, "{wave:?} decreases at {t}");
                last = next;
            }
        }
    }

    #[test]
    fn the_rate_peaks_where_asked() {
        let wave = Wave::peaking_at(DAY, 14 * HOUR, UNIT);
        let rate = |t: u64| wave.integral(t + 60) - wave.integral(t);
        let day = 1_800_000_000 / DAY * DAY;
        assert!(rate(day + 14 * HOUR) > rate(day + 10 * HOUR));
        assert!(rate(day + 14 * HOUR) > rate(day + 18 * HOUR));
        assert!(rate(day + 2 * HOUR) < rate(day + 10 * HOUR));
    }

    #[test]
    fn shapes_do_not_overflow_at_the_latest_timestamp() {
        let max = MAX_TIMESTAMP as u64;
        for seed in 0..200 {
            for style in [Style::Living, Style::Flat] {
                let a = service(seed, style).at(max) + noise(seed, style).at(max);
                assert!(a < 1 << 52, "{a}");
                assert!(errors(seed, style).at(max) < 1 << 52);
                assert!(service(seed, style).at(max) > service(seed, style).at(max - 1));
            }
        }
    }
}
