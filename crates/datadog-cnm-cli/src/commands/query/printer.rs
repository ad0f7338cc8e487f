//! Turns pages into records ([`crate::view`]) and hands them to the writer of the chosen
//! format; a `--step` table collects a trend per target instead and prints it at the end.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io::Write;

use datadog_cnm::analysis::{Measure, Trend, compare};
use datadog_cnm::{Page, Row, Window};

use super::plan::{Plan, Source, default_measure, extras_of, non_metrics_of, values};
use crate::cli::OutputFormat;
use crate::commands::warn;
use crate::exit::Failure;
use crate::settings::Settings;
use crate::view::csv::Csv;
use crate::view::for_terminal;
use crate::view::json::Json;
use crate::view::parquet::ParquetOut;
use crate::view::table::{Heading, Table, TrendLine, TrendView, Width};
use crate::view::{Block, Columns, Record, Sink, truncation_note};

/// Turns pages into records and hands them to the sink of the chosen format.
pub(super) struct Printer<'a, R: Row, W: Write> {
    plan: &'a Plan<R>,
    settings: &'a Settings,
    /// The output, until the sink takes it.
    out: Option<W>,
    heading: Heading,
    /// How wide tables may be.
    width: Width,
    /// The label columns (`profile`, `site`) when several targets are queried.
    label_names: Vec<String>,
    sink: Option<Box<dyn Sink + 'a>>,
    /// `-o parquet`: pages go to the file as they are, not as records.
    parquet: Option<(ParquetOut<R>, W)>,
    /// The site the rows come from (the Parquet `site` column).
    site: String,
    /// A trend table instead of a sink.
    trend: Option<TrendOutput<R, W>>,
    /// Decided at the first page (metrics unknown to this version are found there).
    columns: Option<(Columns, Vec<Source<R>>)>,
    /// Pages printed, those cut at the limit, and the largest limit (for the truncation
    /// warning of machine formats; tables say it themselves).
    pages: usize,
    truncated: usize,
    limit: u32,
    /// Unknown attributes already warned about (once each, not once per window).
    told: RefCell<BTreeSet<String>>,
    /// Failed windows of targets whose trend has not started (no page yet), in order.
    failed_first: Vec<(Vec<String>, Window, bool)>,
}

/// A trend table being collected: the table, its value column, and a trend per target
/// (by labels).
struct TrendOutput<R: Row, W: Write> {
    table: Table<W>,
    column: usize,
    trends: Vec<(Vec<String>, Trend<R>)>,
}

impl<'a, R: Row, W: Write + 'a> Printer<'a, R, W> {
    /// A printer of `plan`'s rows to `out`.
    pub(super) fn new(
        plan: &'a Plan<R>,
        settings: &'a Settings,
        out: W,
        heading: Heading,
        label_names: Vec<String>,
        site: String,
    ) -> Self {
        Self {
            plan,
            settings,
            out: Some(out),
            heading,
            width: settings.table_width(),
            label_names,
            sink: None,
            parquet: None,
            site,
            trend: None,
            columns: None,
            pages: 0,
            truncated: 0,
            limit: 0,
            told: RefCell::new(BTreeSet::new()),
            failed_first: Vec::new(),
        }
    }

    /// The settings it prints with.
    pub(super) fn settings(&self) -> &'a Settings {
        self.settings
    }

    /// The columns and the sink, set up at the first page.
    fn set_up(&mut self, extras: &[String]) -> Result<(), Failure> {
        if self.columns.is_some() {
            return Ok(());
        }
        let (columns, sources) = self.plan.columns(extras, &self.label_names);
        let out = self
            .out
            .take()
            .ok_or_else(|| Failure::Other("the output was already taken".to_owned()))?;
        let sink: Box<dyn Sink + 'a> = match self.settings.output.value {
            OutputFormat::Json => Box::new(Json::array(out)),
            OutputFormat::Ndjson => Box::new(Json::lines(out)),
            OutputFormat::Csv => Box::new(Csv::new(out)),
            OutputFormat::Parquet => {
                let file = ParquetOut::new(&self.plan.group_by, &self.site)?;
                self.parquet = Some((file, out));
                self.columns = Some((columns, sources));
                return Ok(());
            }
            OutputFormat::Table | OutputFormat::Wide => {
                let table = Table::new(out, self.heading.clone(), self.width);
                match (self.plan.trend, self.plan.trend_column(&sources)) {
                    (Some(_), Some(column)) => {
                        self.trend = Some(TrendOutput {
                            table,
                            column,
                            trends: Vec::new(),
                        });
                        self.columns = Some((columns, sources));
                        return Ok(());
                    }
                    _ => Box::new(table),
                }
            }
        };
        self.sink = Some(sink);
        self.columns = Some((columns, sources));
        Ok(())
    }

    /// Note that the window of the target `labels` failed (`--keep-going`): a trend keeps
    /// its place and marks it; other outputs have nothing to print for it.
    pub(super) fn failed(&mut self, window: Window, partial: bool, labels: &[String]) {
        if self.plan.trend.is_none() {
            return;
        }
        if let Some(TrendOutput { trends, .. }) = &mut self.trend
            && let Some((_, trend)) = trends.iter_mut().find(|(l, _)| l == labels)
        {
            trend.push_failed(window, partial);
            return;
        }
        // No page of this target yet: its trend starts with this window.
        self.failed_first.push((labels.to_vec(), window, partial));
    }

    /// Print `page` (of a window shorter than the step when `partial`), its rows labelled
    /// with `labels`.
    pub(super) fn page(
        &mut self,
        mut page: Page<R>,
        partial: bool,
        labels: &[String],
    ) -> Result<(), Failure> {
        self.set_up(&extras_of(&page.rows))?;
        self.count(&page);
        let Some((columns, sources)) = &self.columns else {
            return Ok(());
        };
        self.check_page(&page, columns, sources);
        if let Some((file, out)) = &mut self.parquet {
            self.plan.rank(&mut page);
            file.page(&page, out)?;
            return Ok(());
        }
        // A trend ranks its groups over every window, at the end.
        if let (Some(TrendOutput { trends, .. }), Some(measure)) =
            (&mut self.trend, self.plan.trend)
        {
            let at = match trends.iter().position(|(l, _)| l == labels) {
                Some(at) => at,
                None => {
                    let mut trend = Trend::new(measure).per_second(self.plan.per_second);
                    for (_, window, partial) in self.failed_first.iter().filter(|f| f.0 == labels) {
                        trend.push_failed(*window, *partial);
                    }
                    trends.push((labels.to_vec(), trend));
                    trends.len() - 1
                }
            };
            trends[at].1.push(page.window, &page, partial);
            return Ok(());
        }
        self.plan.rank(&mut page);
        let duration = page.window.duration();
        let records = page
            .rows
            .iter()
            .map(|row| Record {
                labels: labels.to_vec(),
                group_bys: row.group_bys().clone(),
                values: values(row, sources, self.plan.per_second, duration),
                status: None,
                previous: None,
            })
            .collect();
        let block = Block {
            window: page.window,
            partial,
            truncated: page.truncated,
            limit: page.limit,
            records,
        };
        if let Some(sink) = &mut self.sink {
            sink.block(columns, &block)?;
        }
        Ok(())
    }

    /// Print the comparison of `now` with `then`, its rows labelled with `labels`.
    pub(super) fn comparison(
        &mut self,
        now: Page<R>,
        then: Page<R>,
        labels: &[String],
    ) -> Result<(), Failure> {
        self.set_up(&extras_of(now.rows.iter().chain(&then.rows)))?;
        self.count(&now);
        let Some((columns, sources)) = &self.columns else {
            return Ok(());
        };
        if then.truncated {
            warn(
                self.settings,
                &format!(
                    "the previous period's page was cut at {} rows: a group called new may \
                     only have been beyond it",
                    then.limit
                ),
            );
        }
        self.check_page(&now, columns, sources);
        let (window, truncated, limit) = (now.window, now.truncated, now.limit);
        let mut joined = compare(now, then);
        match &self.plan.ranking {
            Some(ranking) if ranking.delta => joined.sort_by_delta(ranking.measure, ranking.order),
            Some(ranking) if ranking.explicit => joined.sort_by(ranking.measure, ranking.order),
            // What changed most first: new and gone groups, then the largest changes.
            Some(ranking) => joined.sort_by_change(ranking.measure),
            None => {
                if let Ok(measure) = Measure::parse(default_measure(R::OPERATION)) {
                    joined.sort_by_change(measure);
                }
            }
        }
        if let Some(top) = self.plan.ranking.as_ref().and_then(|r| r.top) {
            joined.truncate(top);
        }
        let per_second = self.plan.per_second;
        let values_of = |row: &Option<R>, window: Window| {
            row.as_ref()
                .map(|row| values(row, sources, per_second, window.duration()))
        };
        let records = joined
            .rows
            .iter()
            .map(|c| Record {
                labels: labels.to_vec(),
                group_bys: c.group_bys.clone(),
                values: values_of(&c.current, joined.current)
                    .unwrap_or_else(|| vec![None; sources.len()]),
                status: Some(c.status),
                previous: values_of(&c.previous, joined.previous),
            })
            .collect();
        let block = Block {
            window,
            partial: false,
            truncated,
            limit,
            records,
        };
        if let Some(sink) = &mut self.sink {
            sink.block(columns, &block)?;
        }
        Ok(())
    }

    /// Say what the flags and the page together reveal: a ranking over a truncated page,
    /// a group-by key the API does not know, rows beyond the limit.
    fn check_page(&self, page: &Page<R>, columns: &Columns, sources: &[Source<R>]) {
        if self.plan.ranking.as_ref().is_some_and(|r| r.top.is_some()) && page.truncated {
            warn(
                self.settings,
                &format!(
                    "the API returned {} groups for {}, its maximum: the ranking covers only \
                     those, the top groups by the API's own order",
                    page.rows.len(),
                    page.window
                ),
            );
        }
        if page.over_limit() {
            warn(
                self.settings,
                &format!(
                    "the server returned {} rows for a limit of {}; all are shown",
                    page.rows.len(),
                    page.limit
                ),
            );
        }
        for key in &columns.group_keys {
            let unknown = !page.rows.is_empty()
                && page
                    .rows
                    .iter()
                    .all(|row| row.group_bys().values(key).all(|v| v == "N/A"));
            if unknown {
                warn(
                    self.settings,
                    &format!(
                        "every row has N/A for group-by field `{key}`: the API does not know \
                         it (`ddcnm fields` lists the fields)"
                    ),
                );
            }
        }
        let known: Vec<&str> = sources
            .iter()
            .filter_map(|s| match s {
                Source::Extra(name) => Some(name.as_str()),
                Source::Measure(_) => None,
            })
            .collect();
        let late: Vec<String> = extras_of(&page.rows)
            .into_iter()
            .filter(|name| {
                !known.contains(&name.as_str()) && self.told.borrow_mut().insert(name.clone())
            })
            .collect();
        // Parquet keeps them all, in `extra_metrics`.
        if !late.is_empty() && self.plan.chosen.is_none() && self.parquet.is_none() {
            warn(
                self.settings,
                &format!(
                    "metrics this version does not know appeared after the first window and \
                     are not in the columns: {} (-o json without --step shows them)",
                    for_terminal(&late.join(", "))
                ),
            );
        }
        let mut times = std::collections::HashMap::new();
        for row in &page.rows {
            *times.entry(row.group_bys()).or_insert(0usize) += 1;
        }
        let repeated = times.values().filter(|n| **n > 1).count();
        if repeated > 0
            && self
                .told
                .borrow_mut()
                .insert("\0repeated groups".to_owned())
        {
            warn(
                self.settings,
                &format!(
                    "the server sent {repeated} group{} more than once in {}: every row is \
                     printed, and rows are matched by group, so a comparison or trend of \
                     such a group may pair the wrong rows",
                    if repeated == 1 { "" } else { "s" },
                    page.window
                ),
            );
        }
        let others: Vec<String> = non_metrics_of(&page.rows)
            .into_iter()
            .filter(|(name, _)| self.told.borrow_mut().insert(name.clone()))
            .map(|(name, value)| format!("{} ({value})", for_terminal(&name)))
            .collect();
        if !others.is_empty() {
            warn(
                self.settings,
                &format!(
                    "the server sent attributes this version does not know and cannot show as \
                     metrics (not integers): {}; a newer ddcnm may know them, and the library \
                     keeps them in `extra_attributes`",
                    others.join(", ")
                ),
            );
        }
    }

    fn count(&mut self, page: &Page<R>) {
        self.pages += 1;
        self.truncated += usize::from(page.truncated);
        self.limit = self.limit.max(page.limit);
    }

    /// End the output: the closing of a JSON array, the trend table, the truncation warning
    /// of machine formats.
    pub(super) fn finish(mut self) -> Result<(), Failure> {
        // A query that printed nothing (a series with no window) still prints its header.
        self.set_up(&[])?;
        if let (Some(sink), Some((columns, _))) = (&mut self.sink, &self.columns) {
            sink.finish(columns)?;
        }
        if let Some((file, mut out)) = self.parquet.take() {
            file.finish(&mut out)?;
        }
        if let (
            Some(TrendOutput {
                table,
                column,
                trends,
            }),
            Some((columns, _)),
        ) = (&mut self.trend, &self.columns)
        {
            let ranking = self.plan.ranking.as_ref();
            for (_, trend) in trends.iter_mut() {
                trend.sort(ranking.map_or(datadog_cnm::analysis::Order::Descending, |r| r.order));
                if let Some(top) = ranking.and_then(|r| r.top) {
                    trend.truncate(top);
                }
            }
            // Every target has the same windows; the first one's describe them all.
            if let Some((_, first)) = trends.first() {
                let view = TrendView {
                    windows: first.windows(),
                    counts: (0..first.windows().len())
                        .map(|i| first.counts(i))
                        .collect(),
                    lines: trends
                        .iter()
                        .flat_map(|(labels, trend)| {
                            trend.groups().iter().map(move |group| TrendLine {
                                labels,
                                group_bys: &group.group_bys,
                                values: &group.values,
                                summary: trend.summary(group),
                            })
                        })
                        .collect(),
                };
                table.trend(columns, *column, &view)?;
            } else {
                table.trend(
                    columns,
                    *column,
                    &TrendView {
                        windows: &[],
                        counts: Vec::new(),
                        lines: Vec::new(),
                    },
                )?;
            }
        }
        let table = matches!(
            self.settings.output.value,
            OutputFormat::Table | OutputFormat::Wide
        );
        if !table && let Some(note) = truncation_note(self.truncated, self.pages, self.limit) {
            warn(self.settings, &note);
        }
        Ok(())
    }
}
