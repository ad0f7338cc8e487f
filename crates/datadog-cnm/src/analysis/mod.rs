//! Answering questions with pages: rank rows by any metric (the API has no sort), derive
//! metrics, compare two periods, follow a metric over a series' windows.
//!
//! - [`Measure`]: a metric of the row type or a [`Derived`] one, by name
//!   (`Measure::<Connection>::parse("tcp_retransmit_ratio")`), with its unit, label and
//!   aggregation; its value for a row, or its per-second rate.
//! - [`Page::sort_by`](crate::Page::sort_by) and [`Page::top`](crate::Page::top): rank a
//!   page's rows.
//! - [`compare`]: join the same query over two periods by group ([`Comparison`]), with
//!   new and gone groups and deltas.
//! - [`Trend`]: one measure of every group, window after window.
//!
//! `examples/analysis.rs` answers the everyday questions with them against the bundled
//! mock.

mod compare;
mod derived;
mod measure;
mod rank;
mod trend;

pub use compare::{Compared, Comparison, Status, compare};
pub use derived::{DERIVED, Derived};
pub use measure::{Measure, Number, Order, UnknownMeasure};
pub use trend::{Trend, TrendGroup, TrendSummary, TrendWindow};
