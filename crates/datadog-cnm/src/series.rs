//! Window series: one query over many adjacent windows, fetched concurrently, in order.
//!
//! The API has no pagination and aggregates over the whole window it is given; a series
//! asks for each step of a longer window separately, so a day becomes 24 hourly pages.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::stream::{self, Stream, StreamExt};

use crate::error::{Error, Result};
use crate::fetch;
use crate::model::{Connections, Dns};
use crate::query::{ConnectionsQuery, DnsQuery, Endpoint};
use crate::window::Window;

/// Windows fetched at once unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// A query that can be repeated over windows: [`ConnectionsQuery`] or [`DnsQuery`].
pub trait SeriesQuery: Clone + Send + Sync + 'static + sealed::Sealed {
    /// The page type of one window.
    type Page: Send + 'static;

    /// Fetch the page of `window` (validation included).
    fn fetch_window(&self, window: Window) -> impl Future<Output = Result<Self::Page>> + Send;

    /// Whether a page was cut at the limit.
    fn is_truncated(page: &Self::Page) -> bool;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::query::ConnectionsQuery {}
    impl Sealed for crate::query::DnsQuery {}
}

impl SeriesQuery for ConnectionsQuery {
    type Page = Connections;

    async fn fetch_window(&self, window: Window) -> Result<Connections> {
        let mut params = self.params.clone();
        params.window = Some(window);
        let resolved = params.resolve(Endpoint::Connections, std::time::SystemTime::now())?;
        fetch::connections(&self.client, &resolved).await
    }

    fn is_truncated(page: &Connections) -> bool {
        page.truncated
    }
}

impl SeriesQuery for DnsQuery {
    type Page = Dns;

    async fn fetch_window(&self, window: Window) -> Result<Dns> {
        let mut params = self.params.clone();
        params.window = Some(window);
        let resolved = params.resolve(Endpoint::Dns, std::time::SystemTime::now())?;
        fetch::dns(&self.client, &resolved).await
    }

    fn is_truncated(page: &Dns) -> bool {
        page.truncated
    }
}

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

/// One query over consecutive windows; from `series()` on a query builder.
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
pub struct Series<Q: SeriesQuery> {
    query: Q,
    /// The whole window asked for.
    requested: Window,
    /// Its split, or why it cannot be split (reported when the series runs).
    windows: Result<Vec<Window>>,
    concurrency: usize,
    progress: Option<ProgressFn>,
}

impl<Q: SeriesQuery> Series<Q> {
    pub(crate) fn new(query: Q, window: Window, step: Duration) -> Self {
        Self {
            query,
            requested: window,
            windows: window.split(step),
            concurrency: DEFAULT_CONCURRENCY,
            progress: None,
        }
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

    /// Keep going past failed windows: results become per-window.
    pub fn keep_going(self) -> KeepGoing<Q> {
        KeepGoing { series: self }
    }

    /// Pages in window order; the first failure ends the stream with an
    /// [`Error::Series`] naming its window.
    pub fn stream(self) -> impl Stream<Item = Result<(Window, Q::Page)>> + Send {
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
    pub async fn collect(self) -> Result<Vec<(Window, Q::Page)>> {
        let mut pages = Vec::new();
        let mut stream = std::pin::pin!(self.stream());
        while let Some(item) = stream.next().await {
            pages.push(item?);
        }
        Ok(pages)
    }

    /// Each window with its result, in window order, at most `concurrency` in flight.
    fn attempts(self) -> impl Stream<Item = (Window, Result<Q::Page>)> + Send {
        let Self {
            query,
            requested,
            windows,
            concurrency,
            progress,
        } = self;
        let (windows, invalid) = match windows {
            Ok(windows) => (windows, None),
            Err(error) => (Vec::new(), Some(error)),
        };
        let total = windows.len();
        let done = Arc::new(AtomicUsize::new(0));
        let fetches = stream::iter(windows).map(move |window| {
            let (query, done, progress) = (query.clone(), done.clone(), progress.clone());
            async move {
                let result = query.fetch_window(window).await;
                if let Some(progress) = &progress {
                    progress(Progress {
                        done: done.fetch_add(1, Ordering::Relaxed) + 1,
                        total,
                        window,
                        failed: result.is_err(),
                        truncated: result.as_ref().is_ok_and(Q::is_truncated),
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

impl<Q: SeriesQuery> fmt::Debug for Series<Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Series")
            .field("windows", &self.windows.as_ref().map(Vec::len))
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

/// A [`Series`] that fetches every window even when some fail.
#[must_use = "a series does nothing until collected or streamed"]
#[derive(Debug)]
pub struct KeepGoing<Q: SeriesQuery> {
    series: Series<Q>,
}

impl<Q: SeriesQuery> KeepGoing<Q> {
    /// Each window with its own result, in window order.
    pub fn stream(self) -> impl Stream<Item = (Window, Result<Q::Page>)> + Send {
        self.series.attempts()
    }

    /// Every window with its own result, in window order. An invalid window or step is
    /// still an error of the whole series.
    pub async fn collect(self) -> Result<Vec<(Window, Result<Q::Page>)>> {
        let Series {
            query,
            requested,
            windows,
            concurrency,
            progress,
        } = self.series;
        let series = Series {
            windows: Ok(windows?),
            query,
            requested,
            concurrency,
            progress,
        };
        Ok(series.attempts().collect().await)
    }
}

macro_rules! series_method {
    ($query:ty) => {
        impl $query {
            /// Run this query over `window` split into `step`-long windows (the last
            /// one shorter if `step` does not divide it), fetched concurrently and
            /// returned in window order. Overrides any `.window(…)` of the query.
            pub fn series(self, window: Window, step: Duration) -> Series<$query> {
                Series::new(self, window, step)
            }
        }
    };
}

series_method!(ConnectionsQuery);
series_method!(DnsQuery);

/// Windows whose pages were cut at the limit: raise the limit or narrow the groups there.
pub fn truncated_windows<Q: SeriesQuery>(pages: &[(Window, Q::Page)]) -> Vec<Window> {
    pages
        .iter()
        .filter(|(_, page)| Q::is_truncated(page))
        .map(|(window, _)| *window)
        .collect()
}
