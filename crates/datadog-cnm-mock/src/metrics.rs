//! Cumulative integer curves: the reason additive metrics are exactly additive over time.
//!
//! Every flow and additive metric has a cumulative count `C(t)`, non-decreasing in `t`, and a
//! window `[from, to)` reports `C(to) - C(from)`. Adjacent windows then telescope:
//! `(C(b) - C(a)) + (C(c) - C(b)) == C(c) - C(a)`, with no rounding anywhere because `C` is an
//! integer function of an integer `t`.
//!
//! `C(t) = floor(k * A(t + φ) / 2^32)` where `A(t) = base·t + amp·tri(t)` is a daily "activity"
//! curve: `tri` is a triangle wave with a period of one day and slope ±1, and `amp <= base`, so
//! `A` never decreases (traffic is busier at some hours than others, never negative). `k` is
//! the metric's rate relative to the activity, in 32.32 fixed point.

use crate::prng::SplitMix64;

/// Latest timestamp we compute for (9999-12-31T23:59:59Z); it keeps `A(t)` within `u64`.
pub(crate) const MAX_TIMESTAMP: i64 = 253_402_300_799;

const DAY: u64 = 86_400;
const ONE: u64 = 1 << 32;
const ACTIVITY_PER_DNS_REQUEST: u64 = 20_000;

/// Names of the additive connection metrics, in `ConnRates::k` order (alphabetical, as the
/// API sorts attributes, with `rtt_micro_seconds` left out because it is not additive).
pub(crate) const CONN_ADDITIVE: [&str; 16] = [
    "bytes_sent_by_client",
    "bytes_sent_by_server",
    "packets_sent_by_client",
    "packets_sent_by_server",
    "tcp_closed_connections",
    "tcp_delivered_ce",
    "tcp_established_connections",
    "tcp_probe0_count",
    "tcp_rcv_ooo_pack",
    "tcp_recovery_count",
    "tcp_refusals",
    "tcp_reord_seen",
    "tcp_resets",
    "tcp_retransmits",
    "tcp_rto_count",
    "tcp_timeouts",
];

/// The daily activity curve of one flow.
#[derive(Clone, Copy)]
pub(crate) struct Curve {
    base: u32,
    amp: u32,
    phase: u32,
}

impl Curve {
    pub(crate) fn random(rng: &mut SplitMix64) -> Self {
        // A product of two uniforms: many quiet flows, a few heavy hitters.
        let base = 200 + ((rng.below(1 << 16) * rng.below(1 << 16)) >> 12) as u32;
        let amp = rng.below(u64::from(base / 2) + 1) as u32;
        let phase = rng.below(DAY) as u32;
        Self { base, amp, phase }
    }

    /// `A(t)` for metric `lane`; each lane is shifted by a few hours so metrics of one flow are
    /// not all proportional to each other over every window.
    #[inline]
    fn activity(self, t: u64, lane: usize) -> u64 {
        let r = (t + u64::from(self.phase) + lane as u64 * 5_399) % DAY;
        u64::from(self.base) * t + u64::from(self.amp) * r.abs_diff(DAY / 2)
    }

    /// `C(to) - C(from)` for a metric with rate `k`; `from <= to <= MAX_TIMESTAMP`.
    #[inline]
    pub(crate) fn delta(self, from: u64, to: u64, lane: usize, k: u64) -> u128 {
        if k == 0 {
            return 0;
        }
        let at = |t: u64| (u128::from(self.activity(t, lane)) * u128::from(k)) >> 32;
        at(to).saturating_sub(at(from))
    }
}

/// Rates of the 16 additive connection metrics relative to the flow's activity (which is, by
/// construction, bytes sent by the client).
pub(crate) struct ConnRates {
    k: [u64; CONN_ADDITIVE.len()],
}

impl ConnRates {
    pub(crate) fn random(rng: &mut SplitMix64) -> Self {
        let bytes_client = ONE;
        let bytes_server = (ONE >> 3) * rng.range(1, 256);
        let packets_client = ONE / rng.range(100, 1_460);
        let packets_server = bytes_server / rng.range(200, 1_460);
        let established = ONE >> rng.range(14, 22);
        let closed = established * rng.range(58, 64) / 64;
        let retransmits = packets_client >> rng.range(5, 10);
        let resets = established >> rng.range(2, 6);
        let refusals = if rng.chance(30) {
            established >> rng.range(3, 8)
        } else {
            0
        };
        let timeouts = if rng.chance(50) {
            established >> rng.range(4, 9)
        } else {
            0
        };
        let delivered_ce = packets_client >> rng.range(8, 14);
        let probe0 = if rng.chance(20) {
            packets_client >> rng.range(10, 16)
        } else {
            0
        };
        let rcv_ooo = packets_server >> rng.range(7, 12);
        let recovery = retransmits >> rng.range(1, 3);
        let reord_seen = packets_client >> rng.range(9, 14);
        let rto = retransmits >> rng.range(2, 5);
        Self {
            k: [
                bytes_client,
                bytes_server,
                packets_client,
                packets_server,
                closed,
                delivered_ce,
                established,
                probe0,
                rcv_ooo,
                recovery,
                refusals,
                reord_seen,
                resets,
                retransmits,
                rto,
                timeouts,
            ],
        }
    }

    /// Adds this flow's values over `[from, to)` to `sums`; returns the bytes (both directions)
    /// so the caller can weight the non-additive RTT.
    #[inline]
    pub(crate) fn accumulate(
        &self,
        curve: Curve,
        from: u64,
        to: u64,
        sums: &mut [u64; CONN_ADDITIVE.len()],
    ) -> u128 {
        let mut bytes = 0;
        for (lane, (k, sum)) in self.k.iter().zip(sums.iter_mut()).enumerate() {
            let delta = curve.delta(from, to, lane, *k);
            if lane < 2 {
                bytes += delta;
            }
            // u64 sums halve the per-group memory a 7500-row page walks through; they only
            // saturate where the i64 output would have to anyway.
            *sum = sum.saturating_add(u64::try_from(delta).unwrap_or(u64::MAX));
        }
        bytes
    }
}

/// Lanes of the DNS leaf counters; every reported DNS count is a sum of these, which keeps
/// `total = successful + failures`, `failures = failed_responses + timeouts` and
/// `failed_responses = nxdomain + servfail + other` exact in every window.
pub(crate) const DNS_SUCCESS: usize = 0;
pub(crate) const DNS_NXDOMAIN: usize = 1;
pub(crate) const DNS_SERVFAIL: usize = 2;
pub(crate) const DNS_OTHER: usize = 3;
pub(crate) const DNS_TIMEOUTS: usize = 4;
pub(crate) const DNS_LANES: usize = 5;

/// Rates of the DNS leaf counters. One request per 20 000 units of activity puts a flow (one
/// host resolving one name) between about 0.01 and 50 requests per second.
pub(crate) struct DnsRates {
    k: [u64; DNS_LANES],
}

impl DnsRates {
    /// `stale` names mostly fail with NXDOMAIN (a decommissioned service still being looked up).
    pub(crate) fn random(rng: &mut SplitMix64, stale: bool) -> Self {
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
        // Shares are per mille of requests.
        let k = |per_mille: u64| ONE * per_mille / (1_000 * ACTIVITY_PER_DNS_REQUEST);
        Self {
            k: [k(success), k(nxdomain), k(servfail), k(other), k(timeouts)],
        }
    }

    #[inline]
    pub(crate) fn accumulate(
        &self,
        curve: Curve,
        from: u64,
        to: u64,
        sums: &mut [u128; DNS_LANES],
    ) -> [u128; DNS_LANES] {
        let mut own = [0; DNS_LANES];
        for (lane, ((k, sum), own)) in self.k.iter().zip(sums.iter_mut()).zip(&mut own).enumerate()
        {
            *own = curve.delta(from, to, lane, *k);
            *sum += *own;
        }
        own
    }
}

#[cfg(test)]
mod tests {
    use super::{Curve, MAX_TIMESTAMP};
    use crate::prng::SplitMix64;

    #[test]
    fn curves_never_decrease_and_telescope() {
        let mut rng = SplitMix64::new(3);
        for _ in 0..200 {
            let curve = Curve::random(&mut rng);
            let k = rng.range(1, 1 << 40);
            let lane = rng.index(16);
            let start = rng.below(2_000_000_000);
            let mut total = 0;
            for step in 0..48 {
                let from = start + step * 1_800;
                total += curve.delta(from, from + 1_800, lane, k);
            }
            assert_eq!(total, curve.delta(start, start + 48 * 1_800, lane, k));
            for t in start..start + 200 {
                assert!(curve.activity(t + 1, lane) >= curve.activity(t, lane));
            }
        }
    }

    #[test]
    fn the_latest_timestamp_does_not_overflow() {
        let mut rng = SplitMix64::new(5);
        let curve = Curve::random(&mut rng);
        let max = MAX_TIMESTAMP as u64;
        assert!(curve.delta(0, max, 1, 1 << 40) > 0);
    }
}
