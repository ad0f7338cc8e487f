//! What rows are ranked, compared and charted by: a metric of the row type, or a derived
//! metric.

use std::cmp::Ordering;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use datadog_cnm_raw::{Aggregation, Row, Unit};
use serde::{Serialize, Serializer};

use super::derived::{DERIVED, Derived, Formula};

/// A number of a row: one of its metrics, or a metric derived from them.
///
/// ```
/// use datadog_cnm::Connection;
/// use datadog_cnm::analysis::Measure;
///
/// let retransmits = Measure::<Connection>::parse("tcp_retransmits")?;
/// let ratio = Measure::<Connection>::parse("tcp_retransmit_ratio")?;
/// assert!(!retransmits.is_derived() && ratio.is_derived());
///
/// let mut row = Connection::default();
/// row.tcp_retransmits = Some(30);
/// row.packets_sent_by_client = Some(1000);
/// assert_eq!(ratio.value(&row).map(|n| n.as_f64()), Some(0.03));
/// assert!(Measure::<Connection>::parse("dns_total_requests").is_err());
/// # Ok::<(), datadog_cnm::analysis::UnknownMeasure>(())
/// ```
pub struct Measure<R> {
    source: Source,
    rows: PhantomData<fn() -> R>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Source {
    /// An index into `R::METRICS`.
    Metric(usize),
    Derived(&'static Derived),
}

/// A metric's value: an integer, or (for ratios) a fraction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// A count, an amount of bytes or packets, a time: what the API sends.
    Int(i64),
    /// A ratio or a per-second rate.
    Float(f64),
}

impl Number {
    /// The value as a float, for ranking and arithmetic.
    pub fn as_f64(self) -> f64 {
        match self {
            Self::Int(n) => n as f64,
            Self::Float(x) => x,
        }
    }
}

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            Self::Int(n) => serializer.serialize_i64(n),
            Self::Float(x) if x.is_finite() => serializer.serialize_f64(x),
            Self::Float(_) => serializer.serialize_none(),
        }
    }
}

/// A name that is neither a metric nor a derived metric of the row type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{name}` is not a metric of these rows; known: {}", known.join(", "))]
pub struct UnknownMeasure {
    /// The name given.
    pub name: String,
    /// Every valid name, metrics first.
    pub known: Vec<&'static str>,
}

impl<R: Row> Measure<R> {
    /// The metric or derived metric called `name` (the wire name, e.g.
    /// `dns_responses.nxdomain`, or a derived metric's, e.g. `tcp_retransmit_ratio`).
    pub fn parse(name: &str) -> Result<Self, UnknownMeasure> {
        let name = name.trim();
        Self::all()
            .into_iter()
            .find(|measure| measure.name() == name)
            .ok_or_else(|| UnknownMeasure {
                name: name.to_owned(),
                known: Self::all().iter().map(Self::name).collect(),
            })
    }

    /// Every metric of the row type, then every derived metric of it.
    pub fn all() -> Vec<Self> {
        (0..R::METRICS.len())
            .map(|index| Self::from_source(Source::Metric(index)))
            .chain(Self::derived())
            .collect()
    }

    /// The derived metrics of the row type.
    pub fn derived() -> impl Iterator<Item = Self> {
        DERIVED
            .iter()
            .filter(|derived| derived.operation == R::OPERATION)
            .map(|derived| Self::from_source(Source::Derived(derived)))
    }

    /// Metric number `index` of [`Row::METRICS`].
    pub fn metric(index: usize) -> Option<Self> {
        (index < R::METRICS.len()).then(|| Self::from_source(Source::Metric(index)))
    }

    fn from_source(source: Source) -> Self {
        Self {
            source,
            rows: PhantomData,
        }
    }

    /// The name, e.g. `tcp_retransmits`.
    pub fn name(&self) -> &'static str {
        match self.source {
            Source::Metric(index) => R::METRICS[index].name,
            Source::Derived(derived) => derived.name,
        }
    }

    /// The short column label, e.g. `retransmits`.
    pub fn label(&self) -> &'static str {
        match self.source {
            Source::Metric(index) => R::METRICS[index].label,
            Source::Derived(derived) => derived.label,
        }
    }

    /// What it measures.
    pub fn description(&self) -> &'static str {
        match self.source {
            Source::Metric(index) => R::METRICS[index].description,
            Source::Derived(derived) => derived.description,
        }
    }

    /// Its unit.
    pub fn unit(&self) -> Unit {
        match self.source {
            Source::Metric(index) => R::METRICS[index].unit,
            Source::Derived(derived) => derived.unit,
        }
    }

    /// How its values combine over adjacent windows: a metric's aggregation; `Sum` for a
    /// derived sum; `None` for a ratio (combine its parts, then divide).
    pub fn aggregation(&self) -> Option<Aggregation> {
        match self.source {
            Source::Metric(index) => Some(R::METRICS[index].aggregation),
            Source::Derived(derived) => derived.is_additive().then_some(Aggregation::Sum),
        }
    }

    /// `true` for a derived metric.
    pub fn is_derived(&self) -> bool {
        matches!(self.source, Source::Derived(_))
    }

    /// The value for `row`; `None` when the server did not send what it needs.
    pub fn value(&self, row: &R) -> Option<Number> {
        match self.source {
            Source::Metric(index) => row.metric(index).map(Number::Int),
            Source::Derived(derived) => match derived.formula {
                Formula::Sum(parts) => {
                    let values: Vec<i64> = parts.iter().filter_map(|p| metric(row, p)).collect();
                    (!values.is_empty())
                        .then(|| Number::Int(values.iter().fold(0i64, |a, v| a.saturating_add(*v))))
                }
                Formula::Ratio(numerator, denominator) => {
                    let (numerator, denominator) =
                        (metric(row, numerator)?, metric(row, denominator)?);
                    (denominator != 0).then(|| Number::Float(numerator as f64 / denominator as f64))
                }
            },
        }
    }

    /// The value as a per-second rate over a window of `duration`: a count (a `sum`) is
    /// divided by the window's seconds; gauges, means, percentiles and ratios are already
    /// independent of the window's length and stay as they are.
    pub fn rate(&self, row: &R, duration: Duration) -> Option<Number> {
        let value = self.value(row)?;
        let seconds = duration.as_secs_f64();
        match self.aggregation() {
            Some(Aggregation::Sum) if seconds > 0.0 => {
                Some(Number::Float(value.as_f64() / seconds))
            }
            _ => Some(value),
        }
    }

    /// Compare two rows by this measure: rows without a value come last either way.
    pub fn compare(&self, a: &R, b: &R, order: Order) -> Ordering {
        order.compare(
            self.value(a).map(Number::as_f64),
            self.value(b).map(Number::as_f64),
        )
    }
}

/// The value of the metric called `name` in `row`.
fn metric<R: Row>(row: &R, name: &str) -> Option<i64> {
    let index = R::METRICS.iter().position(|metric| metric.name == name)?;
    row.metric(index)
}

/// Which way to rank.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Order {
    /// Largest first (the default: "top").
    #[default]
    Descending,
    /// Smallest first.
    Ascending,
}

impl Order {
    /// Compare two values in this order; missing values come last either way.
    pub fn compare(self, a: Option<f64>, b: Option<f64>) -> Ordering {
        match (a, b) {
            (Some(a), Some(b)) => match self {
                Self::Descending => b.total_cmp(&a),
                Self::Ascending => a.total_cmp(&b),
            },
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
}

impl<R> Clone for Measure<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for Measure<R> {}

impl<R> PartialEq for Measure<R> {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl<R> Eq for Measure<R> {}

impl<R: Row> fmt::Debug for Measure<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Measure").field(&self.name()).finish()
    }
}

impl<R: Row> fmt::Display for Measure<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
