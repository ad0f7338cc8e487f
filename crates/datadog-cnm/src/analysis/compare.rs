//! Comparing two periods: the same query over a window and over the window a while
//! before, joined by group.

use std::collections::HashMap;

use datadog_cnm_raw::{Aggregation, GroupBys, Row};

use super::measure::{Measure, Order};
use crate::page::Page;
use crate::window::Window;

/// Whether a group was there in both periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// In both periods.
    Both,
    /// Only in the current period.
    New,
    /// Only in the previous period.
    Gone,
}

/// One group in two periods.
#[derive(Clone, Debug, PartialEq)]
pub struct Compared<R> {
    /// The group-by values.
    pub group_bys: GroupBys,
    /// Whether it was in both.
    pub status: Status,
    /// Its row in the current period.
    pub current: Option<R>,
    /// Its row in the previous period.
    pub previous: Option<R>,
}

impl<R: Row> Compared<R> {
    /// Current minus previous value of `measure`. A count (a measure that adds up) missing
    /// in a period — a new or gone group — counts as zero there; a mean, percentile, gauge
    /// or ratio missing on either side has no delta (`None`), and ranks last.
    pub fn delta(&self, measure: Measure<R>) -> Option<f64> {
        let value = |row: &Option<R>| {
            row.as_ref()
                .and_then(|r| measure.value(r))
                .map(|n| n.as_f64())
        };
        // A count missing on one side is none of it; a mean, percentile, gauge or ratio
        // missing on one side has no change.
        let additive = measure.aggregation() == Some(Aggregation::Sum);
        match (value(&self.current), value(&self.previous)) {
            (Some(current), Some(previous)) => Some(current - previous),
            (None, None) => None,
            (current, previous) if additive => {
                Some(current.unwrap_or(0.0) - previous.unwrap_or(0.0))
            }
            _ => None,
        }
    }

    /// The change relative to the size of the previous value (`0.5` is +50 %); `None`
    /// when there is no delta, no previous value, or it was zero.
    pub fn change(&self, measure: Measure<R>) -> Option<f64> {
        let previous = self
            .previous
            .as_ref()
            .and_then(|r| measure.value(r))?
            .as_f64();
        let delta = self.delta(measure)?;
        (previous != 0.0).then(|| delta / previous.abs())
    }
}

/// Two periods joined by group.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison<R> {
    /// The current period.
    pub current: Window,
    /// The previous period.
    pub previous: Window,
    /// Whether the current page was truncated (more groups may exist).
    pub current_truncated: bool,
    /// Whether the previous page was truncated: then a group called new may only have
    /// been beyond the previous page's limit.
    pub previous_truncated: bool,
    /// The groups: the current page's in its order, then the groups gone since, in the
    /// previous page's order.
    pub rows: Vec<Compared<R>>,
}

/// Join `current` and `previous` (the same query over two periods) by group.
///
/// ```
/// # async fn run(client: datadog_cnm::Client) -> Result<(), datadog_cnm::Error> {
/// use std::time::Duration;
/// use datadog_cnm::Window;
/// use datadog_cnm::analysis::{Measure, Order, compare};
///
/// let today = Window::last(Duration::from_secs(3600));
/// let yesterday = today.shifted_back(Duration::from_secs(86_400));
/// let query = client.connections().group_by(["client_service", "server_service"]).limit(7500);
/// let now = query.clone().window(today).send().await?;
/// let then = query.window(yesterday).send().await?;
/// let mut changes = compare(now, then);
/// changes.sort_by_delta(Measure::parse("total_bytes").unwrap(), Order::Descending);
/// # Ok(())
/// # }
/// ```
pub fn compare<R: Row>(current: Page<R>, previous: Page<R>) -> Comparison<R> {
    let mut previous_rows: Vec<Option<R>> = previous.rows.into_iter().map(Some).collect();
    let index: HashMap<GroupBys, usize> = previous_rows
        .iter()
        .enumerate()
        .filter_map(|(i, row)| Some((row.as_ref()?.group_bys().clone(), i)))
        .collect();
    let mut rows: Vec<Compared<R>> = current
        .rows
        .into_iter()
        .map(|row| {
            let before = index
                .get(row.group_bys())
                .and_then(|&i| previous_rows.get_mut(i))
                .and_then(Option::take);
            Compared {
                group_bys: row.group_bys().clone(),
                status: if before.is_some() {
                    Status::Both
                } else {
                    Status::New
                },
                current: Some(row),
                previous: before,
            }
        })
        .collect();
    rows.extend(previous_rows.into_iter().flatten().map(|row| Compared {
        group_bys: row.group_bys().clone(),
        status: Status::Gone,
        current: None,
        previous: Some(row),
    }));
    Comparison {
        current: current.window,
        previous: previous.window,
        current_truncated: current.truncated,
        previous_truncated: previous.truncated,
        rows,
    }
}

impl<R: Row> Comparison<R> {
    /// Order the groups by their change of `measure` (see [`Compared::delta`]).
    pub fn sort_by_delta(&mut self, measure: Measure<R>, order: Order) {
        self.rows
            .sort_by(|a, b| order.compare(a.delta(measure), b.delta(measure)));
    }

    /// Order the groups by their current value of `measure` (gone groups last).
    pub fn sort_by(&mut self, measure: Measure<R>, order: Order) {
        let value = |c: &Compared<R>| {
            c.current
                .as_ref()
                .and_then(|r| measure.value(r))
                .map(|n| n.as_f64())
        };
        self.rows.sort_by(|a, b| order.compare(value(a), value(b)));
    }

    /// Order the groups by how much they changed: new and gone groups first, then the
    /// largest changes of `measure` either way (by the size of [`Compared::delta`]).
    pub fn sort_by_change(&mut self, measure: Measure<R>) {
        self.rows.sort_by(|a, b| {
            let appeared = |c: &Compared<R>| c.status == Status::Both;
            let size = |c: &Compared<R>| c.delta(measure).map(f64::abs);
            appeared(a)
                .cmp(&appeared(b))
                .then_with(|| Order::Descending.compare(size(a), size(b)))
        });
    }

    /// Keep the first `n` groups.
    pub fn truncate(&mut self, n: usize) {
        self.rows.truncate(n);
    }
}

#[cfg(test)]
mod tests {
    use datadog_cnm_raw::Connection;

    use super::*;

    fn row(service: &str, bytes: i64) -> Connection {
        Connection {
            group_bys: [("client_service", service)].into_iter().collect(),
            bytes_sent_by_client: Some(bytes),
            ..Connection::default()
        }
    }

    fn page(rows: Vec<Connection>, from: i64) -> Page<Connection> {
        Page {
            rows,
            window: Window::from_unix(from, from + 60).unwrap(),
            truncated: false,
            limit: 7500,
            rate_limit: None,
            extra_members: Default::default(),
        }
    }

    #[test]
    fn groups_are_joined_new_and_gone_marked_and_deltas_computed() {
        let now = page(vec![row("web", 150), row("api", 10)], 86_400);
        let then = page(vec![row("db", 40), row("web", 100)], 0);
        let mut joined = compare(now, then);
        let statuses: Vec<(&str, Status)> = joined
            .rows
            .iter()
            .map(|c| (c.group_bys.get("client_service").unwrap_or(""), c.status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("web", Status::Both),
                ("api", Status::New),
                ("db", Status::Gone)
            ]
        );
        let bytes = Measure::<Connection>::parse("bytes_sent_by_client").unwrap();
        assert_eq!(joined.rows[0].delta(bytes), Some(50.0));
        assert_eq!(joined.rows[0].change(bytes), Some(0.5));
        assert_eq!(joined.rows[1].change(bytes), None);
        assert_eq!(joined.rows[2].delta(bytes), Some(-40.0));
        joined.sort_by_delta(bytes, Order::Ascending);
        assert_eq!(joined.rows[0].status, Status::Gone);
    }

    #[test]
    fn what_changed_most_comes_first() {
        let now = page(
            vec![
                row("web", 150),
                row("api", 10),
                row("db", 0),
                row("cdn", 900),
            ],
            86_400,
        );
        let then = page(
            vec![
                row("db", 500),
                row("web", 100),
                row("cdn", 1000),
                row("old", 1),
            ],
            0,
        );
        let mut joined = compare(now, then);
        joined.sort_by_change(Measure::parse("bytes_sent_by_client").unwrap());
        let order: Vec<&str> = joined
            .rows
            .iter()
            .map(|c| c.group_bys.get("client_service").unwrap_or(""))
            .collect();
        // New and gone first (largest change first among them), then by size of change.
        assert_eq!(order, ["api", "old", "db", "cdn", "web"]);
    }

    /// A mean missing on one side has no delta and ranks last; a negative previous value
    /// keeps the change's sign.
    #[test]
    fn means_missing_on_a_side_have_no_delta() {
        let rtt = |service: &str, rtt: Option<i64>| Connection {
            group_bys: [("client_service", service)].into_iter().collect(),
            rtt_micro_seconds: rtt,
            ..Connection::default()
        };
        let now = page(
            vec![rtt("a", Some(100)), rtt("b", None), rtt("c", Some(50))],
            86_400,
        );
        let then = page(
            vec![rtt("a", None), rtt("b", Some(200)), rtt("c", Some(0))],
            0,
        );
        let mut joined = compare(now, then);
        let measure = Measure::<Connection>::parse("rtt_micro_seconds").unwrap();
        let deltas: Vec<Option<f64>> = joined.rows.iter().map(|c| c.delta(measure)).collect();
        assert_eq!(deltas, [None, None, Some(50.0)]);
        for order in [Order::Descending, Order::Ascending] {
            joined.sort_by_delta(measure, order);
            assert_eq!(joined.rows[0].group_bys.get("client_service"), Some("c"));
        }
        let now = page(vec![row("x", 10)], 86_400);
        let then = page(vec![row("x", -20)], 0);
        let bytes = Measure::<Connection>::parse("bytes_sent_by_client").unwrap();
        assert_eq!(compare(now, then).rows[0].change(bytes), Some(1.5));
    }
}
