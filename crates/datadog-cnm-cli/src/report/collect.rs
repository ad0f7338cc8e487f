//! From pages and trends to the report's data: group labels, top tables, chart lines,
//! the header's facts (the map's edges are in `edges.rs`, the changes in `changes.rs`).
//! Pure functions: nothing is read, sent or written here, and the same input gives the
//! same report.

use std::time::Duration;

use datadog_cnm::analysis::{Measure, Number, Order, Trend};
use datadog_cnm::{GroupBys, Row, Unit, Window};

use super::chart::rate;
use super::model::{Cell, Chart, ChartWindow, Head, Line, Table};
use crate::format;
use crate::time::rfc3339;

/// How groups are named: the group-by keys, and which of them describe the client and
/// which the server (the map's two ends).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Groups {
    keys: Vec<String>,
    client: Vec<String>,
    server: Vec<String>,
    /// The client's and the server's keys name the same things (`client_service` and
    /// `server_service`): a value is one node whichever end it is at.
    merged: bool,
}

/// Which end of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum End {
    /// The client.
    Client,
    /// The server.
    Server,
}

impl Groups {
    /// Groups of these group-by keys.
    pub fn new(keys: &[String]) -> Self {
        let side = |prefix: &str| -> Vec<String> {
            keys.iter()
                .filter(|k| k.starts_with(prefix))
                .cloned()
                .collect()
        };
        let (client, server) = (side("client_"), side("server_"));
        let suffixes = |keys: &[String], prefix: &str| -> Vec<String> {
            keys.iter()
                .map(|k| k.trim_start_matches(prefix).to_owned())
                .collect()
        };
        let merged = suffixes(&client, "client_") == suffixes(&server, "server_");
        Self {
            keys: keys.to_vec(),
            client,
            server,
            merged,
        }
    }

    /// The group-by keys.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Whether there is a client end and a server end to draw a map of.
    pub fn has_ends(&self) -> bool {
        !self.client.is_empty() && !self.server.is_empty()
    }

    /// The values of `key` in one string (connections may carry several), `N/A` when
    /// there are none.
    fn value(group_bys: &GroupBys, key: &str) -> String {
        let values: Vec<&str> = group_bys.values(key).collect();
        if values.is_empty() {
            "N/A".to_owned()
        } else {
            values.join("|")
        }
    }

    fn joined(group_bys: &GroupBys, keys: &[String]) -> String {
        keys.iter()
            .map(|key| Self::value(group_bys, key))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// One end of a group: its node's identity and label.
    pub(super) fn end(&self, group_bys: &GroupBys, end: End) -> (String, String) {
        let (keys, tag) = match end {
            End::Client => (&self.client, "client"),
            End::Server => (&self.server, "server"),
        };
        let label = Self::joined(group_bys, keys);
        let id = if self.merged {
            label.clone()
        } else {
            format!("{tag}\u{0}{label}")
        };
        (id, label)
    }

    /// A group in one line: `web → db` when it has two ends (other keys in brackets),
    /// else its values joined with ` · `.
    pub fn label(&self, group_bys: &GroupBys) -> String {
        if !self.has_ends() {
            return Self::joined(group_bys, &self.keys);
        }
        let (_, client) = self.end(group_bys, End::Client);
        let (_, server) = self.end(group_bys, End::Server);
        let others: Vec<String> = self
            .keys
            .iter()
            .filter(|k| !self.client.contains(k) && !self.server.contains(k))
            .cloned()
            .collect();
        if others.is_empty() {
            format!("{client} → {server}")
        } else {
            format!("{client} → {server} ({})", Self::joined(group_bys, &others))
        }
    }

    /// One head per group-by key.
    pub(super) fn heads(&self) -> Vec<Head> {
        self.keys.iter().map(Head::text).collect()
    }

    /// One cell per group-by key.
    pub(super) fn cells(&self, group_bys: &GroupBys) -> Vec<Cell> {
        self.keys
            .iter()
            .map(|key| Cell::plain(Self::value(group_bys, key)))
            .collect()
    }
}

/// A value for a cell, `–` when the server did not send it.
pub(super) fn cell_value(unit: Unit, value: Option<Number>) -> Cell {
    Cell::plain(value.map_or_else(|| "–".to_owned(), |v| format::value(unit, v)))
}

/// The head of `measure`'s column.
pub(super) fn column_head<R: Row>(measure: Measure<R>) -> Head {
    Head::number(measure.label(), format::unit_label(measure.unit(), false))
}

/// The columns of a top table led by `lead`: it, the default table's first six metrics,
/// then the derived ratios (which make counts of different groups comparable).
pub fn columns<R: Row>(lead: Measure<R>) -> Vec<Measure<R>> {
    let mut prioritised: Vec<(u8, Measure<R>)> = (0..R::METRICS.len())
        .filter_map(|i| Some((R::METRICS[i].column?, Measure::metric(i)?)))
        .filter(|(priority, _)| *priority <= 6)
        .collect();
    prioritised.sort_by_key(|(priority, _)| *priority);
    let mut columns = vec![lead];
    let rest = prioritised
        .into_iter()
        .map(|(_, m)| m)
        .chain(Measure::<R>::derived().filter(|m| m.unit() == Unit::Ratio));
    for measure in rest {
        if !columns.contains(&measure) {
            columns.push(measure);
        }
    }
    columns
}

/// Rows ranked by `measure` (rows without a value last; ties by group, so the order is
/// the same on every run).
fn ranked<R: Row>(rows: &[R], measure: Measure<R>, order: Order) -> Vec<&R> {
    let mut ranked: Vec<&R> = rows.iter().collect();
    ranked.sort_by(|a, b| {
        measure
            .compare(a, b, order)
            .then_with(|| a.group_bys().cmp(b.group_bys()))
    });
    ranked
}

/// A table of the first `n` of `rows` ranked by `lead`, with `lead`'s [`columns`].
/// `truncated` is the limit when the page was cut at it.
pub fn top_table<R: Row>(
    title: &str,
    rows: &[R],
    groups: &Groups,
    lead: Measure<R>,
    order: Order,
    n: usize,
    truncated: Option<u32>,
) -> Table {
    let measures = columns(lead);
    let mut head = groups.heads();
    head.extend(measures.iter().map(|m| column_head(*m)));
    let shown: Vec<Vec<Cell>> = ranked(rows, lead, order)
        .into_iter()
        .take(n)
        .map(|row| {
            let mut cells = groups.cells(row.group_bys());
            cells.extend(measures.iter().map(|m| cell_value(m.unit(), m.value(row))));
            cells
        })
        .collect();
    let mut note = format!(
        "The first {} of {} group{}, {}.",
        shown.len(),
        format::count(rows.len() as i64),
        if rows.len() == 1 { "" } else { "s" },
        match order {
            Order::Descending => format!("largest {} first", lead.name()),
            Order::Ascending => format!("smallest {} first", lead.name()),
        }
    );
    if let Some(limit) = truncated {
        note.push_str(&format!(
            " The API returned {limit} rows, the limit: groups beyond it are not ranked."
        ));
    }
    Table {
        title: title.to_owned(),
        note: Some(note),
        head,
        rows: shown,
        empty: "No rows came back for this window.".to_owned(),
    }
}

/// Which groups a chart draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rank {
    /// The largest totals over the series.
    Total,
    /// The highest single windows (a storm outranks a steady load), with the group that
    /// rose most above its own median always among them.
    Peak,
}

/// A group's values in brief.
struct Shape {
    peak: Option<(usize, f64)>,
    median: Option<f64>,
    total: f64,
}

fn shape(values: &[Option<f64>]) -> Shape {
    let mut known: Vec<f64> = values.iter().flatten().copied().collect();
    let mut peak: Option<(usize, f64)> = None;
    for (i, value) in values.iter().enumerate() {
        if let Some(v) = *value
            && peak.is_none_or(|(_, p)| v > p)
        {
            peak = Some((i, v));
        }
    }
    let total = known.iter().sum();
    known.sort_by(f64::total_cmp);
    let median = match known.len() {
        0 => None,
        n if n % 2 == 1 => Some(known[n / 2]),
        n => Some((known[n / 2 - 1] + known[n / 2]) / 2.0),
    };
    Shape {
        peak,
        median,
        total,
    }
}

/// Where a series' windows stand: all of them, the step, and the failed ones.
#[derive(Clone, Copy, Debug)]
pub struct SeriesWindows<'a> {
    /// Every window of the series, in order.
    pub all: &'a [Window],
    /// The step.
    pub step: Duration,
    /// The windows whose request failed (`--keep-going`).
    pub failed: &'a [Window],
}

/// A chart of the `lines` groups of a per-second `trend` chosen by `rank`.
pub fn chart<R: Row>(
    title: &str,
    trend: &Trend<R>,
    series: SeriesWindows<'_>,
    groups: &Groups,
    rank: Rank,
    lines: usize,
) -> Chart {
    let unit = trend.measure().unit();
    // The trend's windows are those that came back; the chart's are all of the series'.
    let at: Vec<Option<usize>> = series
        .all
        .iter()
        .map(|w| trend.windows().iter().position(|t| t.window == *w))
        .collect();
    let windows: Vec<ChartWindow> = series
        .all
        .iter()
        .zip(&at)
        .map(|(w, i)| ChartWindow {
            from: w.from_unix_secs(),
            to: w.to_unix_secs(),
            partial: w.duration() < series.step,
            failed: series.failed.contains(w),
            truncated: i
                .and_then(|i| trend.windows().get(i))
                .is_some_and(|t| t.truncated),
        })
        .collect();
    let mut candidates: Vec<(String, Vec<Option<f64>>, Shape)> = trend
        .groups()
        .iter()
        .map(|group| {
            let values: Vec<Option<f64>> = at
                .iter()
                .map(|i| i.and_then(|i| group.values.get(i).copied().flatten()))
                .collect();
            let shape = shape(&values);
            (groups.label(&group.group_bys), values, shape)
        })
        .collect();
    let key = |s: &Shape| match rank {
        Rank::Total => s.total,
        Rank::Peak => s.peak.map_or(0.0, |(_, p)| p),
    };
    candidates.sort_by(|a, b| key(&b.2).total_cmp(&key(&a.2)).then_with(|| a.0.cmp(&b.0)));
    // How far a group's peak stands above its usual level: the rise times the square of
    // the factor, so that a quiet pair's storm (8×) outranks a busy pair's daily swing
    // (1.4×) even when the swing adds more; medians floored at 0.1 % of the chart's
    // highest peak, so that a trickle's blip does not.
    let floor = candidates
        .iter()
        .filter_map(|c| c.2.peak)
        .map(|(_, p)| p)
        .fold(0.0, f64::max)
        / 1000.0;
    let rise = |s: &Shape| match (s.peak, s.median) {
        (Some((_, p)), Some(m)) if p > m && floor > 0.0 => {
            let factor = p / m.max(floor);
            (p - m) * factor * factor
        }
        _ => 0.0,
    };
    // The group whose peak stands furthest above its median, if any rose.
    let riser = candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| rise(&c.2) > 0.0)
        .max_by(|a, b| {
            rise(&a.1.2)
                .total_cmp(&rise(&b.1.2))
                .then_with(|| b.1.0.cmp(&a.1.0))
        })
        .map(|(i, _)| i);
    let mut chosen: Vec<usize> = (0..candidates.len().min(lines)).collect();
    let mut added_riser = false;
    if rank == Rank::Peak
        && let Some(riser) = riser
        && !chosen.contains(&riser)
        && let Some(last) = chosen.last_mut()
    {
        *last = riser;
        added_riser = true;
    }
    let highlight = riser.and_then(|i| {
        let (label, _, shape) = &candidates[i];
        let (at, peak) = shape.peak?;
        let median = shape.median?;
        let window = series.all.get(at)?;
        let times = if median > 0.0 {
            let factor = peak / median;
            if factor < 2.0 {
                return None;
            }
            format!("{}× its median of {}", trimmed(factor), rate(unit, median))
        } else {
            "against a median of zero".to_owned()
        };
        Some(format!(
            "Furthest above its usual level: {label}, {} in {}, {times}.",
            rate(unit, peak),
            format::window(window)
        ))
    });
    let drawn: Vec<Line> = chosen
        .iter()
        .filter_map(|&i| candidates.get(i))
        .map(|(label, values, shape)| Line {
            label: label.clone(),
            values: values.clone(),
            summary: match (shape.peak, shape.median) {
                (Some((_, p)), Some(m)) => {
                    format!("peak {} · median {}", rate(unit, p), rate(unit, m))
                }
                _ => "no values".to_owned(),
            },
        })
        .collect();
    let mut subtitle = match rank {
        Rank::Total => format!(
            "The {} of {} groups with the largest totals over the series, per second.",
            drawn.len(),
            format::count(candidates.len() as i64)
        ),
        Rank::Peak => format!(
            "The {} of {} groups with the highest peaks, per second{}.",
            drawn.len(),
            format::count(candidates.len() as i64),
            if added_riser {
                ", and the one that rose most above its median"
            } else {
                ""
            }
        ),
    };
    let cut = windows.iter().filter(|w| w.truncated).count();
    if cut > 0 {
        subtitle.push_str(&format!(
            " {cut} window{} came back cut at the limit: groups may be missing from {}.",
            if cut == 1 { "" } else { "s" },
            if cut == 1 { "it" } else { "them" }
        ));
    }
    Chart {
        title: title.to_owned(),
        subtitle,
        highlight,
        unit,
        windows,
        lines: drawn,
    }
}

/// `8.1`, `12`, `250`.
fn trimmed(factor: f64) -> String {
    if factor >= 10.0 {
        format!("{factor:.0}")
    } else {
        format!("{factor:.1}")
    }
}

/// The facts of a report's header, in order.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// The window.
    pub window: Option<Window>,
    /// `--step`, and whether windows are aligned on the clock.
    pub step: Option<(Duration, bool)>,
    /// The previous window of `--compare`.
    pub previous: Option<Window>,
    /// Connections' group-by keys.
    pub group_by: Vec<String>,
    /// DNS's group-by keys.
    pub dns_group_by: Vec<String>,
    /// `--query`.
    pub query: Option<String>,
    /// `--tags`.
    pub tags: Vec<String>,
    /// Where the data came from.
    pub target: String,
    /// When the report was made.
    pub generated: Option<std::time::SystemTime>,
}

/// The header's label–value pairs.
pub fn facts(facts: &Facts) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    if let Some(window) = &facts.window {
        out.push((
            "Window".to_owned(),
            format!(
                "{} → {} UTC ({})",
                rfc3339(window.from),
                rfc3339(window.to),
                format::span(window.duration())
            ),
        ));
    }
    if let Some((step, aligned)) = facts.step {
        out.push((
            "Step".to_owned(),
            format!(
                "{}{}",
                format::span(step),
                if aligned {
                    ", aligned on the clock"
                } else {
                    ""
                }
            ),
        ));
    }
    if let Some(previous) = &facts.previous {
        out.push((
            "Compared with".to_owned(),
            format!("{} → {} UTC", rfc3339(previous.from), rfc3339(previous.to)),
        ));
    }
    out.push(("Connections by".to_owned(), facts.group_by.join(", ")));
    out.push(("DNS by".to_owned(), facts.dns_group_by.join(", ")));
    if let Some(query) = &facts.query {
        out.push(("Query".to_owned(), query.clone()));
    }
    if !facts.tags.is_empty() {
        out.push(("Tags".to_owned(), facts.tags.join(", ")));
    }
    out.push(("Source".to_owned(), facts.target.clone()));
    if let Some(generated) = facts.generated {
        out.push(("Generated".to_owned(), rfc3339(generated)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{flat, keys, page};
    use datadog_cnm::{Connection, Page};

    #[test]
    fn groups_know_their_ends() {
        let services = Groups::new(&keys(&["client_service", "server_service"]));
        assert!(services.has_ends() && services.merged);
        let mixed = Groups::new(&keys(&["client_team", "server_service", "env"]));
        assert!(mixed.has_ends() && !mixed.merged);
        let one = Groups::new(&keys(&["client_team"]));
        assert!(!one.has_ends());
        let g: GroupBys = [
            ("client_team", "web"),
            ("server_service", "db"),
            ("env", "prod"),
        ]
        .into_iter()
        .collect();
        assert_eq!(mixed.label(&g), "web → db (prod)");
        assert_eq!(one.label(&g), "web");
        assert_eq!(
            Groups::new(&keys(&["client_team", "nothing"])).label(&g),
            "web · N/A"
        );
    }

    fn hour(n: i64) -> Window {
        Window::from_unix(n * 3600, (n + 1) * 3600).unwrap()
    }

    #[test]
    fn a_storm_in_a_quiet_pair_outranks_a_busy_pair_s_daily_swing() {
        let measure = Measure::<Connection>::parse("tcp_retransmits").unwrap();
        let mut trend = Trend::new(measure).per_second(true);
        let windows: Vec<Window> = (0..3).map(hour).collect();
        // busy: 10,000/s rising to 14,000/s (+4,000); steady: 5,000/s; quiet: 100/s, then
        // a storm at 800/s (+700); a trickle: 1/s, then 20/s.
        for (i, w) in windows.iter().enumerate() {
            let per_hour = |n: i64| n * 3600;
            let rows = vec![
                flat(
                    "busy",
                    "db",
                    0,
                    per_hour(if i == 2 { 14_000 } else { 10_000 }),
                ),
                flat("steady", "db", 0, per_hour(5_000)),
                flat("quiet", "db", 0, per_hour(if i == 1 { 800 } else { 100 })),
                flat("trickle", "db", 0, per_hour(if i == 1 { 20 } else { 1 })),
            ];
            trend.push(*w, &page(rows, *w), false);
        }
        let groups = Groups::new(&keys(&["client_service", "server_service"]));
        let series = SeriesWindows {
            all: &windows,
            step: Duration::from_secs(3600),
            failed: &[],
        };
        let chart = chart("retransmits", &trend, series, &groups, Rank::Peak, 2);
        let labels: Vec<&str> = chart.lines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["busy → db", "quiet → db"]);
        let highlight = chart.highlight.unwrap_or_default();
        assert!(highlight.contains("quiet → db, 800/s"), "{highlight}");
    }

    #[test]
    fn a_peak_chart_always_shows_the_group_that_rose_most() {
        let measure = Measure::<Connection>::parse("tcp_retransmits").unwrap();
        let mut trend = Trend::new(measure).per_second(true);
        let windows: Vec<Window> = (0..4).map(hour).collect();
        // Two big steady groups and a small one with a storm in window 2.
        for (i, w) in windows.iter().enumerate() {
            let storm = if i == 2 { 3_600_000 } else { 3600 };
            let page = Page {
                rows: vec![
                    flat("big", "db", 0, 36_000_000),
                    flat("large", "db", 0, 36_000_000 - 3600),
                    flat("small", "db", 0, storm),
                ],
                window: *w,
                truncated: false,
                limit: 100,
                rate_limit: None,
                extra_members: Default::default(),
            };
            trend.push(*w, &page, false);
        }
        let groups = Groups::new(&keys(&["client_service", "server_service"]));
        let series = SeriesWindows {
            all: &windows,
            step: Duration::from_secs(3600),
            failed: &[],
        };
        let chart = chart("retransmits", &trend, series, &groups, Rank::Peak, 2);
        let labels: Vec<&str> = chart.lines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["big → db", "small → db"]);
        assert_eq!(chart.lines[1].values[2], Some(1000.0));
        let highlight = chart.highlight.unwrap_or_default();
        assert!(
            highlight.starts_with(
                "Furthest above its usual level: small → db, 1,000/s in 1970-01-01 02:00"
            ),
            "{highlight}"
        );
        assert!(highlight.contains("1000× its median of 1/s"), "{highlight}");
        let totals = super::chart("retransmits", &trend, series, &groups, Rank::Total, 2);
        let labels: Vec<&str> = totals.lines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["big → db", "large → db"]);
    }

    #[test]
    fn spans_read_like_flags() {}
}
