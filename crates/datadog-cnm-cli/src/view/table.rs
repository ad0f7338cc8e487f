//! Tables for a terminal: a header line (what was asked, the window, where, how many rows),
//! the group-by columns, then the value columns with their units under their labels,
//! human-formatted. A default table shows the most important columns that fit the
//! terminal (`COLUMNS`, or the terminal's width) and says which it left out; `-o wide`
//! shows every column.
//!
//! Three layouts: one table per block (a page, or each window of a series with
//! `--per-window`); a comparison (`--compare`: value, Δ and Δ% per column, new and gone
//! groups first); and a trend (`--step`: one line per group with a sparkline, printed when
//! the last window has arrived).

use std::io::{self, Write};

use comfy_table::{CellAlignment, Table as Grid};
use datadog_cnm::analysis::{Number, Status, TrendSummary, TrendWindow};
use datadog_cnm::{GroupBys, Window};

use super::{Block, Columns, Record, Sink, joined_for_terminal, truncation_note};
use crate::format;

/// What the header line says besides the window and the rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Heading {
    /// `connections` or `dns`.
    pub endpoint: String,
    /// Where the rows came from (a site's domain, a base URL).
    pub target: String,
    /// How rows are ordered, e.g. `ranked by tcp_retransmits`.
    pub ranking: Option<String>,
}

/// How wide a table may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// Fit this many columns of text.
    Fit(usize),
    /// Show every column, however wide (`-o wide`).
    Wide,
    /// The default columns, not fitted (output that is not a terminal, no `COLUMNS`).
    Default,
}

/// Writes tables.
pub struct Table<W: Write> {
    out: W,
    heading: Heading,
    width: Width,
    /// Tables printed so far.
    blocks: usize,
}

impl<W: Write> Table<W> {
    /// Tables on `out`.
    pub fn new(out: W, heading: Heading, width: Width) -> Self {
        Self {
            out,
            heading,
            width,
            blocks: 0,
        }
    }

    fn page(&mut self, columns: &Columns, block: &Block) -> io::Result<()> {
        let shown = self.shown(columns, block);
        if self.blocks > 0 {
            writeln!(self.out)?;
        }
        let heading = self.heading_parts(block);
        self.write_heading(&heading)?;
        if block.records.is_empty() {
            writeln!(self.out, "no rows")?;
        } else {
            let grid = grid(columns, block, &shown.columns);
            self.out.write_all(render(&grid).as_bytes())?;
        }
        if !shown.dropped.is_empty() {
            self.write_note(&format!(
                "{} more column{} did not fit: {} (-o wide shows every column; --columns \
                 picks them)",
                shown.dropped.len(),
                if shown.dropped.len() == 1 { "" } else { "s" },
                shown.dropped.join(", ")
            ))?;
        }
        if let Some(note) = truncation_note(usize::from(block.truncated), 1, block.limit) {
            self.write_note(&note)?;
        }
        self.out.flush()
    }

    /// Write a note under a table, its words wrapped to the width.
    fn write_note(&mut self, text: &str) -> io::Result<()> {
        let Width::Fit(width) = self.width else {
            return writeln!(self.out, "{text}");
        };
        let mut line = String::new();
        for word in text.split(' ') {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                writeln!(self.out, "{line}")?;
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        writeln!(self.out, "{line}")
    }

    /// Write the parts of a heading joined by ` · `, on as many lines as the width needs.
    fn write_heading(&mut self, parts: &[String]) -> io::Result<()> {
        let width = match self.width {
            Width::Fit(width) => width,
            _ => usize::MAX,
        };
        let mut line = String::new();
        for part in parts {
            let candidate = if line.is_empty() {
                part.clone()
            } else {
                format!("{line} · {part}")
            };
            if !line.is_empty() && candidate.chars().count() > width {
                writeln!(self.out, "{line} ·")?;
                line = part.clone();
            } else {
                line = candidate;
            }
        }
        writeln!(self.out, "{line}")
    }

    fn heading_parts(&self, block: &Block) -> Vec<String> {
        let rows = block.records.len();
        let mut parts = vec![
            self.heading.endpoint.clone(),
            format!("{} UTC", format::window(&block.window)),
        ];
        if block.partial {
            parts.push("partial window".to_owned());
        }
        if !self.heading.target.is_empty() {
            parts.push(self.heading.target.clone());
        }
        parts.push(format!("{rows} row{}", if rows == 1 { "" } else { "s" }));
        if let Some(ranking) = &self.heading.ranking {
            parts.push(ranking.clone());
        }
        parts
    }

    /// The value columns to show, fitted to the width.
    fn shown(&self, columns: &Columns, block: &Block) -> Shown {
        let wanted: Vec<usize> = match self.width {
            Width::Wide => (0..columns.values.len()).collect(),
            _ => columns.table.clone(),
        };
        let Width::Fit(width) = self.width else {
            return Shown {
                columns: wanted,
                dropped: Vec::new(),
            };
        };
        let mut shown = wanted;
        let mut dropped = Vec::new();
        while shown.len() > 1 && text_width(&grid(columns, block, &shown)) > width {
            if let Some(last) = shown.pop() {
                dropped.insert(0, columns.values[last].name.clone());
            }
        }
        Shown {
            columns: shown,
            dropped,
        }
    }
}

/// The value columns a table shows, and those left out to fit.
struct Shown {
    columns: Vec<usize>,
    dropped: Vec<String>,
}

impl<W: Write> Table<W> {
    /// Print `trend` (of value column `column`): a heading, one line per group with a
    /// sparkline and the first, last and largest value, and notes on partial and
    /// truncated windows.
    pub fn trend(
        &mut self,
        columns: &Columns,
        column: usize,
        trend: &TrendView<'_>,
    ) -> io::Result<()> {
        let windows = trend.windows;
        let span = match (windows.first(), windows.last()) {
            (Some(first), Some(last)) => Window {
                from: first.window.from,
                to: last.window.to,
            },
            _ => return writeln!(self.out, "no windows"),
        };
        let rows = trend.lines.len();
        let mut parts = vec![
            self.heading.endpoint.clone(),
            format!("{} UTC", format::window(&span)),
            format!(
                "{} window{}",
                windows.len(),
                if windows.len() == 1 { "" } else { "s" }
            ),
        ];
        if !self.heading.target.is_empty() {
            parts.push(self.heading.target.clone());
        }
        parts.push(format!("{rows} group{}", if rows == 1 { "" } else { "s" }));
        let mut what = format!("trend of {}", columns.values[column].name);
        if let Some(ranking) = &self.heading.ranking {
            what.push_str(&format!(", {ranking}"));
        }
        parts.push(what);
        self.write_heading(&parts)?;
        // Fit the width by leaving out first, then last, then when the peak was.
        let mut shown = TrendColumns::ALL;
        let fits = |shown: TrendColumns| match self.width {
            Width::Fit(width) => text_width(&trend_grid(columns, column, trend, shown)) <= width,
            _ => true,
        };
        for drop in [
            TrendColumns::FIRST,
            TrendColumns::LAST,
            TrendColumns::PEAK_AT,
        ] {
            if fits(shown) {
                break;
            }
            shown.0 &= !drop.0;
        }
        self.out
            .write_all(render(&trend_grid(columns, column, trend, shown)).as_bytes())?;
        // The windows that are so, numbered from 1.
        let numbers = |is: fn(&TrendWindow) -> bool| -> Vec<String> {
            windows
                .iter()
                .enumerate()
                .filter(|(_, w)| is(w))
                .map(|(i, _)| (i + 1).to_string())
                .collect()
        };
        let partial = numbers(|w| w.partial);
        let failed = numbers(|w| w.failed);
        if !failed.is_empty() {
            self.write_note(&format!(
                "{FAILED_BAR} marks failed window{} ({}): named with the error above",
                if failed.len() == 1 { "" } else { "s" },
                failed.join(", ")
            ))?;
        }
        if !partial.is_empty() && !columns.per_second {
            self.write_note(&format!(
                "· marks partial window{} ({}), shorter than the step: left out of the line \
                 and of first/last/max; --rate compares every window per second",
                if partial.len() == 1 { "" } else { "s" },
                partial.join(", ")
            ))?;
        }
        let per_bar = windows_per_bar(windows.len());
        if per_bar > 1 {
            self.write_note(&format!(
                "each bar is {per_bar} windows (their largest value); -o csv or ndjson give every \
                 window"
            ))?;
        }
        let truncated = windows.iter().filter(|w| w.truncated).count();
        let limit = windows.iter().map(|w| w.limit).max().unwrap_or(0);
        if let Some(note) = truncation_note(truncated, windows.len(), limit) {
            self.write_note(&note)?;
        }
        self.out.flush()
    }
}

impl<W: Write> Sink for Table<W> {
    fn block(&mut self, columns: &Columns, block: &Block) -> io::Result<()> {
        self.page(columns, block)?;
        self.blocks += 1;
        Ok(())
    }

    fn finish(&mut self, _: &Columns) -> io::Result<()> {
        self.out.flush()
    }
}

/// A grid of `block`'s records with value columns `shown`.
fn grid(columns: &Columns, block: &Block, shown: &[usize]) -> Grid {
    let mut grid = new_grid();
    let mut header: Vec<String> = columns.labels.clone();
    header.extend(columns.group_keys.iter().cloned());
    if columns.compare {
        header.push("status".to_owned());
    }
    for &index in shown {
        let column = &columns.values[index];
        let unit = column.unit_label(columns.per_second);
        let label = if unit.is_empty() {
            column.label.clone()
        } else {
            format!("{}\n{unit}", column.label)
        };
        header.push(label);
        if columns.compare {
            header.push(format!("Δ {}", column.label));
            header.push("Δ%".to_owned());
        }
    }
    grid.set_header(header);
    for record in &block.records {
        grid.add_row(cells(columns, record, shown));
    }
    let first_value =
        columns.labels.len() + columns.group_keys.len() + usize::from(columns.compare);
    for index in first_value..first_value + shown.len() * if columns.compare { 3 } else { 1 } {
        if let Some(column) = grid.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    grid
}

fn cells(columns: &Columns, record: &Record, shown: &[usize]) -> Vec<String> {
    let mut cells: Vec<String> = record.labels.clone();
    for key in &columns.group_keys {
        cells.push(joined_for_terminal(record.group_bys.values(key), ", "));
    }
    if columns.compare {
        cells.push(
            match record.status {
                Some(Status::New) => "new",
                Some(Status::Gone) => "gone",
                _ => "",
            }
            .to_owned(),
        );
    }
    for &index in shown {
        let unit = columns.values[index].unit;
        let value = record.values.get(index).copied().flatten();
        cells.push(value.map_or_else(|| "–".to_owned(), |v| format::value(unit, v)));
        if columns.compare {
            let previous = record
                .previous
                .as_ref()
                .and_then(|values| values.get(index).copied().flatten());
            let (now, then) = (value.map(Number::as_f64), previous.map(Number::as_f64));
            // A count missing on one side is none of it (a new or gone group); a mean or a
            // ratio missing on one side has no change to show.
            let additive = columns.values[index].additive;
            let delta = match (now, then) {
                (Some(now), Some(then)) => Some(now - then),
                (None, None) => None,
                (now, then) if additive => Some(now.unwrap_or(0.0) - then.unwrap_or(0.0)),
                _ => None,
            };
            cells.push(delta.map_or_else(|| "–".to_owned(), |d| format::delta(unit, d)));
            let change = match (delta, then) {
                (Some(delta), Some(then)) if then != 0.0 => format::change(delta / then.abs()),
                _ => "–".to_owned(),
            };
            cells.push(change);
        }
    }
    cells
}

/// No borders and no row separators: a line under the header, columns set apart by
/// spaces, so rows stay greppable and copy cleanly.
const STYLE: &str = "     ──            ";

/// A grid in the tables' style.
pub fn new_grid() -> Grid {
    let mut grid = Grid::new();
    grid.load_preset(STYLE);
    grid
}

/// `grid` as text, without the padding comfy-table leaves at the end of lines.
pub fn render(grid: &Grid) -> String {
    let mut text = String::new();
    for line in grid.lines() {
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// The widest line of `grid`, in characters.
fn text_width(grid: &Grid) -> usize {
    grid.lines()
        .map(|line| line.trim_end().chars().count())
        .max()
        .unwrap_or(0)
}

/// A trend to print: its windows, and the lines of its groups in print order.
pub struct TrendView<'a> {
    /// The windows, in order.
    pub windows: &'a [TrendWindow],
    /// Which windows count (full ones, or all with `--rate`).
    pub counts: Vec<bool>,
    /// One line per group.
    pub lines: Vec<TrendLine<'a>>,
}

/// One group's line of a trend.
pub struct TrendLine<'a> {
    /// Values of [`Columns::labels`].
    pub labels: &'a [String],
    /// The group-by values.
    pub group_bys: &'a GroupBys,
    /// One value per window.
    pub values: &'a [Option<f64>],
    /// Its first, last and largest value over the windows that count.
    pub summary: TrendSummary,
}

/// Bars of a sparkline, lowest first.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A line of bars, one per window: `·` for a window that does not count, a space where
/// the group has no value.
fn sparkline(line: &TrendLine<'_>, counts: &[bool], failed: &[bool]) -> String {
    let top = line.summary.peak.map_or(0.0, |(_, v)| v);
    let per_bar = windows_per_bar(counts.len());
    line.values
        .chunks(per_bar)
        .zip(counts.chunks(per_bar))
        .zip(failed.chunks(per_bar).chain(std::iter::repeat(&[][..])))
        .map(|((values, counts), failed)| {
            // A bar of several windows shows the largest value of those that count.
            let counted: Vec<f64> = values
                .iter()
                .zip(counts)
                .filter(|(_, counts)| **counts)
                .filter_map(|(value, _)| *value)
                .collect();
            let value = counted.iter().copied().reduce(f64::max);
            match value {
                _ if !failed.is_empty() && failed.iter().all(|f| *f) => FAILED_BAR,
                _ if !counts.iter().any(|c| *c) => '·',
                None => ' ',
                Some(v) if top <= 0.0 => {
                    if v > 0.0 {
                        BARS[7]
                    } else {
                        BARS[0]
                    }
                }
                Some(v) => BARS[((v / top) * 7.0).round().clamp(0.0, 7.0) as usize],
            }
        })
        .collect()
}

/// The bar of a window that failed (`--keep-going`).
const FAILED_BAR: char = '✕';

/// The most bars a sparkline has: longer series put several windows in a bar.
const MAX_BARS: usize = 48;

/// How many windows each bar of a sparkline of `windows` windows stands for.
fn windows_per_bar(windows: usize) -> usize {
    windows.div_ceil(MAX_BARS).max(1)
}

/// When a window started, as short as the trend allows: `07:00` when every window is in
/// one day, else `11-30 07:00`.
fn window_start(windows: &[TrendWindow], i: usize) -> String {
    let day = |w: &TrendWindow| crate::time::rfc3339(w.window.from)[..10].to_owned();
    let one_day = windows.first().map(day)
        == windows.last().map(|w| {
            // A window ending at midnight still belongs to its day.
            crate::time::rfc3339(w.window.to - std::time::Duration::from_secs(1))[..10].to_owned()
        });
    let start = crate::time::rfc3339(windows[i].window.from);
    if one_day {
        start[11..16].to_owned()
    } else {
        format!("{} {}", &start[5..10], &start[11..16])
    }
}

/// Which of a trend table's optional columns are shown (bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TrendColumns(u8);

impl TrendColumns {
    const FIRST: Self = Self(1);
    const LAST: Self = Self(2);
    const PEAK_AT: Self = Self(4);
    const ALL: Self = Self(7);

    fn has(self, column: Self) -> bool {
        self.0 & column.0 != 0
    }
}

fn trend_grid(
    columns: &Columns,
    column: usize,
    trend: &TrendView<'_>,
    shown: TrendColumns,
) -> Grid {
    let per_second = columns.per_second;
    let value_column = &columns.values[column];
    let unit = value_column.unit;
    let failed: Vec<bool> = trend.windows.iter().map(|w| w.failed).collect();
    let mut grid = new_grid();
    let mut header: Vec<String> = columns.labels.clone();
    header.extend(columns.group_keys.iter().cloned());
    let unit_label = value_column.unit_label(per_second);
    let suffix = if unit_label.is_empty() {
        String::new()
    } else {
        format!("\n{unit_label}")
    };
    header.push(format!("{}{suffix}", value_column.label));
    // `max` is always shown; the others as the width allows.
    let optional = [
        (Some(TrendColumns::FIRST), "first"),
        (Some(TrendColumns::LAST), "last"),
        (None, "max"),
        (Some(TrendColumns::PEAK_AT), "max at"),
    ];
    header.extend(
        optional
            .iter()
            .filter(|(bit, _)| bit.is_none_or(|bit| shown.has(bit)))
            .map(|(_, name)| (*name).to_owned()),
    );
    grid.set_header(header);
    let show = |value: Option<f64>| {
        value.map_or_else(
            || "–".to_owned(),
            |v| {
                let number = if per_second || v.fract() != 0.0 {
                    Number::Float(v)
                } else {
                    Number::Int(v as i64)
                };
                format::value(unit, number)
            },
        )
    };
    for line in &trend.lines {
        let mut cells: Vec<String> = line.labels.to_vec();
        for key in &columns.group_keys {
            cells.push(joined_for_terminal(line.group_bys.values(key), ", "));
        }
        cells.push(sparkline(line, &trend.counts, &failed));
        if shown.has(TrendColumns::FIRST) {
            cells.push(show(line.summary.first));
        }
        if shown.has(TrendColumns::LAST) {
            cells.push(show(line.summary.last));
        }
        cells.push(show(line.summary.peak.map(|(_, v)| v)));
        if shown.has(TrendColumns::PEAK_AT) {
            cells.push(
                line.summary
                    .peak
                    .map_or_else(|| "–".to_owned(), |(i, _)| window_start(trend.windows, i)),
            );
        }
        grid.add_row(cells);
    }
    let numbers = 1
        + usize::from(shown.has(TrendColumns::FIRST))
        + usize::from(shown.has(TrendColumns::LAST));
    let first_value = columns.labels.len() + columns.group_keys.len() + 1;
    for index in first_value..first_value + numbers {
        if let Some(column) = grid.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    grid
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(values: &'a [Option<f64>], group_bys: &'a GroupBys) -> TrendLine<'a> {
        let peak = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| Some((i, (*v)?)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        TrendLine {
            labels: &[],
            group_bys,
            values,
            summary: TrendSummary {
                peak,
                ..TrendSummary::default()
            },
        }
    }

    #[test]
    fn sparklines_mark_partial_and_missing_windows() {
        let group_bys = GroupBys::default();
        // Partial windows (1 and 5) are left out of the summary: the peak is 8.
        let values = [Some(1.0), Some(8.0), None, Some(4.0), Some(100.0)];
        let counts = [false, true, true, true, false];
        let mut trend = line(&values, &group_bys);
        trend.summary.peak = Some((1, 8.0));
        assert_eq!(sparkline(&trend, &counts, &[]), "·█ ▅·");
        // A failed window keeps its place.
        let failed = [false, false, true, false, false];
        assert_eq!(sparkline(&trend, &counts, &failed), "·█✕▅·");
    }

    #[test]
    fn long_series_put_several_windows_in_a_bar() {
        assert_eq!(windows_per_bar(48), 1);
        assert_eq!(windows_per_bar(49), 2);
        assert_eq!(windows_per_bar(721), 16);
        let group_bys = GroupBys::default();
        // 96 windows, a spike in window 50: 48 bars of two windows, the spike in bar 25.
        let mut values = vec![Some(1.0); 96];
        values[50] = Some(10.0);
        let counts = vec![true; 96];
        let bars: Vec<char> = sparkline(&line(&values, &group_bys), &counts, &[])
            .chars()
            .collect();
        assert_eq!(bars.len(), 48);
        assert_eq!(bars[25], '█');
        assert_eq!(bars.iter().filter(|b| **b == '█').count(), 1);
    }
}
