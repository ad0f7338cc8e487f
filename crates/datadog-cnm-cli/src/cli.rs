//! The command line: global flags, commands and their flags.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};
use datadog_cnm::{ConnectionsQuery, Window};

use crate::time::{Dur, FineDur, TimeSpec, parse_duration};

const AFTER_HELP: &str = "\
Settings come from flags, then profiles named with --profile, then the environment (DD_SITE,
DD_CNM_BASE_URL, DD_API_KEY, DD_APP_KEY or DD_APPLICATION_KEY), then the profile of
DDCNM_PROFILE or `default`; `ddcnm config` shows what is in effect and why.

Examples:
  ddcnm demo                                    # offline, no keys: the bundled mock
  DD_SITE=datadoghq.eu ddcnm connections --last 1h --top 10
  ddcnm dns --last 30m --sort-by dns_responses.nxdomain --top 20
  ddcnm --profile prod,staging connections --last 1h -o json
  ddcnm export connections --from 2026-11-01T00:00:00Z --to 2026-12-01T00:00:00Z --step 1h --dir cnm
  ddcnm mock-server --addr 127.0.0.1:8126       # then: --base-url http://127.0.0.1:8126

Exit codes: 0 ok, 2 invalid usage or input (nothing sent), 3 authentication or permission
(401/403), 4 rate limited after retries, 5 other API error, 6 network, timeout or time budget,
7 partial (some windows or profiles failed, the others printed), 1 other.";

const EXPORT_AFTER_HELP: &str = "\
Writes one Parquet file per window (Snappy), in hive partitions:
  DIR/connections/date=2026-11-30/20261130T060000Z_20261130T070000Z.parquet
with the columns window_start, window_end (UTC), site, one per group-by field (`.` becomes
`_`; N/A is null; several values joined by `,`), one int64 per metric (API names, `.` becomes
`_`), extra_metrics (metrics this version does not know) and truncated.

DIR/<kind>/_manifest.json records the query. Running the same command again resumes: windows
already written are skipped, unfinished files of an interrupted run are removed and fetched
again. A different query into the same directory is refused (exit 2). Times relative to now
(--last, -2h) change between runs: give absolute --from/--to to resume.

Read it with DuckDB:
  SELECT client_service, sum(bytes_sent_by_client)
  FROM read_parquet('DIR/connections/**/*.parquet', hive_partitioning = true) GROUP BY 1;

Examples:
  ddcnm export connections --from 2026-11-01T00:00:00Z --to 2026-12-01T00:00:00Z --step 1h --dir cnm
  ddcnm export dns --from 2026-11-01T00:00:00Z --to 2026-11-08T00:00:00Z --step 1h --dir cnm
  ddcnm export connections --from 2026-11-30T00:00:00Z --to 2026-12-01T00:00:00Z --step 5m \\
      --group-by client_host,server_host --limit 7500 --keep-going --dir hosts";

/// The end of `connections`' and `dns`' help: their defaults, what T and DUR are, the
/// output formats, then their examples.
fn query_help(defaults: &str, examples: &str) -> String {
    format!(
        "{defaults}\n\nT is `now`, an RFC 3339 time (2026-11-26T06:00:00Z), Unix seconds, or how \
         long ago\n(-15m, 2h, 1d). DUR is 90s, 15m, 1h30m, 2d, 1w. `ddcnm fields` lists group-by\n\
         fields, metrics and derived metrics.\n\nOutput: `table` fits the terminal (`wide`: \
         every column); `json`, `ndjson` and `csv`\ncarry every metric under its API name. With \
         --step, rows also have window_start,\nwindow_end and partial.\n\nExamples:\n{examples}"
    )
}

const CONNECTIONS_DEFAULTS: &str = "\
Defaults: the last 15 minutes; --group-by client_service,server_service; the API's
limit of 100 rows (7500 with --top or --compare); tables lead with total_bytes.";

const CONNECTIONS_EXAMPLES: &str = "  \
  ddcnm connections --last 1h --top 10 --sort-by tcp_retransmits
  ddcnm connections --last 1h --group-by client_team --columns total_bytes,rtt_micro_seconds
  ddcnm connections --last 1h --compare 1d --sort-by delta:tcp_retransmits --top 10
  ddcnm connections --last 6h --step 1h --trend tcp_retransmits --top 5
  ddcnm connections --last 7d --step 1h --limit 7500 -o ndjson > week.ndjson";

const DNS_DEFAULTS: &str = "\
Defaults: the last 15 minutes; --group-by network.dns_query; the API's limit of 100
rows (7500 with --top or --compare); tables lead with dns_total_requests.";

const DNS_EXAMPLES: &str = "  \
  ddcnm dns --last 1h --top 20
  ddcnm dns --last 1h --sort-by dns_responses.nxdomain --top 10
  ddcnm dns --last 1h --group-by client_service --sort-by dns_failure_ratio --top 10
  ddcnm dns --last 1h --compare 1d --sort-by delta:dns_failures --top 10
  ddcnm dns --last 1d --step 1h --trend dns_timeouts --top 5";

const FIELDS_AFTER_HELP: &str = "\
Examples:
  ddcnm fields
  ddcnm fields dns
  ddcnm fields -o json | jq '.[] | select(.kind == \"metric\")'";

const CONFIG_AFTER_HELP: &str = "\
The config file is $XDG_CONFIG_HOME/ddcnm/config.toml (default ~/.config/ddcnm/config.toml):

  [profiles.prod]
  site = \"datadoghq.eu\"                      # or base_url = \"https://proxy.example/\"
  api_key_command = \"pass show datadog/prod-api-key\"   # run without a shell
  app_key_env = \"PROD_DD_APP_KEY\"            # or app_key_command, or app_key (mode 0600)
  group_by = [\"client_service\", \"server_service\"]
  limit = 500
  output = \"table\"

Examples:
  ddcnm config
  ddcnm --profile prod config
  ddcnm profiles -o json";

const MOCK_AFTER_HELP: &str = "\
Examples:
  ddcnm mock-server --addr 127.0.0.1:8126
  ddcnm mock-server --rate-limit 5/1s --latency 200ms
  ddcnm --base-url http://127.0.0.1:8126 connections --last 1h   # any non-empty keys";

const COMPLETIONS_AFTER_HELP: &str = "\
Install:
  bash:  ddcnm completions bash > ~/.local/share/bash-completion/completions/ddcnm
  zsh:   ddcnm completions zsh > ~/.zfunc/_ddcnm     # with fpath+=(~/.zfunc) in ~/.zshrc
  fish:  ddcnm completions fish > ~/.config/fish/completions/ddcnm.fish";

/// The heading of the global flags in every `--help`.
const GLOBAL: &str = "Global options";

/// Query Datadog Cloud Network Monitoring aggregates (TCP connections, DNS) from a terminal.
#[derive(Debug, Parser)]
#[command(name = "ddcnm", version, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    /// Datadog site(s): datadoghq.com (default), datadoghq.eu, us3, us5, ap1, ap2, uk1, gov, …;
    /// several, comma-separated, are queried together. Beats DD_SITE and DD_CNM_BASE_URL.
    #[arg(long, global = true, value_name = "SITE[,SITE…]", help_heading = GLOBAL)]
    pub site: Option<String>,

    /// Send requests to this URL instead of the site's API (a proxy or `ddcnm
    /// mock-server`). Beats DD_CNM_BASE_URL and DD_SITE.
    #[arg(long, global = true, value_name = "URL", help_heading = GLOBAL)]
    pub base_url: Option<String>,

    /// Profile(s) of the config file (~/.config/ddcnm/config.toml); several,
    /// comma-separated, are queried together, rows labelled by profile. Default:
    /// DDCNM_PROFILE, else the profile named `default`.
    #[arg(long, global = true, value_name = "NAME[,NAME…]", help_heading = GLOBAL)]
    pub profile: Option<String>,

    /// Output format [default: table, or the profile's `output`].
    #[arg(long, short = 'o', global = true, value_enum, value_name = "FORMAT",
          help_heading = GLOBAL)]
    pub output: Option<OutputFormat>,

    /// Write the results to FILE instead of stdout (replaced only when the command
    /// completes; after a failure, what was written is in .FILE.partial).
    #[arg(long, global = true, value_name = "FILE", help_heading = GLOBAL)]
    pub out: Option<PathBuf>,

    /// Timeout of each attempt, e.g. 30s [default: 30s].
    #[arg(long, global = true, value_name = "DUR", help_heading = GLOBAL)]
    pub timeout: Option<Dur>,

    /// Attempts per request, retries included (retries wait for the rate limit to reset)
    /// [default: 4].
    #[arg(long, global = true, value_name = "N", help_heading = GLOBAL,
          value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: Option<u32>,

    /// Log the target, requests, retries and rate limits to stderr (-vv: request URLs and
    /// rate-limit headers too). Never logs keys.
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count, help_heading = GLOBAL)]
    pub verbose: u8,

    /// No progress bar and no warnings on stderr (errors are still printed).
    #[arg(long, short = 'q', global = true, help_heading = GLOBAL)]
    pub quiet: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Aggregated TCP connections: bytes, packets, RTT, retransmits, resets, … per group.
    #[command(after_help = query_help(CONNECTIONS_DEFAULTS, CONNECTIONS_EXAMPLES))]
    Connections(QueryArgs),
    /// Aggregated DNS traffic: requests, failures, NXDOMAIN, latency, … per group.
    #[command(after_help = query_help(DNS_DEFAULTS, DNS_EXAMPLES))]
    Dns(QueryArgs),
    /// Write a series to Parquet files, one per window, in hive partitions; resumable.
    #[command(subcommand)]
    Export(ExportEndpoint),
    /// The group-by fields, metrics (units, how they combine) and derived metrics.
    #[command(after_help = FIELDS_AFTER_HELP)]
    Fields(FieldsArgs),
    /// Show the settings in effect and where each comes from; sends nothing.
    #[command(after_help = CONFIG_AFTER_HELP)]
    Config,
    /// List the profiles of the config file: site or URL, and where keys come from.
    #[command(after_help = CONFIG_AFTER_HELP)]
    Profiles,
    /// List the Datadog sites and their API URLs.
    Sites,
    /// Serve the bundled mock of the CNM API on loopback until Ctrl-C; prints its URL first.
    #[command(after_help = MOCK_AFTER_HELP)]
    MockServer(MockServerArgs),
    /// Run sample connections and DNS queries against the bundled mock (offline, no keys).
    Demo,
    /// Write one self-contained HTML report: a service map, trend charts, top tables and,
    /// with --compare, what changed.
    #[command(after_help = REPORT_AFTER_HELP)]
    Report(ReportArgs),
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    #[command(after_help = COMPLETIONS_AFTER_HELP)]
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. `ddcnm man > ~/.local/share/man/man1/ddcnm.1`.
    Man,
}

/// Flags of `fields`.
#[derive(Debug, Args)]
pub struct FieldsArgs {
    /// Only this endpoint's fields.
    #[arg(value_enum, value_name = "ENDPOINT")]
    pub endpoint: Option<EndpointArg>,
}

/// `connections` or `dns`, as an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EndpointArg {
    /// Aggregated TCP connections.
    Connections,
    /// Aggregated DNS traffic.
    Dns,
}

/// Flags of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Flags of `connections` and `dns`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The window.
    #[command(flatten)]
    pub window: WindowArgs,

    /// Group by these fields (comma-separated, at most 10), e.g. client_service,server_service.
    #[arg(long, value_name = "a,b", value_delimiter = ',')]
    pub group_by: Vec<String>,

    /// Only traffic with all these tags (comma-separated), e.g. env:prod,client_team:web.
    #[arg(long, value_name = "t1,t2", value_delimiter = ',')]
    pub tags: Vec<String>,

    /// Search query (AND/OR/NOT, wildcards); takes precedence over --tags.
    #[arg(long, value_name = "Q")]
    pub query: Option<String>,

    /// Rows per window, 1 to 7500 (the API's default is 100).
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(ConnectionsQuery::MAX_LIMIT)))]
    pub limit: Option<u32>,

    /// Split the window into windows of this length and query each (a series), e.g. 1h.
    /// Output streams window by window, in order.
    #[arg(long, value_name = "DUR")]
    pub step: Option<Dur>,

    /// With --step: windows fetched at once (default 4, at most 64). They share the rate
    /// limit, which paces them.
    #[arg(long, value_name = "N", requires = "step",
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: Option<u32>,

    /// With --step: align windows on the clock (hours on the hour; the default for steps
    /// of a minute or more). The first and last windows may then be partial.
    #[arg(long, requires = "step", overrides_with = "no_align")]
    pub align: bool,

    /// With --step: start windows at the window's start instead of on the clock.
    #[arg(long, requires = "step")]
    pub no_align: bool,

    /// Rank rows by this metric (or derived metric), largest first; `:asc` for smallest
    /// first; `delta:METRIC` ranks a --compare by the change. See `ddcnm fields`.
    #[arg(long, value_name = "[delta:]M[:asc]")]
    pub sort_by: Option<SortSpec>,

    /// Keep the first N rows of the ranking (--sort-by, or the default metric). Fetches up
    /// to 7500 rows per window, the API's maximum, to rank them all.
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(ConnectionsQuery::MAX_LIMIT)))]
    pub top: Option<u32>,

    /// Also query the same window DUR earlier (e.g. 1d, 1w) and show what changed: new and
    /// gone groups, Δ and Δ%.
    #[arg(long, value_name = "DUR", conflicts_with = "step")]
    pub compare: Option<Dur>,

    /// With --step and a table: one line per group with a sparkline of this metric over
    /// the windows (default: the --sort-by metric, else total bytes or DNS requests).
    #[arg(
        long,
        value_name = "M",
        requires = "step",
        conflicts_with = "per_window"
    )]
    pub trend: Option<String>,

    /// With --step and a table: a table per window, printed as each window finishes,
    /// instead of the trend.
    #[arg(long, requires = "step")]
    pub per_window: bool,

    /// Report counts per second, so windows of different lengths compare.
    #[arg(long)]
    pub rate: bool,

    /// The value columns to show, in order (metrics or derived metrics), e.g.
    /// total_bytes,tcp_retransmit_ratio. See `ddcnm fields`.
    #[arg(long, value_name = "a,b", value_delimiter = ',')]
    pub columns: Vec<String>,

    /// With --step: fetch every window even when some fail; the failed ones are named on
    /// stderr and the exit code is 7 (partial).
    #[arg(long, requires = "step")]
    pub keep_going: bool,

    /// The whole command's time budget, e.g. 10m: waits for the rate limit and retries
    /// stop at it (default: 2 minutes per request).
    #[arg(long, value_name = "DUR")]
    pub deadline: Option<Dur>,
}

const REPORT_AFTER_HELP: &str = "\
The report queries connections grouped by --group-by (default client_service,server_service)
and DNS grouped by --dns-group-by (default network.dns_query), over the whole window and,
with --step, window by window; --tags and --query apply to both. T and DUR read as for
queries; without --from/--to/--last, the last 15 minutes. It is one HTML file that loads
nothing: open it in any browser, offline. --output does not apply.

The service map needs a client-side and a server-side key (client_*, server_*): its nodes
are their values, its edges client -> server, width by bytes, colour by TCP retransmit
ratio. Trend charts are per second, so partial windows (shaded) compare with full ones.

Examples:
  ddcnm report --html report.html --last 6h --step 1h --compare 1d
  ddcnm report --html incident.html --last 12h --step 15m --compare 1d --map-edges 40
  ddcnm report --html teams.html --last 1d --step 1h --group-by client_team,server_team
  ddcnm --profile prod report --html - --last 1h > prod.html";

/// Flags of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write the report to this file (`-`: to stdout).
    #[arg(long, value_name = "FILE")]
    pub html: PathBuf,

    /// The window.
    #[command(flatten)]
    pub window: WindowArgs,

    /// Group connections by these fields (comma-separated, at most 10); the map's nodes
    /// are the client_* and server_* values. Default client_service,server_service.
    #[arg(long, value_name = "a,b", value_delimiter = ',')]
    pub group_by: Vec<String>,

    /// Group DNS traffic by these fields (default network.dns_query).
    #[arg(long, value_name = "a,b", value_delimiter = ',')]
    pub dns_group_by: Vec<String>,

    /// Only traffic with all these tags (comma-separated), e.g. env:prod.
    #[arg(long, value_name = "t1,t2", value_delimiter = ',')]
    pub tags: Vec<String>,

    /// Search query (AND/OR/NOT, wildcards); takes precedence over --tags.
    #[arg(long, value_name = "Q")]
    pub query: Option<String>,

    /// Rows per request, 1 to 7500 (default 7500, so that rankings cover every group).
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(ConnectionsQuery::MAX_LIMIT)))]
    pub limit: Option<u32>,

    /// Trend charts: split the window into windows of this length, e.g. 1h.
    #[arg(long, value_name = "DUR")]
    pub step: Option<Dur>,

    /// With --step: windows fetched at once (default 4, at most 64).
    #[arg(long, value_name = "N", requires = "step",
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: Option<u32>,

    /// With --step: align windows on the clock (the default for steps of a minute or
    /// more); the first and last windows may then be partial.
    #[arg(long, requires = "step", overrides_with = "no_align")]
    pub align: bool,

    /// With --step: start windows at the window's start instead of on the clock.
    #[arg(long, requires = "step")]
    pub no_align: bool,

    /// Rank the map's edges and the first connections table by this metric (or derived
    /// metric), largest first; `:asc` for smallest first. Default total_bytes.
    #[arg(long, value_name = "M[:asc]")]
    pub sort_by: Option<SortSpec>,

    /// Rows of each top table (default 10).
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub top: Option<u32>,

    /// Edges on the service map: the top N client -> server pairs; the report says what
    /// it left out.
    #[arg(long, value_name = "N", default_value_t = 60,
          value_parser = clap::value_parser!(u32).range(1..=500))]
    pub map_edges: u32,

    /// Also query the same window DUR earlier (e.g. 1d, 1w): a "what changed" section
    /// with new and gone groups and the largest changes.
    #[arg(long, value_name = "DUR")]
    pub compare: Option<Dur>,

    /// With --step: write the report even when some windows fail; they are marked in the
    /// charts and named on stderr, and the exit code is 7 (partial).
    #[arg(long, requires = "step")]
    pub keep_going: bool,

    /// The whole command's time budget, e.g. 10m: waits for the rate limit and retries
    /// stop at it (default: 2 minutes per request).
    #[arg(long, value_name = "DUR")]
    pub deadline: Option<Dur>,
}

/// What `export` writes.
#[derive(Debug, Subcommand)]
pub enum ExportEndpoint {
    /// Aggregated TCP connections, to DIR/connections/.
    #[command(after_help = EXPORT_AFTER_HELP)]
    Connections(ExportArgs),
    /// Aggregated DNS traffic, to DIR/dns/.
    #[command(after_help = EXPORT_AFTER_HELP)]
    Dns(ExportArgs),
}

/// Flags of `export connections` and `export dns`: the query's, and where to write.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The dataset's directory (created if needed); files go under DIR/connections/ or
    /// DIR/dns/.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,

    /// The query, as for `connections` and `dns`; --step is required.
    #[command(flatten)]
    pub query: QueryArgs,
}

/// `--from`, `--to`, `--last`: the window of a query, an export or a report.
#[derive(Clone, Copy, Debug, Default, Args)]
pub struct WindowArgs {
    /// Start of the window (T).
    #[arg(
        long,
        value_name = "T",
        conflicts_with = "last",
        allow_hyphen_values = true
    )]
    pub from: Option<TimeSpec>,

    /// End of the window (T), default now.
    #[arg(long, value_name = "T", allow_hyphen_values = true)]
    pub to: Option<TimeSpec>,

    /// The window is this long, ending at --to (or now), e.g. 1h.
    #[arg(long, value_name = "DUR")]
    pub last: Option<Dur>,
}

impl WindowArgs {
    /// The window these flags give (default: the last 15 minutes, ending at `--to` or
    /// now), every relative time resolved against the same `now`.
    pub fn resolve(&self, now: SystemTime) -> Result<Window, datadog_cnm::Error> {
        let to = self.to.map_or(now, |to| to.resolve(now));
        match (self.from, self.last) {
            (Some(from), _) => Window::between(from.resolve(now), to),
            (None, last) => {
                let last = last.map_or(ConnectionsQuery::DEFAULT_WINDOW, |d| d.0);
                // `ending_at` clamps at 1970: the window may be empty, which `between` says.
                let window = Window::ending_at(to, last);
                Window::between(window.from, window.to)
            }
        }
    }
}

/// `--sort-by [delta:]METRIC[:asc]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SortSpec {
    /// The metric or derived metric.
    pub name: String,
    /// Smallest first.
    pub ascending: bool,
    /// Rank a comparison by the change.
    pub delta: bool,
}

impl FromStr for SortSpec {
    type Err = String;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let mut text = input.trim();
        let delta = match text.strip_prefix("delta:") {
            Some(rest) => {
                text = rest;
                true
            }
            None => false,
        };
        let (name, ascending) = match text.rsplit_once(':') {
            Some((name, "asc")) => (name, true),
            Some((name, "desc")) => (name, false),
            Some((_, other)) => {
                return Err(format!(
                    "`{input}`: the order after `:` is `asc` or `desc`, not `{other}`"
                ));
            }
            None => (text, false),
        };
        if name.trim().is_empty() {
            return Err(format!(
                "`{input}` names no metric; e.g. tcp_retransmits:asc"
            ));
        }
        Ok(Self {
            name: name.trim().to_owned(),
            ascending,
            delta,
        })
    }
}

/// Flags of `mock-server`.
#[derive(Debug, Args)]
pub struct MockServerArgs {
    /// Address to listen on (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,

    /// Seed of the synthetic data: same seed, same answers.
    #[arg(long, value_name = "N", default_value_t = datadog_cnm_mock::DEFAULT_SEED)]
    pub seed: u64,

    /// Answer 429 beyond N requests per PERIOD, e.g. 30/60s or 5/1m.
    #[arg(long, value_name = "N/PERIOD")]
    pub rate_limit: Option<RateLimitArg>,

    /// Answer every request this much later, e.g. 200ms or 1s (a slow API, or a far one).
    #[arg(long, value_name = "DUR")]
    pub latency: Option<FineDur>,

    /// The data: `default` (daily cycles and an incident: a retransmit storm, an NXDOMAIN
    /// surge, a new and a vanished pair), `calm` (cycles, no incident) or `flat`.
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub scenario: datadog_cnm_mock::Scenario,
}

/// `--output`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// A human-formatted table that fits the terminal.
    Table,
    /// A table with every column.
    Wide,
    /// A JSON array of row objects.
    Json,
    /// One JSON row object per line.
    Ndjson,
    /// A header of group-by keys then metrics, one line per row.
    Csv,
    /// One Parquet file (the schema of `export`), to --out FILE or a redirected stdout.
    Parquet,
}

// By hand rather than derived, so that `--help` lists the names on one line instead of
// a paragraph per format.
impl ValueEnum for OutputFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            Self::Table,
            Self::Wide,
            Self::Json,
            Self::Ndjson,
            Self::Csv,
            Self::Parquet,
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
}

impl OutputFormat {
    /// The name `--output` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::Wide => "wide",
            Self::Json => "json",
            Self::Ndjson => "ndjson",
            Self::Csv => "csv",
            Self::Parquet => "parquet",
        }
    }
}

/// `--rate-limit N/PERIOD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimitArg {
    /// Requests allowed per period.
    pub limit: u32,
    /// The period.
    pub period: Duration,
}

impl FromStr for RateLimitArg {
    type Err = String;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let usage = "expected N/PERIOD, e.g. 30/60s or 5/1m";
        let (limit, period) = input
            .split_once('/')
            .ok_or_else(|| format!("`{input}`: {usage}"))?;
        let limit: u32 = limit
            .trim()
            .parse()
            .map_err(|_| format!("`{}` is not a number of requests; {usage}", limit.trim()))?;
        let period = period.trim();
        let period = match period.parse::<u64>() {
            Ok(secs) if secs > 0 => Duration::from_secs(secs),
            _ => parse_duration(period)?,
        };
        Ok(Self { limit, period })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every `ddcnm …` line of every help text parses: an example that fails is worse than
    /// none.
    #[test]
    fn every_example_in_the_help_parses() {
        fn examples(command: &clap::Command, found: &mut Vec<String>) {
            let help = command
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            let mut lines = help.lines();
            while let Some(line) = lines.next() {
                let line = line.trim_start();
                // `bash:  ddcnm completions bash > …`: a label before the command.
                let line = line
                    .split_once(":  ")
                    .map_or(line, |(_, rest)| rest.trim_start());
                if let Some(rest) = line.strip_prefix("ddcnm ") {
                    let mut command = rest.to_owned();
                    // A long example goes on over lines ending in `\`.
                    while command.trim_end().ends_with('\\') {
                        command = command.trim_end().trim_end_matches('\\').to_owned();
                        command.push_str(lines.next().unwrap_or_default());
                    }
                    let command = command.split(['#', '>', '|']).next().unwrap_or_default();
                    found.push(format!("ddcnm {}", command.trim()));
                }
            }
            for sub in command.get_subcommands() {
                examples(sub, found);
            }
        }
        let mut found = Vec::new();
        examples(&Cli::command(), &mut found);
        assert!(found.len() >= 40, "{found:?}");
        for example in found {
            let words = shell_words::split(&example).unwrap();
            if let Err(error) = Cli::try_parse_from(&words) {
                panic!("{example}: {error}");
            }
        }
    }

    #[test]
    fn windows_from_every_flag_combination() {
        use crate::time::TimeSpec;
        let secs = Duration::from_secs;
        let now = std::time::UNIX_EPOCH + secs(1_800_000_000);
        let window = |args: WindowArgs| args.resolve(now).ok();
        assert_eq!(
            window(WindowArgs::default()),
            Some(Window::ending_at(now, ConnectionsQuery::DEFAULT_WINDOW))
        );
        let last = WindowArgs {
            last: Some(Dur(secs(3600))),
            to: Some(TimeSpec::Ago(secs(600))),
            ..WindowArgs::default()
        };
        assert_eq!(
            window(last),
            Some(Window::ending_at(now - secs(600), secs(3600)))
        );
        let from = WindowArgs {
            from: Some(TimeSpec::Ago(secs(7200))),
            ..WindowArgs::default()
        };
        assert_eq!(window(from), Window::between(now - secs(7200), now).ok());
        let inverted = WindowArgs {
            from: Some(TimeSpec::Now),
            to: Some(TimeSpec::Ago(secs(60))),
            last: None,
        };
        assert!(matches!(
            inverted.resolve(now),
            Err(datadog_cnm::Error::InvalidInput { .. })
        ));
        // Before 1970 there is nothing: an empty window is refused, not sent.
        let early = WindowArgs {
            to: Some(TimeSpec::Ago(secs(1_800_000_000))),
            ..WindowArgs::default()
        };
        assert!(early.resolve(now).is_err());
    }

    #[test]
    fn rate_limits_parse() {
        let parse = |s: &str| s.parse::<RateLimitArg>();
        assert_eq!(
            parse("30/60s"),
            Ok(RateLimitArg {
                limit: 30,
                period: Duration::from_secs(60)
            })
        );
        assert_eq!(parse("5/1m").map(|r| r.period.as_secs()), Ok(60));
        assert_eq!(parse("5/10").map(|r| r.period.as_secs()), Ok(10));
        assert!(parse("5").is_err());
        assert!(parse("x/1m").is_err());
        assert!(parse("5/0").is_err());
    }
}
