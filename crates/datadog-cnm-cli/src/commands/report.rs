//! `report`: connections and DNS over a window — with `--step` also window by window, with
//! `--compare` also a window earlier — written as one self-contained HTML file.
//!
//! Flags are checked first (nothing is sent before); then the whole-window pages (and
//! the earlier ones) are fetched, then the series, each window folded into its trends as
//! it arrives and dropped. [`crate::report`] turns what was kept into the document, which
//! is written once, at the end.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use datadog_cnm::analysis::{Measure, Order, Trend, compare};
use datadog_cnm::{Client, Connection, DnsRow, Page, Query, Row, Window};
use futures::StreamExt;

use super::query::{Counts, wait_notice};
use super::warn;
use crate::cli::ReportArgs;
use crate::exit::Failure;
use crate::format;
use crate::report::changes;
use crate::report::collect::{self, Facts, Groups, Rank, SeriesWindows};
use crate::report::edges::{self, MapMeasures};
use crate::report::html;
use crate::report::model::{Part, Report, Table};
use crate::settings::Settings;

/// Connections are grouped by these unless `--group-by` (as `ddcnm connections`): the
/// map's two ends.
const CONNECTIONS_BY: [&str; 2] = ["client_service", "server_service"];
/// DNS is grouped by these unless `--dns-group-by` (as `ddcnm dns`).
const DNS_BY: [&str; 1] = ["network.dns_query"];

/// Lines per trend chart.
const CHART_LINES: usize = 8;
/// The most windows a report charts: beyond, the lines would be denser than the pixels.
const MAX_WINDOWS: usize = 500;
/// Rows per top table unless `--top` says otherwise.
const DEFAULT_TOP: usize = 10;

/// Where the document goes.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Destination {
    Stdout,
    File(PathBuf),
}

/// The measures of one endpoint the report charts and ranks by.
struct Measures<R> {
    /// The headline measure (total bytes, DNS requests): totals-ranked chart, first table.
    volume: Measure<R>,
    /// The trouble measure (retransmits, DNS failures): peak-ranked chart, second table.
    trouble: Measure<R>,
}

impl<R: Row> Measures<R> {
    fn new(volume: &str, trouble: &str) -> Result<Self, Failure> {
        Ok(Self {
            volume: measure::<R>(volume, "the report")?,
            trouble: measure::<R>(trouble, "the report")?,
        })
    }
}

/// The metric or derived metric `name` of `R`, or a usage error naming `flag`.
fn measure<R: Row>(name: &str, flag: &str) -> Result<Measure<R>, Failure> {
    Measure::parse(name).map_err(|e| Failure::Usage(format!("{flag}: {e}")))
}

/// `--tags a, b` means `a` and `b`.
fn trimmed(items: &[String]) -> Vec<String> {
    items.iter().map(|item| item.trim().to_owned()).collect()
}

/// Everything the flags ask for, checked before anything is sent.
struct Plan {
    window: Window,
    /// `--step`, whether aligned, and the series' windows.
    series: Option<(Duration, bool, Vec<Window>)>,
    /// The window of `--compare`.
    previous: Option<Window>,
    group_by: Vec<String>,
    dns_group_by: Vec<String>,
    tags: Vec<String>,
    query: Option<String>,
    limit: Option<u32>,
    /// What the map's edges and the first table are ranked by.
    rank: Measure<Connection>,
    order: Order,
    top: usize,
    map_edges: usize,
    concurrency: Option<usize>,
    keep_going: bool,
    deadline: Option<Duration>,
    destination: Destination,
    connections: Measures<Connection>,
    packets: Measure<Connection>,
    dns: Measures<DnsRow>,
}

/// `--html FILE`: `-` is stdout; a file must be in a directory that exists.
fn destination(path: &Path) -> Result<Destination, Failure> {
    if path.as_os_str() == "-" {
        return Ok(Destination::Stdout);
    }
    if path.is_dir() {
        return Err(Failure::Usage(format!(
            "--html {} is a directory; name a file in it, e.g. --html {}",
            path.display(),
            path.join("report.html").display()
        )));
    }
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() && !parent.is_dir() => {
            Err(Failure::Usage(format!(
                "--html {}: the directory {} does not exist; create it first or write the \
                 report elsewhere",
                path.display(),
                parent.display()
            )))
        }
        _ => Ok(Destination::File(path.to_owned())),
    }
}

/// Group-by fields as the API takes them, checked here so that no request is sent when
/// one of the two endpoints would refuse its fields.
fn fields(flag: &str, given: &[String], default: &[&str]) -> Result<Vec<String>, Failure> {
    let fields: Vec<String> = if given.is_empty() {
        default.iter().map(|g| (*g).to_owned()).collect()
    } else {
        trimmed(given)
    };
    if fields.iter().any(String::is_empty) {
        return Err(Failure::Usage(format!(
            "{flag} has an empty field; e.g. {flag} {}",
            default.join(",")
        )));
    }
    let max = Query::<Connection>::MAX_GROUP_BY;
    if fields.len() > max {
        return Err(Failure::Usage(format!(
            "{flag} takes at most {max} fields (got {})",
            fields.len()
        )));
    }
    Ok(fields)
}

impl Plan {
    fn new(args: &ReportArgs, now: SystemTime) -> Result<Self, Failure> {
        let window = args.window.resolve(now)?;
        let destination = destination(&args.html)?;
        let group_by = fields("--group-by", &args.group_by, &CONNECTIONS_BY)?;
        let dns_group_by = fields("--dns-group-by", &args.dns_group_by, &DNS_BY)?;
        if args.query.as_deref().is_some_and(|q| q.trim().is_empty()) {
            return Err(Failure::Usage(
                "--query is empty; give a search query, e.g. --query 'env:prod'".to_owned(),
            ));
        }
        let tags = trimmed(&args.tags);
        if tags.iter().any(String::is_empty) {
            return Err(Failure::Usage(
                "--tags has an empty tag; e.g. --tags env:prod,client_team:web".to_owned(),
            ));
        }
        let connections = Measures::new("total_bytes", "tcp_retransmits")?;
        let (rank, order) = match &args.sort_by {
            Some(spec) if spec.delta => {
                return Err(Failure::Usage(format!(
                    "--sort-by delta:{} ranks a comparison; the report's \"what changed\" \
                     section already ranks by change: use --sort-by {} with --compare",
                    spec.name, spec.name
                )));
            }
            Some(spec) => (
                measure::<Connection>(&spec.name, "--sort-by")?,
                if spec.ascending {
                    Order::Ascending
                } else {
                    Order::Descending
                },
            ),
            None => (connections.volume, Order::Descending),
        };
        let aligned = !args.no_align
            && (args.align || args.step.is_some_and(|s| s.0 >= Duration::from_secs(60)));
        let series = match args.step {
            Some(step) => {
                let windows = if aligned {
                    window.split_aligned(step.0)?
                } else {
                    window.split(step.0)?
                };
                if windows.len() > MAX_WINDOWS {
                    return Err(Failure::Usage(format!(
                        "--step {} splits the {} window into {} windows; a report charts at \
                         most {MAX_WINDOWS}: use a longer --step (e.g. --step {})",
                        format::span(step.0),
                        format::span(window.duration()),
                        format::count(windows.len() as i64),
                        format::span(suggested_step(window.duration()))
                    )));
                }
                Some((step.0, aligned, windows))
            }
            None => None,
        };
        Ok(Self {
            window,
            series,
            previous: args.compare.map(|back| window.shifted_back(back.0)),
            group_by,
            dns_group_by,
            tags,
            query: args.query.clone(),
            limit: args.limit,
            rank,
            order,
            top: args.top.map_or(DEFAULT_TOP, |n| n as usize),
            map_edges: args.map_edges as usize,
            concurrency: args.concurrency.map(|n| n as usize),
            keep_going: args.keep_going,
            deadline: args.deadline.map(|d| d.0),
            destination,
            connections,
            packets: measure::<Connection>("packets_sent_by_client", "the report")?,
            dns: Measures::new("dns_total_requests", "dns_failures")?,
        })
    }

    /// The query of `R` with the plan's parameters: every group the API gives (up to its
    /// maximum) unless `--limit`, since rankings need them all.
    fn query<R: Row>(&self, client: &Client, group_by: &[String]) -> Query<R> {
        let mut query = client
            .query::<R>()
            .group_by(group_by.to_vec())
            .tags(self.tags.clone())
            .limit(self.limit.unwrap_or(Query::<R>::MAX_LIMIT));
        if let Some(q) = &self.query {
            query = query.query(q.as_str());
        }
        query
    }
}

/// A step that gives at most [`MAX_WINDOWS`] windows of `span`, rounded up to a
/// readable length.
fn suggested_step(span: Duration) -> Duration {
    let least = span.as_secs().div_ceil(MAX_WINDOWS as u64);
    [
        60,
        300,
        900,
        1800,
        3600,
        3 * 3600,
        6 * 3600,
        86_400,
        7 * 86_400,
    ]
    .into_iter()
    .find(|&s| s >= least)
    .map_or(Duration::from_secs(least), Duration::from_secs)
}

/// A whole-window page and, with `--compare`, the same query's page a while before.
async fn pages<R: Row>(
    query: Query<R>,
    window: Window,
    previous: Option<Window>,
) -> Result<(Page<R>, Option<Page<R>>), Failure> {
    match previous {
        Some(previous) => {
            let (now, then) = futures::join!(
                query.clone().window(window).send(),
                query.window(previous).send()
            );
            Ok((now?, Some(then?)))
        }
        None => Ok((query.window(window).send().await?, None)),
    }
}

/// What a series left: its trends, and the windows that failed (`--keep-going`).
struct Fetched<R: Row> {
    trends: [Trend<R>; 2],
    failed: Vec<Window>,
    first_error: Option<datadog_cnm::Error>,
}

/// The series of `query`, each page folded into the trends of `measures` (per second) as
/// it arrives.
async fn series<R: Row>(
    plan: &Plan,
    query: Query<R>,
    measures: &Measures<R>,
    endpoint: &str,
) -> Result<Option<Fetched<R>>, Failure> {
    let Some((step, aligned, _)) = &plan.series else {
        return Ok(None);
    };
    let mut series = query.series(plan.window, *step).aligned(*aligned);
    if let Some(concurrency) = plan.concurrency {
        series = series.concurrency(concurrency);
    }
    if let Some(deadline) = plan.deadline {
        series = series.deadline(deadline);
    }
    let mut fetched = Fetched {
        trends: [
            Trend::new(measures.volume).per_second(true),
            Trend::new(measures.trouble).per_second(true),
        ],
        failed: Vec::new(),
        first_error: None,
    };
    let mut push = |window: Window, page: &Page<R>| {
        for trend in &mut fetched.trends {
            trend.push(window, page, window.duration() < *step);
        }
    };
    if plan.keep_going {
        let mut stream = std::pin::pin!(series.keep_going().stream());
        let mut failed = Vec::new();
        while let Some((window, page)) = stream.next().await {
            match page {
                Ok(page) => push(window, &page),
                Err(error) => {
                    eprintln!("{endpoint} window {window} failed: {error}");
                    failed.push((window, error));
                }
            }
        }
        fetched.failed = failed.iter().map(|(w, _)| *w).collect();
        fetched.first_error = failed.into_iter().next().map(|(_, e)| e);
    } else {
        let mut stream = std::pin::pin!(series.stream());
        while let Some(item) = stream.next().await {
            let (window, page) = item?;
            push(window, &page);
        }
    }
    Ok(Some(fetched))
}

/// Run `report` with `settings`; the document goes to `--html FILE`, or to `out` for
/// `--html -`. Relative times count back from `now`, which the header also shows.
pub async fn run<W: Write>(
    args: &ReportArgs,
    settings: &Settings,
    mut out: W,
    now: SystemTime,
) -> Result<(), Failure> {
    if settings.out.is_some() {
        return Err(Failure::Usage(
            "report writes its document to --html FILE (or --html - for stdout); --out FILE is \
             for the other commands' results"
                .to_owned(),
        ));
    }
    let plan = Plan::new(args, now)?;
    let target = match settings.targets()? {
        [one] => one,
        several => {
            return Err(Failure::Usage(format!(
                "a report covers one organisation, and {} targets are configured; give one \
                 --profile or --site",
                several.len()
            )));
        }
    };
    if !plan.tags.is_empty() && plan.query.is_some() {
        warn(
            settings,
            "both --tags and --query are sent, and the API lets --query take precedence: the \
             tags are ignored; write them into the query instead (e.g. `env:prod AND …`)",
        );
    }
    if !Groups::new(&plan.group_by).has_ends() {
        warn(
            settings,
            "the service map needs a client-side and a server-side group-by key (e.g. \
             --group-by client_service,server_service); the report will say so instead",
        );
    }
    let client = settings.client(
        target,
        plan.deadline,
        wait_notice(settings, Arc::new(Counts::default())),
    )?;
    tracing::debug!(window = %plan.window, step = ?plan.series.as_ref().map(|s| s.0), "report");
    let connections = plan.query::<Connection>(&client, &plan.group_by);
    let dns = plan.query::<DnsRow>(&client, &plan.dns_group_by);
    let (conn_now, conn_then) = pages(connections.clone(), plan.window, plan.previous).await?;
    let (dns_now, dns_then) = pages(dns.clone(), plan.window, plan.previous).await?;
    let conn_series = series(&plan, connections, &plan.connections, "connections").await?;
    let dns_series = series(&plan, dns, &plan.dns, "dns").await?;

    let target = settings.context().target;
    let report = assemble(
        &plan,
        &target,
        now,
        Pages {
            now: conn_now,
            then: conn_then,
            series: conn_series.as_ref(),
        },
        Pages {
            now: dns_now,
            then: dns_then,
            series: dns_series.as_ref(),
        },
    );
    for note in &report.notes {
        warn(settings, note);
    }
    let document = html::render(&report);
    match &plan.destination {
        Destination::Stdout => out.write_all(document.as_bytes())?,
        Destination::File(path) => {
            std::fs::write(path, &document).map_err(|e| {
                Failure::Other(format!(
                    "could not write the report to {}: {e}",
                    path.display()
                ))
            })?;
            if settings.chatty() {
                eprintln!(
                    "wrote {} ({})",
                    path.display(),
                    format::bytes(document.len() as i64)
                );
            }
        }
    }
    let failed: Vec<&datadog_cnm::Error> = [
        conn_series.as_ref().and_then(|s| s.first_error.as_ref()),
        dns_series.as_ref().and_then(|s| s.first_error.as_ref()),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !failed.is_empty() {
        let failed_windows = conn_series.as_ref().map_or(0, |s| s.failed.len())
            + dns_series.as_ref().map_or(0, |s| s.failed.len());
        let windows = plan.series.as_ref().map_or(0, |s| s.2.len());
        return Err(Failure::Partial {
            failed: failed_windows,
            total: 2 * windows,
            unit: "window",
            first: conn_series
                .and_then(|s| s.first_error)
                .or_else(|| dns_series.and_then(|s| s.first_error))
                .map(|error| Box::new(Failure::from(error))),
        });
    }
    Ok(())
}

/// What one endpoint brought back.
struct Pages<'a, R: Row> {
    now: Page<R>,
    then: Option<Page<R>>,
    series: Option<&'a Fetched<R>>,
}

/// A note when a page came back with as many rows as the limit.
fn truncation(endpoint: &str, page: &Page<impl Row>) -> Option<String> {
    page.truncated.then(|| {
        format!(
            "The {endpoint} page for the whole window came back with {} rows, the limit: \
             groups beyond it are in no ranking, table or map{}.",
            format::count(page.rows.len() as i64),
            if page.limit < Query::<Connection>::MAX_LIMIT {
                " (raise --limit, or narrow the query)"
            } else {
                " (narrow the query or the window)"
            }
        )
    })
}

/// The limit, when a page was cut at it.
fn limit_if_cut<R: Row>(page: &Page<R>) -> Option<u32> {
    page.truncated.then_some(page.limit)
}

/// The report's data from what came back.
fn assemble(
    plan: &Plan,
    target: &str,
    now: SystemTime,
    connections: Pages<'_, Connection>,
    dns: Pages<'_, DnsRow>,
) -> Report {
    let groups = Groups::new(&plan.group_by);
    let dns_groups = Groups::new(&plan.dns_group_by);
    let mut notes: Vec<String> = [
        truncation("connections", &connections.now),
        truncation("DNS", &dns.now),
    ]
    .into_iter()
    .flatten()
    .collect();
    for (endpoint, failed) in [
        ("connections", connections.series.map(|s| &s.failed)),
        ("DNS", dns.series.map(|s| &s.failed)),
    ] {
        if let Some(failed) = failed.filter(|f| !f.is_empty()) {
            notes.push(format!(
                "{} {endpoint} window{} failed and {} marked in the charts: {}.",
                failed.len(),
                if failed.len() == 1 { "" } else { "s" },
                if failed.len() == 1 { "is" } else { "are" },
                failed
                    .iter()
                    .map(format::window)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    let map = edges::service_map(
        &connections.now.rows,
        &groups,
        &MapMeasures {
            rank: plan.rank,
            order: plan.order,
            bytes: plan.connections.volume,
            retransmits: plan.connections.trouble,
            packets: plan.packets,
        },
        plan.map_edges,
    );
    let trends = match (&plan.series, connections.series, dns.series) {
        (Some((step, _, windows)), Some(conn), Some(dns_trends)) => {
            let conn_windows = SeriesWindows {
                all: windows,
                step: *step,
                failed: &conn.failed,
            };
            let dns_windows = SeriesWindows {
                failed: &dns_trends.failed,
                ..conn_windows
            };
            Part::Shown(vec![
                collect::chart(
                    "Bytes per second",
                    &conn.trends[0],
                    conn_windows,
                    &groups,
                    Rank::Total,
                    CHART_LINES,
                ),
                collect::chart(
                    "TCP retransmits per second",
                    &conn.trends[1],
                    conn_windows,
                    &groups,
                    Rank::Peak,
                    CHART_LINES,
                ),
                collect::chart(
                    "DNS requests per second",
                    &dns_trends.trends[0],
                    dns_windows,
                    &dns_groups,
                    Rank::Total,
                    CHART_LINES,
                ),
                collect::chart(
                    "DNS failures per second",
                    &dns_trends.trends[1],
                    dns_windows,
                    &dns_groups,
                    Rank::Peak,
                    CHART_LINES,
                ),
            ])
        }
        _ => Part::Missing(
            "Trend charts need --step, e.g. --step 1h: the window is then also queried \
             window by window."
                .to_owned(),
        ),
    };
    let mut tables = vec![collect::top_table(
        &format!("Connections by {}", plan.rank.label()),
        &connections.now.rows,
        &groups,
        plan.rank,
        plan.order,
        plan.top,
        limit_if_cut(&connections.now),
    )];
    if plan.rank != plan.connections.trouble {
        tables.push(collect::top_table(
            &format!("Connections by {}", plan.connections.trouble.label()),
            &connections.now.rows,
            &groups,
            plan.connections.trouble,
            Order::Descending,
            plan.top,
            limit_if_cut(&connections.now),
        ));
    }
    for lead in [plan.dns.volume, plan.dns.trouble] {
        tables.push(collect::top_table(
            &format!("DNS by {}", lead.label()),
            &dns.now.rows,
            &dns_groups,
            lead,
            Order::Descending,
            plan.top,
            limit_if_cut(&dns.now),
        ));
    }
    let prefixed = |prefix: &str, tables: Vec<Table>| -> Vec<Table> {
        tables
            .into_iter()
            .map(|mut t| {
                t.title = format!("{prefix} · {}", t.title);
                t
            })
            .collect()
    };
    let changes = match (connections.then, dns.then) {
        (Some(conn_then), Some(dns_then)) => {
            let conn = compare(connections.now, conn_then);
            let names = compare(dns.now, dns_then);
            let noun = if groups.has_ends() { "pair" } else { "group" };
            let dns_noun = if plan.dns_group_by == ["network.dns_query"] {
                "name"
            } else {
                "group"
            };
            let mut tables = prefixed(
                "Connections",
                changes::changes(
                    noun,
                    &conn,
                    &groups,
                    plan.connections.volume,
                    &[plan.connections.trouble],
                    plan.top,
                ),
            );
            tables.extend(prefixed(
                "DNS",
                changes::changes(
                    dns_noun,
                    &names,
                    &dns_groups,
                    plan.dns.volume,
                    &[plan.dns.trouble],
                    plan.top,
                ),
            ));
            Some(tables)
        }
        _ => None,
    };
    let facts = collect::facts(&Facts {
        window: Some(plan.window),
        step: plan
            .series
            .as_ref()
            .map(|(step, aligned, _)| (*step, *aligned)),
        previous: plan.previous,
        group_by: plan.group_by.clone(),
        dns_group_by: plan.dns_group_by.clone(),
        query: plan.query.clone(),
        tags: plan.tags.clone(),
        target: target.to_owned(),
        generated: Some(now),
    });
    Report {
        title: format!("Network report · {} UTC", format::window(&plan.window)),
        facts,
        notes,
        map,
        trends,
        tables,
        changes,
        footer: format!(
            "Written by ddcnm {} from {target}. One file: it loads nothing and runs no script.",
            env!("CARGO_PKG_VERSION")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;
    use std::time::UNIX_EPOCH;

    fn plan(extra: &[&str]) -> Result<Plan, Failure> {
        let html = if extra.contains(&"--html") {
            &[][..]
        } else {
            &["--html", "-"][..]
        };
        let cli = Cli::try_parse_from(["ddcnm", "report"].iter().chain(html).chain(extra).copied())
            .map_err(|e| Failure::Other(e.to_string()))?;
        let Command::Report(args) = cli.command else {
            return Err(Failure::Other("not a report".to_owned()));
        };
        Plan::new(&args, UNIX_EPOCH + Duration::from_secs(1_800_001_200))
    }

    fn usage(extra: &[&str]) -> String {
        match plan(extra) {
            Err(Failure::Usage(message)) => message,
            Err(other) => panic!("{extra:?}: {other:?}"),
            Ok(_) => panic!("{extra:?} was accepted"),
        }
    }

    #[test]
    fn defaults_are_the_map_and_names() {
        let plan = plan(&["--last", "6h", "--step", "1h"]).unwrap();
        assert_eq!(plan.group_by, ["client_service", "server_service"]);
        assert_eq!(plan.dns_group_by, ["network.dns_query"]);
        assert_eq!(plan.rank.name(), "total_bytes");
        assert_eq!((plan.top, plan.map_edges), (10, 60));
        assert_eq!(plan.destination, Destination::Stdout);
        let (_, aligned, windows) = plan.series.unwrap();
        assert!(aligned);
        assert_eq!(windows.len(), 7, "aligned: a partial window at each end");
    }

    #[test]
    fn bad_flags_are_refused_with_the_fix() {
        assert!(usage(&["--sort-by", "nope"]).contains("--sort-by"));
        assert!(usage(&["--sort-by", "delta:total_bytes"]).contains("use --sort-by total_bytes"));
        assert!(usage(&["--last", "7d", "--step", "1m"]).contains("e.g. --step 30m"));
        assert!(usage(&["--group-by", "a,,b"]).contains("--group-by has an empty field"));
        assert!(usage(&["--query", " "]).contains("--query is empty"));
        let Err(Failure::Usage(message)) = plan(&["--html", "no-such-dir-5f1d/r.html"]) else {
            panic!("a file in a missing directory was accepted");
        };
        assert!(message.contains("does not exist"), "{message}");
    }

    /// A series' trends from `pages`, window `failed` left out as failed.
    fn fetched<R: Row>(
        measures: &Measures<R>,
        pages: &[Page<R>],
        failed: Option<usize>,
    ) -> Fetched<R> {
        let mut fetched = Fetched {
            trends: [
                Trend::new(measures.volume).per_second(true),
                Trend::new(measures.trouble).per_second(true),
            ],
            failed: Vec::new(),
            first_error: None,
        };
        for (i, page) in pages.iter().enumerate() {
            if failed == Some(i) {
                fetched.failed.push(page.window);
                continue;
            }
            for trend in &mut fetched.trends {
                trend.push(
                    page.window,
                    page,
                    page.window.duration() < Duration::from_secs(3600),
                );
            }
        }
        fetched
    }

    /// The whole document of the shared fixture: a series with a storm and an NXDOMAIN
    /// surge, one failed DNS window, a comparison with a new and a gone pair.
    #[test]
    fn the_whole_document_of_a_fixed_input() {
        use crate::report::fixtures::{
            EVIL, assert_balanced, assert_self_contained, conn, connections, names, page,
            series_pages, whole,
        };
        let plan = plan(&[
            "--from",
            "2026-11-30T10:30:00Z",
            "--to",
            "2026-11-30T13:45:00Z",
            "--step",
            "1h",
            "--compare",
            "1d",
            "--map-edges",
            "5",
        ])
        .unwrap();
        let (conn_pages, dns_pages) = series_pages();
        let conn_fetched = fetched(&plan.connections, &conn_pages, None);
        let dns_fetched = fetched(&plan.dns, &dns_pages, Some(1));
        let previous = whole().shifted_back(Duration::from_secs(86_400));
        let mut before = connections(3.25, false);
        before.retain(|row| row.group_bys.get("client_service") != Some(EVIL));
        before.push(conn("old", "api", 1_000_000, 10));
        let report = assemble(
            &plan,
            "http://127.0.0.1:8126",
            UNIX_EPOCH + Duration::from_secs(1_796_050_000),
            Pages {
                now: page(connections(3.25, false), whole()),
                then: Some(page(before, previous)),
                series: Some(&conn_fetched),
            },
            Pages {
                now: page(names(3.25, false), whole()),
                then: Some(page(names(3.25, false), previous)),
                series: Some(&dns_fetched),
            },
        );
        let html = html::render(&report);
        assert_balanced(&html);
        assert_self_contained(&html);
        assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
        assert!(!html.contains(EVIL) && html.contains("&lt;script&gt;alert("));
        // The header.
        assert!(html.contains("<dd>2026-11-30T10:30:00Z → 2026-11-30T13:45:00Z UTC (3h15m)</dd>"));
        assert!(html.contains("<dd>1h, aligned on the clock</dd>"));
        assert!(html.contains("<dd>http://127.0.0.1:8126</dd>"));
        // The map: five edges of eight, and what was left out.
        assert_eq!(html.matches("<svg class=\"map\"").count(), 1);
        assert_eq!(html.matches("class=\"edge\"").count(), 5);
        assert!(html.contains("The top 5 of 8 client → server pairs by total_bytes"));
        assert!(html.contains("Left out: 3 pairs"));
        // The charts: four, the failed DNS window marked, the storm and the surge named.
        assert_eq!(html.matches("<svg class=\"chart\"").count(), 4);
        assert_eq!(html.matches("<g class=\"failed\">").count(), 2);
        assert!(html.contains(
            "1 DNS window failed and is marked in the charts: 2026-11-30 11:00 → 12:00."
        ));
        assert!(html.contains("Furthest above its usual level: batch → db, 250/s"));
        assert!(html.contains("Furthest above its usual level: typo.internal, 20/s"));
        // The tables and the changes.
        for title in [
            "Connections by bytes",
            "Connections by retransmits",
            "DNS by requests",
            "DNS by failures",
            "Connections · New pairs",
            "Connections · Gone pairs",
            "DNS · Largest increases of failures",
        ] {
            assert!(html.contains(&format!("<h3>{title}</h3>")), "{title}");
        }
        assert!(html.contains("<td class=\"gone\">old</td>"));
        assert!(html.contains("1 pair in this window but not in 2026-11-29 10:30 → 13:45"));
    }

    #[test]
    fn suggested_steps_are_readable() {
        assert_eq!(
            suggested_step(Duration::from_secs(7 * 86_400)).as_secs(),
            1800
        );
        assert_eq!(suggested_step(Duration::from_secs(3600)).as_secs(), 60);
    }
}
