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
    let mut builder = MockServer::builder().addr(args.addr).seed(args.seed);
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
            "serving the Datadog CNM API mock (seed {}{limit}); any non-empty key pair is \
             accepted. Ctrl-C stops it. Try:\n  DD_CNM_BASE_URL={url} DD_API_KEY=demo \
             DD_APP_KEY=demo ddcnm connections --last 1h",
            args.seed
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
