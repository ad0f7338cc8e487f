//! Per request: filter the flows, sum each group's window deltas, sort, cut at `limit`, and
//! write the JSON body straight into bytes.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::json::push_count;
use crate::metrics::{
    CONN_ADDITIVE, DNS_LANES, DNS_NXDOMAIN, DNS_OTHER, DNS_SERVFAIL, DNS_SUCCESS, DNS_TIMEOUTS,
};
use crate::params::{MAX_GROUP_BY, Params};
use crate::query::Matcher;
use crate::topology::{CONN_KEYS, DNS_KEYS, Interner, Topology};

type GroupKey = [u32; MAX_GROUP_BY];

/// FxHash: group keys are small arrays of our own ids, so SipHash's DoS resistance buys
/// nothing and costs a noticeable share of a 7500-row request.
#[derive(Default)]
struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The requested group-by keys resolved against one endpoint's tag slots.
struct Grouping {
    /// `None` for a key no flow has: every flow reports `N/A` for it.
    slots: Vec<Option<usize>>,
    escaped_keys: Vec<String>,
    not_available: u32,
}

impl Grouping {
    fn new(keys: &[&str], group_by: &[String], not_available: u32) -> Self {
        Self {
            slots: group_by
                .iter()
                .map(|key| keys.iter().position(|k| k == key))
                .collect(),
            escaped_keys: group_by.iter().map(|k| crate::json::escape(k)).collect(),
            not_available,
        }
    }

    fn key(&self, tags: &[u32]) -> GroupKey {
        let mut key = [0; MAX_GROUP_BY];
        for (out, slot) in key.iter_mut().zip(&self.slots) {
            *out = slot
                .and_then(|s| tags.get(s).copied())
                .unwrap_or(self.not_available);
        }
        key
    }

    /// Ties on the sort metric are broken by the group values so the order is total and the
    /// same on every run.
    fn compare(&self, a: &GroupKey, b: &GroupKey, strings: &Interner) -> Ordering {
        a.iter()
            .zip(b)
            .take(self.slots.len())
            .map(|(&x, &y)| strings.get(x).cmp(strings.get(y)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }

    /// `"key:value,key:value"`, escaped, without quotes.
    fn write_id(&self, key: &GroupKey, strings: &Interner, out: &mut Vec<u8>) {
        for (i, (name, &value)) in self.escaped_keys.iter().zip(key).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(name.as_bytes());
            out.push(b':');
            out.extend_from_slice(strings.escaped(value).as_bytes());
        }
    }
}

/// Indices of the first `limit` groups sorted descending by `weight`, then by group values.
/// Groups with a zero weight had no traffic in the window and are left out, as on the real
/// API. Sorting indices rather than the groups keeps a 7500-row sort from moving megabytes
/// around.
fn top<G>(
    groups: &[G],
    limit: usize,
    weight: impl Fn(&G) -> u128,
    key: impl Fn(&G) -> &GroupKey,
    grouping: &Grouping,
    strings: &Interner,
) -> Vec<usize> {
    let mut order: Vec<(u128, usize)> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (weight(g), i))
        .filter(|&(w, _)| w > 0)
        .collect();
    let compare = |a: &(u128, usize), b: &(u128, usize)| {
        b.0.cmp(&a.0)
            .then_with(|| match (groups.get(a.1), groups.get(b.1)) {
                (Some(x), Some(y)) => grouping.compare(key(x), key(y), strings),
                _ => Ordering::Equal,
            })
    };
    if order.len() > limit && limit > 0 {
        order.select_nth_unstable_by(limit - 1, compare);
        order.truncate(limit);
    }
    order.sort_unstable_by(compare);
    order.into_iter().map(|(_, i)| i).collect()
}

fn matcher(params: &Params, keys: &[&str], strings: &Interner) -> Option<Matcher> {
    params
        .filter
        .as_ref()
        .map(|expr| Matcher::compile(expr, keys, strings))
}

struct ConnGroup {
    key: GroupKey,
    sums: [u64; CONN_ADDITIVE.len()],
    rtt_by_bytes: u128,
    bytes: u128,
    rtt_plain: u64,
    flows: u64,
}

impl ConnGroup {
    /// Byte-weighted mean of the flows' smoothed RTTs: the heavy flows dominate, as they would
    /// in a real aggregate.
    fn rtt(&self) -> u128 {
        self.rtt_by_bytes
            .checked_div(self.bytes)
            .unwrap_or_else(|| u128::from(self.rtt_plain / self.flows.max(1)))
    }
}

pub(crate) fn connections(topology: &Topology, params: &Params) -> Vec<u8> {
    let strings = &topology.strings;
    let grouping = Grouping::new(&CONN_KEYS, &params.group_by, topology.not_available);
    let matcher = matcher(params, &CONN_KEYS, strings);
    // Sized for the worst case (one group per flow) so growth never copies the groups.
    let capacity = topology.conn.len();
    let mut index: FxMap<GroupKey, usize> = FxMap::default();
    let mut groups: Vec<ConnGroup> = Vec::with_capacity(capacity);
    for flow in &topology.conn {
        if matcher.as_ref().is_some_and(|m| !m.matches(&flow.tags)) {
            continue;
        }
        let key = grouping.key(&flow.tags);
        let at = *index.entry(key).or_insert_with(|| {
            groups.push(ConnGroup {
                key,
                sums: [0; CONN_ADDITIVE.len()],
                rtt_by_bytes: 0,
                bytes: 0,
                rtt_plain: 0,
                flows: 0,
            });
            groups.len() - 1
        });
        let Some(group) = groups.get_mut(at) else {
            continue;
        };
        let bytes = flow
            .rates
            .accumulate(flow.curve, params.from, params.to, &mut group.sums);
        let rtt = flow.rtt_micros;
        group.rtt_by_bytes += u128::from(rtt) * bytes;
        group.bytes += bytes;
        group.rtt_plain += u64::from(rtt);
        group.flows += 1;
    }
    let order = top(
        &groups,
        params.limit,
        |g| u128::from(g.sums[0]) + u128::from(g.sums[1]),
        |g| &g.key,
        &grouping,
        strings,
    );
    let rows = order.iter().filter_map(|&i| groups.get(i));

    let mut out = Vec::with_capacity(64 + order.len() * (560 + 40 * grouping.slots.len()));
    out.extend_from_slice(b"{\"data\":[");
    for (i, group) in rows.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"attributes\":{");
        for (m, name) in CONN_ADDITIVE.iter().enumerate() {
            if m == 2 {
                write_group_bys_object(&grouping, &group.key, strings, &mut out);
                out.push(b',');
            }
            if m == 4 {
                out.extend_from_slice(b"\"rtt_micro_seconds\":");
                push_count(&mut out, group.rtt());
                out.push(b',');
            }
            out.push(b'"');
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":");
            push_count(&mut out, u128::from(group.sums[m]));
            if m + 1 < CONN_ADDITIVE.len() {
                out.push(b',');
            }
        }
        out.extend_from_slice(b"},\"id\":\"");
        grouping.write_id(&group.key, strings, &mut out);
        out.extend_from_slice(b"\",\"type\":\"aggregated_connection\"}");
    }
    out.extend_from_slice(b"]}");
    out
}

/// `"group_bys":{"client_service":["web"],…}`: connections carry one value per key, in a list.
fn write_group_bys_object(
    grouping: &Grouping,
    key: &GroupKey,
    strings: &Interner,
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(b"\"group_bys\":{");
    for (i, (name, &value)) in grouping.escaped_keys.iter().zip(key).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":[\"");
        out.extend_from_slice(strings.escaped(value).as_bytes());
        out.extend_from_slice(b"\"]");
    }
    out.push(b'}');
}

struct DnsGroup {
    key: GroupKey,
    sums: [u128; DNS_LANES],
    success_latency: u128,
    failure_latency: u128,
}

impl DnsGroup {
    fn successes(&self) -> u128 {
        self.sums[DNS_SUCCESS]
    }

    fn failed_responses(&self) -> u128 {
        self.sums[DNS_NXDOMAIN] + self.sums[DNS_SERVFAIL] + self.sums[DNS_OTHER]
    }

    fn failures(&self) -> u128 {
        self.failed_responses() + self.sums[DNS_TIMEOUTS]
    }

    fn total(&self) -> u128 {
        self.successes() + self.failures()
    }
}

pub(crate) fn dns(topology: &Topology, params: &Params) -> Vec<u8> {
    let strings = &topology.strings;
    let grouping = Grouping::new(&DNS_KEYS, &params.group_by, topology.not_available);
    let matcher = matcher(params, &DNS_KEYS, strings);
    // Sized for the worst case (one group per flow) so growth never copies the groups.
    let capacity = topology.dns.len();
    let mut index: FxMap<GroupKey, usize> = FxMap::default();
    let mut groups: Vec<DnsGroup> = Vec::with_capacity(capacity);
    for flow in &topology.dns {
        if matcher.as_ref().is_some_and(|m| !m.matches(&flow.tags)) {
            continue;
        }
        let key = grouping.key(&flow.tags);
        let at = *index.entry(key).or_insert_with(|| {
            groups.push(DnsGroup {
                key,
                sums: [0; DNS_LANES],
                success_latency: 0,
                failure_latency: 0,
            });
            groups.len() - 1
        });
        let Some(group) = groups.get_mut(at) else {
            continue;
        };
        let own = flow
            .rates
            .accumulate(flow.curve, params.from, params.to, &mut group.sums);
        let failures: u128 = own[DNS_NXDOMAIN..].iter().sum();
        // Request-weighted means; divided by the group's counts when written.
        group.success_latency += own[DNS_SUCCESS] * u128::from(flow.success_latency);
        group.failure_latency += failures * u128::from(flow.failure_latency);
    }
    let order = top(
        &groups,
        params.limit,
        DnsGroup::total,
        |g| &g.key,
        &grouping,
        strings,
    );
    let rows = order.iter().filter_map(|&i| groups.get(i));

    let mut out = Vec::with_capacity(64 + order.len() * (620 + 60 * grouping.slots.len()));
    out.extend_from_slice(b"{\"data\":[");
    for (i, group) in rows.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"attributes\":{\"group_bys\":[");
        for (j, (name, &value)) in grouping.escaped_keys.iter().zip(&group.key).enumerate() {
            if j > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"key\":\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\",\"value\":\"");
            out.extend_from_slice(strings.escaped(value).as_bytes());
            out.extend_from_slice(b"\"}");
        }
        out.extend_from_slice(b"],\"metrics\":[");
        let mean = |weighted: u128, count: u128| weighted.checked_div(count).unwrap_or(0);
        let metrics = [
            ("dns_total_requests", group.total()),
            ("dns_failures", group.failures()),
            ("dns_successful_responses", group.successes()),
            ("dns_failed_responses", group.failed_responses()),
            ("dns_timeouts", group.sums[DNS_TIMEOUTS]),
            ("dns_responses.nxdomain", group.sums[DNS_NXDOMAIN]),
            ("dns_responses.servfail", group.sums[DNS_SERVFAIL]),
            ("dns_responses.other", group.sums[DNS_OTHER]),
            (
                "dns_success_latency_percentile",
                mean(group.success_latency, group.successes()),
            ),
            (
                "dns_failure_latency_percentile",
                mean(group.failure_latency, group.failures()),
            ),
        ];
        for (j, (name, value)) in metrics.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"key\":\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\",\"value\":");
            push_count(&mut out, *value);
            out.push(b'}');
        }
        out.extend_from_slice(b"]},\"id\":\"");
        grouping.write_id(&group.key, strings, &mut out);
        out.extend_from_slice(b"\",\"type\":\"aggregated_dns\"}");
    }
    out.extend_from_slice(b"]}");
    out
}
