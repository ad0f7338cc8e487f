//! Top talkers over the last hour, by client and server service.
//!
//! ```sh
//! DD_SITE=datadoghq.eu DD_API_KEY=… DD_APP_KEY=… cargo run -p datadog-cnm --example connections
//! ```
//!
//! To try it offline, start the bundled mock server (`ddcnm mock-server`) and point the
//! example at it with `DD_CNM_BASE_URL=http://127.0.0.1:PORT` (any non-empty keys work).

use std::process::ExitCode;
use std::time::Duration;

use datadog_cnm::{Client, Window};

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

async fn run() -> Result<(), datadog_cnm::Error> {
    let mut builder = Client::builder().with_env();
    if let Ok(url) = std::env::var("DD_CNM_BASE_URL") {
        builder = builder.base_url(url);
    }
    let client = builder.build()?;

    let page = client
        .connections()
        .window(Window::last(Duration::from_secs(3600)))
        .group_by(["client_service", "server_service"])
        .limit(20)
        .send()
        .await?;

    println!("{} (site {})", page.window, client.site());
    for row in &page.rows {
        println!(
            "{:>24} → {:<24} {:>14} bytes  {:>8} retransmits  rtt {:>6} µs",
            row.group("client_service").unwrap_or("-"),
            row.group("server_service").unwrap_or("-"),
            row.bytes_sent_by_client.unwrap_or(0),
            row.tcp_retransmits.unwrap_or(0),
            row.rtt_micro_seconds.unwrap_or(0),
        );
    }
    if page.truncated {
        println!("(top {} groups only)", page.rows.len());
    }
    Ok(())
}
