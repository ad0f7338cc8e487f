//! CSV: a header — the label columns, `window_start`, `window_end` and `partial` in a
//! series, the group-by keys, the value columns, and with `--compare` `status` and a
//! `previous_<name>` per value column — then one line per row. The header is the same
//! whatever the rows (also when there are none). A key with several values holds them
//! joined by `|`; a value the server did not send is an empty field.

use std::io::{self, Write};

use datadog_cnm::analysis::{Number, Status};

use super::{Block, Columns, Sink, joined};
use crate::time::rfc3339;

/// Writes CSV.
pub struct Csv<W: Write> {
    writer: csv::Writer<W>,
    header_written: bool,
}

impl<W: Write> Csv<W> {
    /// CSV on `out`.
    pub fn new(out: W) -> Self {
        Self {
            writer: csv::Writer::from_writer(out),
            header_written: false,
        }
    }

    fn header(&mut self, columns: &Columns) -> io::Result<()> {
        if self.header_written {
            return Ok(());
        }
        self.header_written = true;
        let mut header: Vec<String> = columns.labels.clone();
        if columns.series {
            header.extend(["window_start", "window_end", "partial"].map(str::to_owned));
        }
        header.extend(columns.group_keys.iter().cloned());
        header.extend(columns.values.iter().map(|c| c.name.clone()));
        if columns.compare {
            header.push("status".to_owned());
            header.extend(
                columns
                    .values
                    .iter()
                    .map(|c| format!("previous_{}", c.name)),
            );
        }
        self.writer.write_record(&header).map_err(io_error)
    }
}

impl<W: Write> Sink for Csv<W> {
    fn block(&mut self, columns: &Columns, block: &Block) -> io::Result<()> {
        self.header(columns)?;
        for record in &block.records {
            let mut fields: Vec<String> = record.labels.clone();
            if columns.series {
                fields.push(rfc3339(block.window.from));
                fields.push(rfc3339(block.window.to));
                fields.push(block.partial.to_string());
            }
            for key in &columns.group_keys {
                fields.push(joined(record.group_bys.values(key), "|"));
            }
            fields.extend(record.values.iter().map(field));
            if columns.compare {
                fields.push(match record.status {
                    Some(Status::Both) => "both".to_owned(),
                    Some(Status::New) => "new".to_owned(),
                    Some(Status::Gone) => "gone".to_owned(),
                    None => String::new(),
                });
                match &record.previous {
                    Some(previous) => fields.extend(previous.iter().map(field)),
                    None => fields.extend(columns.values.iter().map(|_| String::new())),
                }
            }
            self.writer.write_record(&fields).map_err(io_error)?;
        }
        self.writer.flush()
    }

    fn finish(&mut self, columns: &Columns) -> io::Result<()> {
        self.header(columns)?;
        self.writer.flush()
    }
}

/// A value as a CSV field.
fn field(value: &Option<Number>) -> String {
    match value {
        Some(Number::Int(n)) => n.to_string(),
        Some(Number::Float(x)) if x.is_finite() => x.to_string(),
        _ => String::new(),
    }
}

/// The I/O error inside a CSV error (so a closed pipe stays a closed pipe), or the CSV
/// error itself.
fn io_error(error: csv::Error) -> io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(error) => error,
        other => io::Error::other(format!("{other:?}")),
    }
}
