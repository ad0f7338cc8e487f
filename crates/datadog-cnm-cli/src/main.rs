//! `ddcnm`: Datadog Cloud Network Monitoring aggregates from a terminal.
//!
//! Commands, flags, environment, output formats and exit codes are described by
//! `ddcnm --help` and the crate README; `ARCHITECTURE.md` says where each lives.

mod cli;
mod commands;
mod config;
mod exit;
mod format;
mod output;
mod report;
mod settings;
mod time;
mod view;

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::cli::Cli;
use crate::exit::Failure;
use crate::settings::Settings;

fn main() -> ExitCode {
    // Usage errors exit 2 here, before anything else happens; --help and --version exit 0.
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let settings = Settings::resolve(
        &cli,
        std::sync::Arc::new(|name: &str| std::env::var(name).ok()),
    );
    if settings.chatty() {
        for warning in &settings.warnings {
            eprintln!("warning: {warning}");
        }
    }
    let context = settings.context();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(commands::run(cli, settings)),
        Err(e) => Err(Failure::Other(format!(
            "could not start the async runtime: {e}"
        ))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => exit::report(&failure, &context),
    }
}

/// `-v`: our own and the client library's events on stderr (`-vv`: trace level). HTTP
/// internals (hyper, reqwest) stay off: they are not needed and could show headers.
fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => return,
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::builder().parse_lossy(format!(
        "datadog_cnm={level},datadog_cnm_raw={level},ddcnm={level}"
    ));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        // The client library reports each attempt as a span (status, elapsed_ms,
        // rate_limit.*): print it when it closes.
        .with_span_events(FmtSpan::CLOSE)
        .init();
}
