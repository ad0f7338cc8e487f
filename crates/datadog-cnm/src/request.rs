//! The request path: admission by the shared rate limit, one attempt through the
//! low-level client, and the retry decision; then a typed page or a typed error.
//!
//! Each attempt is one call of the generated client, whose seam sends exactly one HTTP
//! exchange and keeps the status of every answer (see `datadog_cnm_raw::Seam`), so every
//! decision here is made on what the server really said. Giving up returns the error of
//! the last real answer.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use datadog_cnm_raw::types::ApiErrorResponse;
use datadog_cnm_raw::{
    Answer, BodyTooLarge, Document, Error as RawError, QueryParams, Row, locate_decode_error,
};
use futures::future::{self, Either};
use http::HeaderMap;
use tracing::Instrument;

use crate::admission::{Admissions, Wait};
use crate::clock::{Clock, Jitter};
use crate::credentials::Credentials;
use crate::error::{ApiErrorDetail, Error, Result, excerpt, parse_error_body};
use crate::page::Page;
use crate::ratelimit::RateLimit;
use crate::retry::{
    RetryPolicy, is_retryable_status, requested_wait_with_jitter, server_requested_wait,
};
use crate::window::Window;

/// A validated query, ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Request {
    /// The window asked for.
    pub(crate) window: Window,
    /// The parameters, as sent.
    pub(crate) params: QueryParams,
    /// The number of rows that means "there may be more": the limit, or the API's default.
    pub(crate) page_size: u32,
    /// When the caller's whole budget ends (a series' deadline), and that budget; it
    /// applies when it ends sooner than the retry policy's.
    pub(crate) deadline: Option<(Instant, Duration)>,
}

/// A wait for the rate limit, as [`ClientBuilder::on_rate_limit_wait`] reports it.
///
/// [`ClientBuilder::on_rate_limit_wait`]: crate::ClientBuilder::on_rate_limit_wait
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitWait {
    /// The operation of the waiting request.
    pub operation: datadog_cnm_raw::Operation,
    /// How long it waits.
    pub wait: Duration,
    /// The rate limit, as the server last reported it.
    pub rate_limit: Option<RateLimit>,
}

/// What hears of rate-limit waits.
pub(crate) type WaitHook = Arc<dyn Fn(&RateLimitWait) + Send + Sync>;

/// Runs the requests of one client (and its clones): one low-level client, one rate-limit
/// gate, one retry policy.
pub(crate) struct Executor {
    raw: datadog_cnm_raw::Client,
    retry: RetryPolicy,
    admissions: Admissions,
    clock: Arc<dyn Clock>,
    jitter: Arc<dyn Jitter>,
    /// The per-attempt timeout, for error messages.
    timeout: Duration,
    on_wait: Option<WaitHook>,
    /// The secrets sent, to redact from what the server answers.
    credentials: Credentials,
}

/// What the server said to one attempt, when it was not a page.
enum Failure {
    /// An answer with a status that is not a success, or whose body cannot be used.
    Status {
        status: u16,
        headers: HeaderMap,
        /// The errors the body listed, when it was an error document.
        errors: Option<Vec<ApiErrorDetail>>,
        body: Bytes,
    },
    /// An answer whose body was longer than the client accepts.
    TooLarge { status: u16, refused: BodyTooLarge },
    /// A success whose body is not a document of rows.
    Undecodable {
        body: Bytes,
        error: serde_json::Error,
    },
    /// No answer: the connection failed, was reset, or timed out.
    Network(reqwest::Error),
    /// The generated client refused the parameters before sending.
    Refused(String),
}

/// What to do after a failed attempt.
enum Decision {
    /// Wait this long, then try again.
    Retry(Duration),
    /// Stop with this failure; `retry_in` is the wait the server asked for when that is
    /// why.
    Stop { retry_in: Option<Duration> },
}

impl Executor {
    pub(crate) fn new(
        raw: datadog_cnm_raw::Client,
        retry: RetryPolicy,
        clock: Arc<dyn Clock>,
        jitter: Arc<dyn Jitter>,
        timeout: Duration,
        on_wait: Option<WaitHook>,
        credentials: Credentials,
    ) -> Self {
        Self {
            raw,
            retry,
            admissions: Admissions::default(),
            clock,
            jitter,
            timeout,
            on_wait,
            credentials,
        }
    }

    /// The retry policy of every request.
    pub(crate) fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The credentials every request carries (for `Debug`, which redacts them).
    pub(crate) fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The client's clock.
    pub(crate) fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// Send `request` until it succeeds or the retry policy gives up.
    pub(crate) async fn execute<R: Row>(&self, request: &Request) -> Result<Page<R>> {
        let started = self.clock.now();
        let budget_end = started + self.retry.time_budget();
        let (deadline, budget) = match request.deadline {
            Some((at, budget)) if at < budget_end => (at, budget),
            _ => (budget_end, self.retry.time_budget()),
        };
        if started >= deadline {
            return Err(Error::OutOfTime {
                budget,
                sent: false,
            });
        }
        let mut attempt = 0u32;
        let mut last: Option<Failure> = None;
        loop {
            let admitted = self
                .admissions
                .admit(
                    R::OPERATION,
                    || self.clock.now(),
                    |wait| self.clock.sleep(wait),
                    deadline,
                    |wait| self.tell_wait(R::OPERATION, wait),
                )
                .await;
            let ticket = match admitted {
                Ok(ticket) => ticket,
                Err(wait) => {
                    return Err(match last {
                        Some(failure) => failure.into_error::<R>(attempt, self, Some(wait)),
                        None => Error::RateLimited {
                            rate_limit: self.admissions.last_known(R::OPERATION).map(Box::new),
                            attempts: 0,
                            retry_in: Some(wait),
                        },
                    });
                }
            };
            attempt += 1;
            let span = tracing::info_span!(
                "cnm_request",
                operation = %R::OPERATION,
                attempt,
                status = tracing::field::Empty,
                elapsed_ms = tracing::field::Empty,
                rate_limit.remaining = tracing::field::Empty,
                rate_limit.reset_s = tracing::field::Empty,
            );
            let sent_at = self.clock.now();
            let send = R::send(&self.raw, &request.params).instrument(span.clone());
            // The budget bounds the attempt in flight too, not only waits and retries: a
            // server that hangs or drips its body is abandoned when the time is up.
            let time_left = self
                .clock
                .sleep(deadline.saturating_duration_since(sent_at));
            let answer = match future::select(std::pin::pin!(send), time_left).await {
                Either::Left((answer, _)) => answer,
                Either::Right(((), _)) => {
                    return Err(Error::OutOfTime { budget, sent: true });
                }
            };
            let answered_at = self.clock.now();
            span.record("elapsed_ms", millis(answered_at - sent_at));
            let (status, headers, result) = read_answer(answer).await;
            let rate_limit = headers.as_ref().and_then(RateLimit::from_headers);
            if let Some(status) = status {
                span.record("status", status);
            }
            if let Some(rate_limit) = &rate_limit {
                if let Some(remaining) = rate_limit.remaining {
                    span.record("rate_limit.remaining", remaining);
                }
                if let Some(reset) = rate_limit.reset {
                    span.record("rate_limit.reset_s", reset.as_secs());
                }
            }
            // A 429 holds every request of the client back for as long as it asks.
            let pause = match (&result, status) {
                (Err(Failure::Status { headers, .. }), Some(429)) => {
                    server_requested_wait(rate_limit.as_ref(), headers, self.clock.wall())
                }
                _ => None,
            };
            ticket.record(answered_at, rate_limit.as_ref(), status, pause);
            let failure = match result {
                Ok(document) => return Ok(page(document, request, rate_limit)),
                Err(failure) => failure,
            };
            match self.decide(&failure, attempt, started, deadline) {
                Decision::Retry(delay) => {
                    let _enter = span.enter();
                    tracing::warn!(
                        attempt,
                        delay_ms = millis(delay),
                        reason = %failure.reason(),
                        "retrying"
                    );
                    drop(_enter);
                    self.clock.sleep(delay).await;
                    last = Some(failure);
                }
                Decision::Stop { retry_in } => {
                    return Err(failure.into_error::<R>(attempt, self, retry_in));
                }
            }
        }
    }

    /// Tell the hook (and the log) that a request waits for the rate limit.
    fn tell_wait(&self, operation: datadog_cnm_raw::Operation, wait: &Wait) {
        let wait = RateLimitWait {
            operation,
            wait: wait.until.saturating_duration_since(self.clock.now()),
            rate_limit: wait.rate_limit.clone(),
        };
        tracing::debug!(wait_ms = millis(wait.wait), %operation, "waiting for the rate limit");
        if let Some(hook) = &self.on_wait {
            hook(&wait);
        }
    }

    fn decide(
        &self,
        failure: &Failure,
        attempt: u32,
        started: Instant,
        deadline: Instant,
    ) -> Decision {
        let stop = Decision::Stop { retry_in: None };
        let requested = match failure {
            Failure::Status {
                status, headers, ..
            } if is_retryable_status(*status) => {
                // `X-RateLimit-Reset` says when the rate limit resets; it only tells how
                // long to wait when the rate limit is why the request was refused.
                let rate_limit = (*status == 429)
                    .then(|| RateLimit::from_headers(headers))
                    .flatten();
                server_requested_wait(rate_limit.as_ref(), headers, self.clock.wall())
            }
            Failure::Network(error) if !error.is_builder() => None,
            _ => return stop,
        };
        if !self.retry.allows_another(attempt) {
            return stop;
        }
        let delay = match requested {
            Some(requested) => requested_wait_with_jitter(requested, self.jitter.sample()),
            None => self.retry.backoff(attempt, self.jitter.sample()),
        };
        let now = self.clock.now();
        let elapsed = now.saturating_duration_since(started);
        if elapsed + delay <= self.retry.time_budget() && now + delay <= deadline {
            Decision::Retry(delay)
        } else {
            Decision::Stop {
                retry_in: requested,
            }
        }
    }
}

/// The status and headers of an answer (when there was one), and its document or failure.
async fn read_answer<R: Row>(
    answer: Answer<R>,
) -> (
    Option<u16>,
    Option<HeaderMap>,
    std::result::Result<Document<R>, Failure>,
) {
    match answer {
        Ok(response) => {
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            (Some(status), Some(headers), Ok(response.into_inner()))
        }
        Err(RawError::ErrorResponse(response)) => {
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let ApiErrorResponse { errors } = response.into_inner();
            let failure = Failure::Status {
                status,
                headers: headers.clone(),
                errors: Some(errors.into_iter().map(ApiErrorDetail::from).collect()),
                body: Bytes::new(),
            };
            (Some(status), Some(headers), Err(failure))
        }
        Err(RawError::UnexpectedResponse(response)) => {
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let refused = response.extensions().get::<BodyTooLarge>().copied();
            let failure = match refused {
                Some(refused) => Failure::TooLarge { status, refused },
                None => {
                    // The seam read the body into memory already: this does not wait.
                    let body = response.bytes().await.unwrap_or_default();
                    Failure::Status {
                        status,
                        headers: headers.clone(),
                        errors: parse_error_body(&body),
                        body,
                    }
                }
            };
            (Some(status), Some(headers), Err(failure))
        }
        // The seam turns every non-success answer that does not decode into an
        // `UnexpectedResponse`, so this is a success whose body is not a document.
        Err(RawError::InvalidResponsePayload(body, error)) => {
            (None, None, Err(Failure::Undecodable { body, error }))
        }
        Err(
            RawError::CommunicationError(error)
            | RawError::ResponseBodyError(error)
            | RawError::InvalidUpgrade(error),
        ) => (None, None, Err(Failure::Network(error))),
        Err(RawError::InvalidRequest(reason) | RawError::Custom(reason)) => {
            (None, None, Err(Failure::Refused(reason)))
        }
    }
}

fn page<R>(document: Document<R>, request: &Request, rate_limit: Option<RateLimit>) -> Page<R> {
    let rows = document.data.len();
    if rows > request.page_size as usize {
        // Kept, never dropped; but worth a word: the server (or a proxy) ignored the limit.
        tracing::warn!(
            rows,
            limit = request.page_size,
            "the page holds more rows than the limit asked for"
        );
    }
    Page {
        truncated: rows >= request.page_size as usize,
        limit: request.page_size,
        rows: document.data,
        window: request.window,
        rate_limit,
        extra_members: document.extra_members,
    }
}

impl Failure {
    /// Why an attempt is retried, for the log.
    fn reason(&self) -> String {
        match self {
            Self::Status { status, .. } | Self::TooLarge { status, .. } => format!("HTTP {status}"),
            Self::Network(error) => error.to_string(),
            Self::Undecodable { .. } => "an undecodable body".to_owned(),
            Self::Refused(reason) => reason.clone(),
        }
    }

    /// The error to return, with the secrets `executor` sent redacted from whatever the
    /// server answered.
    fn into_error<R: Row>(
        self,
        attempts: u32,
        executor: &Executor,
        retry_in: Option<Duration>,
    ) -> Error {
        let timeout = executor.timeout;
        let redact = |text: &str| executor.credentials.redact(text).into_owned();
        let redact_option = |text: Option<String>| text.map(|text| redact(&text));
        match self {
            Self::Status {
                status,
                headers,
                errors,
                body,
            } => {
                let rate_limit = RateLimit::from_headers(&headers).map(|mut rate_limit| {
                    rate_limit.name = redact_option(rate_limit.name);
                    Box::new(rate_limit)
                });
                if status == 429 {
                    return Error::RateLimited {
                        rate_limit,
                        attempts,
                        retry_in,
                    };
                }
                let body = match &errors {
                    Some(_) => None,
                    None => Some(redact(&excerpt(&body, 4096))).filter(|b| !b.is_empty()),
                };
                let errors = errors
                    .unwrap_or_default()
                    .into_iter()
                    .map(|error| ApiErrorDetail {
                        status: redact_option(error.status),
                        title: redact_option(error.title),
                        detail: redact_option(error.detail),
                        parameter: redact_option(error.parameter),
                        header: redact_option(error.header),
                        pointer: redact_option(error.pointer),
                    })
                    .collect();
                Error::Api {
                    status,
                    errors,
                    request_id: request_id(&headers),
                    rate_limit,
                    body,
                    attempts,
                }
            }
            Self::TooLarge { status, refused } => Error::BodyTooLarge {
                status,
                limit: refused.limit,
                announced: refused.announced,
            },
            Self::Undecodable { body, error } => {
                let (path, mut source) = match locate_decode_error::<R>(&body) {
                    Some(located) => located,
                    None => (String::from("."), error),
                };
                // serde_json quotes the text it could not read ("invalid type: string …").
                let message = source.to_string();
                if let Cow::Owned(redacted) = executor.credentials.redact(&message) {
                    source = <serde_json::Error as serde::de::Error>::custom(redacted);
                }
                Error::Decode {
                    body_excerpt: redact(&excerpt(&body, 512)),
                    path: redact(&path),
                    source,
                }
            }
            Self::Network(source) if source.is_timeout() => Error::Timeout {
                attempts,
                timeout,
                source,
            },
            Self::Network(source) => Error::Transport { attempts, source },
            // Parameters are validated before sending; this is the generated client's own
            // check of the same rules (e.g. the `group_by` pattern).
            Self::Refused(reason) => Error::InvalidInput {
                field: "request",
                reason,
            },
        }
    }
}

/// The request id, under the names Datadog and common proxies use.
fn request_id(headers: &HeaderMap) -> Option<String> {
    ["x-request-id", "dd-request-id", "x-datadog-request-id"]
        .iter()
        .find_map(|name| headers.get(*name)?.to_str().ok())
        .map(str::to_owned)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
