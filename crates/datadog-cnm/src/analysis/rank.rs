//! Ranking a page's rows by any measure: the API has no sort of its own.

use datadog_cnm_raw::Row;

use super::measure::{Measure, Order};
use crate::page::Page;

impl<R: Row> Page<R> {
    /// Order the rows by `measure` (rows without a value last), keeping the server's order
    /// between equal values.
    ///
    /// ```
    /// # fn run(mut page: datadog_cnm::ConnectionsPage) -> Result<(), datadog_cnm::analysis::UnknownMeasure> {
    /// use datadog_cnm::analysis::{Measure, Order};
    ///
    /// page.sort_by(Measure::parse("tcp_retransmits")?, Order::Descending);
    /// # Ok(())
    /// # }
    /// ```
    pub fn sort_by(&mut self, measure: Measure<R>, order: Order) {
        self.rows.sort_by(|a, b| measure.compare(a, b, order));
    }

    /// Keep the `n` rows ranked first by `measure` in `order`, in that order.
    ///
    /// The ranking covers the rows the server returned: when the page is
    /// [`truncated`](Page::truncated), groups beyond the limit (by the server's own order)
    /// were not considered. Query with `limit(7500)`, the API's maximum, to rank as many as
    /// the API allows.
    pub fn top(&mut self, n: usize, measure: Measure<R>, order: Order) {
        if n < self.rows.len() {
            // Select the n first without sorting everything, then order them.
            self.rows
                .select_nth_unstable_by(n, |a, b| measure.compare(a, b, order));
            self.rows.truncate(n);
        }
        self.sort_by(measure, order);
    }
}

#[cfg(test)]
mod tests {
    use datadog_cnm_raw::Connection;

    use super::*;
    use crate::window::Window;

    fn page(values: &[Option<i64>]) -> Page<Connection> {
        let rows = values
            .iter()
            .enumerate()
            .map(|(i, value)| Connection {
                id: Some(i.to_string()),
                tcp_retransmits: *value,
                ..Connection::default()
            })
            .collect();
        Page {
            rows,
            window: Window::from_unix(0, 60).unwrap(),
            truncated: false,
            limit: 100,
            rate_limit: None,
            extra_members: Default::default(),
        }
    }

    fn ids(page: &Page<Connection>) -> Vec<&str> {
        page.rows.iter().filter_map(|r| r.id.as_deref()).collect()
    }

    #[test]
    fn top_keeps_the_first_n_by_the_measure_missing_values_last() {
        let retransmits = Measure::<Connection>::parse("tcp_retransmits").unwrap();
        let mut p = page(&[Some(5), None, Some(9), Some(1), Some(9)]);
        p.top(3, retransmits, Order::Descending);
        assert_eq!(ids(&p), ["2", "4", "0"]);
        let mut p = page(&[Some(5), None, Some(9), Some(1)]);
        p.sort_by(retransmits, Order::Ascending);
        assert_eq!(ids(&p), ["3", "0", "2", "1"]);
        let mut p = page(&[Some(5)]);
        p.top(10, retransmits, Order::Descending);
        assert_eq!(ids(&p), ["0"]);
    }
}
