//! The everyday questions, answered with the library's analysis helpers:
//!
//! 1. which service pairs retransmit most in the last hour (ranking, a derived metric);
//! 2. which DNS names fail most (ranking by a derived ratio);
//! 3. what changed since yesterday (two periods joined by group);
//! 4. how traffic moved over the last 6 hours (a trend over clock-aligned windows).
//!
//! ```sh
//! DD_SITE=datadoghq.eu DD_API_KEY=… DD_APP_KEY=… cargo run -p datadog-cnm --example analysis
//! ```
//!
//! Offline: start the bundled mock server (`ddcnm mock-server`) and set
//! `DD_CNM_BASE_URL=http://127.0.0.1:PORT` (any non-empty keys work).

use std::process::ExitCode;
use std::time::Duration;

use datadog_cnm::analysis::{Measure, Order, Status, Trend, compare};
use datadog_cnm::{Client, Connection, ConnectionsQuery, DnsRow, Window};
use futures::StreamExt;

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);
/// The API's largest page: rank and compare over everything it returns.
const MAX: u32 = ConnectionsQuery::MAX_LIMIT;

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

/// `client → server` of a connection row.
fn pair(row: &Connection) -> String {
    format!(
        "{} → {}",
        row.group_bys.get("client_service").unwrap_or("N/A"),
        row.group_bys.get("server_service").unwrap_or("N/A")
    )
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = Client::builder().with_env();
    if let Ok(url) = std::env::var("DD_CNM_BASE_URL") {
        builder = builder.base_url(url);
    }
    let client = builder.build()?;
    let pairs = ["client_service", "server_service"];
    let last_hour = Window::last(HOUR);

    // 1. Rank everything the API returns (its maximum page), not only its first 100 groups.
    let retransmits = Measure::<Connection>::parse("tcp_retransmits")?;
    let ratio = Measure::<Connection>::parse("tcp_retransmit_ratio")?;
    let mut page = client
        .connections()
        .window(last_hour)
        .group_by(pairs)
        .limit(MAX)
        .send()
        .await?;
    page.top(5, retransmits, Order::Descending);
    println!("Most retransmits, last hour:");
    for row in &page.rows {
        println!(
            "  {:<45} {:>12} ({:.3} % of client packets)",
            pair(row),
            retransmits.value(row).map_or(0.0, |n| n.as_f64()),
            ratio.value(row).map_or(0.0, |n| n.as_f64() * 100.0),
        );
    }

    // 2. A derived ratio ranks like any metric.
    let failure_ratio = Measure::<DnsRow>::parse("dns_failure_ratio")?;
    let mut dns = client
        .dns()
        .window(last_hour)
        .group_by(["network.dns_query"])
        .limit(MAX)
        .send()
        .await?;
    dns.top(5, failure_ratio, Order::Descending);
    println!("\nHighest DNS failure ratio, last hour:");
    for row in &dns.rows {
        println!(
            "  {:<45} {:.2} %",
            row.group_bys.get("network.dns_query").unwrap_or("N/A"),
            failure_ratio.value(row).map_or(0.0, |n| n.as_f64() * 100.0)
        );
    }

    // 3. The same hour yesterday, joined by group: new, gone, and the biggest changes.
    let query = client.connections().group_by(pairs).limit(MAX);
    let (today, yesterday) = futures::join!(
        query.clone().window(last_hour).send(),
        query.window(last_hour.shifted_back(DAY)).send()
    );
    let mut changes = compare(today?, yesterday?);
    changes.sort_by_delta(retransmits, Order::Descending);
    println!("\nSince the same hour yesterday:");
    for row in changes.rows.iter().take(8) {
        let name = row
            .current
            .as_ref()
            .or(row.previous.as_ref())
            .map(pair)
            .unwrap_or_default();
        match row.status {
            Status::New => println!("  new   {name}"),
            Status::Gone => println!("  gone  {name}"),
            Status::Both => println!(
                "        {name:<45} retransmits {:+}",
                row.delta(retransmits).unwrap_or(0.0)
            ),
        }
    }

    // 4. Hourly windows on the clock; the partial first and last hours are marked and left
    //    out of the summaries.
    let bytes = Measure::<Connection>::parse("total_bytes")?;
    let series = client
        .connections()
        .group_by(pairs)
        .limit(MAX)
        .series(Window::last(6 * HOUR), HOUR)
        .aligned(true);
    let mut trend = Trend::new(bytes);
    let mut pages = std::pin::pin!(series.stream());
    while let Some(next) = pages.next().await {
        let (window, page) = next?;
        trend.push(window, &page, window.duration() < HOUR);
    }
    trend.sort(Order::Descending);
    trend.truncate(5);
    println!("\nBytes per hour, last 6 hours (top 5 pairs by total):");
    for group in trend.groups() {
        let summary = trend.summary(group);
        let values: Vec<String> = group
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                _ if !trend.counts(i) => "partial".to_owned(),
                Some(v) => format!("{:.1} GiB", v / f64::from(1u32 << 30)),
                None => "–".to_owned(),
            })
            .collect();
        println!(
            "  {:<45} peak in window {} · {}",
            format!(
                "{} → {}",
                group.group_bys.get("client_service").unwrap_or("N/A"),
                group.group_bys.get("server_service").unwrap_or("N/A")
            ),
            summary.peak.map_or(0, |(i, _)| i + 1),
            values.join(", ")
        );
    }
    Ok(())
}
