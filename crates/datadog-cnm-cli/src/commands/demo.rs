//! `demo`: the bundled mock in-process, and a few commands run against it.
//!
//! Needs no keys, no environment and no network. Each section prints the command line it
//! runs, and runs exactly that line through the same parser and code as `ddcnm` itself,
//! so what the demo shows is what the command prints (against `ddcnm mock-server`, the
//! same data from the same seed).

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use datadog_cnm_mock::MockServer;

use super::{Global, query};
use crate::cli::{Cli, Command, OutputFormat};
use crate::exit::Failure;

/// The keys the demo's mock requires and its client sends; not real keys.
const DEMO_API_KEY: &str = "demo-api-key";
const DEMO_APP_KEY: &str = "demo-app-key";
/// The demo's tables fit this many columns unless `COLUMNS` says otherwise.
const DEMO_COLUMNS: &str = "100";

/// One section: a title, and the command line it runs (without `ddcnm`).
struct Section {
    title: &'static str,
    args: &'static [&'static str],
}

const SECTIONS: &[Section] = &[
    Section {
        title: "Who talks the most? The top service pairs of the last hour, by bytes",
        args: &["connections", "--last", "1h", "--top", "10"],
    },
    Section {
        title: "Which names are looked up the most?",
        args: &["dns", "--last", "1h", "--top", "10"],
    },
    Section {
        title: "How did the busiest pairs move over the last 6 hours?",
        args: &["connections", "--last", "6h", "--step", "1h", "--top", "5"],
    },
];

/// Start the mock with its clock at `now` (to the minute), run every section, and stop.
/// Tables fit `COLUMNS` of `env` (default 100).
pub async fn run<W: Write>(
    global: &Global,
    out: &mut W,
    now: SystemTime,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(), Failure> {
    if !matches!(global.output, OutputFormat::Table | OutputFormat::Wide) {
        return Err(Failure::Usage(
            "the demo prints tables only; for JSON, NDJSON or CSV run `ddcnm mock-server` and \
             point the other commands at it with --base-url"
                .to_owned(),
        ));
    }
    let now = to_the_minute(now);
    let server = MockServer::builder()
        .require_keys(DEMO_API_KEY, DEMO_APP_KEY)
        .now(now)
        .start()
        .await
        .map_err(|e| Failure::Other(format!("could not start the bundled mock server: {e}")))?;
    let demo = Global {
        site: None,
        base_url: Some(server.url().to_owned()),
        target_label: Some("the bundled mock".to_owned()),
        ..global.clone()
    };
    let columns = env("COLUMNS").unwrap_or_else(|| DEMO_COLUMNS.to_owned());
    let result = sections(&demo, out, now, &columns).await;
    server.shutdown().await;
    result
}

async fn sections<W: Write>(
    global: &Global,
    out: &mut W,
    now: SystemTime,
    columns: &str,
) -> Result<(), Failure> {
    writeln!(
        out,
        "ddcnm demo: the bundled mock of the Datadog CNM API runs in-process with demo keys and \
         serves\nsynthetic data; no keys or network needed. Each section runs the command shown \
         above it;\n`ddcnm mock-server` serves the same data to run them yourself."
    )?;
    let env = |name: &str| match name {
        "DD_API_KEY" => Some(DEMO_API_KEY.to_owned()),
        "DD_APP_KEY" => Some(DEMO_APP_KEY.to_owned()),
        "COLUMNS" => Some(columns.to_owned()),
        _ => None,
    };
    for section in SECTIONS {
        write!(
            out,
            "\n{}\n$ ddcnm {}\n",
            section.title,
            shown(section.args)
        )?;
        let cli = Cli::try_parse_from(std::iter::once("ddcnm").chain(section.args.iter().copied()))
            .map_err(|e| Failure::Other(format!("a demo command does not parse: {e}")))?;
        let (endpoint, args) = match &cli.command {
            Command::Connections(args) => (query::Endpoint::Connections, args),
            Command::Dns(args) => (query::Endpoint::Dns, args),
            _ => return Err(Failure::Other("a demo command is not a query".to_owned())),
        };
        query::run(endpoint, args, global, env, &mut *out, now).await?;
    }
    writeln!(
        out,
        "\nNext:\n  \
         ddcnm mock-server                     serve this data on loopback (prints its URL)\n  \
         ddcnm connections --help              every flag, with examples\n  \
         DD_API_KEY=… DD_APP_KEY=… DD_SITE=datadoghq.eu ddcnm connections --last 1h"
    )?;
    Ok(())
}

/// `now` without its seconds, so that runs within a minute agree.
fn to_the_minute(now: SystemTime) -> SystemTime {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    UNIX_EPOCH + Duration::from_secs(secs - secs % 60)
}

/// A command line as a shell would take it: words with spaces in single quotes.
fn shown(args: &[&str]) -> String {
    args.iter()
        .map(|arg| {
            if arg.contains([' ', '\'', '"', '*', '$']) {
                format!("'{}'", arg.replace('\'', r"'\''"))
            } else {
                (*arg).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_parses_as_a_query() {
        for section in SECTIONS {
            let cli =
                Cli::try_parse_from(std::iter::once("ddcnm").chain(section.args.iter().copied()));
            assert!(
                matches!(
                    cli.map(|c| c.command),
                    Ok(Command::Connections(_) | Command::Dns(_))
                ),
                "{}",
                section.title
            );
        }
    }

    /// The whole demo at a fixed time: the same on every run and machine.
    #[tokio::test]
    async fn the_demo_at_a_fixed_time() {
        let global = Global {
            site: None,
            base_url: None,
            output: OutputFormat::Table,
            out: None,
            timeout: None,
            max_attempts: None,
            quiet: false,
            target_label: None,
        };
        let now = UNIX_EPOCH + Duration::from_secs(1_796_032_800); // 2026-11-30T10:00:00Z
        let mut out = Vec::new();
        let result = run(&global, &mut out, now, |_| None).await;
        let text = String::from_utf8_lossy(&out);
        assert!(result.is_ok(), "{result:?}\n{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn commands_are_shown_as_a_shell_takes_them() {
        assert_eq!(
            shown(&["connections", "--query", "a AND b", "--top", "5"]),
            "connections --query 'a AND b' --top 5"
        );
        assert_eq!(shown(&["it's"]), r"'it'\''s'");
    }
}
