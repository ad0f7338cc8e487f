//! `connections` and `dns`: one window, a comparison of two periods, or a series with
//! `--step`, for one target or several (`--profile a,b`, `--site x,y`), printed as it
//! arrives.
//!
//! Flags are checked first ([`plan`]: nothing is read or sent before); then each target
//! runs the query and its pages become records for the chosen format ([`printer`]). A
//! series is streamed: each target's windows are fetched by a task of their own, and
//! window *k* of every target is printed, in target order, as soon as it and the windows
//! before it are in; a printed page is dropped. One target failing never hides the
//! others' rows: the command then exits "partial".

mod plan;
mod printer;

use std::io::Write;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use datadog_cnm::{Connection, DnsRow, Error, Operation, Page, Query, Row, Window};
use futures::StreamExt;
use futures::future::join_all;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc;

use self::plan::warn_about_flags;
pub(in crate::commands) use self::plan::{Plan, non_metrics_of};
use self::printer::Printer;
use crate::cli::{OutputFormat, QueryArgs};
use crate::exit::Failure;
use crate::settings::{Settings, Target, WaitNotice};
use crate::view::parquet::refuse_flags;
use crate::view::table::Heading;

/// Which endpoint a command queries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `connections`.
    Connections,
    /// `dns`.
    Dns,
}

/// Run `connections` or `dns` with `settings`, writing to `out`; relative times (`--last`,
/// `--from -2h`) count back from `now`.
pub async fn run<W: Write>(
    endpoint: Endpoint,
    args: &QueryArgs,
    settings: &Settings,
    out: W,
    now: SystemTime,
) -> Result<(), Failure> {
    match endpoint {
        Endpoint::Connections => run_rows::<Connection, W>(args, settings, out, now).await,
        Endpoint::Dns => run_rows::<DnsRow, W>(args, settings, out, now).await,
    }
}

/// One target being queried: its labels (when there are several) and its query.
struct Run<R: Row> {
    /// What its rows are labelled with: `[profile, site]` or `[site]`; empty for one target.
    labels: Vec<String>,
    /// How it is named in messages: `profile prod`, `site datadoghq.eu`.
    name: String,
    /// Its client's site domain (or the base URL's host).
    site: String,
    query: Query<R>,
}

/// What went wrong, and how much went right.
#[derive(Default)]
struct Outcome {
    /// Pages printed.
    printed: usize,
    /// Failed parts: windows of a series, or targets of a single query.
    failed: usize,
    /// Parts in all.
    total: usize,
    /// What a part is: `window`, `profile` or `site`.
    unit: &'static str,
    /// The first failure.
    first: Option<Failure>,
}

impl Outcome {
    fn fail(&mut self, parts: usize, failure: Failure) {
        self.failed += parts;
        self.first.get_or_insert(failure);
    }
}

async fn run_rows<R: Row, W: Write>(
    args: &QueryArgs,
    settings: &Settings,
    out: W,
    now: SystemTime,
) -> Result<(), Failure> {
    let plan = Plan::<R>::new(args, settings, now)?;
    let targets = settings.targets()?;
    if settings.output.value == OutputFormat::Parquet {
        refuse_flags(
            &[
                ("--compare", args.compare.is_some()),
                ("--rate", args.rate),
                ("--columns", !args.columns.is_empty()),
            ],
            "-o parquet",
        )
        .map_err(Failure::Usage)?;
        if targets.len() > 1 {
            return Err(Failure::Usage(
                "-o parquet writes one organisation's rows, and several profiles or sites are \
                 configured; write one file per --profile or --site"
                    .to_owned(),
            ));
        }
        // Group-by fields whose columns would clash are refused before anything is sent.
        datadog_cnm::arrow::PageSchema::<R>::new(plan.group_by.iter().cloned())?;
    }
    if let Some(step) = plan.step
        && step > plan.window.duration()
    {
        return Err(Failure::Usage(format!(
            "--step {} is longer than the {} window: its only window would be partial, and \
             partial windows are left out of trends; give a step at most as long as the \
             window (e.g. --step {}), or drop --step",
            crate::format::span(step),
            crate::format::span(plan.window.duration()),
            crate::format::span(plan.window.duration() / 4)
        )));
    }
    warn_about_flags(args, &plan, settings);
    let several = targets.len() > 1;
    let by_profile = targets.iter().any(|t| t.profile.is_some());
    let unit = match (plan.step, by_profile) {
        (Some(_), _) => "window",
        (None, true) => "profile",
        (None, false) => "site",
    };
    let counts = Arc::new(Counts::default());
    let mut outcome = Outcome {
        unit,
        ..Outcome::default()
    };
    // A client per target; with several, one whose keys cannot be read is skipped.
    let mut runs: Vec<Run<R>> = Vec::new();
    for target in targets {
        let name = match &target.profile {
            Some(profile) => format!("profile {profile}"),
            None => format!("site {}", target.name()),
        };
        match settings.client(target, plan.deadline, wait_notice(settings, counts.clone())) {
            Ok(client) => runs.push(Run {
                labels: labels(target, several, by_profile),
                name,
                site: client.site().domain().to_owned(),
                query: plan.query(&client, args),
            }),
            Err(failure) if several => {
                eprintln!("error: {name}: {}", failure.sentence());
                let parts = plan.windows.len().max(1);
                outcome.fail(parts, failure);
            }
            Err(failure) => return Err(failure),
        }
    }
    tracing::debug!(operation = %R::OPERATION, window = %plan.window, step = ?plan.step, targets = targets.len(), "querying");
    let heading = Heading {
        endpoint: match R::OPERATION {
            Operation::GetAggregatedDns => "dns".to_owned(),
            _ => "connections".to_owned(),
        },
        target: match (&settings.target_label, several) {
            (Some(label), _) => label.clone(),
            (None, false) => settings.context().target,
            (None, true) => format!("{} targets", targets.len()),
        },
        ranking: plan.ranking_words(),
    };
    let label_names: Vec<String> = match (several, by_profile) {
        (false, _) => Vec::new(),
        (true, true) => vec!["profile".to_owned(), "site".to_owned()],
        (true, false) => vec!["site".to_owned()],
    };
    // The Parquet `site` column: the first client's site (-o parquet has one target).
    let site = runs.first().map(|run| run.site.clone()).unwrap_or_default();
    let mut printer = Printer::new(&plan, settings, out, heading, label_names, site);
    let result = match (plan.step, plan.compare) {
        (Some(step), _) => series(&plan, runs, step, &counts, &mut printer, &mut outcome).await,
        (None, Some(back)) => {
            outcome.total = targets.len();
            let previous = plan.window.shifted_back(back);
            let pairs = join_all(runs.iter().map(|run| {
                let query = run.query.clone();
                async move {
                    let (now, then) = futures::join!(
                        query.clone().window(plan.window).send(),
                        query.window(previous).send()
                    );
                    Ok::<_, Error>((now?, then?))
                }
            }))
            .await;
            let mut result = Ok(());
            for (run, pair) in runs.iter().zip(pairs) {
                match pair {
                    Ok((now, then)) => {
                        outcome.printed += 1;
                        if let Err(e) = printer.comparison(now, then, &run.labels) {
                            result = Err(e);
                            break;
                        }
                    }
                    Err(error) => target_failed(run, error, several, &mut outcome)?,
                }
            }
            result
        }
        (None, None) => {
            outcome.total = targets.len();
            let pages = join_all(
                runs.iter()
                    .map(|run| run.query.clone().window(plan.window).send()),
            )
            .await;
            let mut result = Ok(());
            for (run, page) in runs.iter().zip(pages) {
                match page {
                    Ok(page) => {
                        outcome.printed += 1;
                        if let Err(e) = printer.page(page, false, &run.labels) {
                            result = Err(e);
                            break;
                        }
                    }
                    Err(error) => target_failed(run, error, several, &mut outcome)?,
                }
            }
            result
        }
    };
    match result {
        Ok(()) => {}
        // The reader went away, or writing failed: nothing more can be written.
        Err(failure @ Failure::Io(_)) => return Err(failure),
        // A failure after some windows were printed: end what was printed (the JSON
        // array's `]`, the trend table of the windows that came), then say what failed.
        Err(failure) if outcome.printed > 0 => {
            printer.finish().ok();
            return Err(failure);
        }
        Err(failure) => return Err(failure),
    }
    printer.finish()?;
    outcome.finish()
}

impl Outcome {
    /// Ok, or partial when something failed and something else was printed, or the first
    /// failure when nothing was.
    fn finish(self) -> Result<(), Failure> {
        match self.first {
            None => Ok(()),
            Some(first) if self.printed == 0 => Err(first),
            Some(first) => Err(Failure::Partial {
                failed: self.failed,
                total: self.total,
                unit: self.unit,
                first: Some(Box::new(first)),
            }),
        }
    }
}

/// A target's single query failed: with several targets, name it and go on; with one,
/// that is the command's failure.
fn target_failed<R: Row>(
    run: &Run<R>,
    error: Error,
    several: bool,
    outcome: &mut Outcome,
) -> Result<(), Failure> {
    if !several {
        return Err(Failure::from(error));
    }
    eprintln!("error: {}: {error}", run.name);
    outcome.fail(1, Failure::from(error));
    Ok(())
}

/// `[profile, site]` or `[site]` for a target among several; nothing for one.
fn labels(target: &Target, several: bool, by_profile: bool) -> Vec<String> {
    match (several, by_profile) {
        (false, _) => Vec::new(),
        (true, true) => vec![target.profile.clone().unwrap_or_default(), target.name()],
        (true, false) => vec![target.name()],
    }
}

/// A series window's page, or why there is none.
type Item<R> = (Window, Result<Page<R>, Error>);

/// Run every target's series, printing window *k* of every target (in target order) as
/// soon as it is in.
async fn series<'a, R: Row, W: Write + 'a>(
    plan: &Plan<R>,
    runs: Vec<Run<R>>,
    step: Duration,
    counts: &Counts,
    printer: &mut Printer<'a, R, W>,
    outcome: &mut Outcome,
) -> Result<(), Failure> {
    let windows = &plan.windows;
    outcome.total += windows.len() * runs.len();
    counts
        .total
        .store(windows.len() * runs.len(), Ordering::Relaxed);
    let several = runs.len() > 1 || outcome.failed > 0;
    let bar = (printer.settings().progress_bar() && windows.len() * runs.len() > 1)
        .then(|| progress_bar(windows.len() * runs.len()));
    if let Some(bar) = &bar {
        *counts.bar.lock().unwrap_or_else(PoisonError::into_inner) = Some(bar.clone());
    }
    if plan.trend.is_some() && printer.settings().progress_bar() && windows.len() > 1 {
        eprintln!(
            "note: the trend table needs every window; it prints when the last one arrives \
             (--per-window prints each window as it finishes)"
        );
    }
    // Each target's windows come from a task of its own, a few windows ahead at most.
    let mut receivers: Vec<Option<mpsc::Receiver<Item<R>>>> = runs
        .iter()
        .map(|run| {
            let (sender, receiver) = mpsc::channel::<Item<R>>(1);
            let mut series = run
                .query
                .clone()
                .series(plan.window, step)
                .aligned(plan.aligned);
            if let Some(concurrency) = plan.concurrency {
                series = series.concurrency(concurrency);
            }
            if let Some(deadline) = plan.deadline {
                series = series.deadline(deadline);
            }
            let keep_going = plan.keep_going;
            tokio::spawn(async move {
                if keep_going {
                    let mut stream = pin!(series.keep_going().stream());
                    while let Some(item) = stream.next().await {
                        if sender.send(item).await.is_err() {
                            return;
                        }
                    }
                } else {
                    let mut stream = pin!(series.stream());
                    while let Some(item) = stream.next().await {
                        let item = match item {
                            Ok((window, page)) => (window, Ok(page)),
                            Err(error) => (failed_window(&error), Err(error)),
                        };
                        if sender.send(item).await.is_err() {
                            return;
                        }
                    }
                }
            });
            Some(receiver)
        })
        .collect();
    let mut result = Ok(());
    'windows: for index in 0..windows.len() {
        for (run, receiver) in runs.iter().zip(receivers.iter_mut()) {
            let Some(open) = receiver else { continue };
            let Some((window, page)) = open.recv().await else {
                // The task ended early: it already sent the failure that stopped it.
                *receiver = None;
                continue;
            };
            counts.done.fetch_add(1, Ordering::Relaxed);
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            match page {
                Ok(page) => {
                    outcome.printed += 1;
                    let partial = window.duration() < step;
                    if let Err(e) = printer.page(page, partial, &run.labels) {
                        result = Err(e);
                        break 'windows;
                    }
                }
                Err(error) if plan.keep_going => {
                    printer.failed(window, window.duration() < step, &run.labels);
                    let place = if several {
                        format!("{}: ", run.name)
                    } else {
                        String::new()
                    };
                    say(&bar, &format!("{place}window {window} failed: {error}"));
                    outcome.fail(1, Failure::from(error));
                }
                Err(error) if several => {
                    // Without --keep-going a target stops at its first failure; the others
                    // go on.
                    say(&bar, &format!("error: {}: {error}", run.name));
                    outcome.fail(windows.len() - index, Failure::from(error));
                    *receiver = None;
                }
                Err(error) => {
                    result = Err(Failure::from(error));
                    break 'windows;
                }
            }
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    *counts.bar.lock().unwrap_or_else(PoisonError::into_inner) = None;
    result
}

/// The window a series error names (every series error does).
fn failed_window(error: &Error) -> Window {
    match error {
        Error::Series { window, .. } => *window,
        _ => Window {
            from: SystemTime::UNIX_EPOCH,
            to: SystemTime::UNIX_EPOCH,
        },
    }
}

/// Print a line on stderr without tearing the progress bar.
fn say(bar: &Option<ProgressBar>, line: &str) {
    match bar {
        Some(bar) => bar.suspend(|| eprintln!("{line}")),
        None => eprintln!("{line}"),
    }
}

/// Windows finished and in all, and the progress bar, for the rate-limit notice.
#[derive(Debug, Default)]
pub(super) struct Counts {
    done: AtomicUsize,
    total: AtomicUsize,
    bar: Mutex<Option<ProgressBar>>,
}

/// The client's rate-limit hook: a one-line notice on stderr when a wait is long enough
/// to look like a hang (once per wait, not per request), unless `--quiet`.
pub(super) fn wait_notice(settings: &Settings, counts: Arc<Counts>) -> Option<WaitNotice> {
    if !settings.chatty() {
        return None;
    }
    let last = Mutex::new(None::<Instant>);
    Some(Box::new(move |wait: &datadog_cnm::RateLimitWait| {
        if wait.wait < Duration::from_secs(2) {
            return;
        }
        let until = Instant::now() + wait.wait;
        let mut last = last.lock().unwrap_or_else(PoisonError::into_inner);
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
        let line = format!(
            "waiting {}s for the API's rate limit{name}{per}{progress}",
            wait.wait.as_secs_f64().ceil()
        );
        let bar = counts
            .bar
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        say(&bar, &line);
    }))
}

/// A bar on stderr: `[=====>    ] 3/6 windows 00:02 (eta 00:04)`.
fn progress_bar(windows: usize) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(windows as u64), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{bar:30} {pos}/{len} windows {elapsed} (eta {eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}
