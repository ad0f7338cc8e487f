//! A measure of every group, window after window: the data behind a trend line.

use std::collections::HashMap;
use std::time::Duration;

use datadog_cnm_raw::{Aggregation, GroupBys, Row};

use super::measure::{Measure, Number, Order};
use crate::page::Page;
use crate::window::Window;

/// One window of a [`Trend`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrendWindow {
    /// The window.
    pub window: Window,
    /// Shorter than the series' step (the first or last window of an aligned series, or
    /// the last of a split one): its counts are not comparable with full windows' unless
    /// taken per second.
    pub partial: bool,
    /// Its page was cut at the limit: groups may be missing from it.
    pub truncated: bool,
    /// The limit of its page.
    pub limit: u32,
    /// The window failed (see [`Trend::push_failed`]): no group has a value in it.
    pub failed: bool,
}

/// One group's values, one per window (`None`: not in that window's page).
#[derive(Clone, Debug, PartialEq)]
pub struct TrendGroup {
    /// The group-by values.
    pub group_bys: GroupBys,
    /// The values, aligned with [`Trend::windows`].
    pub values: Vec<Option<f64>>,
}

/// A group's line in brief, over the windows that count (see [`Trend::counts`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TrendSummary {
    /// The first value.
    pub first: Option<f64>,
    /// The last value.
    pub last: Option<f64>,
    /// The largest value and the index of its window.
    pub peak: Option<(usize, f64)>,
    /// The sum of the values.
    pub total: f64,
}

/// One measure of every group over a series' windows, fed page by page (each page can be
/// dropped once pushed: only the values are kept).
///
/// ```
/// # async fn run(client: datadog_cnm::Client) -> Result<(), datadog_cnm::Error> {
/// use std::time::Duration;
/// use futures::StreamExt;
/// use datadog_cnm::{Connection, Window};
/// use datadog_cnm::analysis::{Measure, Trend};
///
/// let step = Duration::from_secs(3600);
/// let series = client
///     .connections()
///     .group_by(["client_service"])
///     .series(Window::last(Duration::from_secs(6 * 3600)), step)
///     .aligned(true);
/// let mut trend = Trend::new(Measure::<Connection>::parse("tcp_retransmits").unwrap());
/// let mut pages = std::pin::pin!(series.stream());
/// while let Some(page) = pages.next().await {
///     let (window, page) = page?;
///     trend.push(window, &page, window.duration() < step);
/// }
/// trend.sort(datadog_cnm::analysis::Order::Descending);
/// trend.truncate(10);
/// for group in trend.groups() {
///     println!("{:?}: peak {:?}", group.group_bys, trend.summary(group).peak);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Trend<R: Row> {
    measure: Measure<R>,
    per_second: bool,
    windows: Vec<TrendWindow>,
    groups: Vec<TrendGroup>,
    index: HashMap<GroupBys, usize>,
}

impl<R: Row> Trend<R> {
    /// A trend of `measure`.
    pub fn new(measure: Measure<R>) -> Self {
        Self {
            measure,
            per_second: false,
            windows: Vec::new(),
            groups: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// Take counts per second, so windows of different lengths compare (see
    /// [`Measure::rate`]).
    pub fn per_second(mut self, per_second: bool) -> Self {
        self.per_second = per_second;
        self
    }

    /// The measure.
    pub fn measure(&self) -> Measure<R> {
        self.measure
    }

    /// Add the next window's page; `partial` when the window is shorter than the step.
    pub fn push(&mut self, window: Window, page: &Page<R>, partial: bool) {
        let at = self.windows.len();
        self.windows.push(TrendWindow {
            window,
            partial,
            truncated: page.truncated,
            limit: page.limit,
            failed: false,
        });
        for group in &mut self.groups {
            group.values.push(None);
        }
        let duration: Duration = window.duration();
        for row in &page.rows {
            let value = if self.per_second {
                self.measure.rate(row, duration)
            } else {
                self.measure.value(row)
            };
            let slot = match self.index.get(row.group_bys()) {
                Some(&i) => i,
                None => {
                    self.index
                        .insert(row.group_bys().clone(), self.groups.len());
                    self.groups.push(TrendGroup {
                        group_bys: row.group_bys().clone(),
                        values: vec![None; at + 1],
                    });
                    self.groups.len() - 1
                }
            };
            if let Some(cell) = self.groups.get_mut(slot).and_then(|g| g.values.get_mut(at)) {
                *cell = value.map(Number::as_f64);
            }
        }
    }

    /// Add the next window as failed (a series that keeps going): it keeps its place, so
    /// the windows around it are not drawn as neighbours, and it counts in no summary.
    pub fn push_failed(&mut self, window: Window, partial: bool) {
        self.windows.push(TrendWindow {
            window,
            partial,
            truncated: false,
            limit: 0,
            failed: true,
        });
        for group in &mut self.groups {
            group.values.push(None);
        }
    }

    /// The windows, in order.
    pub fn windows(&self) -> &[TrendWindow] {
        &self.windows
    }

    /// The groups, in order of first appearance (or as last sorted).
    pub fn groups(&self) -> &[TrendGroup] {
        &self.groups
    }

    /// Whether window `i` counts in a summary: a full window, or any window when values
    /// are per second (a partial window's count is not comparable with a full one's);
    /// never a failed one.
    pub fn counts(&self, i: usize) -> bool {
        self.windows
            .get(i)
            .is_some_and(|w| !w.failed && (self.per_second || !w.partial))
    }

    /// `group`'s first, last, largest and total value over the windows that count.
    pub fn summary(&self, group: &TrendGroup) -> TrendSummary {
        let mut summary = TrendSummary::default();
        for (i, value) in group.values.iter().enumerate() {
            let Some(value) = *value else { continue };
            if !self.counts(i) {
                continue;
            }
            summary.first.get_or_insert(value);
            summary.last = Some(value);
            if summary.peak.is_none_or(|(_, peak)| value > peak) {
                summary.peak = Some((i, value));
            }
            summary.total += value;
        }
        summary
    }

    /// Whether [`sort`](Self::sort) ranks by total: for a measure that adds up over windows
    /// (a count). Means, percentiles, gauges and ratios rank by their peak instead: a sum
    /// of those means nothing (five windows of 1 ms would outrank one of 3 ms).
    pub fn ranks_by_total(&self) -> bool {
        self.measure.aggregation() == Some(Aggregation::Sum)
    }

    /// Order the groups by their total over the windows that count, or by their peak (see
    /// [`ranks_by_total`](Self::ranks_by_total)); groups without a value come last, and
    /// ties keep their order of appearance.
    pub fn sort(&mut self, order: Order) {
        let by_total = self.ranks_by_total();
        let mut keyed: Vec<(Option<f64>, TrendGroup)> = std::mem::take(&mut self.groups)
            .into_iter()
            .map(|group| {
                let summary = self.summary(&group);
                let key = if by_total {
                    summary.first.map(|_| summary.total)
                } else {
                    summary.peak.map(|(_, peak)| peak)
                };
                (key, group)
            })
            .collect();
        keyed.sort_by(|a, b| match (a.0, b.0) {
            (Some(a), Some(b)) => match order {
                Order::Descending => b.total_cmp(&a),
                Order::Ascending => a.total_cmp(&b),
            },
            (a, b) => b.is_some().cmp(&a.is_some()),
        });
        self.groups = keyed.into_iter().map(|(_, group)| group).collect();
        self.reindex();
    }

    /// Keep the first `n` groups.
    pub fn truncate(&mut self, n: usize) {
        self.groups.truncate(n);
        self.reindex();
    }

    fn reindex(&mut self) {
        self.index = self
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.group_bys.clone(), i))
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Measure;
    use datadog_cnm_raw::Connection;
    use std::time::UNIX_EPOCH;

    fn page(window: Window, rows: &[(&str, i64)]) -> Page<Connection> {
        let rows = rows
            .iter()
            .map(|(service, retransmits)| Connection {
                group_bys: [("client_service", *service)].into_iter().collect(),
                tcp_retransmits: Some(*retransmits),
                ..Connection::default()
            })
            .collect();
        Page {
            rows,
            window,
            truncated: false,
            limit: 100,
            rate_limit: None,
            extra_members: Default::default(),
        }
    }

    fn hour(n: u64, minutes: u64) -> Window {
        let from = UNIX_EPOCH + Duration::from_secs(n * 3600);
        Window {
            from,
            to: from + Duration::from_secs(minutes * 60),
        }
    }

    #[test]
    fn summaries_leave_partial_windows_out_unless_per_second() {
        let measure = Measure::<Connection>::parse("tcp_retransmits").unwrap();
        let pages = [
            (hour(0, 30), vec![("a", 500)]),
            (hour(1, 60), vec![("a", 10), ("b", 7)]),
            (hour(2, 60), vec![("a", 30)]),
        ];
        let mut counts = Trend::new(measure);
        let mut rates = Trend::new(measure).per_second(true);
        for (window, rows) in &pages {
            let page = page(*window, rows);
            counts.push(
                *window,
                &page,
                window.duration() < Duration::from_secs(3600),
            );
            rates.push(
                *window,
                &page,
                window.duration() < Duration::from_secs(3600),
            );
        }
        assert_eq!(
            counts.groups()[0].values,
            [Some(500.0), Some(10.0), Some(30.0)]
        );
        assert_eq!(counts.groups()[1].values, [None, Some(7.0), None]);
        let a = counts.summary(&counts.groups()[0]);
        assert_eq!(
            (a.first, a.last, a.peak, a.total),
            (Some(10.0), Some(30.0), Some((2, 30.0)), 40.0)
        );
        let a = rates.summary(&rates.groups()[0]);
        assert_eq!(
            a.peak.map(|(i, _)| i),
            Some(0),
            "500 in half an hour is the busiest rate"
        );
        counts.sort(Order::Ascending);
        assert_eq!(
            counts.groups()[0].group_bys.get("client_service"),
            Some("b")
        );
        counts.sort(Order::Descending);
        counts.truncate(1);
        assert_eq!(counts.groups().len(), 1);
        assert_eq!(
            counts.groups()[0].group_bys.get("client_service"),
            Some("a")
        );
        // Pushing after a truncation still finds the kept group.
        let later = hour(3, 60);
        counts.push(later, &page(later, &[("a", 1)]), false);
        assert_eq!(counts.groups()[0].values.len(), 4);
    }

    /// A mean ranks by its peak: five windows of 1 ms do not outrank one of 3 ms.
    #[test]
    fn means_rank_by_peak_and_counts_by_total() {
        let rtt = Measure::<Connection>::parse("rtt_micro_seconds").unwrap();
        let mut trend = Trend::new(rtt);
        assert!(!trend.ranks_by_total());
        for n in 0..5 {
            let window = hour(n, 60);
            let mut page = page(window, &[("steady", 0), ("spike", 0)]);
            page.rows[0].rtt_micro_seconds = Some(1000);
            page.rows[1].rtt_micro_seconds = (n == 2).then_some(3000);
            trend.push(window, &page, false);
        }
        trend.sort(Order::Descending);
        let first = trend.groups()[0].group_bys.get("client_service");
        assert_eq!(first, Some("spike"));
        let counts = Trend::new(Measure::<Connection>::parse("tcp_retransmits").unwrap());
        assert!(counts.ranks_by_total());
        let ratio = Measure::<Connection>::parse("tcp_retransmit_ratio").unwrap();
        assert!(!Trend::new(ratio).ranks_by_total());
    }
}
