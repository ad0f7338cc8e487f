//! What the flags ask for, checked before anything is read or sent: the window, the
//! group-by, the ranking, the comparison, the trend and the columns.

use std::time::{Duration, SystemTime};

use datadog_cnm::analysis::{Measure, Number, Order};
use datadog_cnm::{Aggregation, Client, Operation, Page, Query, Row, Window};

use crate::cli::{OutputFormat, QueryArgs};
use crate::commands::warn;
use crate::exit::Failure;
use crate::settings::Settings;
use crate::view::{Column, Columns, value_of};

/// The group-by a command sends when `--group-by` is not given.
fn default_group_by(operation: Operation) -> &'static [&'static str] {
    match operation {
        Operation::GetAggregatedDns => &["network.dns_query"],
        _ => &["client_service", "server_service"],
    }
}

/// What rows are ranked and charted by unless told otherwise.
pub(in crate::commands) fn default_measure(operation: Operation) -> &'static str {
    match operation {
        Operation::GetAggregatedDns => "dns_total_requests",
        _ => "total_bytes",
    }
}

/// How rows are ranked.
pub(in crate::commands) struct Ranking<R: Row> {
    pub(in crate::commands) measure: Measure<R>,
    pub(in crate::commands) order: Order,
    pub(in crate::commands) top: Option<usize>,
    /// Rank a comparison by the change.
    pub(in crate::commands) delta: bool,
    /// `--sort-by` was given (else the default measure ranks, for `--top`).
    pub(in crate::commands) explicit: bool,
}

/// Everything the flags ask for, checked before anything is read or sent.
pub(in crate::commands) struct Plan<R: Row> {
    pub(in crate::commands) window: Window,
    pub(in crate::commands) step: Option<Duration>,
    pub(in crate::commands) aligned: bool,
    pub(in crate::commands) group_by: Vec<String>,
    pub(in crate::commands) ranking: Option<Ranking<R>>,
    pub(in crate::commands) compare: Option<Duration>,
    /// The trend table's measure (a series printed as a table).
    pub(in crate::commands) trend: Option<Measure<R>>,
    /// `--columns`.
    pub(in crate::commands) chosen: Option<Vec<Measure<R>>>,
    pub(in crate::commands) per_second: bool,
    pub(in crate::commands) keep_going: bool,
    pub(in crate::commands) deadline: Option<Duration>,
    pub(in crate::commands) concurrency: Option<usize>,
    /// The limit sent: `--limit`, or the API's maximum to rank or compare everything.
    pub(in crate::commands) limit: Option<u32>,
    /// The output is a table (which leads with the ranking's or the default measure).
    pub(in crate::commands) table: bool,
    /// With `--step`: the series' windows.
    pub(in crate::commands) windows: Vec<Window>,
}

fn measure<R: Row>(name: &str, flag: &str) -> Result<Measure<R>, Failure> {
    Measure::parse(name)
        .map_err(|e| Failure::Usage(format!("{flag}: {e} (`ddcnm fields` describes each)")))
}

impl<R: Row> Plan<R> {
    pub(in crate::commands) fn new(
        args: &QueryArgs,
        settings: &Settings,
        now: SystemTime,
    ) -> Result<Self, Failure> {
        let window = args.window.resolve(now)?;
        let step = args.step.map(|step| step.0);
        // --group-by, else the profile's, else the endpoint's default.
        let group_by = match (&settings.group_by, args.group_by.is_empty()) {
            (_, false) => trimmed(&args.group_by),
            (Some(profile), true) => profile.value.clone(),
            (None, true) => default_group_by(R::OPERATION)
                .iter()
                .map(|g| (*g).to_owned())
                .collect(),
        };
        let sort = args
            .sort_by
            .as_ref()
            .map(|spec| measure::<R>(&spec.name, "--sort-by"))
            .transpose()?;
        if args.sort_by.as_ref().is_some_and(|s| s.delta) && args.compare.is_none() {
            return Err(Failure::Usage(
                "--sort-by delta:METRIC ranks the change of a --compare; add --compare DUR"
                    .to_owned(),
            ));
        }
        let default = || measure::<R>(default_measure(R::OPERATION), "the default metric");
        let ranking = match (sort, args.top) {
            (None, None) => None,
            (sort, top) => Some(Ranking {
                measure: match sort {
                    Some(measure) => measure,
                    None => default()?,
                },
                order: match &args.sort_by {
                    Some(spec) if spec.ascending => Order::Ascending,
                    _ => Order::Descending,
                },
                top: top.map(|n| n as usize),
                delta: args.sort_by.as_ref().is_some_and(|s| s.delta),
                explicit: args.sort_by.is_some(),
            }),
        };
        let table = matches!(
            settings.output.value,
            OutputFormat::Table | OutputFormat::Wide
        );
        if let (Some(trend), Some(sort)) = (&args.trend, &args.sort_by)
            && trend.trim() != sort.name
        {
            return Err(Failure::Usage(format!(
                "a trend is ranked by the metric it charts: --trend {} and --sort-by {} differ; \
                 drop one (--trend alone ranks by its metric)",
                trend.trim(),
                sort.name
            )));
        }
        let trend = match (&args.trend, step.is_some() && table && !args.per_window) {
            (Some(name), _) => Some(measure::<R>(name, "--trend")?),
            (None, true) => Some(match &ranking {
                Some(ranking) => ranking.measure,
                None => default()?,
            }),
            (None, false) => None,
        };
        let chosen = if args.columns.is_empty() {
            None
        } else {
            Some(
                trimmed(&args.columns)
                    .iter()
                    .map(|name| measure::<R>(name, "--columns"))
                    .collect::<Result<Vec<_>, _>>()?,
            )
        };
        let everything = args.top.is_some() || args.compare.is_some();
        let aligned =
            !args.no_align && (args.align || step.is_some_and(|s| s >= Duration::from_secs(60)));
        let windows = match step {
            Some(step) if aligned => window.split_aligned(step)?,
            Some(step) => window.split(step)?,
            None => Vec::new(),
        };
        Ok(Self {
            window,
            step,
            // Aligned by default for steps of a minute or more.
            aligned,
            group_by,
            ranking,
            compare: args.compare.map(|d| d.0),
            trend,
            chosen,
            per_second: args.rate,
            keep_going: args.keep_going,
            deadline: args.deadline.map(|d| d.0),
            concurrency: args.concurrency.map(|n| n as usize),
            limit: if everything {
                Some(Query::<R>::MAX_LIMIT)
            } else {
                args.limit.or(settings.limit.as_ref().map(|l| l.value))
            },
            table,
            windows,
        })
    }

    /// The query of `R` with the plan's parameters.
    pub(in crate::commands) fn query(&self, client: &Client, args: &QueryArgs) -> Query<R> {
        let mut query = client
            .query::<R>()
            .group_by(self.group_by.clone())
            .tags(trimmed(&args.tags));
        if let Some(q) = &args.query {
            query = query.query(q.as_str());
        }
        if let Some(limit) = self.limit {
            query = query.limit(limit);
        }
        query
    }

    /// The value columns, and where each column's values come from.
    /// `labels` name the label columns (`profile`, `site`) when several targets are queried.
    pub(in crate::commands) fn columns(
        &self,
        extras: &[String],
        labels: &[String],
    ) -> (Columns, Vec<Source<R>>) {
        let mut sources: Vec<Source<R>> = match &self.chosen {
            Some(chosen) => chosen.iter().copied().map(Source::Measure).collect(),
            None => (0..R::METRICS.len())
                .filter_map(Measure::metric)
                .map(Source::Measure)
                .chain(extras.iter().cloned().map(Source::Extra))
                .collect(),
        };
        // A table leads with the measure rows are ranked by, else the default one (a derived
        // metric among them is computed for the table only).
        let lead = match &self.ranking {
            Some(ranking) => Some(ranking.measure),
            None if self.table && self.chosen.is_none() => {
                Measure::parse(default_measure(R::OPERATION)).ok()
            }
            None => None,
        };
        // A derived metric ranked or charted by is shown too.
        for wanted in lead.into_iter().chain(self.trend) {
            if !sources
                .iter()
                .any(|s| matches!(s, Source::Measure(m) if *m == wanted))
            {
                sources.push(Source::Measure(wanted));
            }
        }
        let values: Vec<Column> = sources.iter().map(Source::column).collect();
        let mut table: Vec<usize> = if self.chosen.is_some() {
            (0..values.len()).collect()
        } else {
            let mut ranked: Vec<(u8, usize)> = values
                .iter()
                .enumerate()
                .filter_map(|(i, c)| Some((c.priority?, i)))
                .collect();
            ranked.sort_unstable();
            ranked.into_iter().map(|(_, i)| i).collect()
        };
        if self.chosen.is_none()
            && let Some(lead) = lead
            && let Some(at) = sources
                .iter()
                .position(|s| matches!(s, Source::Measure(m) if *m == lead))
        {
            table.retain(|&i| i != at);
            table.insert(0, at);
        }
        let columns = Columns {
            labels: labels.to_vec(),
            group_keys: self
                .group_by
                .iter()
                .filter(|g| *g != "server_ungrouped")
                .cloned()
                .collect(),
            values,
            table,
            series: self.step.is_some(),
            per_second: self.per_second,
            compare: self.compare.is_some(),
        };
        (columns, sources)
    }

    /// The trend's column among `sources`.
    pub(in crate::commands) fn trend_column(&self, sources: &[Source<R>]) -> Option<usize> {
        let trend = self.trend?;
        sources
            .iter()
            .position(|s| matches!(s, Source::Measure(m) if *m == trend))
    }

    /// Rank a page as asked.
    pub(in crate::commands) fn rank(&self, page: &mut Page<R>) {
        if let Some(ranking) = &self.ranking {
            match ranking.top {
                Some(n) => page.top(n, ranking.measure, ranking.order),
                None => page.sort_by(ranking.measure, ranking.order),
            }
        }
    }

    /// `ranked by tcp_retransmits (top 10)`, for table headings.
    pub(in crate::commands) fn ranking_words(&self) -> Option<String> {
        if let Some(measure) = &self.trend {
            // A trend is ordered by the total of a count, the peak of anything else (see
            // `Trend::ranks_by_total`); say only what was kept.
            let ranking = self.ranking.as_ref()?;
            let key = if measure.aggregation() == Some(Aggregation::Sum) {
                "total"
            } else {
                "peak"
            };
            return Some(match (ranking.top, ranking.order) {
                (Some(top), _) => format!("top {top} by {key}"),
                (None, Order::Ascending) => format!("smallest {key} first"),
                (None, Order::Descending) => format!("largest {key} first"),
            });
        }
        if self.compare.is_some() && !self.ranking.as_ref().is_some_and(|r| r.explicit) {
            let measure = self
                .ranking
                .as_ref()
                .map_or(default_measure(R::OPERATION), |r| r.measure.name());
            let mut words = format!("new and gone first, then the largest changes of {measure}");
            if let Some(top) = self.ranking.as_ref().and_then(|r| r.top) {
                words.push_str(&format!(" (top {top})"));
            }
            return Some(words);
        }
        let ranking = self.ranking.as_ref()?;
        let mut words = format!(
            "ranked by {}{}",
            if ranking.delta { "the change of " } else { "" },
            ranking.measure.name()
        );
        if ranking.order == Order::Ascending {
            words.push_str(", smallest first");
        }
        if let Some(top) = ranking.top {
            words.push_str(&format!(" (top {top})"));
        }
        Some(words)
    }
}

/// Where a value column's values come from.
pub(in crate::commands) enum Source<R: Row> {
    Measure(Measure<R>),
    /// A metric this version does not know, by name.
    Extra(String),
}

impl<R: Row> Source<R> {
    fn column(&self) -> Column {
        match self {
            Self::Measure(measure) => Column::of(*measure),
            Self::Extra(name) => Column::unknown(name),
        }
    }

    fn value(&self, row: &R, per_second: bool, duration: Duration) -> Option<Number> {
        match self {
            Self::Measure(measure) => value_of(*measure, row, per_second, duration),
            Self::Extra(name) => row
                .extra_metrics()
                .into_iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, v)| v)
                .map(Number::Int),
        }
    }
}

/// The values of `row` for `sources`.
pub(in crate::commands) fn values<R: Row>(
    row: &R,
    sources: &[Source<R>],
    per_second: bool,
    duration: Duration,
) -> Vec<Option<Number>> {
    sources
        .iter()
        .map(|s| s.value(row, per_second, duration))
        .collect()
}

/// Metrics the rows carry that the generated table does not know, in name order.
pub(in crate::commands) fn extras_of<'a, R: Row + 'a>(
    rows: impl IntoIterator<Item = &'a R>,
) -> Vec<String> {
    let mut names: Vec<String> = rows
        .into_iter()
        .flat_map(|row| row.extra_metrics().into_iter().map(|(n, _)| n.to_owned()))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Unknown attributes of the rows that are not metrics (ratios, texts, numbers beyond
/// int64), each by name with its first value (shortened), in name order.
pub(in crate::commands) fn non_metrics_of<'a, R: Row + 'a>(
    rows: impl IntoIterator<Item = &'a R>,
) -> Vec<(String, String)> {
    let mut found = std::collections::BTreeMap::new();
    for row in rows {
        for (name, value) in row.extra_non_metrics() {
            found.entry(name.to_owned()).or_insert_with(|| {
                let mut text = value.to_string();
                if text.chars().count() > 40 {
                    text = text.chars().take(40).chain(['…']).collect();
                }
                text
            });
        }
    }
    found.into_iter().collect()
}

/// Warnings about flags that do not combine as one might think.
pub(in crate::commands) fn warn_about_flags<R: Row>(
    args: &QueryArgs,
    plan: &Plan<R>,
    settings: &Settings,
) {
    if !args.tags.is_empty() && args.query.is_some() {
        warn(
            settings,
            "both --tags and --query are sent, and the API lets --query take precedence: the \
             tags are ignored; write them into the query instead (e.g. `env:prod AND …`)",
        );
    }
    if let Some(limit) = args.limit
        && (args.top.is_some() || args.compare.is_some())
        && Some(limit) != plan.limit
    {
        warn(
            settings,
            &format!(
                "--limit {limit} is not sent: {} asks the API for its maximum ({} groups) so \
                 that it covers every group{}",
                if args.top.is_some() {
                    "--top"
                } else {
                    "--compare"
                },
                Query::<R>::MAX_LIMIT,
                if args.top.is_some() {
                    "; --top N keeps N"
                } else {
                    ""
                }
            ),
        );
    }
    if let Some(step) = plan.step
        && step == plan.window.duration()
    {
        warn(
            settings,
            &format!(
                "--step {} is the window's length: the series has one window{}",
                crate::format::span(step),
                if plan.aligned {
                    " when the window is aligned on the step, else two partial ones \
                     (--no-align keeps it whole)"
                } else {
                    ""
                }
            ),
        );
    }
}

/// `--group-by a, b` means `a` and `b`.
pub(in crate::commands) fn trimmed(items: &[String]) -> Vec<String> {
    items.iter().map(|item| item.trim().to_owned()).collect()
}
