//! Where results go, and plain lists of records (`sites`) in every format. Query results
//! have their own writers in [`crate::view`].

use std::io::{self, Write};

use crate::cli::OutputFormat;
use crate::view::table::{new_grid, render};

/// Where results go.
pub struct Out<W: Write> {
    /// Results (stdout).
    pub results: W,
    /// `--output`.
    pub format: OutputFormat,
}

impl<W: Write> Out<W> {
    /// Print plain records (`sites`): `columns` names the fields of every record.
    pub fn records(&mut self, columns: &[&str], records: &[Vec<String>]) -> io::Result<()> {
        match self.format {
            OutputFormat::Table | OutputFormat::Wide => {
                let mut grid = new_grid();
                grid.set_header(columns.iter().copied());
                for record in records {
                    grid.add_row(record.iter().map(String::as_str));
                }
                self.results.write_all(render(&grid).as_bytes())?;
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
