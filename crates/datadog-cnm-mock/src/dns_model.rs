//! What the mock knows about DNS beyond the metric table: the one place that names DNS keys.
//!
//! A DNS flow's requests end in exactly one of five outcomes, the *leaves*: a successful
//! response, an NXDOMAIN, a SERVFAIL, another error code, or a timeout. Each leaf is a
//! cumulative count of its own, and the documented keys are sums of leaves:
//!
//! | key | leaves |
//! |---|---|
//! | `dns_total_requests` | all five |
//! | `dns_successful_responses` | success |
//! | `dns_failures` | NXDOMAIN, SERVFAIL, other, timeout |
//! | `dns_failed_responses` | NXDOMAIN, SERVFAIL, other |
//! | `dns_timeouts` | timeout |
//! | `dns_responses.nxdomain`, `.servfail`, `.other` | that leaf |
//!
//! Because every reported count is a sum of the same integer leaves, the invariants
//! `total = successful + failures`, `failures = failed_responses + timeouts` and
//! `failed_responses = nxdomain + servfail + other` hold exactly in every window and group.
//! `dns_success_latency_percentile` is weighted by successes and
//! `dns_failure_latency_percentile` by failures. Any other key of the table (a new
//! `dns_responses.refused`, say) is outside this breakdown and gets generic values by its
//! aggregation and unit, like any connection metric.

use datadog_cnm_raw::Aggregation;

use crate::prng::SplitMix64;

pub(crate) const SUCCESS: usize = 0;
pub(crate) const NXDOMAIN: usize = 1;
pub(crate) const SERVFAIL: usize = 2;
pub(crate) const OTHER: usize = 3;
pub(crate) const TIMEOUTS: usize = 4;
/// The number of leaves; they are the first lanes of the DNS plan, in this order.
pub(crate) const LEAVES: usize = 5;

pub(crate) const ALL: &[usize] = &[SUCCESS, NXDOMAIN, SERVFAIL, OTHER, TIMEOUTS];
pub(crate) const FAILURES: &[usize] = &[NXDOMAIN, SERVFAIL, OTHER, TIMEOUTS];
const FAILED_RESPONSES: &[usize] = &[NXDOMAIN, SERVFAIL, OTHER];

/// The leaves a documented `sum` key adds up, or `None` for a key outside the breakdown.
pub(crate) fn leaves(name: &str, aggregation: Aggregation) -> Option<&'static [usize]> {
    if aggregation != Aggregation::Sum {
        return None;
    }
    Some(match name {
        "dns_total_requests" => ALL,
        "dns_successful_responses" => &[SUCCESS],
        "dns_failures" => FAILURES,
        "dns_failed_responses" => FAILED_RESPONSES,
        "dns_timeouts" => &[TIMEOUTS],
        "dns_responses.nxdomain" => &[NXDOMAIN],
        "dns_responses.servfail" => &[SERVFAIL],
        "dns_responses.other" => &[OTHER],
        _ => return None,
    })
}

/// Which latency a documented latency key reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Latency {
    Success,
    Failure,
}

impl Latency {
    /// The documented latency key `name`, if it is one (as a mean or a percentile).
    pub(crate) fn of(name: &str, aggregation: Aggregation) -> Option<Self> {
        if !matches!(aggregation, Aggregation::Mean | Aggregation::Percentile) {
            return None;
        }
        match name {
            "dns_success_latency_percentile" => Some(Self::Success),
            "dns_failure_latency_percentile" => Some(Self::Failure),
            _ => None,
        }
    }

    /// The leaves whose requests weigh this latency.
    pub(crate) fn weight(self) -> &'static [usize] {
        match self {
            Self::Success => &[SUCCESS],
            Self::Failure => FAILURES,
        }
    }

    /// One flow's latency in milliseconds: external names answer slower than cluster ones;
    /// failures (timeouts above all) take longest.
    pub(crate) fn value(self, rng: &mut SplitMix64, external: bool) -> u32 {
        let (lo, hi) = match (self, external) {
            (Self::Success, true) => (5, 150),
            (Self::Success, false) => (1, 40),
            (Self::Failure, _) => (20, 2_000),
        };
        rng.range(lo, hi) as u32
    }
}

/// A flow's shares of its requests per leaf, per mille. `stale` names (a decommissioned
/// service still looked up) mostly fail with NXDOMAIN; others mostly succeed.
pub(crate) fn shares(rng: &mut SplitMix64, stale: bool) -> [u64; LEAVES] {
    let (nxdomain, servfail, other, timeouts) = if stale {
        (
            rng.range(600, 980),
            rng.range(0, 5),
            rng.range(0, 3),
            rng.range(0, 5),
        )
    } else {
        (
            if rng.chance(50) { rng.range(1, 20) } else { 0 },
            rng.range(0, 5),
            rng.range(0, 3),
            rng.range(0, 10),
        )
    };
    let success = 1_000_u64.saturating_sub(nxdomain + servfail + other + timeouts);
    [success, nxdomain, servfail, other, timeouts]
}
