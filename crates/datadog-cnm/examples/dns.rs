//! DNS names with the most NXDOMAIN answers over the last 15 minutes.
//!
//! ```sh
//! DD_SITE=us5 DD_API_KEY=… DD_APP_KEY=… cargo run -p datadog-cnm --example dns
//! ```
//!
//! Offline: `DD_CNM_BASE_URL=http://127.0.0.1:PORT` with the bundled mock server.

use std::process::ExitCode;

use datadog_cnm::Client;

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
        .dns()
        .group_by(["network.dns_query"])
        .limit(500)
        .send()
        .await?;

    let mut rows: Vec<_> = page
        .rows
        .iter()
        .filter(|row| row.metrics.responses_nxdomain.unwrap_or(0) > 0)
        .collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.metrics.responses_nxdomain));
    println!(
        "{}: {} names with NXDOMAIN answers",
        page.window,
        rows.len()
    );
    for row in rows.iter().take(20) {
        let m = &row.metrics;
        println!(
            "{:<48} {:>8} NXDOMAIN of {:>10} requests",
            row.group("network.dns_query").unwrap_or("-"),
            m.responses_nxdomain.unwrap_or(0),
            m.total_requests.unwrap_or(0),
        );
    }
    for (key, value) in page.rows.iter().flat_map(|row| row.metrics.extra.iter()) {
        println!("(metric this version does not know: {key} = {value:?})");
    }
    Ok(())
}
