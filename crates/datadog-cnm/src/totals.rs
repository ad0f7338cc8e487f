//! Totals over a series: additive metrics summed per group.
//!
//! Additive (a sum over adjacent windows equals the value of their union): bytes and
//! packets in both directions and the TCP event counters; for DNS every count. Not
//! additive, so left empty in a total: `rtt_micro_seconds` (an average),
//! `tcp_established_connections` and `tcp_closed_connections` (per-second rates), the two
//! DNS latency percentiles, and metrics under names this version does not know.

use std::collections::HashMap;

use datadog_cnm_raw::{GroupBys, Row};

use crate::page::Page;
use crate::window::Window;

/// The metrics that do not add up over adjacent windows.
const NOT_ADDITIVE: [&str; 5] = [
    "rtt_micro_seconds",
    "tcp_established_connections",
    "tcp_closed_connections",
    "dns_success_latency_percentile",
    "dns_failure_latency_percentile",
];

impl<R: Row> Page<R> {
    /// Sum pages (typically a series) per group: additive metrics added up, the others
    /// left empty (see the module notes), window = the union of the pages' windows,
    /// `truncated` if any page was, rows in order of first appearance. `None` for no
    /// pages.
    ///
    /// A group missing from a truncated page may have had traffic there: check
    /// `truncated` before trusting a total.
    ///
    /// ```
    /// # fn run(hourly: Vec<(datadog_cnm::Window, datadog_cnm::ConnectionsPage)>) {
    /// use datadog_cnm::ConnectionsPage;
    ///
    /// if let Some(day) = ConnectionsPage::total(hourly.iter().map(|(_, page)| page)) {
    ///     println!("{} groups over {}", day.rows.len(), day.window);
    /// }
    /// # }
    /// ```
    pub fn total<'a>(pages: impl IntoIterator<Item = &'a Page<R>>) -> Option<Page<R>>
    where
        R: 'a,
    {
        let additive: Vec<usize> = (0..R::METRICS.len())
            .filter(|&i| !NOT_ADDITIVE.contains(&R::METRICS[i]))
            .collect();
        let mut total: Option<Page<R>> = None;
        let mut index: HashMap<GroupBys, usize> = HashMap::new();
        for page in pages {
            let total = total.get_or_insert_with(|| Page {
                rows: Vec::new(),
                window: page.window,
                truncated: false,
                rate_limit: None,
                extra_members: Default::default(),
            });
            total.window = Window {
                from: total.window.from.min(page.window.from),
                to: total.window.to.max(page.window.to),
            };
            total.truncated |= page.truncated;
            total.rate_limit = page.rate_limit.clone().or(total.rate_limit.take());
            for row in &page.rows {
                match index.get(row.group_bys()) {
                    Some(&at) => {
                        if let Some(sum) = total.rows.get_mut(at) {
                            for &i in &additive {
                                add(sum.metric_mut(i), row.metric(i));
                            }
                        }
                    }
                    None => {
                        let mut first = row.clone();
                        for (i, name) in R::METRICS.iter().enumerate() {
                            if NOT_ADDITIVE.contains(name)
                                && let Some(slot) = first.metric_mut(i)
                            {
                                *slot = None;
                            }
                        }
                        first.clear_extra_metrics();
                        index.insert(row.group_bys().clone(), total.rows.len());
                        total.rows.push(first);
                    }
                }
            }
        }
        total
    }
}

fn add(total: Option<&mut Option<i64>>, value: Option<i64>) {
    if let (Some(total), Some(value)) = (total, value) {
        *total = Some(total.unwrap_or(0).saturating_add(value));
    }
}
