//! The commands. Each takes the resolved [`Settings`] and writes its results to stdout (or
//! `--out FILE`).

mod config;
mod demo;
mod export;
mod fields;
mod mock_server;
mod profiles;
mod query;
#[cfg(test)]
mod recipes;
mod report;
mod shell;
mod sites;

use std::io::{self, IsTerminal, Write};
use std::time::SystemTime;

use crate::cli::{Cli, Command, ExportEndpoint, OutputFormat};
use crate::exit::Failure;
use crate::output::{Out, OutFile, Results};
use crate::settings::Settings;

/// Run the command of `cli` with `settings`, printing results to stdout or `--out FILE`.
pub async fn run(cli: Cli, settings: Settings) -> Result<(), Failure> {
    binary_output(&cli.command, &settings, io::stdout().is_terminal())?;
    let results = match &settings.out {
        Some(path) => Results::File(OutFile::new(path.clone()).map_err(Failure::Usage)?),
        None => Results::Stdout(io::stdout()),
    };
    let mut out = Out {
        results: io::BufWriter::new(results),
        format: settings.output.value,
    };
    let now = SystemTime::now();
    let result = match cli.command {
        Command::Connections(args) => {
            let endpoint = query::Endpoint::Connections;
            query::run(endpoint, &args, &settings, &mut out.results, now).await
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
        Command::Export(ExportEndpoint::Connections(args)) => {
            export::run(query::Endpoint::Connections, &args, &settings, now).await
        }
        Command::Export(ExportEndpoint::Dns(args)) => {
            export::run(query::Endpoint::Dns, &args, &settings, now).await
        }
        Command::Fields(args) => fields::run(args.endpoint, &mut out).map_err(Failure::from),
        Command::Config => config::run(&settings, &mut out).map_err(Failure::from),
        Command::Profiles => profiles::run(&settings, &mut out),
        Command::Sites => sites::run(&mut out).map_err(Failure::from),
        Command::MockServer(args) => mock_server::run(&args, &settings, &mut out.results).await,
        Command::Demo => demo::run(&settings, &mut out.results, now).await,
        Command::Report(args) => report::run(&args, &settings, &mut out.results, now).await,
        Command::Completions(args) => shell::completions(args.shell, &mut out.results),
        Command::Man => shell::man(&mut out.results),
    };
    // Results already printed stay printed even when a later step fails.
    let flushed = out.results.flush().map_err(Failure::from);
    let result = result.and(flushed);
    let Ok(Results::File(file)) = out.results.into_inner().map_err(|e| e.into_error()) else {
        return result;
    };
    let complete = matches!(result, Ok(()) | Err(Failure::Partial { .. }));
    match file.finish(complete) {
        Ok(Some(kept)) if settings.chatty() => {
            eprintln!(
                "note: {} was left as it was; what was written before the failure is in {}",
                settings.out.as_deref().unwrap_or(kept.as_path()).display(),
                kept.display()
            );
            result
        }
        Ok(_) => result,
        Err(e) => result.and(Err(Failure::from(e))),
    }
}

/// Refuse `-o parquet` where it cannot go: to a terminal (binary data; `--out FILE` or a
/// redirection instead), or for a command whose results are not query rows.
fn binary_output(
    command: &Command,
    settings: &Settings,
    stdout_is_terminal: bool,
) -> Result<(), Failure> {
    // `export` writes Parquet files whatever `-o` says.
    if settings.output.value != OutputFormat::Parquet || matches!(command, Command::Export(_)) {
        return Ok(());
    }
    if !matches!(command, Command::Connections(_) | Command::Dns(_)) {
        return Err(Failure::Usage(
            "-o parquet is for `connections` and `dns` (`export` always writes Parquet); \
             choose -o table, json, ndjson or csv here"
                .to_owned(),
        ));
    }
    if settings.out.is_none() && stdout_is_terminal {
        return Err(Failure::Usage(
            "-o parquet writes a binary file: give it --out FILE, or redirect stdout \
             (> rows.parquet)"
                .to_owned(),
        ));
    }
    Ok(())
}

/// Print a warning on stderr unless `--quiet`.
pub fn warn(settings: &Settings, message: &str) {
    if settings.chatty() {
        eprintln!("warning: {message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn parquet_is_refused_on_a_terminal_and_for_commands_without_rows() {
        let parse = |args: &[&str]| Cli::try_parse_from(args).unwrap();
        let check = |cli: &Cli, terminal: bool| {
            let settings = Settings::resolve(cli, std::sync::Arc::new(|_: &str| None));
            binary_output(&cli.command, &settings, terminal)
        };
        let to_stdout = parse(&["ddcnm", "dns", "-o", "parquet"]);
        assert!(
            check(&to_stdout, false).is_ok(),
            "a pipe or a file takes it"
        );
        match check(&to_stdout, true) {
            Err(Failure::Usage(message)) => {
                assert!(message.contains("--out FILE"), "{message}");
            }
            other => panic!("a terminal was not refused: {other:?}"),
        }
        let to_file = parse(&[
            "ddcnm",
            "connections",
            "-o",
            "parquet",
            "--out",
            "x.parquet",
        ]);
        assert!(check(&to_file, true).is_ok(), "--out FILE takes it");
        let sites = parse(&["ddcnm", "sites", "-o", "parquet"]);
        assert!(matches!(check(&sites, false), Err(Failure::Usage(_))));
        let table = parse(&["ddcnm", "connections"]);
        assert!(check(&table, true).is_ok());
        let export = parse(&[
            "ddcnm", "export", "dns", "--dir", "d", "--step", "1h", "-o", "parquet",
        ]);
        assert!(
            check(&export, true).is_ok(),
            "export writes files, never to the terminal"
        );
    }
}
