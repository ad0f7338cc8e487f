//! Incidents compiled against the flows, and evaluated exactly.
//!
//! For each affected flow, the incidents' starts and ends cut time into segments; in each
//! segment every affected lane has a factor (the product of the active incidents' factors)
//! and an addition (the sum of their additions). The lane's cumulative count becomes
//!
//! ```text
//! C'(t) = floor( Σ over segments [s, e) before t of
//!                  factor · (X(min(t, e)) − X(s)) + addition · (min(t, e) − s) )
//! ```
//!
//! where `X = k·A + j·B` is the lane's normal cumulative activity. Factors and additions are
//! never negative, so `C'` never decreases; it is an integer function of an integer time,
//! so windows stay exactly additive, across segment edges too. Values of `mean` and
//! `percentile` metrics get the same treatment: in each segment a flow's value is
//! `value · factor + addition`, weighted by the flow's weight inside that segment.

use crate::incident::{Checked, Incident, IncidentError, MetricSet};
use crate::interner::Interner;
use crate::plan::{Coef, Output, Plan};
use crate::query::{Expr, Matcher};
use crate::shape::Shape;
use crate::topology::{CONN_KEYS, DNS_KEYS, Flows, Topology};

/// Factors in fixed point: `ONE` is 1.
const ONE: u64 = 1 << 16;
/// Lane additions are counts per second scaled by 2^48, the scale of `factor · X`.
const LANE_ADD_SCALE: f64 = 281_474_976_710_656.0;
/// Value additions are in the value's unit scaled by 2^16, the scale of `factor · value`.
const VALUE_ADD_SCALE: f64 = 65_536.0;
const NO_TIMELINE: u32 = u32::MAX;

/// A segment's factor (2^16 = 1) and addition (see the scales above).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Seg {
    scale: u64,
    add: u128,
}

/// A segment edge and the flow's curves there.
#[derive(Clone, Copy, Debug)]
struct Bound {
    t: u64,
    a: u64,
    b: u64,
}

/// A point in time with the flow's curves there: `(t, A(t), B(t))`.
pub(crate) type At = (u64, u64, u64);

/// One affected flow: segment edges, and the segments of each affected lane and value.
pub(crate) struct Timeline {
    bounds: Vec<Bound>,
    lanes: Vec<(usize, Vec<Seg>)>,
    values: Vec<(usize, Vec<Seg>)>,
}

impl Timeline {
    /// The segments of `lane`, if an incident affects it.
    pub(crate) fn lane(&self, lane: usize) -> Option<&[Seg]> {
        self.lanes
            .iter()
            .find(|(l, _)| *l == lane)
            .map(|(_, segs)| segs.as_slice())
    }

    /// The segments of value `value`, if an incident affects it.
    pub(crate) fn value(&self, value: usize) -> Option<&[Seg]> {
        self.values
            .iter()
            .find(|(v, _)| *v == value)
            .map(|(_, segs)| segs.as_slice())
    }

    /// The curves at segment edge `i`.
    pub(crate) fn edge(&self, i: usize) -> Option<At> {
        self.bounds.get(i).map(|b| (b.t, b.a, b.b))
    }

    /// `C'(t)` of a lane with coefficients `coef` and segments `segs`.
    pub(crate) fn cumulative(&self, segs: &[Seg], coef: Coef, (t, a, b): At) -> u128 {
        let x = |a: u64, b: u64| {
            u128::from(coef.k) * u128::from(a) + u128::from(coef.j) * u128::from(b)
        };
        let mut total: u128 = 0;
        let (mut from_t, mut from_x) = (0_u64, 0_u128);
        for (i, seg) in segs.iter().enumerate() {
            let (to_t, to_x, last) = match self.bounds.get(i) {
                Some(edge) if edge.t < t => (edge.t, x(edge.a, edge.b), false),
                _ => (t, x(a, b), true),
            };
            let grown = u128::from(seg.scale).saturating_mul(to_x.saturating_sub(from_x));
            let added = seg
                .add
                .saturating_mul(u128::from(to_t.saturating_sub(from_t)));
            total = total.saturating_add(grown).saturating_add(added);
            if last {
                break;
            }
            (from_t, from_x) = (to_t, to_x);
        }
        total >> 48
    }

    /// A flow's value number `v`, `value`, weighted over `[from, to)`: the sum over segments
    /// of `(value · factor + addition) · W(segment ∩ window)` in 2^16 units of the value,
    /// where `weight(at)` is the flow's cumulative weight at a point.
    pub(crate) fn weighted_value(
        &self,
        segs: &[Seg],
        value: u32,
        weight: impl Fn(At) -> u128,
        from: At,
        to: At,
    ) -> u128 {
        let mut total: u128 = 0;
        for (i, seg) in segs.iter().enumerate() {
            let start = match i.checked_sub(1).and_then(|p| self.edge(p)) {
                Some(edge) if edge.0 > from.0 => edge,
                _ => from,
            };
            let end = match self.edge(i) {
                Some(edge) if edge.0 < to.0 => edge,
                _ => to,
            };
            if start.0 >= end.0 {
                continue;
            }
            let w = weight(end).saturating_sub(weight(start));
            let per = u128::from(value) * u128::from(seg.scale) + seg.add;
            total = total.saturating_add(per.saturating_mul(w));
        }
        total
    }
}

/// The timelines of one endpoint's affected flows.
#[derive(Default)]
pub(crate) struct SideEffects {
    by_flow: Vec<u32>,
    timelines: Vec<Timeline>,
}

impl SideEffects {
    /// Flow `flow`'s timeline, if an incident affects it.
    #[inline]
    pub(crate) fn of(&self, flow: usize) -> Option<&Timeline> {
        let at = *self.by_flow.get(flow)?;
        if at == NO_TIMELINE {
            return None;
        }
        self.timelines.get(at as usize)
    }
}

/// Every incident of a dataset, compiled for both endpoints.
#[derive(Default)]
pub(crate) struct Effects {
    pub(crate) conn: SideEffects,
    pub(crate) dns: SideEffects,
}

impl Effects {
    /// Compiles `incidents` against `topology`; fails on the first incident that is out of
    /// range, names a metric no endpoint reports, or changes nothing.
    pub(crate) fn compile(
        topology: &Topology,
        incidents: &[Incident],
    ) -> Result<Self, IncidentError> {
        let mut checked = Vec::with_capacity(incidents.len());
        for incident in incidents {
            checked.push(incident.check()?);
            if let MetricSet::Names(names) = &incident.metrics {
                let known =
                    |plan: &Plan, name: &str| plan.metrics.iter().any(|p| p.metric.name == name);
                if let Some(unknown) = names
                    .iter()
                    .find(|n| !known(&topology.conn.plan, n) && !known(&topology.dns.plan, n))
                {
                    return Err(IncidentError::new(
                        &incident.name,
                        format!("neither endpoint reports a metric named `{unknown}`"),
                    ));
                }
            }
        }
        let mut affected = vec![false; incidents.len()];
        let side = Side {
            strings: &topology.strings,
            services: &topology.services,
            incidents,
            checked: &checked,
        };
        let conn = side.compile(&topology.conn, &CONN_KEYS, &mut affected);
        let dns = side.compile(&topology.dns, &DNS_KEYS, &mut affected);
        if let Some(i) = affected.iter().position(|a| !a)
            && let Some(incident) = incidents.get(i)
        {
            let target = if incident.target.is_empty() {
                "any flow".to_owned()
            } else {
                incident
                    .target
                    .iter()
                    .map(|(k, v)| format!("{k}:{v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            return Err(IncidentError::new(
                &incident.name,
                format!(
                    "it changes nothing: no connection or DNS flow matches {target} and \
                     reports {}",
                    incident.metrics
                ),
            ));
        }
        Ok(Self { conn, dns })
    }
}

/// What compiling one endpoint needs.
struct Side<'a> {
    strings: &'a Interner,
    services: &'a [Shape<4>],
    incidents: &'a [Incident],
    checked: &'a [Checked],
}

/// The lanes and values of one endpoint an incident selects.
#[derive(Default)]
struct Selection {
    lanes: Vec<usize>,
    values: Vec<usize>,
}

impl Side<'_> {
    fn compile<const K: usize>(
        &self,
        flows: &Flows<K>,
        keys: &[&str],
        affected: &mut [bool],
    ) -> SideEffects {
        let selections: Vec<Selection> = self
            .incidents
            .iter()
            .map(|i| select(&flows.plan, &i.metrics))
            .collect();
        let matchers: Vec<Option<Matcher>> = self
            .incidents
            .iter()
            .zip(&selections)
            .map(|(incident, selection)| {
                (!selection.lanes.is_empty() || !selection.values.is_empty()).then(|| {
                    let terms = incident
                        .target
                        .iter()
                        .map(|(key, value)| Expr::Term {
                            key: key.clone(),
                            value: value.clone(),
                        })
                        .collect();
                    Matcher::compile(&Expr::And(terms), keys, self.strings)
                })
            })
            .collect();
        if matchers.iter().all(Option::is_none) {
            return SideEffects::default();
        }
        let mut effects = SideEffects {
            by_flow: vec![NO_TIMELINE; flows.flows.len()],
            timelines: Vec::new(),
        };
        for (i, flow) in flows.flows.iter().enumerate() {
            let active: Vec<usize> = matchers
                .iter()
                .enumerate()
                .filter(|(_, m)| m.as_ref().is_some_and(|m| m.matches(&flow.tags)))
                .map(|(n, _)| n)
                .collect();
            if active.is_empty() {
                continue;
            }
            for &n in &active {
                if let Some(a) = affected.get_mut(n) {
                    *a = true;
                }
            }
            let service = self.services.get(usize::from(flow.service));
            let curves = |t: u64| Bound {
                t,
                a: service.map_or(0, |s| s.at(t)) + flow.noise.at(t),
                b: flow.errors.at(t),
            };
            if let Some(slot) = effects.by_flow.get_mut(i) {
                *slot = effects.timelines.len() as u32;
            }
            effects
                .timelines
                .push(self.timeline(&active, &selections, curves));
        }
        effects
    }

    /// The timeline of a flow that the incidents numbered `active` affect; `curves(t)` gives
    /// its curves at `t`.
    fn timeline(
        &self,
        active: &[usize],
        selections: &[Selection],
        curves: impl Fn(u64) -> Bound,
    ) -> Timeline {
        let mut edges: Vec<u64> = active
            .iter()
            .filter_map(|&n| self.checked.get(n))
            .flat_map(|c| [c.start, c.end])
            .collect();
        edges.sort_unstable();
        edges.dedup();
        // Segment `s` starts at edge `s - 1` (segment 0, before the first edge, has no
        // incident); an incident covers it if it starts at or before that edge and ends after.
        let segments = |picked: &[usize], add_scale: f64| -> Vec<Seg> {
            (0..=edges.len())
                .map(|s| {
                    let mut seg = Seg { scale: ONE, add: 0 };
                    let Some(&start) = s.checked_sub(1).and_then(|p| edges.get(p)) else {
                        return seg;
                    };
                    for c in picked.iter().filter_map(|&n| self.checked.get(n)) {
                        if c.start <= start && start < c.end {
                            let product = (u128::from(seg.scale) * u128::from(c.scale)) >> 16;
                            seg.scale = u64::try_from(product).unwrap_or(u64::MAX);
                            seg.add = seg.add.saturating_add((c.add * add_scale) as u128);
                        }
                    }
                    seg
                })
                .collect()
        };
        // Per lane (or value), the active incidents that select it.
        let by_item = |items: fn(&Selection) -> &[usize],
                       add_scale: f64|
         -> Vec<(usize, Vec<Seg>)> {
            let mut all: Vec<usize> = active
                .iter()
                .filter_map(|&n| selections.get(n))
                .flat_map(|s| items(s).iter().copied())
                .collect();
            all.sort_unstable();
            all.dedup();
            all.into_iter()
                .map(|item| {
                    let picked: Vec<usize> = active
                        .iter()
                        .copied()
                        .filter(|&n| selections.get(n).is_some_and(|s| items(s).contains(&item)))
                        .collect();
                    (item, segments(&picked, add_scale))
                })
                .collect()
        };
        Timeline {
            bounds: edges.iter().map(|&t| curves(t)).collect(),
            lanes: by_item(|s| &s.lanes, LANE_ADD_SCALE),
            values: by_item(|s| &s.values, VALUE_ADD_SCALE),
        }
    }
}

/// The lanes and values of `plan` that `set` selects.
fn select(plan: &Plan, set: &MetricSet) -> Selection {
    let (mut lanes, mut values) = (Vec::new(), Vec::new());
    for planned in &plan.metrics {
        let metric = &planned.metric;
        let chosen = match set {
            MetricSet::All => true,
            MetricSet::Aggregation(a) => metric.aggregation == *a,
            MetricSet::Names(names) => names.iter().any(|n| n == metric.name),
        };
        if !chosen {
            continue;
        }
        match &planned.output {
            Output::Count(l) => lanes.extend_from_slice(l),
            Output::Rate(l) => lanes.push(*l),
            Output::Mean(v) => values.push(*v),
        }
    }
    lanes.sort_unstable();
    lanes.dedup();
    values.sort_unstable();
    values.dedup();
    Selection { lanes, values }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{Bound, ONE, Seg, Timeline};
    use crate::plan::Coef;
    use crate::shape::{self, Style};

    /// A timeline over real curves with edges at `edges` and one lane with `segs`.
    fn with_edges(seed: u64, edges: &[u64], segs: &[(u64, u128)]) -> (Timeline, Vec<Seg>) {
        let (a, b) = (
            shape::service(seed, Style::Living),
            shape::errors(seed, Style::Living),
        );
        let bounds = edges
            .iter()
            .map(|&t| Bound {
                t,
                a: a.at(t),
                b: b.at(t),
            })
            .collect();
        let segs: Vec<Seg> = segs
            .iter()
            .map(|&(scale, add)| Seg { scale, add })
            .collect();
        let timeline = Timeline {
            bounds,
            lanes: vec![(0, segs.clone())],
            values: Vec::new(),
        };
        (timeline, segs)
    }

    proptest! {
        #[test]
        fn incident_counts_never_decrease_and_match_the_normal_ones_outside(
            seed in any::<u64>(),
            mut edges in prop::collection::vec(1_000_000_u64..1_100_000, 1..6),
            factors in prop::collection::vec((0_u64..(ONE * 100), 0_u128..(1 << 60)), 7),
            k in 0_u64..(1 << 46),
            j in 0_u64..(1 << 46),
            times in prop::collection::vec(900_000_u64..1_200_000, 2..40),
        ) {
            edges.sort_unstable();
            edges.dedup();
            let mut segs: Vec<(u64, u128)> = factors[..=edges.len()].to_vec();
            segs[0] = (ONE, 0);
            let (timeline, segs) = with_edges(seed, &edges, &segs);
            let (a, b) = (shape::service(seed, Style::Living), shape::errors(seed, Style::Living));
            let coef = Coef { k, j };
            let count = |t: u64| timeline.cumulative(&segs, coef, (t, a.at(t), b.at(t)));
            let plain = |t: u64| (u128::from(k) * u128::from(a.at(t)) + u128::from(j) * u128::from(b.at(t))) >> 32;
            let mut times = times;
            times.sort_unstable();
            for pair in times.windows(2) {
                prop_assert!(count(pair[0]) <= count(pair[1]), "decreases between {pair:?}");
            }
            for &t in times.iter().filter(|&&t| t <= edges[0]) {
                prop_assert_eq!(count(t), plain(t), "before the first edge");
            }
            // Neutral segments change nothing anywhere.
            let neutral: Vec<(u64, u128)> = vec![(ONE, 0); edges.len() + 1];
            let (same, segs) = with_edges(seed, &edges, &neutral);
            for &t in &times {
                prop_assert_eq!(same.cumulative(&segs, coef, (t, a.at(t), b.at(t))), plain(t));
            }
        }
    }
}
