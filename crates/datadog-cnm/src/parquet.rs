//! Pages written to Parquet (feature `parquet`, which implies `arrow`), in the schema of
//! [`crate::arrow`]: what `ddcnm export` and `ddcnm … -o parquet` write.
//!
//! Files are Snappy-compressed (pure Rust, fast, read by every engine; no other codec is
//! built), dictionary-encoded where it pays (group-by values, the site), with column
//! statistics, and the Arrow schema embedded so Arrow readers get the exact types back.
//!
//! ```no_run
//! use std::fs::File;
//! use std::time::Duration;
//! use datadog_cnm::{Client, Window};
//! use datadog_cnm::arrow::PageSchema;
//! use datadog_cnm::parquet::PageWriter;
//! use futures::StreamExt;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::from_env()?;
//! let query = client.connections().group_by(["client_service", "server_service"]);
//! let schema = PageSchema::of(&query)?;
//! let mut writer = PageWriter::new(File::create("day.parquet")?, schema, client.site().domain())?;
//! let day = Window::last(Duration::from_secs(86_400));
//! let mut pages = std::pin::pin!(query.series(day, Duration::from_secs(3600)).stream());
//! while let Some(page) = pages.next().await {
//!     let (_, page) = page?;
//!     writer.write(&page)?; // memory stays bounded: rows are encoded as they come
//! }
//! writer.finish()?.sync_all()?;
//! # Ok(())
//! # }
//! ```

use std::io::Write;

use ::parquet::arrow::ArrowWriter;
use ::parquet::basic::Compression;
use ::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datadog_cnm_raw::Row;

pub use ::parquet::errors::ParquetError;

use crate::arrow::PageSchema;
use crate::page::Page;

/// Rows per row group at most (DuckDB's own row groups are about this size): bounds the
/// memory a writer holds, since a row group is buffered until it is complete.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// The writer properties of files this crate writes: Snappy, dictionaries, chunk and page
/// statistics, row groups of at most [`ROW_GROUP_ROWS`] rows, and `created_by` naming this
/// crate.
pub fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(true)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(format!(
            "datadog-cnm version {} (parquet-rs)",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
}

/// Writes pages of `R` to one Parquet file on `W`, as they come.
///
/// Rows are encoded when [`write`](Self::write) is called and reach `W` a row group at a
/// time, so memory holds at most one row group whatever the number of pages. The file is
/// complete (readable) only after [`finish`](Self::finish): a writer dropped before that
/// leaves a file without its footer, which readers reject.
pub struct PageWriter<R: Row, W: Write + Send> {
    schema: PageSchema<R>,
    site: String,
    writer: ArrowWriter<W>,
    rows: u64,
}

impl<R: Row, W: Write + Send> PageWriter<R, W> {
    /// A writer of pages of `schema`, labelled with `site` (e.g. `client.site().domain()`),
    /// to `out`, with [`writer_properties`].
    pub fn new(
        out: W,
        schema: PageSchema<R>,
        site: impl Into<String>,
    ) -> Result<Self, ParquetError> {
        Self::with_properties(out, schema, site, writer_properties())
    }

    /// [`new`](Self::new) with other writer properties (another codec, if your `parquet`
    /// dependency enables it; other row group sizes).
    pub fn with_properties(
        out: W,
        schema: PageSchema<R>,
        site: impl Into<String>,
        properties: WriterProperties,
    ) -> Result<Self, ParquetError> {
        let writer = ArrowWriter::try_new(out, schema.schema().clone(), Some(properties))?;
        Ok(Self {
            schema,
            site: site.into(),
            writer,
            rows: 0,
        })
    }

    /// Encode the rows of `page`.
    pub fn write(&mut self, page: &Page<R>) -> Result<(), ParquetError> {
        let batch = self.schema.record_batch(page, &self.site)?;
        self.writer.write(&batch)?;
        self.rows += page.rows.len() as u64;
        Ok(())
    }

    /// End the current row group now and hand its bytes to `W` (for instance at the end
    /// of a window, so that what was written so far reaches the output).
    pub fn flush(&mut self) -> Result<(), ParquetError> {
        self.writer.flush()?;
        self.writer.sync()?;
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Bytes handed to `W` so far (the whole file's size after [`finish`](Self::finish)).
    pub fn bytes_written(&self) -> usize {
        self.writer.bytes_written()
    }

    /// The schema.
    pub fn schema(&self) -> &PageSchema<R> {
        &self.schema
    }

    /// Write the last row group and the footer, and return `W` (call `sync_all` on a
    /// file to make it durable).
    pub fn finish(self) -> Result<W, ParquetError> {
        let mut out = self.writer.into_inner()?;
        out.flush()?;
        Ok(out)
    }
}

impl<R: Row> PageWriter<R, Vec<u8>> {
    /// The bytes of the file written since the last call, taken out of the writer's
    /// buffer: to stream a file to an output the writer cannot own (one that is not
    /// `Send`, such as a borrowed standard output). Call after [`flush`](Self::flush);
    /// after [`finish`](Self::finish) the rest is in the returned vector.
    pub fn take_bytes(&mut self) -> Vec<u8> {
        std::mem::take(self.writer.inner_mut())
    }
}

impl<R: Row, W: Write + Send> std::fmt::Debug for PageWriter<R, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageWriter")
            .field("schema", &self.schema)
            .field("site", &self.site)
            .field("rows", &self.rows)
            .field("bytes_written", &self.bytes_written())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::Window;
    use ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use bytes::Bytes;
    use datadog_cnm_raw::{Connection, GroupBys};

    fn page(window: Window, rows: usize) -> Page<Connection> {
        Page {
            rows: (0..rows)
                .map(|i| {
                    let mut row = Connection {
                        group_bys: [("client_service", format!("svc-{i}"))]
                            .into_iter()
                            .collect::<GroupBys>(),
                        ..Connection::default()
                    };
                    row.bytes_sent_by_client = Some(i as i64);
                    row
                })
                .collect(),
            window,
            truncated: false,
            limit: 7500,
            rate_limit: None,
            extra_members: Default::default(),
        }
    }

    #[test]
    fn a_streamed_file_reads_back_with_every_row() {
        let schema = PageSchema::<Connection>::new(["client_service"]).unwrap();
        let mut writer = PageWriter::new(Vec::new(), schema.clone(), "datadoghq.com").unwrap();
        let mut file = Vec::new();
        for hour in 0..3 {
            let window = Window::from_unix(3600 * (hour + 1), 3600 * (hour + 2)).unwrap();
            writer.write(&page(window, 10)).unwrap();
            writer.flush().unwrap();
            file.extend(writer.take_bytes());
        }
        assert!(file.len() > 4, "row groups reach the output before the end");
        assert_eq!(writer.rows(), 30);
        file.extend(writer.finish().unwrap());
        let reader = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file))
            .unwrap()
            .build()
            .unwrap();
        let batches: Vec<_> = reader.map(Result::unwrap).collect();
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 30);
        assert_eq!(batches[0].schema(), *schema.schema());
    }
}
