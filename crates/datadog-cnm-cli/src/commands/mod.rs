//! The commands, and what they share: global settings and the client built from them.

mod demo;
mod export;
mod mock_server;
mod query;
mod sites;

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use datadog_cnm::{Client, RetryPolicy, Site};

use crate::cli::{Cli, Command, ExportEndpoint, OutputFormat};
use crate::exit::{Context, Failure};
use crate::output::{Out, OutFile};
use crate::view::table::Width;

/// What a command does when the client waits for the rate limit.
pub type WaitNotice = Box<dyn Fn(&datadog_cnm::RateLimitWait) + Send + Sync>;

/// The global flags, as every command sees them.
#[derive(Clone, Debug)]
pub struct Global {
    /// `--site` / `DD_SITE`.
    pub site: Option<Site>,
    /// `--base-url` / `DD_CNM_BASE_URL` (blank counts as unset).
    pub base_url: Option<String>,
    /// `--output`.
    pub output: OutputFormat,
    /// `--out FILE`: results go there instead of stdout.
    pub out: Option<PathBuf>,
    /// `--timeout`.
    pub timeout: Option<Duration>,
    /// `--max-attempts`.
    pub max_attempts: Option<u32>,
    /// `--quiet`.
    pub quiet: bool,
    /// What to call the target in headings and messages instead of its URL (the demo's
    /// in-process mock).
    pub target_label: Option<String>,
}

impl Global {
    /// The global part of the command line.
    pub fn from_cli(cli: &Cli) -> Self {
        Self {
            site: cli.site.clone().and_then(|site| site.0),
            base_url: cli
                .base_url
                .as_deref()
                .map(str::trim)
                .filter(|url| !url.is_empty())
                .map(str::to_owned),
            output: cli.output,
            out: cli.out.clone(),
            timeout: cli.timeout.map(|t| t.0),
            max_attempts: cli.max_attempts,
            quiet: cli.quiet,
            target_label: None,
        }
    }

    /// Where requests go, for messages: the base URL, else the site's domain.
    pub fn context(&self) -> Context {
        let target = match (&self.target_label, &self.base_url, &self.site) {
            (Some(label), _, _) => label.clone(),
            (None, Some(url), _) => url.clone(),
            (None, None, Some(site)) => site.to_string(),
            (None, None, None) => Site::default().to_string(),
        };
        Context { target }
    }

    /// Whether stderr may carry progress bars and warnings.
    pub fn chatty(&self) -> bool {
        !self.quiet
    }

    /// Whether a progress bar may be drawn: stderr is a terminal and not `--quiet`.
    pub fn progress_bar(&self) -> bool {
        !self.quiet && io::stderr().is_terminal()
    }

    /// The retry policy of `--max-attempts` and a command's time budget (`--deadline`).
    fn retry(&self, deadline: Option<Duration>) -> RetryPolicy {
        let mut policy = RetryPolicy::default();
        if let Some(attempts) = self.max_attempts {
            policy = policy.max_attempts(attempts);
        }
        if let Some(deadline) = deadline {
            policy = policy.max_elapsed(deadline);
        }
        policy
    }

    /// How wide tables may be: `COLUMNS` when set, else the terminal's width when stdout
    /// is a terminal, else the default columns unfitted (a pipe or a file).
    pub fn table_width(&self, env: impl Fn(&str) -> Option<String>) -> Width {
        if let Some(columns) = env("COLUMNS").and_then(|c| c.trim().parse::<usize>().ok())
            && columns > 0
        {
            return Width::Fit(columns);
        }
        if io::stdout().is_terminal()
            && let Some((terminal_size::Width(columns), _)) = terminal_size::terminal_size()
        {
            return Width::Fit(usize::from(columns));
        }
        Width::Default
    }

    /// A client for the configured site or base URL, with keys from `env`; `deadline`
    /// bounds each request's waits and retries, `on_wait` hears of rate-limit waits.
    ///
    /// Missing keys are reported here, by variable name, before anything is sent.
    pub fn client(
        &self,
        env: impl Fn(&str) -> Option<String>,
        deadline: Option<Duration>,
        on_wait: Option<WaitNotice>,
    ) -> Result<Client, Failure> {
        let get = |name: &str| env(name).filter(|value| !value.trim().is_empty());
        let target = self.context().target;
        let api_key = get("DD_API_KEY").ok_or_else(|| {
            Failure::Usage(format!(
                "DD_API_KEY is not set; export your Datadog API key (and DD_APP_KEY) to query \
                 {target}, or try `ddcnm demo` without keys"
            ))
        })?;
        let app_key = get("DD_APP_KEY")
            .or_else(|| get("DD_APPLICATION_KEY"))
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "DD_APP_KEY is not set (DD_APPLICATION_KEY also works); export your Datadog \
                     application key to query {target}"
                ))
            })?;
        let mut builder = Client::builder()
            .api_key(api_key)
            .app_key(app_key)
            .retry(self.retry(deadline));
        if let Some(on_wait) = on_wait {
            builder = builder.on_rate_limit_wait(on_wait);
        }
        if let Some(site) = &self.site {
            builder = builder.site(site.clone());
        }
        if let Some(url) = &self.base_url {
            builder = builder.base_url(url);
        }
        if let Some(timeout) = self.timeout {
            builder = builder.timeout(timeout);
        }
        let client = builder.build()?;
        tracing::debug!(site = %client.site(), base_url = client.base_url(), "client configured");
        Ok(client)
    }
}

/// Run the command of `cli`, printing results to stdout (or `--out FILE`).
pub async fn run(cli: Cli) -> Result<(), Failure> {
    let global = Global::from_cli(&cli);
    binary_output(&cli.command, &global, io::stdout().is_terminal())?;
    let results: Box<dyn Write + Send> = match &global.out {
        Some(path) => Box::new(OutFile::new(path.clone())),
        None => Box::new(io::stdout()),
    };
    let mut out = Out {
        results: io::BufWriter::new(results),
        format: global.output,
    };
    let env = |name: &str| std::env::var(name).ok();
    let result = match cli.command {
        Command::Connections(args) => {
            query::run(
                query::Endpoint::Connections,
                &args,
                &global,
                env,
                &mut out.results,
                SystemTime::now(),
            )
            .await
        }
        Command::Dns(args) => {
            query::run(
                query::Endpoint::Dns,
                &args,
                &global,
                env,
                &mut out.results,
                SystemTime::now(),
            )
            .await
        }
        Command::Export(ExportEndpoint::Connections(args)) => {
            export::run(
                query::Endpoint::Connections,
                &args,
                &global,
                env,
                SystemTime::now(),
            )
            .await
        }
        Command::Export(ExportEndpoint::Dns(args)) => {
            export::run(query::Endpoint::Dns, &args, &global, env, SystemTime::now()).await
        }
        Command::Sites => sites::run(&mut out).map_err(Failure::from),
        Command::MockServer(args) => mock_server::run(&args, &global, &mut out.results).await,
        Command::Demo => demo::run(&global, &mut out.results, SystemTime::now(), env).await,
    };
    // Results already printed stay printed even when a later step fails.
    let flushed = out.results.flush().map_err(Failure::from);
    result.and(flushed)
}

/// Refuse `-o parquet` where it cannot go: to a terminal (binary data; `--out FILE` or a
/// redirection instead), or for a command whose results are not query rows.
fn binary_output(
    command: &Command,
    global: &Global,
    stdout_is_terminal: bool,
) -> Result<(), Failure> {
    // `export` writes Parquet files whatever `-o` says.
    if global.output != OutputFormat::Parquet || matches!(command, Command::Export(_)) {
        return Ok(());
    }
    if !matches!(command, Command::Connections(_) | Command::Dns(_)) {
        return Err(Failure::Usage(
            "-o parquet is for `connections` and `dns` (`export` always writes Parquet); \
             choose -o table, json, ndjson or csv here"
                .to_owned(),
        ));
    }
    if global.out.is_none() && stdout_is_terminal {
        return Err(Failure::Usage(
            "-o parquet writes a binary file: give it --out FILE, or redirect stdout \
             (> rows.parquet)"
                .to_owned(),
        ));
    }
    Ok(())
}

/// Print a warning on stderr unless `--quiet`.
pub fn warn(global: &Global, message: &str) {
    if global.chatty() {
        eprintln!("warning: {message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn global(cli: &Cli) -> Global {
        Global::from_cli(cli)
    }

    #[test]
    fn parquet_is_refused_on_a_terminal_and_for_commands_without_rows() {
        let parse = |args: &[&str]| Cli::try_parse_from(args).unwrap();
        let check = |cli: &Cli, terminal: bool| binary_output(&cli.command, &global(cli), terminal);
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
