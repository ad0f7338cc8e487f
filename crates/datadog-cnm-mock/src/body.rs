//! Response bodies: accumulate the groups, sort, cut at `limit`, and write the JSON straight
//! into bytes, every metric of the table in table order.

use crate::accumulate::{Groups, accumulate};
use crate::effects::{Effects, SideEffects};
use crate::grouping::{GroupKey, Grouping, matcher, top};
use crate::interner::Interner;
use crate::json::{escape, push_count};
use crate::params::Params;
use crate::topology::{CONN_KEYS, DNS_KEYS, Flows, Topology};

/// The rows of one request: the groups, and the order of the page.
struct Page {
    grouping: Grouping,
    groups: Groups,
    order: Vec<usize>,
}

impl Page {
    fn rows(&self) -> impl Iterator<Item = (usize, &GroupKey)> {
        self.order
            .iter()
            .filter_map(|&g| self.groups.keys.get(g).map(|key| (g, key)))
    }
}

/// `GET /api/v2/network/connections/aggregate`.
pub(crate) fn connections(topology: &Topology, effects: &Effects, params: &Params) -> Vec<u8> {
    let strings = &topology.strings;
    let flows = &topology.conn;
    let plan = &flows.plan;
    let page = answer(topology, flows, &effects.conn, &CONN_KEYS, params);
    let seconds = params.to - params.from;
    let names: Vec<String> = plan
        .metrics
        .iter()
        .map(|p| format!("\"{}\":", escape(p.metric.name)))
        .collect();

    let per_row = 64 + 24 * names.len() + 40 * page.grouping.slots.len();
    let mut out = Vec::with_capacity(64 + page.order.len() * per_row);
    out.extend_from_slice(b"{\"data\":[");
    for (i, (g, key)) in page.rows().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"attributes\":{");
        let mut first = true;
        let mut separate = |out: &mut Vec<u8>| {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
        };
        for (m, (planned, name)) in plan.metrics.iter().zip(&names).enumerate() {
            if m == plan.group_bys_at {
                separate(&mut out);
                write_group_bys_object(&page.grouping, key, strings, &mut out);
            }
            separate(&mut out);
            out.extend_from_slice(name.as_bytes());
            push_count(&mut out, page.groups.value(g, &planned.output, seconds));
        }
        if plan.group_bys_at >= plan.metrics.len() {
            separate(&mut out);
            write_group_bys_object(&page.grouping, key, strings, &mut out);
        }
        out.extend_from_slice(b"},\"id\":\"");
        page.grouping.write_id(key, strings, &mut out);
        out.extend_from_slice(b"\",\"type\":\"aggregated_connection\"}");
    }
    out.extend_from_slice(b"]}");
    out
}

/// `GET /api/v2/network/dns/aggregate`.
pub(crate) fn dns(topology: &Topology, effects: &Effects, params: &Params) -> Vec<u8> {
    let strings = &topology.strings;
    let flows = &topology.dns;
    let plan = &flows.plan;
    let page = answer(topology, flows, &effects.dns, &DNS_KEYS, params);
    let seconds = params.to - params.from;
    let names: Vec<String> = plan
        .metrics
        .iter()
        .map(|p| format!("{{\"key\":\"{}\",\"value\":", escape(p.metric.name)))
        .collect();

    let per_row = 64 + 48 * names.len() + 60 * page.grouping.slots.len();
    let mut out = Vec::with_capacity(64 + page.order.len() * per_row);
    out.extend_from_slice(b"{\"data\":[");
    for (i, (g, key)) in page.rows().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"attributes\":{\"group_bys\":[");
        for (j, (name, &value)) in page.grouping.escaped_keys.iter().zip(key).enumerate() {
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
        for (j, (planned, name)) in plan.metrics.iter().zip(&names).enumerate() {
            if j > 0 {
                out.push(b',');
            }
            out.extend_from_slice(name.as_bytes());
            push_count(&mut out, page.groups.value(g, &planned.output, seconds));
            out.push(b'}');
        }
        out.extend_from_slice(b"]},\"id\":\"");
        page.grouping.write_id(key, strings, &mut out);
        out.extend_from_slice(b"\",\"type\":\"aggregated_dns\"}");
    }
    out.extend_from_slice(b"]}");
    out
}

/// The groups of one endpoint's flows (grouped by `keys`) that `params` asks for, summed
/// over its window, sorted and cut at its limit.
fn answer<const K: usize>(
    topology: &Topology,
    flows: &Flows<K>,
    effects: &SideEffects,
    keys: &[&str],
    params: &Params,
) -> Page {
    let strings = &topology.strings;
    let grouping = Grouping::new(keys, &params.group_by, topology.not_available);
    let matcher = matcher(params, keys, strings);
    let groups = accumulate(
        topology,
        flows,
        effects,
        &grouping,
        matcher.as_ref(),
        (params.from, params.to),
    );
    sorted(grouping, groups, &flows.plan.sort, params.limit, strings)
}

fn sorted(
    grouping: Grouping,
    groups: Groups,
    sort: &[usize],
    limit: usize,
    strings: &Interner,
) -> Page {
    let weights: Vec<Option<u128>> = (0..groups.keys.len())
        .map(|g| groups.counted(g).then(|| groups.total(g, sort)))
        .collect();
    let order = top(&groups.keys, &weights, limit, &grouping, strings);
    Page {
        grouping,
        groups,
        order,
    }
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
