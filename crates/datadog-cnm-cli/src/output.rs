//! Writing a [`Report`] (or any list of records) as table, JSON, NDJSON or CSV.

use std::io::{self, Write};

use comfy_table::{CellAlignment, Table};
use datadog_cnm::ConnectionsQuery;

use crate::cli::OutputFormat;
use crate::format;
use crate::report::Report;

/// Where results and notes go.
pub struct Out<W: Write> {
    /// Results (stdout).
    pub results: W,
    /// `--output`.
    pub format: OutputFormat,
}

impl<W: Write> Out<W> {
    /// Print `report` in the chosen format. A truncation note is part of the table; for
    /// machine formats it is returned so the caller can put it on stderr.
    pub fn report(&mut self, report: &Report) -> io::Result<Option<String>> {
        let note = truncation_note(report);
        match self.format {
            OutputFormat::Table => {
                write_table(&mut self.results, report)?;
                if let Some(note) = &note {
                    writeln!(self.results, "{note}")?;
                }
                self.results.flush()?;
                return Ok(None);
            }
            OutputFormat::Json => {
                let rows: Vec<_> = report.json_rows().collect();
                serde_json::to_writer_pretty(&mut self.results, &rows)?;
                writeln!(self.results)?;
            }
            OutputFormat::Ndjson => {
                for row in report.json_rows() {
                    serde_json::to_writer(&mut self.results, &row)?;
                    writeln!(self.results)?;
                }
            }
            OutputFormat::Csv => write_csv(&mut self.results, report)?,
        }
        self.results.flush()?;
        Ok(note)
    }

    /// Print plain records (`sites`): `columns` names the fields of every record.
    pub fn records(&mut self, columns: &[&str], records: &[Vec<String>]) -> io::Result<()> {
        match self.format {
            OutputFormat::Table => {
                let mut table = new_table();
                table.set_header(columns.iter().copied());
                for record in records {
                    table.add_row(record.iter().map(String::as_str));
                }
                self.results.write_all(render(&table).as_bytes())?;
            }
            OutputFormat::Json | OutputFormat::Ndjson => {
                let objects: Vec<serde_json::Map<String, serde_json::Value>> = records
                    .iter()
                    .map(|record| {
                        columns
                            .iter()
                            .zip(record)
                            .map(|(c, v)| ((*c).to_owned(), v.clone().into()))
                            .collect()
                    })
                    .collect();
                if self.format == OutputFormat::Json {
                    serde_json::to_writer_pretty(&mut self.results, &objects)?;
                    writeln!(self.results)?;
                } else {
                    for object in &objects {
                        serde_json::to_writer(&mut self.results, object)?;
                        writeln!(self.results)?;
                    }
                }
            }
            OutputFormat::Csv => {
                let mut writer = csv::Writer::from_writer(&mut self.results);
                writer.write_record(columns)?;
                for record in records {
                    writer.write_record(record)?;
                }
                writer.flush()?;
            }
        }
        self.results.flush()
    }
}

/// No borders and no row separators: a line under the header, columns set apart by
/// spaces, so rows stay greppable and copy cleanly.
const STYLE: &str = "     ──            ";

fn new_table() -> Table {
    let mut table = Table::new();
    table.load_preset(STYLE);
    table
}

/// `table` as text, without the padding comfy-table leaves at the end of lines.
fn render(table: &Table) -> String {
    let mut text = String::new();
    for line in table.lines() {
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// Group-by values of one key joined for a cell (connections may carry several).
fn joined<'a>(values: impl Iterator<Item = &'a str>, separator: &str) -> String {
    values.collect::<Vec<_>>().join(separator)
}

fn write_table(out: &mut impl Write, report: &Report) -> io::Result<()> {
    if report.rows.is_empty() {
        let windows = match report.windows.as_slice() {
            [one] => format!(" in {one}"),
            [first, .., last] => format!(" in [{}, {})", rfc(first.from), rfc(last.to)),
            [] => String::new(),
        };
        return writeln!(out, "no rows{windows}");
    }
    let mut table = new_table();
    let mut header: Vec<&str> = Vec::new();
    if report.series {
        header.push("window (UTC)");
    }
    header.extend(report.group_keys.iter().map(String::as_str));
    header.extend(
        report
            .table_columns
            .iter()
            .map(|&index| report.metrics[index].label.as_str()),
    );
    table.set_header(header);
    for row in &report.rows {
        let mut cells: Vec<String> = Vec::new();
        if report.series {
            cells.push(format::window(&row.window));
        }
        for key in &report.group_keys {
            cells.push(joined(row.group_bys.values(key), ", "));
        }
        for index in &report.table_columns {
            let metric = &report.metrics[*index];
            let value = row.values.get(*index).copied().flatten();
            cells.push(value.map_or_else(|| "–".to_owned(), |v| metric.kind.format(v)));
        }
        table.add_row(cells);
    }
    let first_metric = usize::from(report.series) + report.group_keys.len();
    for index in first_metric..first_metric + report.table_columns.len() {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    out.write_all(render(&table).as_bytes())
}

fn rfc(time: std::time::SystemTime) -> String {
    crate::time::rfc3339(time)
}

fn write_csv(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    let mut header: Vec<&str> = Vec::new();
    if report.series {
        header.extend(["window_start", "window_end"]);
    }
    header.extend(report.group_keys.iter().map(String::as_str));
    header.extend(report.metrics.iter().map(|m| m.name.as_str()));
    writer.write_record(&header)?;
    for row in &report.rows {
        let mut record: Vec<String> = Vec::with_capacity(header.len());
        if report.series {
            record.push(rfc(row.window.from));
            record.push(rfc(row.window.to));
        }
        for key in &report.group_keys {
            record.push(joined(row.group_bys.values(key), "|"));
        }
        for value in &row.values {
            record.push(value.map(|v| v.to_string()).unwrap_or_default());
        }
        writer.write_record(&record)?;
    }
    writer.flush()
}

/// What to tell the user when pages were cut at the limit.
fn truncation_note(report: &Report) -> Option<String> {
    let limit = report.limit;
    let max = ConnectionsQuery::MAX_LIMIT;
    let advice = if limit < max {
        format!("raise --limit (max {max}) or narrow the query")
    } else {
        "narrow the query or the window".to_owned()
    };
    match (report.truncated.len(), report.windows.len()) {
        (0, _) => None,
        (_, 0 | 1) => Some(format!(
            "truncated: exactly {limit} rows came back (the limit), so there may be more \
             groups; {advice}"
        )),
        (cut, total) => Some(format!(
            "truncated: {cut} of {total} windows returned exactly {limit} rows (the limit), so \
             there may be more groups; {advice}"
        )),
    }
}
