//! `demo`: the bundled mock in-process, and three sample queries against it.
//!
//! Needs no keys, no environment and no network. The window is fixed (an hour of synthetic
//! data that ended in the past), so every run prints the same numbers.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use datadog_cnm::{Client, ConnectionsPage, Window};
use datadog_cnm_mock::MockServer;

use super::Global;
use crate::cli::OutputFormat;
use crate::exit::Failure;
use crate::output::Out;
use crate::report::{Asked, Report};
use crate::time::rfc3339;

/// The keys the demo's mock requires and its client sends; not real keys.
const DEMO_API_KEY: &str = "demo-api-key";
const DEMO_APP_KEY: &str = "demo-app-key";
/// The end of the demo window: 2025-06-02T12:00:00Z, a Monday noon.
const DEMO_END_UNIX: u64 = 1_748_865_600;
/// The demo window's length, and the step of its series (six windows).
const DEMO_SPAN: Duration = Duration::from_secs(3600);
const DEMO_STEP: Duration = Duration::from_secs(600);
/// Rows per table.
const TOP: u32 = 10;

/// Start the mock, run a connections query, a DNS query and a six-window series, print
/// each as a table under a heading with the command that produces it, and stop.
pub async fn run<W: Write>(global: &Global, out: &mut Out<W>) -> Result<(), Failure> {
    if out.format != OutputFormat::Table {
        return Err(Failure::Usage(
            "the demo prints tables only; for JSON, NDJSON or CSV run `ddcnm mock-server` and \
             point the other commands at it with --base-url"
                .to_owned(),
        ));
    }
    let server = MockServer::builder()
        .require_keys(DEMO_API_KEY, DEMO_APP_KEY)
        .start()
        .await
        .map_err(|e| Failure::Other(format!("could not start the bundled mock server: {e}")))?;
    let mut builder = Client::builder()
        .base_url(server.url())
        .api_key(DEMO_API_KEY)
        .app_key(DEMO_APP_KEY);
    if let Some(timeout) = global.timeout {
        builder = builder.timeout(timeout);
    }
    let client = builder.build()?;
    let result = sections(&client, out).await;
    server.shutdown().await;
    result
}

async fn sections<W: Write>(client: &Client, out: &mut Out<W>) -> Result<(), Failure> {
    let window = demo_window(SystemTime::now());
    let (from, to) = (rfc3339(window.from), rfc3339(window.to));
    let span = format!("--from {from} --to {to}");
    writeln!(
        out.results,
        "ddcnm demo: the bundled mock of the Datadog CNM API runs in-process with demo keys and\n\
         serves synthetic data; no keys or network needed. The window is the hour from\n\
         {from} to {to}. Each section shows the command that prints it."
    )?;

    let pairs = ["client_service", "server_service"];
    heading(
        out,
        "Connections: the top service pairs by traffic",
        &format!("ddcnm connections {span} --group-by client_service,server_service --limit {TOP}"),
    )?;
    let connections = client
        .connections()
        .window(window)
        .group_by(pairs)
        .limit(TOP)
        .send()
        .await?;
    let page = [(window, connections)];
    let top_pair = top_pair(&page[0].1);
    out.report(&Report::new(&asked(&pairs, false), &page))?;

    heading(
        out,
        "DNS: the most requested names",
        &format!("ddcnm dns {span} --group-by network.dns_query --limit {TOP}"),
    )?;
    let dns = client
        .dns()
        .window(window)
        .group_by(["network.dns_query"])
        .limit(TOP)
        .send()
        .await?;
    let dns_asked = asked(&["network.dns_query"], false);
    out.report(&Report::new(&dns_asked, &[(window, dns)]))?;

    let Some((client_service, server_service)) = top_pair else {
        return Ok(());
    };
    let query = format!("client_service:{client_service} AND server_service:{server_service}");
    heading(
        out,
        &format!("Series: {client_service} → {server_service} in 10-minute windows"),
        &format!(
            "ddcnm connections {span} --step 10m --group-by client_service,server_service \
             --query '{query}'"
        ),
    )?;
    let series = client
        .connections()
        .group_by(pairs)
        .query(query)
        .series(window, DEMO_STEP)
        .collect()
        .await?;
    out.report(&Report::new(&asked(&pairs, true), &series))?;

    writeln!(
        out.results,
        "\nNext:\n  \
         ddcnm mock-server                     serve this data on loopback (prints its URL)\n  \
         ddcnm connections --help              every flag, with examples\n  \
         DD_API_KEY=… DD_APP_KEY=… DD_SITE=datadoghq.eu ddcnm connections --last 1h \
         --group-by client_service,server_service"
    )?;
    Ok(())
}

/// The demo hour: fixed so that runs agree, unless this machine's clock says it has not
/// happened yet, in which case the last full hour.
fn demo_window(now: SystemTime) -> Window {
    let fixed = UNIX_EPOCH + Duration::from_secs(DEMO_END_UNIX);
    let end = if fixed <= now {
        fixed
    } else {
        let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        UNIX_EPOCH + Duration::from_secs(secs - secs % 3600)
    };
    Window::ending_at(end, DEMO_SPAN)
}

fn heading<W: Write>(out: &mut Out<W>, title: &str, command: &str) -> std::io::Result<()> {
    write!(out.results, "\n{title}\n$ {command}\n")
}

/// What a section asked for: the series sends no limit (one row per window).
fn asked(group_by: &[&str], series: bool) -> Asked {
    Asked {
        group_by: group_by.iter().map(|g| (*g).to_owned()).collect(),
        limit: (!series).then_some(TOP),
        series,
    }
}

/// The busiest client → server service pair.
fn top_pair(page: &ConnectionsPage) -> Option<(String, String)> {
    let row = page.rows.first()?;
    Some((
        row.group_bys.get("client_service")?.to_owned(),
        row.group_bys.get("server_service")?.to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_window_is_fixed_once_it_is_past() {
        let later = UNIX_EPOCH + Duration::from_secs(DEMO_END_UNIX + 86_400);
        let window = demo_window(later);
        assert_eq!(rfc3339(window.from), "2025-06-02T11:00:00Z");
        assert_eq!(rfc3339(window.to), "2025-06-02T12:00:00Z");
        let earlier = UNIX_EPOCH + Duration::from_secs(DEMO_END_UNIX - 86_400 + 1800);
        assert_eq!(
            demo_window(earlier).to,
            UNIX_EPOCH + Duration::from_secs(DEMO_END_UNIX - 86_400)
        );
        assert_eq!(window.split(DEMO_STEP).map(|w| w.len()).ok(), Some(6));
    }
}
