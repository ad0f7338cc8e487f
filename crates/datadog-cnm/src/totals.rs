//! Totals over a series: additive metrics summed per group.
//!
//! Additive (a sum over adjacent windows equals the value of their union): bytes and
//! packets in both directions and the TCP event counters (`tcp_refusals`, `tcp_resets`,
//! `tcp_retransmits`, `tcp_timeouts`, `tcp_delivered_ce`, `tcp_probe0_count`,
//! `tcp_rcv_ooo_pack`, `tcp_recovery_count`, `tcp_reord_seen`, `tcp_rto_count`); for DNS
//! every count. Not additive, so left empty in a total: `rtt_micro_seconds` (an average),
//! `tcp_established_connections` and `tcp_closed_connections` (per-second rates), the two
//! DNS latency percentiles, and DNS metrics under keys this version does not know.

use std::collections::{BTreeMap, HashMap};

use crate::model::{Connection, Connections, Dns, DnsMetrics, DnsRow, GroupBys};
use crate::window::Window;

fn add(total: &mut Option<i64>, value: Option<i64>) {
    if let Some(value) = value {
        *total = Some(total.unwrap_or(0).saturating_add(value));
    }
}

/// The union of the pages' windows, and whether any page was truncated.
fn span<'a, P: 'a>(
    pages: impl Iterator<Item = &'a P>,
    window: impl Fn(&P) -> (Window, bool),
) -> Option<(Window, bool)> {
    pages.map(window).reduce(|(a, ta), (b, tb)| {
        let joined = Window {
            from: a.from.min(b.from),
            to: a.to.max(b.to),
        };
        (joined, ta || tb)
    })
}

/// Rows merged by their group-by values, in order of first appearance.
fn merge_rows<R>(
    rows: impl Iterator<Item = R>,
    key: impl Fn(&R) -> &GroupBys,
    mut fold: impl FnMut(&mut R, R),
) -> Vec<R> {
    let mut merged: Vec<R> = Vec::new();
    let mut index: HashMap<GroupBys, usize> = HashMap::new();
    for row in rows {
        match index.get(key(&row)) {
            Some(&at) => fold(&mut merged[at], row),
            None => {
                index.insert(key(&row).clone(), merged.len());
                merged.push(row);
            }
        }
    }
    merged
}

/// `row` with only its additive metrics (the others emptied).
fn additive_only(mut row: Connection) -> Connection {
    row.rtt_micro_seconds = None;
    row.tcp_established_connections = None;
    row.tcp_closed_connections = None;
    row.other.clear();
    row
}

fn add_counts(total: &mut Connection, row: &Connection) {
    add(&mut total.bytes_sent_by_client, row.bytes_sent_by_client);
    add(&mut total.bytes_sent_by_server, row.bytes_sent_by_server);
    add(
        &mut total.packets_sent_by_client,
        row.packets_sent_by_client,
    );
    add(
        &mut total.packets_sent_by_server,
        row.packets_sent_by_server,
    );
    add(&mut total.tcp_refusals, row.tcp_refusals);
    add(&mut total.tcp_resets, row.tcp_resets);
    add(&mut total.tcp_retransmits, row.tcp_retransmits);
    add(&mut total.tcp_timeouts, row.tcp_timeouts);
    add(&mut total.tcp_delivered_ce, row.tcp_delivered_ce);
    add(&mut total.tcp_probe0_count, row.tcp_probe0_count);
    add(&mut total.tcp_rcv_ooo_pack, row.tcp_rcv_ooo_pack);
    add(&mut total.tcp_recovery_count, row.tcp_recovery_count);
    add(&mut total.tcp_reord_seen, row.tcp_reord_seen);
    add(&mut total.tcp_rto_count, row.tcp_rto_count);
}

impl Connections {
    /// Sum pages (typically a series) per group: additive metrics added up, the others
    /// left empty (see the module notes), window = the union of the pages' windows,
    /// `truncated` if any page was. `None` for no pages.
    ///
    /// A group missing from a truncated page may have had traffic there: check
    /// `truncated` before trusting a total.
    pub fn total<'a>(
        pages: impl IntoIterator<Item = &'a Connections> + Clone,
    ) -> Option<Connections> {
        let (window, truncated) = span(pages.clone().into_iter(), |p: &Connections| {
            (p.window, p.truncated)
        })?;
        let rows = pages
            .clone()
            .into_iter()
            .flat_map(|page| page.rows.iter().cloned().map(additive_only));
        let rows = merge_rows(
            rows,
            |row| &row.group_bys,
            |total, row| add_counts(total, &row),
        );
        let rate_limit = pages.into_iter().last().and_then(|p| p.rate_limit.clone());
        Some(Connections {
            rows,
            window,
            truncated,
            rate_limit,
            meta: BTreeMap::new(),
        })
    }
}

/// `metrics` with only its additive counts.
fn dns_additive_only(mut metrics: DnsMetrics) -> DnsMetrics {
    metrics.success_latency_percentile = None;
    metrics.failure_latency_percentile = None;
    metrics.other.clear();
    metrics
}

fn dns_add_counts(total: &mut DnsMetrics, other: &DnsMetrics) {
    add(&mut total.total_requests, other.total_requests);
    add(&mut total.failures, other.failures);
    add(&mut total.successful_responses, other.successful_responses);
    add(&mut total.failed_responses, other.failed_responses);
    add(&mut total.timeouts, other.timeouts);
    add(&mut total.nxdomain, other.nxdomain);
    add(&mut total.servfail, other.servfail);
    add(&mut total.other_errors, other.other_errors);
}

impl Dns {
    /// Sum pages per group, like [`Connections::total`]: counts added up, latency
    /// percentiles and unknown metrics left empty.
    pub fn total<'a>(pages: impl IntoIterator<Item = &'a Dns> + Clone) -> Option<Dns> {
        let (window, truncated) =
            span(pages.clone().into_iter(), |p: &Dns| (p.window, p.truncated))?;
        let rows = pages.clone().into_iter().flat_map(|page| {
            page.rows.iter().cloned().map(|row| DnsRow {
                metrics: dns_additive_only(row.metrics),
                ..row
            })
        });
        let rows = merge_rows(
            rows,
            |row| &row.group_bys,
            |total, row| dns_add_counts(&mut total.metrics, &row.metrics),
        );
        let rate_limit = pages.into_iter().last().and_then(|p| p.rate_limit.clone());
        Some(Dns {
            rows,
            window,
            truncated,
            rate_limit,
            meta: BTreeMap::new(),
        })
    }
}
