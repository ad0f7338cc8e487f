//! Per request: filter one endpoint's flows, and sum each group's window values lane by lane
//! (and its weighted values), whatever the metric table holds.

use crate::effects::{At, SideEffects, Timeline};
use crate::grouping::{FxMap, GroupKey, Grouping};
use crate::plan::{Coef, Output, Plan};
use crate::query::Matcher;
use crate::topology::{Flows, Topology};

/// The groups of one request, laid out flat: a stride of lanes and of values per group.
pub(crate) struct Groups {
    pub(crate) keys: Vec<GroupKey>,
    lanes: usize,
    values: usize,
    /// Window values per lane. `u64` halves the memory a 7500-row page walks through; a sum
    /// only saturates where the `int64` output would have to anyway.
    sums: Vec<u64>,
    /// Per value: `Σ value · weight` in 2^16 units of the value, and `Σ weight`.
    weighted: Vec<u128>,
    weights: Vec<u128>,
}

impl Groups {
    fn push(&mut self, key: GroupKey) -> usize {
        self.keys.push(key);
        self.sums.resize(self.sums.len() + self.lanes, 0);
        self.weighted.resize(self.weighted.len() + self.values, 0);
        self.weights.resize(self.weights.len() + self.values, 0);
        self.keys.len() - 1
    }

    /// Group `g`'s window value of `lane`.
    fn lane(&self, g: usize, lane: usize) -> u128 {
        self.sums
            .get(g * self.lanes + lane)
            .map_or(0, |&s| u128::from(s))
    }

    /// Whether group `g` counted anything in the window (a group that did not is left out
    /// of the page, as groups without traffic are on the real API).
    pub(crate) fn counted(&self, g: usize) -> bool {
        self.sums
            .get(g * self.lanes..(g + 1) * self.lanes)
            .is_some_and(|sums| sums.iter().any(|&s| s > 0))
    }

    /// The sum of group `g`'s window values of `lanes`.
    pub(crate) fn total(&self, g: usize, lanes: &[usize]) -> u128 {
        lanes.iter().map(|&l| self.lane(g, l)).sum()
    }

    /// What group `g` reports for a metric planned as `output` over a window of `seconds`.
    pub(crate) fn value(&self, g: usize, output: &Output, seconds: u64) -> u128 {
        match output {
            Output::Count(lanes) => self.total(g, lanes),
            Output::Rate(lane) => self.lane(g, *lane) / u128::from(seconds.max(1)),
            Output::Mean(v) => {
                let at = g * self.values + v;
                let (weighted, weight) = (
                    self.weighted.get(at).copied().unwrap_or(0),
                    self.weights.get(at).copied().unwrap_or(0),
                );
                weighted.checked_div(weight).map_or(0, |mean| mean >> 16)
            }
        }
    }
}

/// `C(t)` of a lane without incidents.
#[inline]
fn plain(coef: Coef, a: u64, b: u64) -> u128 {
    (u128::from(coef.k) * u128::from(a) + u128::from(coef.j) * u128::from(b)) >> 32
}

/// `C(t)` of `lane`, through the flow's timeline if an incident affects it.
#[inline]
fn cumulative(timeline: Option<&Timeline>, lane: usize, coef: Coef, at: At) -> u128 {
    match timeline.and_then(|t| t.lane(lane).map(|segs| (t, segs))) {
        Some((t, segs)) => t.cumulative(segs, coef, at),
        None => plain(coef, at.1, at.2),
    }
}

/// Sums the window `[from, to)` of every flow `matcher` accepts into its group.
pub(crate) fn accumulate<const K: usize>(
    topology: &Topology,
    flows: &Flows<K>,
    effects: &SideEffects,
    grouping: &Grouping,
    matcher: Option<&Matcher>,
    (from, to): (u64, u64),
) -> Groups {
    let plan: &Plan = &flows.plan;
    let lanes = plan.lane_count();
    let mut groups = Groups {
        keys: Vec::new(),
        lanes,
        values: plan.values.len(),
        sums: Vec::new(),
        weighted: Vec::new(),
        weights: Vec::new(),
    };
    let services_from = topology.service_activity(from);
    let services_to = topology.service_activity(to);
    let mut index: FxMap<GroupKey, usize> = FxMap::default();
    let mut deltas = vec![0_u128; lanes];
    for (i, flow) in flows.flows.iter().enumerate() {
        if matcher.is_some_and(|m| !m.matches(&flow.tags)) {
            continue;
        }
        let key = grouping.key(&flow.tags);
        let g = *index.entry(key).or_insert_with(|| groups.push(key));
        let service = usize::from(flow.service);
        let from_at: At = (
            from,
            services_from.get(service).copied().unwrap_or(0) + flow.noise.at(from),
            flow.errors.at(from),
        );
        let to_at: At = (
            to,
            services_to.get(service).copied().unwrap_or(0) + flow.noise.at(to),
            flow.errors.at(to),
        );
        let timeline = effects.of(i);
        let coefs = flows.coefs_of(i);
        let sums = groups
            .sums
            .get_mut(g * lanes..(g + 1) * lanes)
            .unwrap_or(&mut []);
        for (lane, ((coef, delta), sum)) in coefs.iter().zip(&mut deltas).zip(sums).enumerate() {
            *delta = match timeline {
                None => plain(*coef, to_at.1, to_at.2)
                    .saturating_sub(plain(*coef, from_at.1, from_at.2)),
                Some(_) => cumulative(timeline, lane, *coef, to_at)
                    .saturating_sub(cumulative(timeline, lane, *coef, from_at)),
            };
            *sum = sum.saturating_add(u64::try_from(*delta).unwrap_or(u64::MAX));
        }
        let values = flows.values_of(i);
        for (v, (value, &own)) in plan.values.iter().zip(values).enumerate() {
            let weight: u128 = value.weight.iter().filter_map(|&l| deltas.get(l)).sum();
            let weighted = match timeline.and_then(|t| t.value(v).map(|segs| (t, segs))) {
                None => (u128::from(own) << 16) * weight,
                Some((t, segs)) => {
                    let cumulative_weight = |at: At| -> u128 {
                        value
                            .weight
                            .iter()
                            .filter_map(|&l| coefs.get(l).map(|c| cumulative(timeline, l, *c, at)))
                            .sum()
                    };
                    t.weighted_value(segs, own, cumulative_weight, from_at, to_at)
                }
            };
            let at = g * groups.values + v;
            if let (Some(n), Some(d)) = (groups.weighted.get_mut(at), groups.weights.get_mut(at)) {
                *n = n.saturating_add(weighted);
                *d = d.saturating_add(weight);
            }
        }
    }
    groups
}
