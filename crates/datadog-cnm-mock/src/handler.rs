//! One request in, one response out: faults, routing, authentication, rate limiting,
//! validation and data, in that order.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::dataset::Dataset;
use crate::endpoint::{CONNECTIONS_PATH, DNS_PATH, Endpoint};
use crate::error::ApiError;
use crate::faults::{Applied, Arrival, CustomResponse, Cut, Fault, FaultQueue, Repeat};
use crate::ratelimit::{RateLimitState, RateLimiter};
use crate::stats::{Outcome, RecordedRequest, Recorder};

/// What the real server answers with, errors included.
const JSON_API: &str = "application/vnd.api+json";
const REDACTED: &str = "** redacted **";
const INJECTED: &str = "Injected by the mock server's fault queue";

/// The parts of a request the handler looks at. Credentials are kept only to be compared.
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) api_key: Option<String>,
    pub(crate) app_key: Option<String>,
    pub(crate) bearer: Option<String>,
    /// The other headers, for fault targets: lower-case names, trimmed values.
    pub(crate) headers: Vec<(String, String)>,
}

/// How the connection layer sends a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    Full,
    /// Announce the full length, send `after` bytes of the body, then close (or reset).
    Cut {
        after: usize,
        reset: bool,
    },
    /// Send nothing; reset the connection.
    Reset,
    /// Send the body repeated to `length` bytes, streamed (chunked: without announcing it).
    Repeat {
        length: u64,
        chunked: bool,
    },
}

pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(Cow<'static, str>, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) delivery: Delivery,
    /// Close the connection after the response.
    pub(crate) close: bool,
}

impl Response {
    fn new(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: vec![(Cow::Borrowed("content-type"), content_type.to_owned())],
            body,
            delivery: Delivery::Full,
            close: false,
        }
    }

    fn json(status: u16, body: Vec<u8>, rate_limit: RateLimitState) -> Self {
        let mut response = Self::new(status, JSON_API, body);
        response.headers.extend(
            rate_limit
                .headers()
                .map(|(name, value)| (Cow::Borrowed(name), value)),
        );
        response
    }

    fn error(error: &ApiError, rate_limit: RateLimitState) -> Self {
        Self::json(error.status, error.body(), rate_limit)
    }
}

/// Which credentials the server accepts.
#[derive(Clone, Default)]
pub(crate) struct Credentials {
    pub(crate) pair: Option<(String, String)>,
    pub(crate) bearer: Option<String>,
}

impl Credentials {
    fn check(&self, request: &Request) -> Result<(), ApiError> {
        let presented_pair = request.api_key.as_deref().zip(request.app_key.as_deref());
        let presented_bearer = request.bearer.as_deref();
        let accepted = if self.pair.is_none() && self.bearer.is_none() {
            presented_pair.is_some() || presented_bearer.is_some()
        } else {
            let pair_ok = matches!((&self.pair, presented_pair),
                (Some((api, app)), Some((a, b))) if api == a && app == b);
            let bearer_ok = matches!((&self.bearer, presented_bearer),
                (Some(token), Some(t)) if token == t);
            pair_ok || bearer_ok
        };
        if accepted {
            return Ok(());
        }
        Err(if presented_pair.is_some() || presented_bearer.is_some() {
            ApiError::forbidden("The API key, application key or bearer token is not valid")
        } else {
            ApiError::forbidden(
                "Both a DD-API-KEY and a DD-APPLICATION-KEY header (or an Authorization: Bearer \
                 token) are required",
            )
        })
    }
}

/// Everything the connections of one server share.
pub(crate) struct Shared {
    pub(crate) dataset: Dataset,
    pub(crate) limiter: RateLimiter,
    pub(crate) faults: FaultQueue,
    pub(crate) recorder: Recorder,
    pub(crate) latency: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) credentials: Credentials,
    pub(crate) now: Option<SystemTime>,
}

impl Shared {
    pub(crate) async fn handle(&self, request: Request) -> Response {
        let at = SystemTime::now();
        let received = Instant::now();
        let (path, query) = request
            .target
            .split_once('?')
            .unwrap_or((request.target.as_str(), ""));
        let endpoint = Endpoint::from_path(path);
        let (number, applied) = self.faults.arrive(&Arrival {
            endpoint,
            headers: &request.headers,
        });
        wait(self.latency).await;
        let (response, outcome, fault) = match applied {
            None => {
                let (response, outcome) = self.respond(&request, endpoint, query);
                (response, outcome, None)
            }
            Some(Applied { fault, delay }) => {
                wait(delay).await;
                let (response, outcome) = match fault {
                    Fault::Delay { delay, .. } => {
                        wait(delay).await;
                        self.respond(&request, endpoint, query)
                    }
                    ref fault => (self.fault(fault, endpoint, query), Outcome::Fault),
                };
                (response, outcome, Some(fault))
            }
        };
        let record = RecordedRequest {
            number,
            received,
            method: request.method.clone(),
            path: path.to_owned(),
            endpoint,
            query: recorded_query(query),
            has_api_key: request.api_key.is_some(),
            has_app_key: request.app_key.is_some(),
            has_bearer_token: request.bearer.is_some(),
            fault,
            status: match response.delivery {
                Delivery::Reset => 0,
                _ => response.status,
            },
            at,
        };
        self.recorder.record(record, outcome);
        response
    }

    /// A response for a request the connection layer could not parse; not recorded, not
    /// numbered, but as slow as any other.
    pub(crate) async fn protocol_error(&self, status: u16, detail: &str) -> Response {
        wait(self.latency).await;
        let error = ApiError::new(status, reason(status)).detail(detail);
        Response::error(&error, self.limiter.peek(Instant::now()))
    }

    fn clock(&self) -> SystemTime {
        self.now.unwrap_or_else(SystemTime::now)
    }

    fn respond(
        &self,
        request: &Request,
        endpoint: Option<Endpoint>,
        query: &str,
    ) -> (Response, Outcome) {
        let now = Instant::now();
        let Some(endpoint) = endpoint else {
            let error = ApiError::new(404, "Not Found").detail(format!(
                "No such endpoint; the mock serves {CONNECTIONS_PATH} and {DNS_PATH}"
            ));
            return (
                Response::error(&error, self.limiter.peek(now)),
                Outcome::Rejected,
            );
        };
        if request.method != "GET" {
            let error = ApiError::new(405, "Method Not Allowed")
                .detail(format!("{} only supports GET", endpoint.path()));
            let mut response = Response::error(&error, self.limiter.peek(now));
            response
                .headers
                .push((Cow::Borrowed("allow"), "GET".to_owned()));
            return (response, Outcome::Rejected);
        }
        if let Err(error) = self.credentials.check(request) {
            return (
                Response::error(&error, self.limiter.peek(now)),
                Outcome::Rejected,
            );
        }
        let rate_limit = match self.limiter.acquire(now) {
            Ok(state) => state,
            Err(state) => {
                let error = ApiError::too_many_requests();
                return (Response::error(&error, state), Outcome::RateLimited);
            }
        };
        match self.dataset.body(endpoint, query, self.clock()) {
            Ok(body) => {
                self.limiter.admit(rate_limit.index);
                (Response::json(200, body, rate_limit), Outcome::Ok)
            }
            Err(error) => (Response::error(&error, rate_limit), Outcome::Rejected),
        }
    }

    fn fault(&self, fault: &Fault, endpoint: Option<Endpoint>, query: &str) -> Response {
        let rate_limit = self.limiter.peek(Instant::now());
        match fault {
            Fault::Status { status, .. } => {
                let status = sanitize(*status);
                let error = ApiError::new(status, reason(status)).detail(INJECTED);
                let rate_limit = if status == 429 {
                    RateLimitState {
                        remaining: 0,
                        reset: 1,
                        ..rate_limit
                    }
                } else {
                    rate_limit
                };
                Response::error(&error, rate_limit)
            }
            Fault::MalformedBody { .. } => Response::json(
                200,
                b"{\"data\":[{\"attributes\":{\"bytes_sent_by_client\":12,<!-- not json -->"
                    .to_vec(),
                rate_limit,
            ),
            Fault::TruncatedBody { .. } => {
                let body = endpoint
                    .and_then(|e| self.dataset.body(e, query, self.clock()).ok())
                    .unwrap_or_else(|| b"{\"data\":[]}".to_vec());
                let mut response = Response::json(200, body, rate_limit);
                response.delivery = Delivery::Cut {
                    after: response.body.len() / 2,
                    reset: false,
                };
                response
            }
            Fault::ConnectionReset { .. } => {
                let mut response = Response::new(0, JSON_API, Vec::new());
                response.delivery = Delivery::Reset;
                response
            }
            Fault::Html { status, .. } => {
                let status = sanitize(*status);
                let line = format!("{status} {}", reason(status));
                let page = format!(
                    "<html>\r\n<head><title>{line}</title></head>\r\n<body>\r\n\
                     <center><h1>{line}</h1></center>\r\n<hr><center>nginx</center>\r\n\
                     </body>\r\n</html>\r\n"
                );
                Response::new(status, "text/html", page.into_bytes())
            }
            Fault::RetryAfter {
                status, seconds, ..
            } => {
                let status = sanitize(*status);
                let error = ApiError::new(status, reason(status)).detail(INJECTED);
                let mut response = Response::new(status, JSON_API, error.body());
                response
                    .headers
                    .push((Cow::Borrowed("retry-after"), seconds.to_string()));
                response
            }
            Fault::Respond { response, .. } => custom(response, rate_limit),
            // Handled before dispatch; kept total for future variants.
            Fault::Delay { .. } => {
                Response::error(&ApiError::new(500, "Internal Server Error"), rate_limit)
            }
        }
    }
}

/// Sleeps on Tokio's clock, unless there is nothing to wait for.
async fn wait(duration: Duration) {
    if !duration.is_zero() {
        tokio::time::sleep(duration).await;
    }
}

/// A [`CustomResponse`] as the connection layer sends it.
fn custom(custom: &CustomResponse, rate_limit: RateLimitState) -> Response {
    let status = sanitize(custom.status);
    let mut headers = Vec::with_capacity(custom.headers.len() + 5);
    if custom.rate_limit_headers {
        let rate_limit = if status == 429 {
            RateLimitState {
                remaining: 0,
                ..rate_limit
            }
        } else {
            rate_limit
        };
        for (name, value) in rate_limit.headers() {
            let overridden = custom
                .headers
                .iter()
                .any(|(given, _)| given.trim().eq_ignore_ascii_case(name));
            if !overridden {
                headers.push((Cow::Borrowed(name), value));
            }
        }
    }
    let mut close = false;
    for (name, value) in &custom.headers {
        let name = name.trim();
        if !sendable(name, value)
            || name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            continue;
        }
        if name.eq_ignore_ascii_case("connection") {
            // Sent once, by the connection layer, when it does close.
            close |= value
                .split(',')
                .any(|option| option.trim().eq_ignore_ascii_case("close"));
            continue;
        }
        headers.push((Cow::Owned(name.to_owned()), value.trim().to_owned()));
    }
    Response {
        status,
        headers,
        body: custom.body.clone(),
        delivery: match custom.cut {
            Some(Cut { after, reset }) => Delivery::Cut { after, reset },
            None => match custom.repeat {
                Some(Repeat { length, chunked }) => Delivery::Repeat { length, chunked },
                None => Delivery::Full,
            },
        },
        close,
    }
}

/// Whether a header can go out as one well-formed line.
fn sendable(name: &str, value: &str) -> bool {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    !name.is_empty()
        && name.chars().all(token)
        && value.chars().all(|c| c == '\t' || !c.is_control())
}

fn sanitize(status: u16) -> u16 {
    if (100..=999).contains(&status) {
        status
    } else {
        500
    }
}

pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

fn recorded_query(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(name, value)| {
            let lower = name.to_ascii_lowercase();
            let secret = ["key", "token", "secret", "password"]
                .iter()
                .any(|s| lower.contains(s));
            let value = if secret {
                REDACTED.to_owned()
            } else {
                value.into_owned()
            };
            (name.into_owned(), value)
        })
        .collect()
}
