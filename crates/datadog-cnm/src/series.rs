//! Window series: one query over many adjacent windows, fetched concurrently, in order.
//!
//! The API has no pagination and aggregates over the whole window it is given; a series
//! asks for each step of a longer window separately, so a day becomes 24 hourly pages.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use datadog_cnm_raw::Row;
use futures::stream::{self, Stream, StreamExt};

use crate::error::{Error, Result};
use crate::page::Page;
use crate::query::Query;
use crate::window::Window;

/// Progress of a series, reported after each window completes (in completion order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Windows finished so far (successfully or not).
    pub done: usize,
    /// Windows in the series.
    pub total: usize,
    /// The window that just finished.
    pub window: Window,
    /// Whether it failed.
    pub failed: bool,
    /// Whether its page was cut at the limit.
    pub truncated: bool,
}

type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;
type KeepFn = Arc<dyn Fn(&Window) -> bool + Send + Sync>;

/// One query over consecutive windows; from [`Query::series`].
///
/// ```no_run
/// # async fn run(client: datadog_cnm::Client) -> Result<(), datadog_cnm::Error> {
/// use std::time::Duration;
/// use datadog_cnm::Window;
///
/// let hourly = client
///     .connections()
///     .group_by(["client_service"])
///     .series(Window::last(Duration::from_secs(86_400)), Duration::from_secs(3_600))
///     .concurrency(8)
///     .collect()
///     .await?;
/// for (window, page) in &hourly {
///     println!("{window}: {} rows{}", page.rows.len(), if page.truncated { " (truncated)" } else { "" });
/// }
/// # Ok(())
/// # }
/// ```
#[must_use = "a series does nothing until collected or streamed"]
pub struct Series<R: Row> {
    query: Query<R>,
    /// The whole window asked for.
    requested: Window,
    /// Its split, or why it cannot be split (reported when the series runs).
    windows: Result<Vec<Window>>,
    concurrency: usize,
    progress: Option<ProgressFn>,
    /// The whole series' time budget, from when it starts.
    deadline: Option<Duration>,
    /// The step, to split again when alignment changes.
    step: Duration,
    /// Whether the windows are aligned on the clock.
    aligned: bool,
    /// Which windows to fetch (all when `None`).
    keep: Option<KeepFn>,
}

impl<R: Row> Query<R> {
    /// Run this query over `window` split into `step`-long windows (the last one shorter
    /// if `step` does not divide it), fetched concurrently and returned in window order.
    /// Overrides any [`window`](Query::window) of the query.
    pub fn series(self, window: Window, step: Duration) -> Series<R> {
        Series::new(self, window, step)
    }
}

impl<R: Row> Series<R> {
    /// Windows fetched at once unless [`concurrency`](Self::concurrency) says otherwise.
    pub const DEFAULT_CONCURRENCY: usize = 4;

    fn new(query: Query<R>, window: Window, step: Duration) -> Self {
        Self {
            query,
            requested: window,
            windows: window.split(step),
            concurrency: Self::DEFAULT_CONCURRENCY,
            progress: None,
            deadline: None,
            step,
            aligned: false,
            keep: None,
        }
    }

    /// The windows of the requested window by the step, aligned or not, that `keep`
    /// (if set) keeps.
    fn split(&self) -> Result<Vec<Window>> {
        let mut windows = if self.aligned {
            self.requested.split_aligned(self.step)?
        } else {
            self.requested.split(self.step)?
        };
        if let Some(keep) = &self.keep {
            windows.retain(|window| keep(window));
        }
        Ok(windows)
    }

    /// Align the windows on the clock (boundaries on multiples of the step since the Unix
    /// epoch: hours on the hour) instead of starting at the window's start; the first and
    /// last windows may then be shorter than the step. See [`Window::split_aligned`].
    pub fn aligned(mut self, aligned: bool) -> Self {
        self.aligned = aligned;
        self.windows = self.split();
        self
    }

    /// Fetch only the windows `keep` returns `true` for (e.g. those a resumed export does
    /// not have yet); the others are left out of the series entirely, its progress
    /// included. Applies whatever the order of calls with [`aligned`](Self::aligned).
    pub fn retain(mut self, keep: impl Fn(&Window) -> bool + Send + Sync + 'static) -> Self {
        self.keep = Some(Arc::new(keep));
        self.windows = self.split();
        self
    }

    /// The step.
    pub fn step(&self) -> Duration {
        self.step
    }

    /// Give the whole series `budget` from when it starts: waits for the rate limit and
    /// retries stop at it, and a window that cannot be sent before it fails
    /// ([`Error::RateLimited`] or [`Error::OutOfTime`]). Without it, each request has its
    /// retry policy's budget and the series takes as long as its windows do.
    pub fn deadline(mut self, budget: Duration) -> Self {
        self.deadline = Some(budget);
        self
    }

    /// Fetch at most `n` windows at once (default 4; at least 1). All of them share the
    /// client's rate-limit state, so a 429 pauses every worker until the reset.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Call `f` after each window completes, e.g. to drive a progress bar.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// The windows this series will fetch (none when the window or step is invalid; the
    /// error is reported when the series runs).
    pub fn windows(&self) -> &[Window] {
        self.windows.as_deref().unwrap_or_default()
    }

    /// Check the series as running it now would — the window and step, every query
    /// parameter, and that the whole window has ended (give or take a minute) — without
    /// sending anything. Running a series makes the same check first, so a series that
    /// fails it sends nothing.
    pub fn check(&self) -> Result<()> {
        match &self.windows {
            Ok(_) => self.query.check_window(self.requested),
            // The same error again (errors are not `Clone`).
            Err(_) => self.split().map(drop),
        }
    }

    /// Keep going past failed windows: results become per-window.
    pub fn keep_going(self) -> KeepGoing<R> {
        KeepGoing { series: self }
    }

    /// Pages in window order; the first failure ends the stream with an
    /// [`Error::Series`] naming its window.
    pub fn stream(self) -> impl Stream<Item = Result<(Window, Page<R>)>> + Send {
        match self.windows {
            // An invalid window or step is the caller's error, not a window's.
            Err(error) => stream::once(std::future::ready(Err(error))).left_stream(),
            Ok(_) => self
                .attempts()
                .map(|(window, result)| match result {
                    Ok(page) => Ok((window, page)),
                    Err(error) => Err(Error::Series {
                        window,
                        source: Box::new(error),
                    }),
                })
                .right_stream(),
        }
    }

    /// Every page in window order, or the first failure (naming its window).
    pub async fn collect(self) -> Result<Vec<(Window, Page<R>)>> {
        let mut pages = Vec::new();
        let mut stream = std::pin::pin!(self.stream());
        while let Some(item) = stream.next().await {
            pages.push(item?);
        }
        Ok(pages)
    }

    /// Each window with its result, in window order, at most `concurrency` in flight.
    fn attempts(self) -> impl Stream<Item = (Window, Result<Page<R>>)> + Send {
        let Self {
            query,
            requested,
            windows,
            concurrency,
            progress,
            deadline,
            step: _,
            aligned: _,
            keep: _,
        } = self;
        let deadline =
            deadline.map(|budget| (query.client().executor().clock().now() + budget, budget));
        let windows = windows.and_then(|windows| {
            query.check_window(requested)?;
            Ok(windows)
        });
        let (windows, invalid) = match windows {
            Ok(windows) => (windows, None),
            Err(error) => (Vec::new(), Some(error)),
        };
        let total = windows.len();
        let done = Arc::new(AtomicUsize::new(0));
        let fetches = stream::iter(windows).map(move |window| {
            let (query, done, progress) = (query.clone(), done.clone(), progress.clone());
            async move {
                let result = query.send_window(window, deadline).await;
                if let Some(progress) = &progress {
                    progress(Progress {
                        done: done.fetch_add(1, Ordering::Relaxed) + 1,
                        total,
                        window,
                        failed: result.is_err(),
                        truncated: result.as_ref().is_ok_and(|page| page.truncated),
                    });
                }
                (window, result)
            }
        });
        // An invalid window or step is reported as a failure of the whole requested
        // window, before anything is sent.
        let invalid = stream::iter(invalid.map(|error| (requested, Err(error))));
        invalid.chain(fetches.buffered(concurrency))
    }
}

impl<R: Row> fmt::Debug for Series<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Series")
            .field("windows", &self.windows.as_ref().map(Vec::len))
            .field("concurrency", &self.concurrency)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

/// A [`Series`] that fetches every window even when some fail.
#[must_use = "a series does nothing until collected or streamed"]
#[derive(Debug)]
pub struct KeepGoing<R: Row> {
    series: Series<R>,
}

impl<R: Row> KeepGoing<R> {
    /// Each window with its own result, in window order.
    pub fn stream(self) -> impl Stream<Item = (Window, Result<Page<R>>)> + Send {
        self.series.attempts()
    }

    /// Every window with its own result, in window order. An invalid window, step or
    /// parameter is still an error of the whole series (see [`Series::check`]).
    pub async fn collect(self) -> Result<Vec<(Window, Result<Page<R>>)>> {
        self.series.check()?;
        let Series {
            query,
            requested,
            windows,
            concurrency,
            progress,
            deadline,
            step,
            aligned,
            keep,
        } = self.series;
        let series = Series {
            windows: Ok(windows?),
            query,
            requested,
            concurrency,
            progress,
            deadline,
            step,
            aligned,
            keep,
        };
        Ok(series.attempts().collect().await)
    }
}
