//! `mock-server`: the bundled mock of the CNM API, until Ctrl-C.

use std::io::Write;

use datadog_cnm_mock::MockServer;

use crate::cli::MockServerArgs;
use crate::exit::Failure;
use crate::settings::Settings;

/// Start the mock, print its URL as the first line of stdout, serve until Ctrl-C or
/// SIGTERM, then shut down cleanly.
pub async fn run(
    args: &MockServerArgs,
    settings: &Settings,
    stdout: &mut impl Write,
) -> Result<(), Failure> {
    let mut builder = MockServer::builder()
        .addr(args.addr)
        .seed(args.seed)
        .scenario(args.scenario);
    if let Some(rate_limit) = args.rate_limit {
        builder = builder.rate_limit(rate_limit.limit, rate_limit.period);
    }
    if let Some(latency) = args.latency {
        builder = builder.latency(latency.0);
    }
    let server = builder
        .start()
        .await
        .map_err(|e| Failure::Other(format!("could not listen on {}: {e}", args.addr)))?;
    let url = server.url().to_owned();
    writeln!(stdout, "{url}")?;
    stdout.flush()?;
    if settings.chatty() {
        let mut limit = args.rate_limit.map_or_else(String::new, |r| {
            format!(", at most {} requests per {}s", r.limit, r.period.as_secs())
        });
        if let Some(latency) = args.latency {
            limit.push_str(&format!(", answering {}ms late", latency.0.as_millis()));
        }
        eprintln!(
            "serving the Datadog CNM API mock (scenario {}, seed {}{limit}); any non-empty key \
             pair is accepted. Ctrl-C stops it.",
            args.scenario, args.seed
        );
        for incident in server.incidents() {
            eprintln!("  incident {}", describe(incident));
        }
        eprintln!(
            "Try:\n  ddcnm --base-url {url} connections --last 6h --sort-by tcp_retransmits \
             --top 5   (with DD_API_KEY=demo DD_APP_KEY=demo)"
        );
    }
    let signal = shutdown_signal().await;
    let stats = server.stats();
    server.shutdown().await;
    if settings.chatty() {
        eprintln!(
            "stopped ({signal}) after {} requests ({} ok, {} rejected, {} rate limited)",
            stats.requests, stats.ok, stats.rejected, stats.rate_limited
        );
    }
    Ok(())
}

/// Wait for Ctrl-C (or SIGTERM on Unix); returns its name.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => "Ctrl-C",
                _ = terminate.recv() => "SIGTERM",
            };
        }
    }
    // Without a Ctrl-C handler there is no way to stop cleanly; serve until killed.
    match tokio::signal::ctrl_c().await {
        Ok(()) => "Ctrl-C",
        Err(_) => std::future::pending().await,
    }
}

/// `retransmit storm: a → b, 2026-12-07 01:10 → 01:50 UTC`; an incident open at one end
/// (a pair new since, or gone since) says `until` or `since`.
fn describe(incident: &datadog_cnm_mock::Incident) -> String {
    let minute = |t: std::time::SystemTime| {
        let text = crate::time::rfc3339(t);
        format!("{} {}", &text[..10], &text[11..16])
    };
    // Ends beyond this (year 9999) are open.
    let far = std::time::UNIX_EPOCH + std::time::Duration::from_secs(253_402_214_400);
    let when = match (
        incident.start <= std::time::UNIX_EPOCH,
        incident.end() >= far,
    ) {
        (true, true) => "always".to_owned(),
        (true, false) => format!("until {} UTC", minute(incident.end())),
        (false, true) => format!("since {} UTC", minute(incident.start)),
        (false, false) => format!(
            "{} UTC",
            crate::format::window(&datadog_cnm::Window {
                from: incident.start,
                to: incident.end(),
            })
        ),
    };
    format!("{} ({}), {when}", incident.name, incident.effect)
}
