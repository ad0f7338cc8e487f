//! The report as data: what each section shows, already ranked, with no markup.
//!
//! [`super::collect`] builds it from pages, trends and comparisons; [`super::html`] writes
//! it as a document, drawing the map with [`super::map`] and the charts with
//! [`super::chart`]. Text in here is plain: it is escaped where it is written.

use datadog_cnm::Unit;

/// A whole report.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The document's title.
    pub title: String,
    /// What was asked and when: label and value, in order (window, group-by, query, …).
    pub facts: Vec<(String, String)>,
    /// Things the reader must know to trust the numbers (truncated pages, failed windows).
    pub notes: Vec<String>,
    /// The service map.
    pub map: Part<ServiceMap>,
    /// The trend charts (`--step`).
    pub trends: Part<Vec<Chart>>,
    /// The top tables.
    pub tables: Vec<Table>,
    /// What changed (`--compare`); `None` when no comparison was asked for.
    pub changes: Option<Vec<Table>>,
    /// The last line: what wrote the report.
    pub footer: String,
}

/// A section that is shown, or why it is not.
#[derive(Clone, Debug, PartialEq)]
pub enum Part<T> {
    /// Shown.
    Shown(T),
    /// Not shown, and why (a sentence naming the flag that would show it).
    Missing(String),
}

/// Client → server traffic as a directed graph: the top edges and their nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceMap {
    /// The nodes the edges join, in no particular order.
    pub nodes: Vec<Node>,
    /// The edges shown, in rank order (the first is the top one).
    pub edges: Vec<Edge>,
    /// A sentence: what the edges are ranked by, what was shown and what was left out.
    pub summary: String,
    /// The edges listed beside the map.
    pub list: Table,
}

/// A node of the map: a client-side or server-side group-by value.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The label, e.g. `checkout-api`.
    pub label: String,
    /// The hover text: the label in full and what the node sends and receives.
    pub title: String,
}

/// A directed edge of the map: client → server.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    /// Index of the client's node.
    pub client: usize,
    /// Index of the server's node.
    pub server: usize,
    /// Bytes in both directions: the edge's width.
    pub bytes: f64,
    /// TCP retransmits per packet sent by the client: the edge's colour (`None`: unknown).
    pub retransmit_ratio: Option<f64>,
    /// The hover text.
    pub title: String,
}

/// A line chart of groups over a series' windows, values per second.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// The heading, e.g. `TCP retransmits per second`.
    pub title: String,
    /// Which groups are drawn and why, e.g. `the 8 groups with the highest peak`.
    pub subtitle: String,
    /// The window that stands out most, in a sentence (the peak against its group's
    /// median), when there is one.
    pub highlight: Option<String>,
    /// The unit of the values (per second).
    pub unit: Unit,
    /// The series' windows, in order.
    pub windows: Vec<ChartWindow>,
    /// One line per group.
    pub lines: Vec<Line>,
}

/// One window of a chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChartWindow {
    /// Start, Unix seconds.
    pub from: i64,
    /// End, Unix seconds.
    pub to: i64,
    /// Shorter than the step (shaded; its values are per second like the others').
    pub partial: bool,
    /// Its request failed (`--keep-going`): no values.
    pub failed: bool,
    /// Its page was cut at the limit: groups may be missing from it.
    pub truncated: bool,
}

/// One group's line.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// The group, e.g. `web → db`.
    pub label: String,
    /// Per-second values aligned with [`Chart::windows`] (`None`: not in that window).
    pub values: Vec<Option<f64>>,
    /// A short summary for the legend, e.g. `peak 1.2 MiB/s`.
    pub summary: String,
}

/// A table of text cells.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The heading.
    pub title: String,
    /// A sentence under the heading (what the rows are, what is missing).
    pub note: Option<String>,
    /// The column heads.
    pub head: Vec<Head>,
    /// The rows, each with one cell per head.
    pub rows: Vec<Vec<Cell>>,
    /// What to say when there are no rows.
    pub empty: String,
}

/// A column head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// The label, e.g. `retransmits`.
    pub label: String,
    /// The unit under the label (empty when cells show theirs).
    pub unit: String,
    /// Right-aligned numbers.
    pub numeric: bool,
}

impl Head {
    /// A text column.
    pub fn text(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            unit: String::new(),
            numeric: false,
        }
    }

    /// A number column, with the unit shown under its label.
    pub fn number(label: impl Into<String>, unit: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            unit: unit.into(),
            numeric: true,
        }
    }
}

/// A table cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// The text.
    pub text: String,
    /// How it is shown.
    pub tone: Tone,
}

impl Cell {
    /// A plain cell.
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            tone: Tone::Plain,
        }
    }

    /// A cell with a tone.
    pub fn toned(text: impl Into<String>, tone: Tone) -> Self {
        Self {
            text: text.into(),
            tone,
        }
    }
}

/// How a cell is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// As it is.
    Plain,
    /// A rise (a Δ above zero).
    Up,
    /// A fall.
    Down,
    /// A group only in the current period.
    New,
    /// A group only in the previous period.
    Gone,
    /// Preceded by a swatch of this colour (an edge's colour on the map).
    Swatch(&'static str),
}
