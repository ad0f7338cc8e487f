//! A metric table in, a plan out: how the mock generates every metric of a table
//! (`Connection::METRICS`, `DnsMetricKey::METRICS`, or any other `&[Metric]`) from its
//! aggregation, its unit and a hash of its name, without a list of names.
//!
//! - `sum` and `rate` metrics are *lanes*: each flow has, per lane, a cumulative count
//!   `C(t) = floor((k·A(t) + j·B(t)) / 2^32)` over its activity curve `A` and its burstier
//!   error curve `B` (see [`crate::shape`]); a `sum` reports `C(to) − C(from)`, a `rate` that
//!   over `to − from` seconds. The coefficients `k` and `j` come from the unit:
//!   - bytes: the flow's volume; the table's first bytes metric is the reference (the flow's
//!     magnitude), the others 1/8× to 32× of it, partly bursty;
//!   - packets: the n-th packets metric is the n-th bytes metric over a packet size of
//!     100–1460 bytes; packets metrics beyond the bytes metrics are events (below);
//!   - counts (and time units) as `sum`: events, a small share of the flow's packets
//!     (2^-7 to 2^-15, by name hash and flow), a hash-chosen share of it following `B`, and
//!     for some names present on only a share of the flows (rare events);
//!   - counts as `rate`: a per-second gauge of connections, 2^-15 to 2^-21 of the bytes.
//! - `mean` and `percentile` metrics are *values*: each flow has one, in a range plausible
//!   for the unit (80–4000 µs, 1–150 ms, …), and a group reports the mean of its flows'
//!   values weighted by their bytes (connections) or requests (DNS) in the window.
//! - DNS keys of the documented breakdown follow [`crate::dns_model`]; other DNS keys are
//!   generic: counts are shares of the requests, rates requests per second.
//!
//! Each lane and value draws from a generator seeded by the flow and the metric's name, so a
//! metric added to the spec leaves the others' values as they were.

use datadog_cnm_raw::{Aggregation, Metric, Unit};

use crate::dns_model::{self, Latency};
use crate::prng::{SplitMix64, hash_name};

/// Which endpoint a plan is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Connections,
    Dns,
}

/// A flow's cumulative count of one lane is `floor((k·A(t) + j·B(t)) / 2^32)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Coef {
    pub(crate) k: u64,
    pub(crate) j: u64,
}

/// What a response reports for one metric of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Output {
    /// A count: the sum of these lanes' window values.
    Count(Vec<usize>),
    /// A per-second gauge: the lane's window value over the window's length in seconds.
    Rate(usize),
    /// The weighted mean of the flows' values number `n`.
    Mean(usize),
}

/// One metric of the table and how it is reported.
pub(crate) struct Planned {
    pub(crate) metric: Metric,
    pub(crate) output: Output,
}

enum LaneRule {
    Volume { h: u64, reference: bool },
    Packets { h: u64, volume: (u64, bool) },
    Events { h: u64, unit: Unit },
    Gauge { h: u64, unit: Unit },
    Leaf(usize),
    DnsGeneric { h: u64, unit: Unit, rate: bool },
}

enum ValueRule {
    Generic { h: u64, unit: Unit },
    Latency { h: u64, latency: Latency },
}

/// A `mean` or `percentile` metric: how flows get their value, and which lanes weigh it.
pub(crate) struct Value {
    rule: ValueRule,
    pub(crate) weight: Vec<usize>,
}

/// What a flow brings to its coefficients besides its seed.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Traits {
    /// Bytes per second (connections) or 20 000 × requests per second (DNS) at an ordinary
    /// activity rate.
    pub(crate) magnitude: u64,
    /// DNS: a name that mostly fails with NXDOMAIN.
    pub(crate) stale: bool,
    /// DNS: a name outside the cluster.
    pub(crate) external: bool,
}

/// Salt of the DNS leaf shares' generator (one draw for the five leaves of a flow).
const LEAF_SALT: u64 = 0x1EAF_5EED_0D15_C0DE;
/// Activity magnitude per DNS request.
const MAGNITUDE_PER_REQUEST: u64 = 20_000;

/// How one endpoint's metrics are generated and reported.
pub(crate) struct Plan {
    pub(crate) side: Side,
    /// The table's metrics, in table order.
    pub(crate) metrics: Vec<Planned>,
    lanes: Vec<LaneRule>,
    pub(crate) values: Vec<Value>,
    /// The lanes whose sum orders rows: bytes for connections, requests for DNS.
    pub(crate) sort: Vec<usize>,
    /// Connections: `group_bys` is written before metric number `group_bys_at`, where the
    /// real server's alphabetical order puts it.
    pub(crate) group_bys_at: usize,
}

impl Plan {
    pub(crate) fn new(side: Side, table: &[Metric]) -> Self {
        let mut lanes = Vec::new();
        if side == Side::Dns {
            lanes.extend((0..dns_model::LEAVES).map(LaneRule::Leaf));
        }
        let volumes: Vec<(u64, bool)> = table
            .iter()
            .filter(|m| m.unit == Unit::Bytes && is_lane(m.aggregation))
            .enumerate()
            .map(|(i, m)| (hash_name(m.name), i == 0))
            .collect();
        let mut packets_seen = 0;
        let mut values = Vec::new();
        let mut weighted_by_sort = Vec::new();
        let mut metrics = Vec::with_capacity(table.len());
        for metric in table {
            let h = hash_name(metric.name);
            let aggregation = metric.aggregation;
            let dns = side == Side::Dns;
            let output = if let Some(leaves) = dns
                .then(|| dns_model::leaves(metric.name, aggregation))
                .flatten()
            {
                Output::Count(leaves.to_vec())
            } else if let Some(latency) =
                dns.then(|| Latency::of(metric.name, aggregation)).flatten()
            {
                values.push(Value {
                    rule: ValueRule::Latency { h, latency },
                    weight: latency.weight().to_vec(),
                });
                Output::Mean(values.len() - 1)
            } else if is_lane(aggregation) {
                let rate = aggregation == Aggregation::Rate;
                let rule = match (side, metric.unit) {
                    (Side::Dns, unit) => LaneRule::DnsGeneric { h, unit, rate },
                    (Side::Connections, Unit::Bytes) => {
                        let reference = volumes.first().is_some_and(|v| v.0 == h);
                        LaneRule::Volume { h, reference }
                    }
                    (Side::Connections, Unit::Packets) if packets_seen < volumes.len() => {
                        packets_seen += 1;
                        LaneRule::Packets {
                            h,
                            volume: volumes[packets_seen - 1],
                        }
                    }
                    (Side::Connections, unit) if rate => LaneRule::Gauge { h, unit },
                    (Side::Connections, unit) => LaneRule::Events { h, unit },
                };
                lanes.push(rule);
                let lane = lanes.len() - 1;
                if rate {
                    Output::Rate(lane)
                } else {
                    Output::Count(vec![lane])
                }
            } else {
                // `mean`, `percentile`, and any aggregation this version does not know.
                weighted_by_sort.push(values.len());
                values.push(Value {
                    rule: ValueRule::Generic {
                        h,
                        unit: metric.unit,
                    },
                    weight: Vec::new(),
                });
                Output::Mean(values.len() - 1)
            };
            metrics.push(Planned {
                metric: *metric,
                output,
            });
        }
        let sort = match side {
            Side::Dns => dns_model::ALL.to_vec(),
            Side::Connections => connection_sort(&metrics, &lanes),
        };
        for &v in &weighted_by_sort {
            if let Some(value) = values.get_mut(v) {
                value.weight.clone_from(&sort);
            }
        }
        let group_bys_at = match side {
            Side::Connections => metrics
                .iter()
                .position(|p| p.metric.name > "group_bys")
                .unwrap_or(metrics.len()),
            Side::Dns => 0,
        };
        Self {
            side,
            metrics,
            lanes,
            values,
            sort,
            group_bys_at,
        }
    }

    /// The number of lanes (cumulative counts) per flow.
    pub(crate) fn lane_count(&self) -> usize {
        self.lanes.len()
    }

    /// Appends one flow's coefficients, one per lane.
    pub(crate) fn coefficients(&self, seed: u64, traits: Traits, out: &mut Vec<Coef>) {
        let shares = (self.side == Side::Dns)
            .then(|| dns_model::shares(&mut SplitMix64::new(seed ^ LEAF_SALT), traits.stale));
        for rule in &self.lanes {
            let coef = match *rule {
                LaneRule::Leaf(leaf) => {
                    let share = shares.and_then(|s| s.get(leaf).copied()).unwrap_or(0);
                    let bursty = if leaf == dns_model::SUCCESS { 0 } else { 50 };
                    split(requests(traits) * share / 1_000, bursty)
                }
                LaneRule::DnsGeneric { h, unit, rate } => dns_generic(seed, h, unit, rate, traits),
                _ => connection_lane(rule, seed, traits),
            };
            out.push(coef);
        }
    }

    /// Appends one flow's values, one per `mean` or `percentile` metric.
    pub(crate) fn flow_values(&self, seed: u64, traits: Traits, out: &mut Vec<u32>) {
        for value in &self.values {
            out.push(match value.rule {
                ValueRule::Latency { h, latency } => {
                    latency.value(&mut SplitMix64::new(seed ^ h), traits.external)
                }
                ValueRule::Generic { h, unit } => {
                    let mut rng = SplitMix64::new(seed ^ h);
                    let (lo, hi) = match unit {
                        Unit::Microseconds => (80, 4_000),
                        Unit::Milliseconds => (1, 150),
                        Unit::Bytes => (64, 65_536),
                        Unit::Packets => (1, 64),
                        _ => (1, 100),
                    };
                    rng.range(lo, hi) as u32
                }
            });
        }
    }

    /// The index of the lane metric `name` reports, if it is a `sum` or `rate` of one lane.
    pub(crate) fn lane_of(&self, name: &str) -> Option<usize> {
        self.metrics
            .iter()
            .find(|p| p.metric.name == name)
            .and_then(|p| match &p.output {
                Output::Count(lanes) if lanes.len() == 1 => lanes.first().copied(),
                Output::Rate(lane) => Some(*lane),
                _ => None,
            })
    }
}

fn is_lane(aggregation: Aggregation) -> bool {
    matches!(aggregation, Aggregation::Sum | Aggregation::Rate)
}

/// Connections sort by their bytes (`sum` metrics in bytes); a table without any sorts by
/// all its `sum` lanes, and without those by every lane.
fn connection_sort(metrics: &[Planned], lanes: &[LaneRule]) -> Vec<usize> {
    let sums = |bytes_only: bool| -> Vec<usize> {
        metrics
            .iter()
            .filter(|p| p.metric.aggregation == Aggregation::Sum)
            .filter(|p| !bytes_only || p.metric.unit == Unit::Bytes)
            .filter_map(|p| match &p.output {
                Output::Count(l) => l.first().copied(),
                _ => None,
            })
            .collect()
    };
    let bytes = sums(true);
    if !bytes.is_empty() {
        return bytes;
    }
    let all = sums(false);
    if !all.is_empty() {
        return all;
    }
    (0..lanes.len()).collect()
}

/// `total` split between the activity curve and, `bursty` per cent, the error curve.
fn split(total: u64, bursty: u64) -> Coef {
    let bursty = bursty.min(100);
    let j = total / 100 * bursty + total % 100 * bursty / 100;
    Coef { k: total - j, j }
}

/// A connection flow's bytes per activity unit, in 32.32 fixed point: its magnitude (bytes
/// per second at an ordinary rate) over [`UNIT`](crate::shape::UNIT).
fn reference(traits: Traits) -> u64 {
    traits.magnitude.min(1 << 24) << 22
}

/// A DNS flow's requests per activity unit, in 32.32 fixed point.
fn requests(traits: Traits) -> u64 {
    (traits.magnitude.min(1 << 24) << 22) / MAGNITUDE_PER_REQUEST
}

fn volume(seed: u64, h: u64, reference_lane: bool, traits: Traits) -> Coef {
    if reference_lane {
        return Coef {
            k: reference(traits),
            j: 0,
        };
    }
    let mut rng = SplitMix64::new(seed ^ h);
    split(reference(traits) / 8 * rng.range(1, 256), h % 21)
}

/// Microseconds or milliseconds per event, for counts of time.
fn duration_per_event(unit: Unit, rng: &mut SplitMix64) -> u64 {
    match unit {
        Unit::Microseconds => rng.range(100, 5_000),
        Unit::Milliseconds => rng.range(1, 200),
        _ => 1,
    }
}

fn connection_lane(rule: &LaneRule, seed: u64, traits: Traits) -> Coef {
    match *rule {
        LaneRule::Volume { h, reference } => volume(seed, h, reference, traits),
        LaneRule::Packets {
            h,
            volume: (of, is_reference),
        } => {
            let bytes = volume(seed, of, is_reference, traits);
            let size = SplitMix64::new(seed ^ h).range(100, 1_460);
            Coef {
                k: bytes.k / size,
                j: bytes.j / size,
            }
        }
        LaneRule::Events { h, unit } => {
            let mut rng = SplitMix64::new(seed ^ h);
            // One name in three is a rare event, seen on only a share of the flows.
            let presence = match (h >> 8) % 9 {
                0 => 20,
                1 => 30,
                2 => 50,
                _ => 100,
            };
            if !rng.chance(presence) {
                return Coef::default();
            }
            // Rare events are also fewer where they happen.
            let rare = if presence < 100 { 3 } else { 0 };
            let packets = reference(traits) / 800;
            let shift = 7 + (h >> 16) % 5 + rare + rng.range(0, 1);
            let events = (packets >> shift) * duration_per_event(unit, &mut rng);
            split(events, 25 + (h >> 24) % 51)
        }
        LaneRule::Gauge { h, unit } => {
            let mut rng = SplitMix64::new(seed ^ h);
            let shift = 15 + (h >> 16) % 6 + rng.range(0, 1);
            let gauge = (reference(traits) >> shift) * duration_per_event(unit, &mut rng);
            split(gauge, (h >> 24) % 26)
        }
        LaneRule::Leaf(_) | LaneRule::DnsGeneric { .. } => Coef::default(),
    }
}

fn dns_generic(seed: u64, h: u64, unit: Unit, rate: bool, traits: Traits) -> Coef {
    let mut rng = SplitMix64::new(seed ^ h);
    let requests = requests(traits);
    match unit {
        Unit::Bytes => split(requests * rng.range(40, 512), 0),
        Unit::Packets => split(requests * rng.range(1, 2), 0),
        Unit::Microseconds => split(requests * rng.range(500, 50_000), 25),
        Unit::Milliseconds => split(requests * rng.range(1, 50), 25),
        _ if rate => split(requests / 100 * (10 + (h >> 8) % 91), 0),
        _ => {
            // Like an error code: some flows never see it, the others a few per mille.
            if !rng.chance(50) {
                return Coef::default();
            }
            let per_mille = rng.range(1, 1 + (h >> 8) % 20);
            split(requests * per_mille / 1_000, 50)
        }
    }
}

#[cfg(test)]
mod tests {
    use datadog_cnm_raw::{Connection, DnsMetricKey};

    use super::{Output, Plan, Side, Traits};

    #[test]
    fn the_real_tables_plan_as_the_api_reports() {
        let conn = Plan::new(Side::Connections, &Connection::METRICS);
        assert_eq!(conn.metrics.len(), Connection::METRICS.len());
        // After bytes_sent_by_server, before packets_sent_by_client.
        assert_eq!(conn.group_bys_at, 2);
        assert_eq!(conn.sort, [0, 1], "bytes");
        let rtt = conn
            .metrics
            .iter()
            .find(|p| p.metric.name == "rtt_micro_seconds");
        assert!(matches!(rtt.map(|p| &p.output), Some(Output::Mean(0))));
        let established = conn.lane_of("tcp_established_connections");
        assert!(matches!(
            established.map(|l| &conn.metrics[l + 1].output),
            Some(Output::Rate(_))
        ));

        let dns = Plan::new(Side::Dns, &DnsMetricKey::METRICS);
        assert_eq!(dns.lane_count(), 5, "the five leaves, nothing generic");
        assert_eq!(dns.metrics[0].output, Output::Count(vec![0, 1, 2, 3, 4]));
        assert_eq!(dns.values.len(), 2);
    }

    #[test]
    fn coefficients_depend_on_the_flow_and_the_name_only() {
        let conn = Plan::new(Side::Connections, &Connection::METRICS);
        let mut shorter = Connection::METRICS.to_vec();
        shorter.retain(|m| m.name != "tcp_delivered_ce");
        let fewer = Plan::new(Side::Connections, &shorter);
        let traits = Traits {
            magnitude: 50_000,
            ..Traits::default()
        };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        conn.coefficients(9, traits, &mut a);
        fewer.coefficients(9, traits, &mut b);
        let retransmits = |plan: &Plan| plan.lane_of("tcp_retransmits");
        assert_eq!(
            retransmits(&conn).map(|l| a[l]),
            retransmits(&fewer).map(|l| b[l])
        );
        assert!(
            a[0].k > 0 && a[2].k > 0 && a[2].k < a[0].k / 50,
            "packets ≈ bytes / size"
        );
    }
}
