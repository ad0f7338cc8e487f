//! `connections` and `dns`: one window, a comparison of two periods, or a series with
//! `--step`, printed as it arrives.
//!
//! Flags are checked first (nothing is read or sent before); then the query runs and its
//! pages become records ([`crate::view`]) for the chosen format, window by window. A
//! series is streamed: each window is printed as soon as it and the windows before it
//! have finished, and dropped once printed.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use datadog_cnm::analysis::{Measure, Order, Status, Trend, compare};
use datadog_cnm::{Client, Connection, DnsRow, Operation, Page, Progress, Query, Row, Window};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Global, WaitNotice, warn};
use crate::cli::{OutputFormat, QueryArgs};
use crate::exit::Failure;
use crate::view::csv::Csv;
use crate::view::json::Json;
use crate::view::parquet::{ParquetOut, refuse_flags};
use crate::view::table::{Heading, Table, TrendLine, TrendView, Width};
use crate::view::{Block, Column, Columns, Record, Sink, truncation_note, value_of};

/// Which endpoint a command queries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `connections`.
    Connections,
    /// `dns`.
    Dns,
}

/// The group-by a command sends when `--group-by` is not given.
pub fn default_group_by(operation: Operation) -> &'static [&'static str] {
    match operation {
        Operation::GetAggregatedDns => &["network.dns_query"],
        _ => &["client_service", "server_service"],
    }
}

/// What rows are ranked and charted by unless told otherwise.
pub fn default_measure(operation: Operation) -> &'static str {
    match operation {
        Operation::GetAggregatedDns => "dns_total_requests",
        _ => "total_bytes",
    }
}

/// Run `connections` or `dns` with keys from `env`, writing to `out`; relative times
/// (`--last`, `--from -2h`) count back from `now`.
pub async fn run<W: Write>(
    endpoint: Endpoint,
    args: &QueryArgs,
    global: &Global,
    env: impl Fn(&str) -> Option<String>,
    out: W,
    now: SystemTime,
) -> Result<(), Failure> {
    match endpoint {
        Endpoint::Connections => run_rows::<Connection, W>(args, global, env, out, now).await,
        Endpoint::Dns => run_rows::<DnsRow, W>(args, global, env, out, now).await,
    }
}

/// How rows are ranked.
struct Ranking<R: Row> {
    measure: Measure<R>,
    order: Order,
    top: Option<usize>,
    /// Rank a comparison by the change.
    delta: bool,
}

/// Everything the flags ask for, checked before anything is read or sent.
pub(super) struct Plan<R: Row> {
    pub(super) window: Window,
    pub(super) step: Option<Duration>,
    pub(super) aligned: bool,
    pub(super) group_by: Vec<String>,
    ranking: Option<Ranking<R>>,
    compare: Option<Duration>,
    /// The trend table's measure (a series printed as a table).
    trend: Option<Measure<R>>,
    /// `--columns`.
    chosen: Option<Vec<Measure<R>>>,
    per_second: bool,
    pub(super) keep_going: bool,
    pub(super) deadline: Option<Duration>,
    pub(super) concurrency: Option<usize>,
    /// The limit sent: `--limit`, or the API's maximum to rank or compare everything.
    pub(super) limit: Option<u32>,
    /// The output is a table (which leads with the ranking's or the default measure).
    table: bool,
}

fn measure<R: Row>(name: &str, flag: &str) -> Result<Measure<R>, Failure> {
    Measure::parse(name)
        .map_err(|e| Failure::Usage(format!("{flag}: {e} (`ddcnm fields` describes each)")))
}

impl<R: Row> Plan<R> {
    pub(super) fn new(args: &QueryArgs, global: &Global, now: SystemTime) -> Result<Self, Failure> {
        let window = window_of(args, now)?;
        let step = args.step.map(|step| step.0);
        let group_by = if args.group_by.is_empty() {
            default_group_by(R::OPERATION)
                .iter()
                .map(|g| (*g).to_owned())
                .collect()
        } else {
            trimmed(&args.group_by)
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
            }),
        };
        let table = matches!(global.output, OutputFormat::Table | OutputFormat::Wide);
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
        Ok(Self {
            window,
            step,
            // Aligned by default for steps of a minute or more.
            aligned: !args.no_align
                && (args.align || step.is_some_and(|s| s >= Duration::from_secs(60))),
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
                args.limit
            },
            table,
        })
    }

    /// The query of `R` with the plan's parameters.
    pub(super) fn query(&self, client: &Client, args: &QueryArgs) -> Query<R> {
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
    fn columns(&self, extras: &[String]) -> (Columns, Vec<Source<R>>) {
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
            labels: Vec::new(),
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
    fn trend_column(&self, sources: &[Source<R>]) -> Option<usize> {
        let trend = self.trend?;
        sources
            .iter()
            .position(|s| matches!(s, Source::Measure(m) if *m == trend))
    }

    /// Rank a page as asked.
    pub(super) fn rank(&self, page: &mut Page<R>) {
        if let Some(ranking) = &self.ranking {
            match ranking.top {
                Some(n) => page.top(n, ranking.measure, ranking.order),
                None => page.sort_by(ranking.measure, ranking.order),
            }
        }
    }

    /// `ranked by tcp_retransmits (top 10)`, for table headings.
    fn ranking_words(&self) -> Option<String> {
        if self.trend.is_some() {
            // A trend is ordered by the total of its measure; say only what was kept.
            let ranking = self.ranking.as_ref()?;
            let order = match ranking.order {
                Order::Ascending => "smallest total first",
                Order::Descending => "largest total first",
            };
            return Some(match ranking.top {
                Some(top) => format!("top {top} by total"),
                None => order.to_owned(),
            });
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
enum Source<R: Row> {
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

    fn value(
        &self,
        row: &R,
        per_second: bool,
        duration: Duration,
    ) -> Option<datadog_cnm::analysis::Number> {
        match self {
            Self::Measure(measure) => value_of(*measure, row, per_second, duration),
            Self::Extra(name) => row
                .extra_metrics()
                .into_iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, v)| v)
                .map(datadog_cnm::analysis::Number::Int),
        }
    }
}

/// The values of `row` for `sources`.
fn values<R: Row>(
    row: &R,
    sources: &[Source<R>],
    per_second: bool,
    duration: Duration,
) -> Vec<Option<datadog_cnm::analysis::Number>> {
    sources
        .iter()
        .map(|s| s.value(row, per_second, duration))
        .collect()
}

/// Metrics the rows carry that the generated table does not know, in name order.
fn extras_of<'a, R: Row + 'a>(rows: impl IntoIterator<Item = &'a R>) -> Vec<String> {
    let mut names: Vec<String> = rows
        .into_iter()
        .flat_map(|row| row.extra_metrics().into_iter().map(|(n, _)| n.to_owned()))
        .collect();
    names.sort();
    names.dedup();
    names
}

async fn run_rows<R: Row, W: Write>(
    args: &QueryArgs,
    global: &Global,
    env: impl Fn(&str) -> Option<String>,
    out: W,
    now: SystemTime,
) -> Result<(), Failure> {
    let plan = Plan::<R>::new(args, global, now)?;
    if global.output == OutputFormat::Parquet {
        refuse_flags(
            &[
                ("--compare", args.compare.is_some()),
                ("--rate", args.rate),
                ("--columns", !args.columns.is_empty()),
            ],
            "-o parquet",
        )
        .map_err(Failure::Usage)?;
        // Group-by fields whose columns would clash are refused before anything is sent.
        datadog_cnm::arrow::PageSchema::<R>::new(plan.group_by.iter().cloned())?;
    }
    warn_about_flags(args, &plan, global);
    let progress = Arc::new(Counts::default());
    let width = match global.output {
        OutputFormat::Wide => Width::Wide,
        _ => global.table_width(&env),
    };
    let client = global.client(env, plan.deadline, wait_notice(global, progress.clone()))?;
    tracing::debug!(operation = %R::OPERATION, window = %plan.window, step = ?plan.step, "querying");
    let query = plan.query(&client, args);
    let heading = Heading {
        endpoint: match R::OPERATION {
            Operation::GetAggregatedDns => "dns".to_owned(),
            _ => "connections".to_owned(),
        },
        target: global.context().target,
        ranking: plan.ranking_words(),
    };
    let mut printer = Printer::<R, W> {
        plan: &plan,
        global,
        out: Some(out),
        heading,
        width,
        sink: None,
        parquet: None,
        site: client.site().domain().to_owned(),
        trend: None,
        columns: None,
        pages: 0,
        truncated: 0,
        limit: 0,
    };
    match (plan.step, plan.compare) {
        (Some(step), _) => series(&plan, query, step, progress, &mut printer).await?,
        (None, Some(back)) => {
            let previous_window = plan.window.shifted_back(back);
            let (now, then) = futures::join!(
                query.clone().window(plan.window).send(),
                query.window(previous_window).send()
            );
            printer.comparison(now?, then?)?;
        }
        (None, None) => {
            let page = query.window(plan.window).send().await?;
            printer.page(page, false)?;
        }
    }
    printer.finish()
}

/// Windows finished and in all, for the rate-limit notice.
#[derive(Debug, Default)]
struct Counts {
    done: AtomicUsize,
    total: AtomicUsize,
}

/// The client's rate-limit hook: a one-line notice on stderr when a wait is long enough
/// to look like a hang (once per wait, not per request), unless `--quiet`.
fn wait_notice(global: &Global, counts: Arc<Counts>) -> Option<WaitNotice> {
    if !global.chatty() {
        return None;
    }
    let last = std::sync::Mutex::new(None::<std::time::Instant>);
    Some(Box::new(move |wait: &datadog_cnm::RateLimitWait| {
        if wait.wait < Duration::from_secs(2) {
            return;
        }
        let until = std::time::Instant::now() + wait.wait;
        let mut last = last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Requests waiting for the same reset report it once.
        if last.is_some_and(|seen| until.saturating_duration_since(seen) < Duration::from_secs(1)) {
            return;
        }
        *last = Some(until);
        let limit = wait.rate_limit.as_ref();
        let name = limit
            .and_then(|r| r.name.clone())
            .map_or_else(String::new, |n| format!(" `{n}`"));
        let per = match limit.and_then(|r| Some((r.limit?, r.period?))) {
            Some((n, period)) => format!(" ({n} requests per {}s)", period.as_secs()),
            None => String::new(),
        };
        let total = counts.total.load(Ordering::Relaxed);
        let progress = if total > 0 {
            format!(
                "; {} of {total} windows done",
                counts.done.load(Ordering::Relaxed)
            )
        } else {
            String::new()
        };
        eprintln!(
            "waiting {}s for the API's rate limit{name}{per}{progress}",
            wait.wait.as_secs_f64().ceil()
        );
    }))
}

/// Run the series, printing each window as soon as it and those before it are done.
async fn series<'a, R: Row, W: Write + 'a>(
    plan: &Plan<R>,
    query: Query<R>,
    step: Duration,
    counts: Arc<Counts>,
    printer: &mut Printer<'a, R, W>,
) -> Result<(), Failure> {
    let mut series = query.series(plan.window, step).aligned(plan.aligned);
    if let Some(concurrency) = plan.concurrency {
        series = series.concurrency(concurrency);
    }
    if let Some(deadline) = plan.deadline {
        series = series.deadline(deadline);
    }
    let windows = series.windows().len();
    counts.total.store(windows, Ordering::Relaxed);
    let bar = (printer.global.progress_bar() && windows > 1).then(|| progress_bar(windows));
    let (bar_seen, counted) = (bar.clone(), counts.clone());
    series = series.on_progress(move |progress: Progress| {
        counted.done.store(progress.done, Ordering::Relaxed);
        if let Some(bar) = &bar_seen {
            bar.set_position(progress.done as u64);
        }
    });
    if plan.trend.is_some() && printer.global.progress_bar() && windows > 1 {
        eprintln!(
            "note: the trend table needs every window; it prints when the last one arrives \
             (--per-window prints each window as it finishes)"
        );
    }
    let mut failed: Vec<(Window, datadog_cnm::Error)> = Vec::new();
    let result = if plan.keep_going {
        let mut stream = std::pin::pin!(series.keep_going().stream());
        let mut result = Ok(());
        while let Some((window, page)) = stream.next().await {
            match page {
                Ok(page) => {
                    if let Err(e) = printer.page(page, window.duration() < step) {
                        result = Err(e);
                        break;
                    }
                }
                Err(error) => {
                    if let Some(bar) = &bar {
                        bar.suspend(|| eprintln!("window {window} failed: {error}"));
                    } else {
                        eprintln!("window {window} failed: {error}");
                    }
                    failed.push((window, error));
                }
            }
        }
        result
    } else {
        let mut stream = std::pin::pin!(series.stream());
        let mut result = Ok(());
        while let Some(item) = stream.next().await {
            match item {
                Ok((window, page)) => {
                    if let Err(e) = printer.page(page, window.duration() < step) {
                        result = Err(e);
                        break;
                    }
                }
                Err(error) => {
                    result = Err(Failure::from(error));
                    break;
                }
            }
        }
        result
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    result?;
    if !failed.is_empty() {
        return Err(Failure::Partial {
            failed: failed.len(),
            total: windows,
            first: failed.into_iter().next().map(|(_, e)| e),
        });
    }
    Ok(())
}

/// Turns pages into records and hands them to the sink of the chosen format.
struct Printer<'a, R: Row, W: Write> {
    plan: &'a Plan<R>,
    global: &'a Global,
    /// The output, until the sink takes it.
    out: Option<W>,
    heading: Heading,
    /// How wide tables may be.
    width: Width,
    sink: Option<Box<dyn Sink + 'a>>,
    /// `-o parquet`: pages go to the file as they are, not as records.
    parquet: Option<(ParquetOut<R>, W)>,
    /// The site the rows come from (the Parquet `site` column).
    site: String,
    /// A trend table instead of a sink: the table, the trend, and its value column.
    trend: Option<(Table<W>, Trend<R>, usize)>,
    /// Decided at the first page (metrics unknown to this version are found there).
    columns: Option<(Columns, Vec<Source<R>>)>,
    /// Pages printed, those cut at the limit, and the largest limit (for the truncation
    /// warning of machine formats; tables say it themselves).
    pages: usize,
    truncated: usize,
    limit: u32,
}

impl<'a, R: Row, W: Write + 'a> Printer<'a, R, W> {
    /// The columns and the sink, set up at the first page.
    fn set_up(&mut self, extras: &[String]) -> Result<(), Failure> {
        if self.columns.is_some() {
            return Ok(());
        }
        let (columns, sources) = self.plan.columns(extras);
        let out = self
            .out
            .take()
            .ok_or_else(|| Failure::Other("the output was already taken".to_owned()))?;
        let sink: Box<dyn Sink + 'a> = match self.global.output {
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
                    (Some(measure), Some(column)) => {
                        let trend = Trend::new(measure).per_second(self.plan.per_second);
                        self.trend = Some((table, trend, column));
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

    fn page(&mut self, mut page: Page<R>, partial: bool) -> Result<(), Failure> {
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
        if let Some((_, trend, _)) = &mut self.trend {
            trend.push(page.window, &page, partial);
            return Ok(());
        }
        self.plan.rank(&mut page);
        let duration = page.window.duration();
        let records = page
            .rows
            .iter()
            .map(|row| Record {
                labels: Vec::new(),
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

    fn comparison(&mut self, now: Page<R>, then: Page<R>) -> Result<(), Failure> {
        self.set_up(&extras_of(now.rows.iter().chain(&then.rows)))?;
        self.count(&now);
        let Some((columns, sources)) = &self.columns else {
            return Ok(());
        };
        if then.truncated {
            warn(
                self.global,
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
            Some(ranking) => joined.sort_by(ranking.measure, ranking.order),
            // New and gone groups first: they are what changed most.
            None => joined.rows.sort_by_key(|c| match c.status {
                Status::New => 0,
                Status::Gone => 1,
                Status::Both => 2,
            }),
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
                labels: Vec::new(),
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
                self.global,
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
                self.global,
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
                    self.global,
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
            .filter(|name| !known.contains(&name.as_str()))
            .collect();
        // Parquet keeps them all, in `extra_metrics`.
        if !late.is_empty() && self.plan.chosen.is_none() && self.parquet.is_none() {
            warn(
                self.global,
                &format!(
                    "metrics this version does not know appeared after the first window and \
                     are not in the columns: {} (-o json without --step shows them)",
                    late.join(", ")
                ),
            );
        }
    }

    fn count(&mut self, page: &Page<R>) {
        self.pages += 1;
        self.truncated += usize::from(page.truncated);
        self.limit = self.limit.max(page.limit);
    }

    fn finish(mut self) -> Result<(), Failure> {
        // A query that printed nothing (a series with no window) still prints its header.
        self.set_up(&[])?;
        if let (Some(sink), Some((columns, _))) = (&mut self.sink, &self.columns) {
            sink.finish(columns)?;
        }
        if let Some((file, mut out)) = self.parquet.take() {
            file.finish(&mut out)?;
        }
        if let (Some((table, trend, column)), Some((columns, _))) = (&mut self.trend, &self.columns)
        {
            let ranking = self.plan.ranking.as_ref();
            trend.sort(ranking.map_or(Order::Descending, |r| r.order));
            if let Some(top) = ranking.and_then(|r| r.top) {
                trend.truncate(top);
            }
            let labels: Vec<String> = Vec::new();
            let view = TrendView {
                windows: trend.windows(),
                counts: (0..trend.windows().len())
                    .map(|i| trend.counts(i))
                    .collect(),
                lines: trend
                    .groups()
                    .iter()
                    .map(|group| TrendLine {
                        labels: &labels,
                        group_bys: &group.group_bys,
                        values: &group.values,
                        summary: trend.summary(group),
                    })
                    .collect(),
            };
            table.trend(columns, *column, &view)?;
        }
        let table = matches!(self.global.output, OutputFormat::Table | OutputFormat::Wide);
        if !table && let Some(note) = truncation_note(self.truncated, self.pages, self.limit) {
            warn(self.global, &note);
        }
        Ok(())
    }
}

/// Warnings about flags that do not combine as one might think.
fn warn_about_flags<R: Row>(args: &QueryArgs, plan: &Plan<R>, global: &Global) {
    if !args.tags.is_empty() && args.query.is_some() {
        warn(
            global,
            "both --tags and --query are sent, and the API lets --query take precedence: the \
             tags are ignored; write them into the query instead (e.g. `env:prod AND …`)",
        );
    }
    if let Some(step) = plan.step
        && step >= plan.window.duration()
    {
        warn(
            global,
            &format!(
                "--step {}s is not shorter than the {}s window: the series has one window",
                step.as_secs(),
                plan.window.duration().as_secs()
            ),
        );
    }
}

/// `--group-by a, b` means `a` and `b`.
fn trimmed(items: &[String]) -> Vec<String> {
    items.iter().map(|item| item.trim().to_owned()).collect()
}

/// The window of `--from`/`--to`/`--last` (default: the last 15 minutes), all relative
/// times resolved against the same `now`.
fn window_of(args: &QueryArgs, now: SystemTime) -> Result<Window, Failure> {
    let to = args.to.map_or(now, |to| to.resolve(now));
    let window = match (args.from, args.last) {
        (Some(from), _) => Window::between(from.resolve(now), to)?,
        (None, Some(last)) => checked(Window::ending_at(to, last.0))?,
        (None, None) => checked(Window::ending_at(to, Query::<Connection>::DEFAULT_WINDOW))?,
    };
    Ok(window)
}

/// A window that `ending_at` clamped at 1970 may be empty.
fn checked(window: Window) -> Result<Window, Failure> {
    Ok(Window::between(window.from, window.to)?)
}

/// A bar on stderr: `[=====>    ] 3/6 windows 00:02`.
fn progress_bar(windows: usize) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(windows as u64), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{bar:30} {pos}/{len} windows {elapsed} (eta {eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{Dur, TimeSpec};
    use std::time::UNIX_EPOCH;

    fn args() -> QueryArgs {
        QueryArgs {
            from: None,
            to: None,
            last: None,
            group_by: Vec::new(),
            tags: Vec::new(),
            query: None,
            limit: None,
            step: None,
            concurrency: None,
            align: false,
            no_align: false,
            sort_by: None,
            top: None,
            compare: None,
            trend: None,
            per_window: false,
            rate: false,
            columns: Vec::new(),
            keep_going: false,
            deadline: None,
        }
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn windows_from_every_flag_combination() {
        let now = UNIX_EPOCH + secs(1_800_000_000);
        let window = |args: &QueryArgs| window_of(args, now).ok();
        assert_eq!(
            window(&args()),
            Some(Window::ending_at(now, Query::<Connection>::DEFAULT_WINDOW))
        );
        let last = QueryArgs {
            last: Some(Dur(secs(3600))),
            to: Some(TimeSpec::Ago(secs(600))),
            ..args()
        };
        assert_eq!(
            window(&last),
            Some(Window::ending_at(now - secs(600), secs(3600)))
        );
        let from = QueryArgs {
            from: Some(TimeSpec::Ago(secs(7200))),
            ..args()
        };
        assert_eq!(window(&from), Window::between(now - secs(7200), now).ok());
        let inverted = QueryArgs {
            from: Some(TimeSpec::Now),
            to: Some(TimeSpec::Ago(secs(60))),
            ..args()
        };
        assert!(matches!(
            window_of(&inverted, now),
            Err(Failure::Client(datadog_cnm::Error::InvalidInput { .. }))
        ));
    }
}
