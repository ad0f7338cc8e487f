//! Exit codes and how failures are told on stderr.
//!
//! 0 ok · 2 invalid usage or input (no request sent) · 3 authentication or permission
//! (401/403) · 4 rate limited after retries · 5 other API error · 6 network, timeout or
//! time budget (`--deadline`) ·
//! 7 partial (`--keep-going`: some windows failed, the others were written) · 1 anything
//! else.

use std::fmt::Write as _;
use std::io;
use std::process::ExitCode;

use datadog_cnm::{Error, RateLimit};

/// Success.
pub const OK: u8 = 0;
/// Anything not covered below (an undecodable response, a local I/O failure, …).
pub const OTHER: u8 = 1;
/// Invalid usage or input; nothing was sent.
pub const USAGE: u8 = 2;
/// 401 or 403: the keys are wrong or lack a permission.
pub const AUTH: u8 = 3;
/// Still rate limited when the retries ran out.
pub const RATE_LIMITED: u8 = 4;
/// Any other error status from the API.
pub const API: u8 = 5;
/// The network failed or a request timed out.
pub const NETWORK: u8 = 6;
/// Some windows of a `--keep-going` series failed; the others were written.
pub const PARTIAL: u8 = 7;

/// Why a command failed.
#[derive(Debug)]
pub enum Failure {
    /// Invalid usage or input found by the CLI itself; nothing was sent.
    Usage(String),
    /// An error of the client library.
    Client(Error),
    /// Writing the results failed.
    Io(io::Error),
    /// Anything else, as one sentence.
    Other(String),
    /// Some parts failed — windows of a `--keep-going` series, or targets of a query to
    /// several profiles or sites — each named on stderr as it failed; the others were
    /// printed or written.
    Partial {
        /// Parts that failed.
        failed: usize,
        /// Parts in all.
        total: usize,
        /// What a part is: `window`, `profile` or `site`.
        unit: &'static str,
        /// The first failure, for its hint.
        first: Option<Box<Failure>>,
    },
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Self::Client(error)
    }
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Self {
        Self::Io(error)
    }
}

/// Where requests went, for hints.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// The site or base URL, e.g. `datadoghq.eu` or `http://127.0.0.1:8126`.
    pub target: String,
}

/// The exit code of a library error (a series failure counts as its cause).
pub fn code_of(error: &Error) -> u8 {
    match error {
        Error::Series { source, .. } => code_of(source),
        Error::InvalidInput { .. } | Error::Config { .. } => USAGE,
        Error::Api {
            status: 401 | 403, ..
        } => AUTH,
        Error::RateLimited { .. } => RATE_LIMITED,
        Error::Api { .. } | Error::BodyTooLarge { .. } => API,
        Error::Transport { .. } | Error::Timeout { .. } | Error::OutOfTime { .. } => NETWORK,
        _ => OTHER,
    }
}

impl Failure {
    /// The process exit code.
    pub fn code(&self) -> u8 {
        match self {
            Self::Usage(_) => USAGE,
            Self::Client(error) => code_of(error),
            // The reader went away (`ddcnm … | head`): not a failure.
            Self::Io(error) if error.kind() == io::ErrorKind::BrokenPipe => OK,
            Self::Io(_) | Self::Other(_) => OTHER,
            Self::Partial { .. } => PARTIAL,
        }
    }

    /// The failure as one sentence, without `error: ` (for messages that quote it).
    pub fn sentence(&self) -> String {
        match self {
            Self::Usage(message) | Self::Other(message) => message.clone(),
            other => {
                let message = other.message(&Context::default());
                let first = message.lines().next().unwrap_or_default();
                first.trim_start_matches("error: ").to_owned()
            }
        }
    }

    /// What to print on stderr: `error: <one sentence>`, then indented evidence and hints.
    /// Empty when there is nothing to say (a closed pipe).
    pub fn message(&self, context: &Context) -> String {
        match self {
            Self::Usage(message) | Self::Other(message) => format!("error: {message}\n"),
            Self::Io(error) if error.kind() == io::ErrorKind::BrokenPipe => String::new(),
            Self::Io(error) => format!("error: could not write the results: {error}\n"),
            Self::Client(error) => client_message(error, context),
            Self::Partial {
                failed,
                total,
                unit,
                first,
            } => {
                let mut text = format!(
                    "error: {failed} of {total} {unit}{} failed (named above); everything \
                     else is in the output\n",
                    if *total == 1 { "" } else { "s" }
                );
                let cause = match first.as_deref() {
                    Some(Self::Client(error)) => hint(error, context),
                    _ => None,
                };
                if let Some(hint) = cause {
                    let _ = writeln!(text, "  hint: {hint}");
                }
                text
            }
        }
    }
}

/// The library's advice for its own callers that names no `ddcnm` flag: `ddcnm` has no way
/// to send keys over plain HTTP to another host, on purpose.
const LIBRARY_ONLY_ADVICE: &str =
    " (or `ClientBuilder::allow_insecure_http(true)` on a trusted network)";

fn client_message(error: &Error, context: &Context) -> String {
    let mut text = format!("error: {error}\n").replace(LIBRARY_ONLY_ADVICE, "");
    let cause = match error {
        Error::Series { source, .. } => source.as_ref(),
        other => other,
    };
    if let Error::Api {
        request_id: Some(id),
        ..
    } = cause
    {
        let _ = writeln!(text, "  request id: {id}");
    }
    if cause.status() == Some(429)
        && let Some(rate_limit) = cause.rate_limit()
    {
        let _ = writeln!(text, "  {}", rate_limit_line(rate_limit));
    }
    if let Some(hint) = hint(cause, context) {
        let _ = writeln!(text, "  hint: {hint}");
    }
    text
}

/// What to do about `error`, naming only flags that exist.
fn hint(error: &Error, context: &Context) -> Option<String> {
    let target = &context.target;
    match error {
        Error::Series { source, .. } => hint(source, context),
        Error::RateLimited {
            retry_in: Some(wait),
            ..
        } => Some(format!(
            "the rate limit resets in {}s, beyond the time left; allow more with --deadline \
             (e.g. --deadline 10m), or query fewer windows",
            wait.as_secs_f64().ceil()
        )),
        Error::RateLimited { .. } => Some(
            "wait for the reset, or allow more attempts with --max-attempts; a series' windows \
             share one limit, which paces them"
                .to_owned(),
        ),
        Error::OutOfTime { sent: true, .. } => Some(
            "the server had not answered when the time budget ran out; allow more with \
             --deadline (e.g. --deadline 30m), or check the server (--timeout bounds each \
             attempt)"
                .to_owned(),
        ),
        Error::OutOfTime { .. } => Some(
            "the time budget ran out while waiting for the rate limit or retrying; allow more \
             with --deadline (e.g. --deadline 30m), or query fewer windows"
                .to_owned(),
        ),
        _ => match code_of(error) {
            AUTH => Some(format!(
                "check that DD_API_KEY and DD_APP_KEY are keys of an organisation on {target} \
                 (the site is chosen with --site or DD_SITE)"
            )),
            NETWORK => Some(format!(
                "could not get an answer from {target}; check the network, --site or \
                 --base-url, and --timeout"
            )),
            _ => None,
        },
    }
}

/// `rate limit: name=cnm_aggregate limit=30/60s remaining=0 reset in 12s`.
pub fn rate_limit_line(rate_limit: &RateLimit) -> String {
    let mut line = String::from("rate limit:");
    if let Some(name) = &rate_limit.name {
        let _ = write!(line, " name={name}");
    }
    match (rate_limit.limit, rate_limit.period) {
        (Some(limit), Some(period)) => {
            let _ = write!(line, " limit={limit}/{}s", period.as_secs());
        }
        (Some(limit), None) => {
            let _ = write!(line, " limit={limit}");
        }
        _ => {}
    }
    if let Some(remaining) = rate_limit.remaining {
        let _ = write!(line, " remaining={remaining}");
    }
    if let Some(reset) = rate_limit.reset {
        let _ = write!(line, " reset in {}s", reset.as_secs());
    }
    line
}

/// Print `failure` (if anything is worth saying) and turn it into an exit code.
pub fn report(failure: &Failure, context: &Context) -> ExitCode {
    let message = failure.message(context);
    if !message.is_empty() {
        eprint!("{message}");
    }
    ExitCode::from(failure.code())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn codes_follow_the_contract() {
        let api = |status| Error::Api {
            status,
            errors: Vec::new(),
            request_id: None,
            rate_limit: None,
            body: None,
            attempts: 1,
        };
        assert_eq!(code_of(&api(401)), AUTH);
        assert_eq!(code_of(&api(403)), AUTH);
        assert_eq!(code_of(&api(400)), API);
        assert_eq!(code_of(&api(503)), API);
        let limited = Error::RateLimited {
            rate_limit: None,
            attempts: 2,
            retry_in: None,
        };
        assert_eq!(code_of(&limited), RATE_LIMITED);
        let series = Error::Series {
            window: datadog_cnm::Window {
                from: std::time::UNIX_EPOCH,
                to: std::time::UNIX_EPOCH,
            },
            source: Box::new(api(403)),
        };
        assert_eq!(code_of(&series), AUTH);
        assert_eq!(Failure::Usage(String::new()).code(), USAGE);
        let pipe = Failure::Io(io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(pipe.code(), OK);
        assert_eq!(pipe.message(&Context::default()), "");
    }

    #[test]
    fn hints_name_only_what_ddcnm_has() {
        let insecure = datadog_cnm::Client::builder()
            .base_url("http://example.com")
            .api_key("k")
            .app_key("a")
            .build()
            .err();
        let message = Failure::Client(insecure.expect("plain http to another host is refused"))
            .message(&Context::default());
        assert!(message.contains("use https://"), "{message}");
        assert!(!message.contains("ClientBuilder"), "{message}");
    }

    #[test]
    fn rate_limit_lines_show_what_is_known() {
        let full = RateLimit {
            limit: Some(30),
            remaining: Some(0),
            period: Some(Duration::from_secs(60)),
            reset: Some(Duration::from_secs(12)),
            name: Some("cnm_aggregate".to_owned()),
        };
        assert_eq!(
            rate_limit_line(&full),
            "rate limit: name=cnm_aggregate limit=30/60s remaining=0 reset in 12s"
        );
        assert_eq!(rate_limit_line(&RateLimit::default()), "rate limit:");
    }
}
