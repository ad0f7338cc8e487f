//! `demo`: the bundled mock in-process, and a short investigation of the incident its
//! default scenario stages: top talkers, a retransmit storm found by ranking, when it
//! started from a trend, what else changed since yesterday (a new and a vanished pair), and
//! an NXDOMAIN surge in DNS.
//!
//! Needs no keys, no environment and no network. Each section prints the command line it
//! runs, and runs exactly that line through the same parser and code as `ddcnm` itself,
//! so what the demo shows is what the command prints against `ddcnm mock-server` (the same
//! data from the same seed; incidents are placed relative to the server's start).

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use datadog_cnm_mock::MockServer;

use super::query;
use crate::cli::{Cli, Command, OutputFormat};
use crate::config::KeySource;
use crate::exit::Failure;
use crate::settings::{Endpoint, Setting, Settings, Source, Target};

/// The keys the demo's mock requires and its client sends; not real keys.
pub(super) const DEMO_API_KEY: &str = "demo-api-key";
pub(super) const DEMO_APP_KEY: &str = "demo-app-key";
/// The demo's tables fit this many columns unless `COLUMNS` says otherwise.
const DEMO_COLUMNS: &str = "100";

/// One section: a title, and the command line it runs (without `ddcnm`).
struct Section {
    title: &'static str,
    args: &'static [&'static str],
}

const SECTIONS: &[Section] = &[
    Section {
        title: "1. Who talks the most? The top service pairs of the last hour, by bytes",
        args: &["connections", "--last", "1h", "--top", "5"],
    },
    Section {
        title: "2. Something is slow. What is retransmitting? Ranked over every pair of the last 6 hours",
        args: &[
            "connections",
            "--last",
            "6h",
            "--sort-by",
            "tcp_retransmits",
            "--top",
            "5",
        ],
    },
    Section {
        title: "3. Since when? Retransmits every 15 minutes, the worst pairs first",
        args: &[
            "connections",
            "--last",
            "6h",
            "--step",
            "15m",
            "--trend",
            "tcp_retransmits",
            "--top",
            "3",
        ],
    },
    Section {
        title: "4. What else changed since yesterday? Pairs new and gone, then the largest changes",
        args: &[
            "connections",
            "--last",
            "6h",
            "--compare",
            "1d",
            "--top",
            "6",
        ],
    },
    Section {
        title: "5. And DNS? Names whose NXDOMAIN answers grew most since yesterday",
        args: &[
            "dns",
            "--last",
            "12h",
            "--compare",
            "1d",
            "--sort-by",
            "delta:dns_responses.nxdomain",
            "--top",
            "5",
        ],
    },
];

/// Start the mock with its clock at `now` (to the minute), run every section, and stop.
/// Tables fit `COLUMNS` (default 100).
pub async fn run<W: Write>(
    settings: &Settings,
    out: &mut W,
    now: SystemTime,
) -> Result<(), Failure> {
    if !matches!(
        settings.output.value,
        OutputFormat::Table | OutputFormat::Wide
    ) {
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
    let columns = settings
        .env("COLUMNS")
        .unwrap_or_else(|| DEMO_COLUMNS.to_owned());
    let demo = for_mock(settings, server.url(), "the bundled mock", &columns);
    let result = sections(&demo, out, now).await;
    server.shutdown().await;
    result
}

async fn sections<W: Write>(
    settings: &Settings,
    out: &mut W,
    now: SystemTime,
) -> Result<(), Failure> {
    writeln!(
        out,
        "ddcnm demo: the bundled mock of the Datadog CNM API runs in-process with demo keys and \
         serves\nliving synthetic data with an incident in it; no keys or network needed. Each \
         section runs\nthe command shown above it; `ddcnm mock-server` serves the same data to \
         try them yourself."
    )?;
    for section in SECTIONS {
        write!(
            out,
            "\n{}\n$ ddcnm {}\n",
            section.title,
            shown(section.args)
        )?;
        run_line(section.args, settings, out, now).await?;
    }
    writeln!(
        out,
        "\nNext:\n  \
         ddcnm mock-server                     serve this data on loopback (prints its URL)\n  \
         ddcnm --base-url URL report --html incident.html --last 12h --step 15m --compare 1d\n  \
         \u{20}                                     the incident as one HTML page: map, charts, changes\n  \
         ddcnm connections --help              every flag, with examples\n  \
         DD_API_KEY=… DD_APP_KEY=… DD_SITE=datadoghq.eu ddcnm connections --last 1h"
    )?;
    Ok(())
}

/// `settings` aimed at the mock at `url` with the demo's keys, called `label` in headings,
/// tables `columns` wide.
pub(super) fn for_mock(settings: &Settings, url: &str, label: &str, columns: &str) -> Settings {
    let key = |key: &str| {
        Some(Setting {
            value: KeySource::File(key.to_owned()),
            source: Source::Default,
        })
    };
    let target = Target {
        profile: None,
        endpoint: Setting {
            value: Ok(Endpoint::BaseUrl(url.to_owned())),
            source: Source::Default,
        },
        api_key: key(DEMO_API_KEY),
        app_key: key(DEMO_APP_KEY),
    };
    let columns = columns.to_owned();
    let env = move |name: &str| (name == "COLUMNS").then(|| columns.clone());
    settings.with_target(target, label, std::sync::Arc::new(env))
}

/// Run the query command line `args` (without `ddcnm`) with `settings`, as `ddcnm` would.
pub(super) async fn run_line<W: Write>(
    args: &[&str],
    settings: &Settings,
    out: &mut W,
    now: SystemTime,
) -> Result<(), Failure> {
    let cli = Cli::try_parse_from(std::iter::once("ddcnm").chain(args.iter().copied()))
        .map_err(|e| Failure::Other(format!("a demo command does not parse: {e}")))?;
    let (endpoint, args) = match &cli.command {
        Command::Connections(args) => (query::Endpoint::Connections, args),
        Command::Dns(args) => (query::Endpoint::Dns, args),
        _ => return Err(Failure::Other("a demo command is not a query".to_owned())),
    };
    query::run(endpoint, args, settings, &mut *out, now).await
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
        let cli = Cli::try_parse_from(["ddcnm", "demo"]).unwrap();
        // An empty environment: no keys, no config file, no COLUMNS.
        let settings = Settings::resolve(&cli, std::sync::Arc::new(|_: &str| None));
        let now = UNIX_EPOCH + Duration::from_secs(1_796_032_800); // 2026-11-30T10:00:00Z
        let mut out = Vec::new();
        let result = run(&settings, &mut out, now).await;
        let text = String::from_utf8_lossy(&out);
        assert!(result.is_ok(), "{result:?}\n{text}");
        // The story finds what the mock staged: the storm's pair tops the retransmits
        // (section 2) and the trend (section 3); the surge's name tops the DNS changes.
        let dataset = datadog_cnm_mock::Dataset::with_scenario(
            datadog_cnm_mock::DEFAULT_SEED,
            datadog_cnm_mock::Scenario::Default,
            to_the_minute(now),
        );
        let tag = |name: &str, key: &str| {
            dataset
                .incidents()
                .iter()
                .find(|i| i.name.contains(name))
                .and_then(|i| i.target.iter().find(|(k, _)| k == key))
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let first_row = |section: &str| {
            let start = text.find(section).unwrap_or(0);
            text[start..]
                .lines()
                .skip_while(|l| !l.starts_with('─'))
                .nth(1)
                .unwrap_or_default()
                .to_owned()
        };
        let storm = tag("storm", "client_service");
        assert!(!storm.is_empty(), "{:?}", dataset.incidents());
        assert!(
            first_row("\n2. ").contains(&storm),
            "{}",
            first_row("\n2. ")
        );
        assert!(
            first_row("\n3. ").contains(&storm),
            "{}",
            first_row("\n3. ")
        );
        let surge = tag("NXDOMAIN", "network.dns_query");
        assert!(
            first_row("\n5. ").contains(&surge),
            "{surge}: {}",
            first_row("\n5. ")
        );
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
