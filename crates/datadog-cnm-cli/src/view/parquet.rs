//! Parquet: `-o parquet` writes the pages themselves (not records) to one file, in the
//! schema of `ddcnm export` (the library's `datadog_cnm::arrow`), streamed as it is
//! encoded: row groups reach the output as they fill, and memory holds at most one.
//!
//! The file is complete only when the command succeeds: a series that fails (without
//! `--keep-going`) leaves it without its footer, so no reader takes a part for the whole.

use std::io::{self, Write};

use datadog_cnm::Row;
use datadog_cnm::arrow::PageSchema;
use datadog_cnm::parquet::{PageWriter, ParquetError};

/// Writes pages of `R` as one Parquet file to an output it does not own.
pub struct ParquetOut<R: Row> {
    writer: PageWriter<R, Vec<u8>>,
}

impl<R: Row> ParquetOut<R> {
    /// A file of pages grouped by `group_by`, labelled with `site`.
    pub fn new(group_by: &[String], site: &str) -> io::Result<Self> {
        let schema = PageSchema::<R>::new(group_by.iter().cloned())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let writer = PageWriter::new(Vec::new(), schema, site).map_err(parquet_error)?;
        Ok(Self { writer })
    }

    /// Encode `page`, and pass on to `out` whatever the file has ready.
    pub fn page(&mut self, page: &datadog_cnm::Page<R>, out: &mut impl Write) -> io::Result<()> {
        self.writer.write(page).map_err(parquet_error)?;
        out.write_all(&self.writer.take_bytes())
    }

    /// Write the rest of the file and its footer to `out`.
    pub fn finish(self, out: &mut impl Write) -> io::Result<()> {
        let rest = self.writer.finish().map_err(parquet_error)?;
        out.write_all(&rest)?;
        out.flush()
    }
}

/// A Parquet error as an I/O error (a closed pipe stays a closed pipe).
pub fn parquet_error(error: ParquetError) -> io::Error {
    match error {
        ParquetError::External(inner) => match inner.downcast::<io::Error>() {
            Ok(io) => *io,
            Err(other) => io::Error::other(format!("writing Parquet: {other}")),
        },
        other => io::Error::other(format!("writing Parquet: {other}")),
    }
}

/// Refuse the flags whose output has no place in the Parquet schema (every metric as the
/// API counts it, one row per group and window): `flags` are each flag's name and whether
/// it was given; `what` is the command, for the message.
pub fn refuse_flags(flags: &[(&str, bool)], what: &str) -> Result<(), String> {
    let given: Vec<&str> = flags
        .iter()
        .filter(|(_, given)| *given)
        .map(|(name, _)| *name)
        .collect();
    match given.as_slice() {
        [] => Ok(()),
        [one] => Err(format!(
            "{what} writes every metric as the API counts it, one row per group and window; \
             {one} does not apply (drop it, or use -o json or csv for that view)"
        )),
        several => Err(format!(
            "{what} writes every metric as the API counts it, one row per group and window; \
             {} do not apply (drop them, or use -o json or csv for that view)",
            several.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_without_a_place_in_the_schema_are_named() {
        assert_eq!(refuse_flags(&[("--rate", false)], "-o parquet"), Ok(()));
        let one = refuse_flags(&[("--rate", true), ("--compare", false)], "-o parquet");
        assert!(
            one.as_ref()
                .is_err_and(|m| m.contains("--rate does not apply")),
            "{one:?}"
        );
        let two = refuse_flags(&[("--rate", true), ("--compare", true)], "export");
        assert!(
            two.as_ref()
                .is_err_and(|m| m.starts_with("export") && m.contains("--rate, --compare do")),
            "{two:?}"
        );
    }

    #[test]
    fn io_errors_inside_parquet_errors_keep_their_kind() {
        let pipe = ParquetError::External(Box::new(io::Error::from(io::ErrorKind::BrokenPipe)));
        assert_eq!(parquet_error(pipe).kind(), io::ErrorKind::BrokenPipe);
        let general = parquet_error(ParquetError::General("bad".to_owned()));
        assert!(
            general.to_string().contains("writing Parquet: "),
            "{general}"
        );
    }
}
