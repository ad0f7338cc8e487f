//! JSON (one array, written row by row as blocks arrive) and NDJSON (one object per line).
//!
//! A row object: the label columns (`profile`, `site`) when several targets were queried;
//! `window_start`, `window_end` and `partial` in a series; `group_bys` (key → array of
//! values, as the API sends them); every value column under its name (`null` when the
//! server did not send it); and with `--compare`, `status` (`both`, `new` or `gone`) and
//! `previous`, an object with the same value columns for the previous period (`null` for a
//! new group).

use std::io::{self, Write};

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{Block, Columns, Record, Sink};
use crate::time::rfc3339;

/// Writes a JSON array or NDJSON.
pub struct Json<W: Write> {
    out: W,
    /// One object per line instead of one array.
    lines: bool,
    /// Rows written so far.
    rows: usize,
}

impl<W: Write> Json<W> {
    /// A JSON array on `out`.
    pub fn array(out: W) -> Self {
        Self {
            out,
            lines: false,
            rows: 0,
        }
    }

    /// NDJSON on `out`.
    pub fn lines(out: W) -> Self {
        Self {
            out,
            lines: true,
            rows: 0,
        }
    }
}

impl<W: Write> Sink for Json<W> {
    fn block(&mut self, columns: &Columns, block: &Block) -> io::Result<()> {
        for record in &block.records {
            let object = RowObject {
                columns,
                block,
                record,
            };
            if self.lines {
                serde_json::to_writer(&mut self.out, &object)?;
                writeln!(self.out)?;
            } else {
                self.out
                    .write_all(if self.rows == 0 { b"[\n" } else { b",\n" })?;
                let text = serde_json::to_string_pretty(&object)?;
                for (i, line) in text.lines().enumerate() {
                    if i > 0 {
                        self.out.write_all(b"\n")?;
                    }
                    write!(self.out, "  {line}")?;
                }
            }
            self.rows += 1;
        }
        // A block is a window: print it now, rather than when the buffer fills.
        self.out.flush()
    }

    fn finish(&mut self, _: &Columns) -> io::Result<()> {
        if !self.lines {
            self.out
                .write_all(if self.rows == 0 { b"[]\n" } else { b"\n]\n" })?;
        }
        self.out.flush()
    }
}

/// One record as a JSON object.
struct RowObject<'a> {
    columns: &'a Columns,
    block: &'a Block,
    record: &'a Record,
}

impl Serialize for RowObject<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (columns, record) = (self.columns, self.record);
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in columns.labels.iter().zip(&record.labels) {
            map.serialize_entry(name, value)?;
        }
        if columns.series {
            map.serialize_entry("window_start", &rfc3339(self.block.window.from))?;
            map.serialize_entry("window_end", &rfc3339(self.block.window.to))?;
            map.serialize_entry("partial", &self.block.partial)?;
        }
        map.serialize_entry("group_bys", &record.group_bys)?;
        for (column, value) in columns.values.iter().zip(&record.values) {
            map.serialize_entry(&column.name, value)?;
        }
        if columns.compare {
            map.serialize_entry("status", &record.status)?;
            let previous = record
                .previous
                .as_ref()
                .map(|values| Values { columns, values });
            map.serialize_entry("previous", &previous)?;
        }
        map.end()
    }
}

/// The previous period's values as an object.
struct Values<'a> {
    columns: &'a Columns,
    values: &'a [Option<datadog_cnm::analysis::Number>],
}

impl Serialize for Values<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.values.len()))?;
        for (column, value) in self.columns.values.iter().zip(self.values) {
            map.serialize_entry(&column.name, value)?;
        }
        map.end()
    }
}
