//! One error type that says where a request failed and keeps the evidence.

use std::fmt;
use std::time::Duration;

use datadog_cnm_raw::types::{ApiErrorItem, ApiErrorResponse};
use serde::{Deserialize, Serialize};

use crate::ratelimit::RateLimit;

/// A specialised `Result` for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, by where it went wrong.
///
/// - [`Error::InvalidInput`] and [`Error::Config`]: nothing was sent.
/// - [`Error::Transport`] and [`Error::Timeout`]: the request may have reached the server.
/// - [`Error::Api`], [`Error::RateLimited`], [`Error::BodyTooLarge`], [`Error::Decode`]: the
///   server answered.
///
/// No variant ever contains an API key, application key or bearer token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A query parameter is invalid; the request was not sent.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The parameter, as named by the builder method (`limit`, `group_by`, `window`, …).
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },

    /// The client could not be configured (site, base URL, credentials, proxy).
    #[error("configuration error: {message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },

    /// The request failed on the network (connection refused or reset, TLS, incomplete
    /// body) after `attempts` attempts.
    #[error("request failed after {attempts} attempt{}: {}", plural(*attempts), source_chain(source))]
    Transport {
        /// Attempts made, including the last one.
        attempts: u32,
        /// The underlying error of the last attempt.
        #[source]
        source: reqwest::Error,
    },

    /// The request timed out after `attempts` attempts.
    #[error("request timed out after {attempts} attempt{} (each attempt is limited to {}s)", plural(*attempts), timeout.as_secs_f64())]
    Timeout {
        /// Attempts made, including the last one.
        attempts: u32,
        /// The per-attempt timeout that expired.
        timeout: Duration,
        /// The underlying error of the last attempt.
        #[source]
        source: reqwest::Error,
    },

    /// The API answered with an error status.
    #[error("{}", api_message(*status, errors, body.as_deref(), *attempts))]
    Api {
        /// HTTP status code.
        status: u16,
        /// The errors the server listed, parsed from either body shape.
        errors: Vec<ApiErrorDetail>,
        /// The request id the server returned, if any (quote it to Datadog support).
        request_id: Option<String>,
        /// Rate-limit state reported with the response (boxed to keep `Error` small).
        rate_limit: Option<Box<RateLimit>>,
        /// The raw body (at most 4 KiB), kept when it matched neither error shape.
        body: Option<String>,
        /// Attempts made, including the one that got this answer.
        attempts: u32,
    },

    /// The API kept answering 429 until the retry policy gave up, or the client's shared
    /// rate-limit state held the request longer than its time budget allows.
    #[error("{}{}{}", rate_limited_what(*attempts), rate_limit_hint(rate_limit.as_deref()), retry_hint(*retry_in))]
    RateLimited {
        /// The last rate-limit state the server reported (boxed to keep `Error` small).
        rate_limit: Option<Box<RateLimit>>,
        /// Attempts made (0 when the request waited for the rate limit and was never sent).
        attempts: u32,
        /// How long the server (or the rate-limit state) still asked to wait, when that is
        /// why the request gave up: longer than what was left of the time budget.
        retry_in: Option<Duration>,
    },

    /// The response body was longer than the client accepts
    /// ([`ClientBuilder::body_limit`](crate::ClientBuilder::body_limit)); it was not read
    /// whole.
    #[error("the response body is larger than the client's limit of {limit} bytes{} (HTTP {status}); a page is at most a few MB, so this is not the API's answer or the limit is too low", announced.map(|n| format!(" (it announced {n} bytes)")).unwrap_or_default())]
    BodyTooLarge {
        /// The status of the response.
        status: u16,
        /// The limit, in bytes.
        limit: u64,
        /// The length `Content-Length` announced, when the body was refused on it.
        announced: Option<u64>,
    },

    /// The request's time budget (the retry policy's, or a series' deadline) ran out before
    /// it could be sent, or while its answer was awaited (the attempt is then abandoned).
    #[error(
        "the time budget of {}s ran out {}",
        budget.as_secs_f64(),
        if *sent { "while waiting for the answer" } else { "before the request could be sent" }
    )]
    OutOfTime {
        /// The budget that ran out.
        budget: Duration,
        /// Whether the request had been sent (and its answer did not come in time).
        sent: bool,
    },

    /// One window of a [series](crate::Series) failed; the series stopped there.
    #[error("window {window} failed: {source}")]
    Series {
        /// The window that failed.
        window: crate::Window,
        /// Why.
        #[source]
        source: Box<Error>,
    },

    /// A successful response could not be decoded.
    #[error("{}", decode_message(path, source, body_excerpt))]
    Decode {
        /// The start of the body (at most 512 bytes, lossy UTF-8).
        body_excerpt: String,
        /// Where in the document decoding failed, e.g. `data[3].attributes.tcp_resets`.
        path: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// The HTTP status of the response that caused this error, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            Self::RateLimited { .. } => Some(429),
            Self::BodyTooLarge { status, .. } => Some(*status),
            Self::Series { source, .. } => source.status(),
            _ => None,
        }
    }

    /// `true` when sending the same request again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. }
            | Self::Timeout { .. }
            | Self::RateLimited { .. }
            | Self::OutOfTime { .. } => true,
            Self::Api { status, .. } => crate::retry::is_retryable_status(*status),
            Self::Series { source, .. } => source.is_retryable(),
            Self::InvalidInput { .. }
            | Self::Config { .. }
            | Self::Decode { .. }
            | Self::BodyTooLarge { .. } => false,
        }
    }

    /// The rate-limit state the server reported with the failing response, if any.
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        match self {
            Self::Api { rate_limit, .. } | Self::RateLimited { rate_limit, .. } => {
                rate_limit.as_deref()
            }
            Self::Series { source, .. } => source.rate_limit(),
            _ => None,
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::Config {
            message: message.into(),
        }
    }
}

/// One error the API listed in its response body.
///
/// The server sends JSON:API error objects (`status`, `title`, `detail`, `source`); the
/// published spec documents plain strings, which land in `title`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorDetail {
    /// The HTTP status as the server wrote it, e.g. `"400"`.
    pub status: Option<String>,
    /// A short summary, e.g. `Invalid limit`.
    pub title: Option<String>,
    /// A longer explanation of this occurrence.
    pub detail: Option<String>,
    /// The query parameter that caused the error, if the server said.
    pub parameter: Option<String>,
    /// The request header that caused the error, if the server said.
    pub header: Option<String>,
    /// A JSON pointer into the request document, if the server said.
    pub pointer: Option<String>,
}

impl fmt::Display for ApiErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.title, &self.detail) {
            (Some(title), Some(detail)) => write!(f, "{title}: {detail}"),
            (Some(text), None) | (None, Some(text)) => f.write_str(text),
            (None, None) => f.write_str("(no description)"),
        }?;
        if let Some(parameter) = &self.parameter {
            write!(f, " (parameter `{parameter}`)")?;
        }
        Ok(())
    }
}

impl From<ApiErrorItem> for ApiErrorDetail {
    fn from(item: ApiErrorItem) -> Self {
        match item {
            ApiErrorItem::String(title) => Self {
                title: Some(title),
                ..Self::default()
            },
            ApiErrorItem::JsonapiErrorItem(item) => {
                let source = item.source.unwrap_or_default();
                Self {
                    status: item.status,
                    title: item.title,
                    detail: item.detail,
                    parameter: source.parameter,
                    header: source.header,
                    pointer: source.pointer,
                }
            }
        }
    }
}

/// The errors listed in an error response body of either shape, or `None` when the body
/// is not an error document (an HTML page from a proxy, an empty body, …).
pub(crate) fn parse_error_body(body: &[u8]) -> Option<Vec<ApiErrorDetail>> {
    let parsed: ApiErrorResponse = serde_json::from_slice(body).ok()?;
    Some(
        parsed
            .errors
            .into_iter()
            .map(ApiErrorDetail::from)
            .collect(),
    )
}

/// At most `max` bytes of `body` as text, cut at a character boundary.
pub(crate) fn excerpt(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(max)]);
    let mut text = text.into_owned();
    if body.len() > max {
        text.push('…');
    }
    text
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn source_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `Some(title)` when `body` is an HTML page (its `<title>`, or empty without one).
fn html_page(body: &str) -> Option<String> {
    let start = body.trim_start();
    let head: String = start
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    if !(head.starts_with("<!doctype html") || head.starts_with("<html") || head.contains("<html"))
    {
        return None;
    }
    let lower = start.to_ascii_lowercase();
    let title = lower
        .find("<title")
        .and_then(|at| Some(at + lower[at..].find('>')? + 1))
        .and_then(|from| {
            Some(
                start[from..from + lower[from..].find("</title")?]
                    .trim()
                    .to_owned(),
            )
        });
    Some(
        title
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn decode_message(path: &str, source: &serde_json::Error, body: &str) -> String {
    printable(match html_page(body) {
        Some(title) => format!(
            "the response is an HTML page{}, not the API's JSON: a proxy, captive portal or \
             login page probably answered; check the base URL or site, and any proxy settings",
            if title.is_empty() {
                String::new()
            } else {
                format!(" titled \"{title}\"")
            }
        ),
        None => format!("could not decode the response at `{path}`: {source}"),
    })
}

fn api_message(
    status: u16,
    errors: &[ApiErrorDetail],
    body: Option<&str>,
    attempts: u32,
) -> String {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let mut text = format!("the API answered {status} {reason}")
        .trim_end()
        .to_owned();
    if attempts > 1 {
        text.push_str(&format!(" after {attempts} attempts"));
    }
    if (300..400).contains(&status) {
        text.push_str(" (redirects are not followed, so credentials never leave the API host)");
    }
    // A title that only repeats the status reason ("403 Forbidden: Forbidden") says
    // nothing new; keep its detail, if any.
    let listed: Vec<String> = errors
        .iter()
        .filter_map(|error| match (&error.title, &error.detail) {
            (Some(title), detail) if title.eq_ignore_ascii_case(reason) => detail.clone(),
            _ => Some(error.to_string()),
        })
        .collect();
    if !listed.is_empty() {
        text.push_str(": ");
        text.push_str(&listed.join("; "));
    } else if errors.is_empty()
        && let Some(body) = body.filter(|b| !b.trim().is_empty())
    {
        match html_page(body) {
            Some(title) if title.is_empty() => {
                text.push_str(": an HTML page, probably from a proxy or load balancer");
            }
            Some(title) => text.push_str(&format!(
                ": an HTML page titled \"{title}\", probably from a proxy or load balancer"
            )),
            None => {
                text.push_str(": ");
                text.push_str(&excerpt(body.trim().as_bytes(), 200));
            }
        }
    }
    printable(text)
}

/// `text` with control characters (escape sequences a terminal would obey, line breaks),
/// invisible format characters and bidirectional overrides written as `\u{…}`: messages quote what servers sent, and
/// they end up on terminals and in one-line logs.
fn printable(text: String) -> String {
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
    };
    if !text.contains(hidden) {
        return text;
    }
    let mut shown = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if hidden(c) {
            shown.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            shown.push(c);
        }
    }
    shown
}

/// `rate limited by the API after 3 attempts`, or for a request never sent (it waited for
/// the client's rate-limit state), `not sent: held back by the API's rate limit`.
fn rate_limited_what(attempts: u32) -> String {
    if attempts == 0 {
        "not sent: held back by the API's rate limit".to_owned()
    } else {
        format!(
            "rate limited by the API after {attempts} attempt{}",
            plural(attempts)
        )
    }
}

fn retry_hint(retry_in: Option<Duration>) -> String {
    match retry_in {
        Some(wait) => format!(
            "; the server asks to wait {}s more, longer than the retry budget allows",
            wait.as_secs_f64().ceil()
        ),
        None => String::new(),
    }
}

fn rate_limit_hint(rate_limit: Option<&RateLimit>) -> String {
    let Some(rate_limit) = rate_limit else {
        return String::new();
    };
    let mut parts = Vec::new();
    if let Some(name) = &rate_limit.name {
        parts.push(format!("limit `{name}`"));
    }
    if let (Some(limit), Some(period)) = (rate_limit.limit, rate_limit.period) {
        parts.push(format!("{limit} requests per {}s", period.as_secs()));
    }
    if let Some(reset) = rate_limit.reset {
        parts.push(format!("resets in {}s", reset.as_secs()));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_pages_are_told_by_their_title() {
        let page = "<!DOCTYPE html>\n<html><head><TITLE>502  Bad\nGateway</TITLE></head><body>x</body></html>";
        assert_eq!(html_page(page).as_deref(), Some("502 Bad Gateway"));
        assert_eq!(
            html_page("<html><body>no title</body></html>").as_deref(),
            Some("")
        );
        assert_eq!(html_page(r#"{"errors":["x"]}"#), None);
        assert_eq!(html_page("plain text"), None);
        let api = Error::Api {
            status: 502,
            errors: Vec::new(),
            request_id: None,
            rate_limit: None,
            body: Some(page.to_owned()),
            attempts: 3,
        };
        assert_eq!(
            api.to_string(),
            "the API answered 502 Bad Gateway after 3 attempts: an HTML page titled \"502 Bad \
             Gateway\", probably from a proxy or load balancer"
        );
        let json = serde_json::from_str::<serde_json::Value>("<html>").unwrap_err();
        let decode = Error::Decode {
            body_excerpt: "<html><head><title>Sign in</title>".to_owned(),
            path: ".".to_owned(),
            source: json,
        };
        assert!(
            decode
                .to_string()
                .starts_with("the response is an HTML page titled \"Sign in\"")
        );
    }
}
