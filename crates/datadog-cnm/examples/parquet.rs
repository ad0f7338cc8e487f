//! A day of hourly connections to one Parquet file, streamed window by window (feature
//! `parquet`), then summed back from the file with the Arrow reader: what DataFusion,
//! Polars or DuckDB would read.
//!
//! ```sh
//! DD_SITE=us5 DD_API_KEY=… DD_APP_KEY=… cargo run -p datadog-cnm --features parquet --example parquet -- day.parquet
//! duckdb -c "SELECT client_service, sum(bytes_sent_by_client) FROM 'day.parquet' GROUP BY 1 ORDER BY 2 DESC LIMIT 10"
//! ```
//!
//! Offline: `DD_CNM_BASE_URL=http://127.0.0.1:PORT` with the bundled mock server
//! (`ddcnm mock-server`).

use std::error::Error;
use std::fs::File;
use std::process::ExitCode;
use std::time::Duration;

use datadog_cnm::arrow::PageSchema;
use datadog_cnm::arrow::arrow_array::Int64Array;
use datadog_cnm::parquet::PageWriter;
use datadog_cnm::{Client, Window};
use futures::StreamExt;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "connections.parquet".to_owned());
    let mut builder = Client::builder().with_env();
    if let Ok(url) = std::env::var("DD_CNM_BASE_URL") {
        builder = builder.base_url(url);
    }
    let client = builder.build()?;

    let query = client
        .connections()
        .group_by(["client_service", "server_service"])
        .limit(1000);
    let mut writer = PageWriter::new(
        File::create(&path)?,
        PageSchema::of(&query)?,
        client.site().domain(),
    )?;
    // The last 24 whole hours, one page per hour; each page is encoded as it arrives.
    let day = Window::last(Duration::from_secs(86_400));
    let mut pages = std::pin::pin!(
        query
            .series(day, Duration::from_secs(3_600))
            .aligned(true)
            .stream()
    );
    while let Some(page) = pages.next().await {
        let (window, page) = page?;
        writer.write(&page)?;
        eprintln!("{window}: {} rows", page.rows.len());
    }
    let rows = writer.rows();
    writer.finish()?.sync_all()?;

    // Read it back: the bytes column of every batch, summed.
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path)?)?.build()?;
    let mut bytes = 0_i64;
    for batch in reader {
        let batch = batch?;
        if let Some(column) = batch
            .column_by_name("bytes_sent_by_client")
            .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
        {
            bytes += column.iter().flatten().sum::<i64>();
        }
    }
    println!("{path}: {rows} rows, {bytes} bytes sent by clients in all");
    Ok(())
}
