//! `connections` and `dns`: one query, or a series with `--step`.

use std::io::Write;
use std::time::{Duration, SystemTime};

use datadog_cnm::{Connection, DnsRow, Page, Progress, Query, Row, Window};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Global, warn};
use crate::cli::QueryArgs;
use crate::exit::Failure;
use crate::output::Out;
use crate::report::{Asked, Report};

/// Which endpoint a command queries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `connections`.
    Connections,
    /// `dns`.
    Dns,
}

/// What to fetch: one window, or its split into `step`s.
struct Plan {
    window: Window,
    step: Option<Duration>,
    concurrency: Option<usize>,
    progress: bool,
}

/// The query of `R` with the shared flags applied.
fn query<R: Row>(client: &datadog_cnm::Client, args: &QueryArgs) -> Query<R> {
    let mut query = client
        .query::<R>()
        .group_by(trimmed(&args.group_by))
        .tags(trimmed(&args.tags));
    if let Some(q) = &args.query {
        query = query.query(q.as_str());
    }
    if let Some(limit) = args.limit {
        query = query.limit(limit);
    }
    query
}

/// Run `connections` or `dns` with keys from `env`.
pub async fn run<W: Write>(
    endpoint: Endpoint,
    args: &QueryArgs,
    global: &Global,
    env: impl Fn(&str) -> Option<String>,
    out: &mut Out<W>,
) -> Result<(), Failure> {
    let plan = Plan {
        window: window_of(args, SystemTime::now())?,
        step: args.step.map(|step| step.0),
        concurrency: args.concurrency.map(|n| n as usize),
        progress: global.progress_bar(),
    };
    let client = global.client(env)?;
    tracing::debug!(?endpoint, window = %plan.window, step = ?plan.step, "querying");
    let asked = Asked {
        group_by: trimmed(&args.group_by),
        limit: args.limit,
        series: plan.step.is_some(),
    };
    let report = match endpoint {
        Endpoint::Connections => Report::new(
            &asked,
            &fetch(query::<Connection>(&client, args), &plan).await?,
        ),
        Endpoint::Dns => Report::new(&asked, &fetch(query::<DnsRow>(&client, args), &plan).await?),
    };
    if let Some(note) = out.report(&report)? {
        warn(global, &note);
    }
    Ok(())
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

/// Fetch one page, or every page of the series, in window order.
async fn fetch<R: Row>(
    query: Query<R>,
    plan: &Plan,
) -> Result<Vec<(Window, Page<R>)>, datadog_cnm::Error> {
    let Some(step) = plan.step else {
        let page = query.window(plan.window).send().await?;
        return Ok(vec![(plan.window, page)]);
    };
    let mut series = query.series(plan.window, step);
    if let Some(concurrency) = plan.concurrency {
        series = series.concurrency(concurrency);
    }
    let windows = series.windows().len();
    tracing::debug!(windows, "series");
    let bar = (plan.progress && windows > 1).then(|| progress_bar(windows));
    if let Some(bar) = &bar {
        let bar = bar.clone();
        series = series.on_progress(move |progress: Progress| {
            bar.set_position(progress.done as u64);
        });
    }
    let pages = series.collect().await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    pages
}

/// A bar on stderr: `[=====>    ] 3/6 windows 00:02`.
fn progress_bar(windows: usize) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(windows as u64), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{bar:30} {pos}/{len} windows {elapsed}")
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
