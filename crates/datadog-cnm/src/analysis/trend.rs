//! A measure of every group, window after window: the data behind a trend line.

use std::collections::HashMap;
use std::time::Duration;

use datadog_cnm_raw::{GroupBys, Row};

use super::measure::{Measure, Number};
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
}

/// One group's values, one per window (`None`: not in that window's page).
#[derive(Clone, Debug, PartialEq)]
pub struct TrendGroup {
    /// The group-by values.
    pub group_bys: GroupBys,
    /// The values, aligned with [`Trend::windows`].
    pub values: Vec<Option<f64>>,
}

impl TrendGroup {
    /// The first value, if any.
    pub fn first(&self) -> Option<f64> {
        self.values.iter().flatten().next().copied()
    }

    /// The last value, if any.
    pub fn last(&self) -> Option<f64> {
        self.values.iter().flatten().next_back().copied()
    }

    /// The largest value and the index of its window.
    pub fn peak(&self) -> Option<(usize, f64)> {
        self.values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| Some((i, (*v)?)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// The sum of the values.
    pub fn total(&self) -> f64 {
        self.values.iter().flatten().sum()
    }
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
/// for group in trend.groups() {
///     println!("{:?}: peak {:?}", group.group_bys, group.peak());
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

    /// The windows, in order.
    pub fn windows(&self) -> &[TrendWindow] {
        &self.windows
    }

    /// The groups, in order of first appearance (or as last sorted).
    pub fn groups(&self) -> &[TrendGroup] {
        &self.groups
    }

    /// Order the groups by their total over the windows, largest first, and keep `n`.
    pub fn top_by_total(&mut self, n: usize) {
        self.groups.sort_by(|a, b| b.total().total_cmp(&a.total()));
        self.groups.truncate(n);
        self.reindex();
    }

    /// Order the groups by their peak, largest first, and keep `n`.
    pub fn top_by_peak(&mut self, n: usize) {
        let peak = |g: &TrendGroup| g.peak().map_or(f64::MIN, |(_, v)| v);
        self.groups.sort_by(|a, b| peak(b).total_cmp(&peak(a)));
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
