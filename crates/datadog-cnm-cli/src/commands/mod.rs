//! The commands. Each takes the resolved [`Settings`] and writes its results to stdout.

mod config;
mod demo;
mod fields;
mod mock_server;
mod profiles;
mod query;
mod shell;
mod report;
mod sites;

use std::io::{self, Write};
use std::time::SystemTime;

use crate::cli::{Cli, Command};
use crate::exit::Failure;
use crate::output::Out;
use crate::settings::Settings;

/// Run the command of `cli` with `settings`, printing results to stdout.
pub async fn run(cli: Cli, settings: Settings) -> Result<(), Failure> {
    let mut out = Out {
        results: io::BufWriter::new(io::stdout()),
        format: settings.output.value,
    };
    let now = SystemTime::now();
    let result = match cli.command {
        Command::Connections(args) => {
            query::run(
                query::Endpoint::Connections,
                &args,
                &settings,
                &mut out.results,
                now,
            )
            .await
        }
        Command::Dns(args) => {
            query::run(
                query::Endpoint::Dns,
                &args,
                &settings,
                &mut out.results,
                now,
            )
            .await
        }
        Command::Fields(args) => fields::run(args.endpoint, &mut out).map_err(Failure::from),
        Command::Config => config::run(&settings, &mut out).map_err(Failure::from),
        Command::Profiles => profiles::run(&settings, &mut out),
        Command::Sites => sites::run(&mut out).map_err(Failure::from),
        Command::MockServer(args) => mock_server::run(&args, &settings, &mut out.results).await,
        Command::Demo => demo::run(&settings, &mut out.results, now).await,
        Command::Completions(args) => shell::completions(args.shell, &mut out.results),
        Command::Man => shell::man(&mut out.results),
        Command::Report(args) => report::run(&args, &settings, &mut out.results, now).await,
    };
    // Results already printed stay printed even when a later step fails.
    let flushed = out.results.flush().map_err(Failure::from);
    result.and(flushed)
}

/// Print a warning on stderr unless `--quiet`.
pub fn warn(settings: &Settings, message: &str) {
    if settings.chatty() {
        eprintln!("warning: {message}");
    }
}
