//! From pages, trends and comparisons to the report's data: rankings, group labels, the
//! map's edges and nodes, chart lines, formatted cells. Pure functions: nothing is read,
//! sent or written here, and the same input gives the same report.

use std::collections::BTreeMap;
use std::time::Duration;

use datadog_cnm::analysis::{Compared, Comparison, Measure, Number, Order, Status, Trend};
use datadog_cnm::{GroupBys, Row, Unit, Window};

use super::chart::rate;
use super::map::ratio_colour;
use super::model::{
    Cell, Chart, ChartWindow, Edge, Head, Line, Node, Part, ServiceMap, Table, Tone,
};
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
enum End {
    Client,
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
    fn end(&self, group_bys: &GroupBys, end: End) -> (String, String) {
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
    fn heads(&self) -> Vec<Head> {
        self.keys.iter().map(Head::text).collect()
    }

    /// One cell per group-by key.
    fn cells(&self, group_bys: &GroupBys) -> Vec<Cell> {
        self.keys
            .iter()
            .map(|key| Cell::plain(Self::value(group_bys, key)))
            .collect()
    }
}

/// A value for a cell, `–` when the server did not send it.
fn cell_value(unit: Unit, value: Option<Number>) -> Cell {
    Cell::plain(value.map_or_else(|| "–".to_owned(), |v| format::value(unit, v)))
}

/// The head of `measure`'s column.
fn column_head<R: Row>(measure: Measure<R>) -> Head {
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

/// The measures the map is drawn and ranked with.
#[derive(Clone, Copy)]
pub struct MapMeasures<R> {
    /// What edges are ranked by (`--sort-by`, default total bytes).
    pub rank: Measure<R>,
    /// Which way.
    pub order: Order,
    /// Bytes in both directions: edge width.
    pub bytes: Measure<R>,
    /// TCP retransmits, over…
    pub retransmits: Measure<R>,
    /// …packets sent by the client: edge colour.
    pub packets: Measure<R>,
}

/// An edge before ranking: its rows' sums.
#[derive(Clone, Debug, Default)]
struct Sums {
    client: String,
    server: String,
    bytes: f64,
    retransmits: Option<f64>,
    packets: Option<f64>,
    /// The ranking measure: summed when it adds up, else the largest of the rows'.
    rank: Option<f64>,
}

fn add(into: &mut Option<f64>, value: Option<Number>) {
    if let Some(value) = value {
        *into = Some(into.unwrap_or(0.0) + value.as_f64());
    }
}

/// The service map of one page: rows joined into client → server edges (rows that differ
/// only in other keys add up), the first `n` by the ranking measure, and their nodes.
pub fn service_map<R: Row>(
    rows: &[R],
    groups: &Groups,
    measures: &MapMeasures<R>,
    n: usize,
) -> Part<ServiceMap> {
    if !groups.has_ends() {
        return Part::Missing(format!(
            "The map needs a client-side and a server-side group-by key (client_*, server_*), \
             e.g. --group-by client_service,server_service; this report groups connections by \
             {}.",
            groups.keys().join(",")
        ));
    }
    let additive = measures.rank.aggregation() == Some(datadog_cnm::Aggregation::Sum);
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    let mut sums: BTreeMap<(String, String), Sums> = BTreeMap::new();
    for row in rows {
        let (client, client_label) = groups.end(row.group_bys(), End::Client);
        let (server, server_label) = groups.end(row.group_bys(), End::Server);
        labels.insert(client.clone(), client_label);
        labels.insert(server.clone(), server_label);
        let edge = sums.entry((client.clone(), server.clone())).or_default();
        edge.client = client;
        edge.server = server;
        edge.bytes += measures.bytes.value(row).map_or(0.0, Number::as_f64);
        add(&mut edge.retransmits, measures.retransmits.value(row));
        add(&mut edge.packets, measures.packets.value(row));
        let value = measures.rank.value(row).map(Number::as_f64);
        edge.rank = match (edge.rank, value) {
            (Some(a), Some(b)) if additive => Some(a + b),
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
    if sums.is_empty() {
        return Part::Missing("No connections came back for this window.".to_owned());
    }
    let all_bytes: f64 = sums.values().map(|s| s.bytes).sum();
    let all_nodes = labels.len();
    let mut edges: Vec<Sums> = sums.into_values().collect();
    edges.sort_by(|a, b| {
        measures
            .order
            .compare(a.rank, b.rank)
            .then_with(|| b.bytes.total_cmp(&a.bytes))
            .then_with(|| (&a.client, &a.server).cmp(&(&b.client, &b.server)))
    });
    let total_edges = edges.len();
    edges.truncate(n);
    let mut ids: Vec<String> = Vec::new();
    let mut index = |id: &String| match ids.iter().position(|known| known == id) {
        Some(i) => i,
        None => {
            ids.push(id.clone());
            ids.len() - 1
        }
    };
    let placed: Vec<(usize, usize)> = edges
        .iter()
        .map(|e| (index(&e.client), index(&e.server)))
        .collect();
    let label_of = |id: &String| labels.get(id).cloned().unwrap_or_default();
    let nodes: Vec<Node> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let label = label_of(id);
            let sent: f64 = placed
                .iter()
                .zip(&edges)
                .filter(|((c, _), _)| *c == i)
                .map(|(_, e)| e.bytes)
                .sum();
            let received: f64 = placed
                .iter()
                .zip(&edges)
                .filter(|((_, s), _)| *s == i)
                .map(|(_, e)| e.bytes)
                .sum();
            let servers = placed.iter().filter(|(c, _)| *c == i).count();
            let clients = placed.iter().filter(|(_, s)| *s == i).count();
            let mut title = label.clone();
            if servers > 0 {
                title.push_str(&format!(
                    "\nclient of {servers} on this map: {}",
                    format::bytes(sent as i64)
                ));
            }
            if clients > 0 {
                title.push_str(&format!(
                    "\nserver of {clients} on this map: {}",
                    format::bytes(received as i64)
                ));
            }
            Node { label, title }
        })
        .collect();
    let shown_bytes: f64 = edges.iter().map(|e| e.bytes).sum();
    let ratio = |e: &Sums| match (e.retransmits, e.packets) {
        (Some(r), Some(p)) if p > 0.0 => Some(r / p),
        _ => None,
    };
    let rank_label = measures.rank.name();
    let shows_rank = ![measures.bytes, measures.retransmits].contains(&measures.rank)
        && measures.rank.name() != "tcp_retransmit_ratio";
    let map_edges: Vec<Edge> = edges
        .iter()
        .zip(&placed)
        .map(|(e, &(client, server))| {
            let mut title = format!(
                "{} → {}\nbytes: {}",
                label_of(&e.client),
                label_of(&e.server),
                format::bytes(e.bytes as i64)
            );
            if let Some(r) = e.retransmits {
                title.push_str(&format!("\nretransmits: {}", format::count(r as i64)));
            }
            if let Some(r) = ratio(e) {
                title.push_str(&format!(" ({} of client packets)", format::percent(r)));
            }
            if shows_rank && let Some(v) = e.rank {
                title.push_str(&format!(
                    "\n{rank_label}: {}",
                    format::value(measures.rank.unit(), Number::Float(v))
                ));
            }
            Edge {
                client,
                server,
                bytes: e.bytes,
                retransmit_ratio: ratio(e),
                title,
            }
        })
        .collect();
    let mut head = vec![
        Head::number("#", ""),
        Head::text("client"),
        Head::text("server"),
        Head::number("bytes", ""),
        Head::number("retransmits", ""),
        Head::number("retransmit %", ""),
    ];
    if shows_rank {
        head.push(column_head(measures.rank));
    }
    let list_rows: Vec<Vec<Cell>> = edges
        .iter()
        .zip(&map_edges)
        .enumerate()
        .map(|(i, (e, edge))| {
            let mut cells = vec![
                Cell::plain((i + 1).to_string()),
                Cell::plain(label_of(&e.client)),
                Cell::plain(label_of(&e.server)),
                Cell::plain(format::bytes(e.bytes as i64)),
                Cell::plain(
                    e.retransmits
                        .map_or("–".to_owned(), |r| format::count(r as i64)),
                ),
                Cell::toned(
                    edge.retransmit_ratio
                        .map_or("–".to_owned(), format::percent),
                    Tone::Swatch(ratio_colour(edge.retransmit_ratio)),
                ),
            ];
            if shows_rank {
                cells.push(cell_value(measures.rank.unit(), e.rank.map(Number::Float)));
            }
            cells
        })
        .collect();
    let share = |part: f64| {
        if all_bytes > 0.0 {
            format::percent(part / all_bytes)
        } else {
            "0 %".to_owned()
        }
    };
    let order = match measures.order {
        Order::Descending => "",
        Order::Ascending => ", smallest first",
    };
    let mut summary = format!(
        "The top {} of {} client → server pair{} by {rank_label}{order}, carrying {} of all \
         bytes.",
        map_edges.len(),
        format::count(total_edges as i64),
        if total_edges == 1 { "" } else { "s" },
        share(shown_bytes)
    );
    if total_edges > map_edges.len() {
        let hidden_nodes = all_nodes - nodes.len();
        summary.push_str(&format!(
            " Left out: {} pairs ({} of bytes){}; --map-edges N shows more.",
            format::count((total_edges - map_edges.len()) as i64),
            share(all_bytes - shown_bytes),
            if hidden_nodes > 0 {
                format!(
                    " and {} node{} that appear only in them",
                    format::count(hidden_nodes as i64),
                    if hidden_nodes == 1 { "" } else { "s" }
                )
            } else {
                String::new()
            }
        ));
    }
    Part::Shown(ServiceMap {
        nodes,
        edges: map_edges,
        summary,
        list: Table {
            title: "Edges on the map".to_owned(),
            note: None,
            head,
            rows: list_rows,
            empty: String::new(),
        },
    })
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
    let rise = |s: &Shape| match (s.peak, s.median) {
        (Some((_, p)), Some(m)) => p - m,
        _ => 0.0,
    };
    // The group that rose most above its own median, if any did.
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

/// The "what changed" tables of a comparison: new groups and gone groups by `lead`, then
/// the largest increases and decreases of `lead`, then the largest increases of each of
/// `rising`.
pub fn changes<R: Row>(
    noun: &str,
    comparison: &Comparison<R>,
    groups: &Groups,
    lead: Measure<R>,
    rising: &[Measure<R>],
    n: usize,
) -> Vec<Table> {
    let value = |row: &Option<R>, m: Measure<R>| row.as_ref().and_then(|r| m.value(r));
    let by = |status: Status, now: bool| {
        let mut rows: Vec<&Compared<R>> = comparison
            .rows
            .iter()
            .filter(|c| c.status == status)
            .collect();
        rows.sort_by(|a, b| {
            let (a_row, b_row) = if now {
                (&a.current, &b.current)
            } else {
                (&a.previous, &b.previous)
            };
            Order::Descending
                .compare(
                    value(a_row, lead).map(Number::as_f64),
                    value(b_row, lead).map(Number::as_f64),
                )
                .then_with(|| a.group_bys.cmp(&b.group_bys))
        });
        rows
    };
    let previous = format::window(&comparison.previous);
    let mut tables = Vec::new();
    for (status, now) in [(Status::New, true), (Status::Gone, false)] {
        let rows = by(status, now);
        let mut head = groups.heads();
        head.push(column_head(lead));
        let mut note = format!(
            "{} {noun}{} {}, by {} {}.",
            format::count(rows.len() as i64),
            if rows.len() == 1 { "" } else { "s" },
            match status {
                Status::New => format!("in this window but not in {previous}"),
                _ => format!("in {previous} but not in this window"),
            },
            lead.name(),
            if now { "now" } else { "then" },
        );
        if status == Status::New && comparison.previous_truncated {
            note.push_str(
                " The previous page was cut at the limit: some may only have been beyond it.",
            );
        }
        if status == Status::Gone && comparison.current_truncated {
            note.push_str(" This window's page was cut at the limit: some may only be beyond it.");
        }
        let tone = if status == Status::New {
            Tone::New
        } else {
            Tone::Gone
        };
        tables.push(Table {
            title: format!(
                "{} {noun}s",
                if status == Status::New { "New" } else { "Gone" }
            ),
            note: Some(note),
            head,
            rows: rows
                .iter()
                .take(n)
                .map(|c| {
                    let mut cells: Vec<Cell> = groups
                        .cells(&c.group_bys)
                        .into_iter()
                        .map(|cell| Cell::toned(cell.text, tone))
                        .collect();
                    let row = if now { &c.current } else { &c.previous };
                    cells.push(cell_value(lead.unit(), value(row, lead)));
                    cells
                })
                .collect(),
            empty: "None.".to_owned(),
        });
    }
    let deltas = [(lead, Order::Descending), (lead, Order::Ascending)]
        .into_iter()
        .chain(rising.iter().map(|m| (*m, Order::Descending)));
    for (measure, order) in deltas {
        let mut rows: Vec<(&Compared<R>, f64)> = comparison
            .rows
            .iter()
            .filter_map(|c| Some((c, c.delta(measure)?)))
            .filter(|(_, d)| match order {
                Order::Descending => *d > 0.0,
                Order::Ascending => *d < 0.0,
            })
            .collect();
        rows.sort_by(|a, b| {
            order
                .compare(Some(a.1), Some(b.1))
                .then_with(|| a.0.group_bys.cmp(&b.0.group_bys))
        });
        let unit = measure.unit();
        let mut head = groups.heads();
        head.extend([
            Head::number("before", format::unit_label(unit, false)),
            Head::number("now", format::unit_label(unit, false)),
            Head::number("Δ", format::unit_label(unit, false)),
            Head::number("Δ%", ""),
        ]);
        let tone = if order == Order::Descending {
            Tone::Up
        } else {
            Tone::Down
        };
        tables.push(Table {
            title: format!(
                "Largest {} of {}",
                if order == Order::Descending {
                    "increases"
                } else {
                    "decreases"
                },
                measure.label()
            ),
            note: Some(format!(
                "{} {noun}{} {} ({} against {previous}; a group missing from one period counts \
                 as zero there).",
                format::count(rows.len() as i64),
                if rows.len() == 1 { "" } else { "s" },
                if order == Order::Descending {
                    "rose"
                } else {
                    "fell"
                },
                measure.name()
            )),
            head,
            rows: rows
                .iter()
                .take(n)
                .map(|(c, delta)| {
                    let mut cells = groups.cells(&c.group_bys);
                    cells.push(cell_value(unit, value(&c.previous, measure)));
                    cells.push(cell_value(unit, value(&c.current, measure)));
                    cells.push(Cell::toned(format::delta(unit, *delta), tone));
                    cells.push(match c.change(measure) {
                        Some(change) => Cell::toned(format::change(change), tone),
                        None if c.status == Status::New => Cell::toned("new", Tone::New),
                        None => Cell::plain("–"),
                    });
                    cells
                })
                .collect(),
            empty: "None.".to_owned(),
        });
    }
    tables
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
                span(window.duration())
            ),
        ));
    }
    if let Some((step, aligned)) = facts.step {
        out.push((
            "Step".to_owned(),
            format!(
                "{}{}",
                span(step),
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

/// `6h`, `1h30m`, `2d`, `45s`.
pub fn span(duration: Duration) -> String {
    let mut secs = duration.as_secs();
    if secs == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use datadog_cnm::{Connection, Page};
    use std::time::UNIX_EPOCH;

    fn keys(keys: &[&str]) -> Vec<String> {
        keys.iter().map(|k| (*k).to_owned()).collect()
    }

    fn row(client: &str, server: &str, bytes: i64, retransmits: i64) -> Connection {
        Connection {
            group_bys: [("client_service", client), ("server_service", server)]
                .into_iter()
                .collect(),
            bytes_sent_by_client: Some(bytes / 4),
            bytes_sent_by_server: Some(bytes - bytes / 4),
            packets_sent_by_client: Some(1000),
            tcp_retransmits: Some(retransmits),
            ..Connection::default()
        }
    }

    fn measures() -> MapMeasures<Connection> {
        let m = |name| Measure::<Connection>::parse(name).unwrap();
        MapMeasures {
            rank: m("total_bytes"),
            order: Order::Descending,
            bytes: m("total_bytes"),
            retransmits: m("tcp_retransmits"),
            packets: m("packets_sent_by_client"),
        }
    }

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

    #[test]
    fn the_map_keeps_the_top_edges_and_says_what_it_left_out() {
        let rows = vec![
            row("a", "b", 1000, 10),
            row("c", "b", 500, 200),
            row("a", "d", 100, 0),
            row("e", "f", 10, 0),
        ];
        let groups = Groups::new(&keys(&["client_service", "server_service"]));
        let Part::Shown(map) = service_map(&rows, &groups, &measures(), 2) else {
            panic!("no map");
        };
        let labels: Vec<&str> = map.nodes.iter().map(|n| n.label.as_str()).collect();
        assert_eq!(labels, ["a", "b", "c"]);
        assert_eq!(
            map.edges
                .iter()
                .map(|e| (e.client, e.server))
                .collect::<Vec<_>>(),
            [(0, 1), (2, 1)]
        );
        assert_eq!(map.edges[1].retransmit_ratio, Some(0.2));
        assert!(
            map.summary
                .starts_with("The top 2 of 4 client → server pairs by total_bytes"),
            "{}",
            map.summary
        );
        assert!(
            map.summary
                .contains("Left out: 2 pairs (6.83 % of bytes) and 3 nodes"),
            "{}",
            map.summary
        );
        assert_eq!(map.list.rows.len(), 2);
        // A service that is both a client and a server is one node.
        let chain = vec![row("a", "b", 10, 0), row("b", "c", 10, 0)];
        let Part::Shown(map) = service_map(&chain, &groups, &measures(), 10) else {
            panic!("no map");
        };
        assert_eq!(map.nodes.len(), 3);
        // Without two ends there is no map, and the reader is told the fix.
        let one = Groups::new(&keys(&["client_service"]));
        let Part::Missing(why) = service_map(&rows, &one, &measures(), 10) else {
            panic!("a map without ends");
        };
        assert!(
            why.contains("--group-by client_service,server_service"),
            "{why}"
        );
    }

    #[test]
    fn rows_that_differ_in_other_keys_join_into_one_edge() {
        let mut prod = row("a", "b", 1000, 10);
        prod.group_bys.push("env", "prod");
        let mut staging = row("a", "b", 1000, 30);
        staging.group_bys.push("env", "staging");
        let groups = Groups::new(&keys(&["client_service", "server_service", "env"]));
        let Part::Shown(map) = service_map(&[prod, staging], &groups, &measures(), 10) else {
            panic!("no map");
        };
        assert_eq!(map.edges.len(), 1);
        assert_eq!(map.edges[0].bytes, 2000.0);
        assert_eq!(map.edges[0].retransmit_ratio, Some(0.02));
    }

    fn hour(n: i64) -> Window {
        Window::from_unix(n * 3600, (n + 1) * 3600).unwrap()
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
                    row("big", "db", 0, 36_000_000),
                    row("large", "db", 0, 36_000_000 - 3600),
                    row("small", "db", 0, storm),
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
    fn comparisons_list_new_gone_and_the_largest_changes() {
        let page = |rows: Vec<Connection>, at: u64| Page {
            rows,
            window: Window {
                from: UNIX_EPOCH + Duration::from_secs(at),
                to: UNIX_EPOCH + Duration::from_secs(at + 3600),
            },
            truncated: false,
            limit: 100,
            rate_limit: None,
            extra_members: Default::default(),
        };
        let now = page(
            vec![
                row("a", "b", 2000, 50),
                row("new", "b", 10, 0),
                row("c", "d", 10, 0),
            ],
            86_400,
        );
        let then = page(
            vec![
                row("a", "b", 1000, 10),
                row("gone", "b", 10, 0),
                row("c", "d", 400, 0),
            ],
            0,
        );
        let comparison = datadog_cnm::analysis::compare(now, then);
        let groups = Groups::new(&keys(&["client_service", "server_service"]));
        let m = |name| Measure::<Connection>::parse(name).unwrap();
        let tables = changes(
            "pair",
            &comparison,
            &groups,
            m("total_bytes"),
            &[m("tcp_retransmits")],
            10,
        );
        let titles: Vec<&str> = tables.iter().map(|t| t.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "New pairs",
                "Gone pairs",
                "Largest increases of bytes",
                "Largest decreases of bytes",
                "Largest increases of retransmits"
            ]
        );
        let first = |t: &Table| t.rows.iter().map(|r| r[0].text.clone()).collect::<Vec<_>>();
        assert_eq!(first(&tables[0]), ["new"]);
        assert_eq!(first(&tables[1]), ["gone"]);
        assert_eq!(first(&tables[2]), ["a", "new"]);
        assert_eq!(tables[2].rows[0][4].text, "+1000 B");
        assert_eq!(tables[2].rows[0][5].text, "+100 %");
        assert_eq!(first(&tables[3]), ["c", "gone"]);
        assert_eq!(first(&tables[4]), ["a"]);
    }

    #[test]
    fn spans_read_like_flags() {
        assert_eq!(span(Duration::from_secs(6 * 3600)), "6h");
        assert_eq!(span(Duration::from_secs(5400)), "1h30m");
        assert_eq!(span(Duration::from_secs(2 * 86_400 + 45)), "2d45s");
    }
}
