//! Totals over pages (typically a series): each metric combined as its aggregation says.
//!
//! - `sum` (bytes, packets, TCP event counters, DNS counts): added up; the value over
//!   adjacent windows is exactly the sum of theirs.
//! - `rate` (`tcp_established_connections`, `tcp_closed_connections`: per-second gauges):
//!   the duration-weighted mean of the pages' values, which is the rate over their union
//!   (over one group's pages; a page where the group is absent counts as zero).
//! - `mean` (`rtt_micro_seconds`) and `percentile` (DNS latencies): left empty, since the
//!   weights the server used are not in the data. So are metrics under names this version
//!   does not know.
//!
//! The aggregations come from the spec (`x-cnm-aggregation`), through the generated metric
//! tables: a metric added there is totalled without changes here.

use std::collections::HashMap;

use datadog_cnm_raw::{Aggregation, GroupBys, Row};

use crate::page::Page;
use crate::window::Window;

impl<R: Row> Page<R> {
    /// Combine pages per group: `sum` metrics added up, `rate` metrics averaged by
    /// duration, the others left empty (see the module notes); window = the union of the
    /// pages' windows, `truncated` if any page was; rows in order of first appearance.
    /// `None` for no pages.
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
        let aggregation = |i: usize| R::METRICS[i].aggregation;
        let mut total: Option<Page<R>> = None;
        let mut index: HashMap<GroupBys, usize> = HashMap::new();
        // Per row, per rate metric: the sum of value × seconds.
        let mut rate_sums: Vec<Vec<i128>> = Vec::new();
        for page in pages {
            let seconds = whole_seconds(&page.window);
            let total = total.get_or_insert_with(|| Page {
                rows: Vec::new(),
                window: page.window,
                truncated: false,
                limit: page.limit,
                rate_limit: None,
                extra_members: Default::default(),
            });
            total.window = Window {
                from: total.window.from.min(page.window.from),
                to: total.window.to.max(page.window.to),
            };
            total.truncated |= page.truncated;
            total.limit = total.limit.max(page.limit);
            total.rate_limit = page.rate_limit.clone().or(total.rate_limit.take());
            for row in &page.rows {
                let at = match index.get(row.group_bys()) {
                    Some(&at) => at,
                    None => {
                        let mut first = row.clone();
                        for i in 0..R::METRICS.len() {
                            if let Some(slot) = first.metric_mut(i) {
                                *slot = None;
                            }
                        }
                        first.clear_extra_metrics();
                        index.insert(row.group_bys().clone(), total.rows.len());
                        total.rows.push(first);
                        rate_sums.push(vec![0; R::METRICS.len()]);
                        total.rows.len() - 1
                    }
                };
                let (Some(sum), Some(rates)) = (total.rows.get_mut(at), rate_sums.get_mut(at))
                else {
                    continue;
                };
                for (i, rate) in rates.iter_mut().enumerate() {
                    let Some(value) = row.metric(i) else { continue };
                    match aggregation(i) {
                        Aggregation::Sum => {
                            if let Some(slot) = sum.metric_mut(i) {
                                *slot = Some(slot.unwrap_or(0).saturating_add(value));
                            }
                        }
                        Aggregation::Rate => {
                            *rate += i128::from(value) * seconds;
                            if let Some(slot) = sum.metric_mut(i) {
                                // Marks the metric present; the mean is set at the end.
                                *slot = Some(0);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        let mut total = total?;
        let span = whole_seconds(&total.window).max(1);
        for (row, rates) in total.rows.iter_mut().zip(&rate_sums) {
            for (i, weighted) in rates.iter().enumerate() {
                if aggregation(i) == Aggregation::Rate
                    && let Some(slot) = row.metric_mut(i)
                    && slot.is_some()
                {
                    *slot = i64::try_from(weighted / span).ok();
                }
            }
        }
        Some(total)
    }
}

/// The length of `window` in seconds.
fn whole_seconds(window: &Window) -> i128 {
    i128::from(window.duration().as_secs())
}
