//! Sending a resolved query through the generated client, and mapping what comes back.

use std::sync::Arc;

use datadog_cnm_raw::types::ApiErrorResponse;
use datadog_cnm_raw::{Error as RawError, Seam};
use datadog_cnm_raw::{Page, ResponseValue};
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::error::{ApiErrorDetail, Error, Result, excerpt, parse_error_body};
use crate::model::{AggregatePage, Connections, Dns};
use crate::query::Resolved;
use crate::ratelimit::RateLimit;
use crate::transport::{CallTransport, Outcome};

/// A generated client whose requests go through a fresh per-call transport.
fn raw_client(client: &Client) -> (datadog_cnm_raw::Client, Arc<CallTransport>) {
    let shared = &client.shared;
    let transport = Arc::new(CallTransport::new(shared.clone()));
    let raw = datadog_cnm_raw::Client::new_with_client(
        &shared.base_url,
        shared.http.clone(),
        Seam::new(transport.clone()),
    );
    (raw, transport)
}

/// Set the resolved parameters on a generated request builder (both operations' builders
/// have the same methods but no common trait).
macro_rules! with_params {
    ($builder:expr, $query:expr) => {{
        let query: &Resolved = $query;
        let mut request = $builder
            .from(query.window.from_unix_secs())
            .to(query.window.to_unix_secs());
        if let Some(group_by) = &query.group_by {
            request = request.group_by(group_by.as_str());
        }
        if let Some(tags) = &query.tags {
            request = request.tags(tags.as_str());
        }
        if let Some(search) = &query.query {
            request = request.query(search.as_str());
        }
        if let Some(limit) = query.limit {
            request = request.limit(limit);
        }
        request
    }};
}

/// `GET /api/v2/network/connections/aggregate`.
pub(crate) async fn connections(client: &Client, query: &Resolved) -> Result<Connections> {
    let (raw, transport) = raw_client(client);
    let result = with_params!(raw.get_aggregated_connections(), query)
        .send()
        .await;
    finish(result, transport.take_outcome(), query, client).await
}

/// `GET /api/v2/network/dns/aggregate`.
pub(crate) async fn dns(client: &Client, query: &Resolved) -> Result<Dns> {
    let (raw, transport) = raw_client(client);
    let result = with_params!(raw.get_aggregated_dns(), query).send().await;
    finish(result, transport.take_outcome(), query, client).await
}

/// The page of a successful call, or our error for a failed one.
async fn finish<R>(
    result: std::result::Result<ResponseValue<Page<R>>, RawError<ApiErrorResponse>>,
    outcome: Outcome,
    query: &Resolved,
    client: &Client,
) -> Result<AggregatePage<R>>
where
    Page<R>: DeserializeOwned,
{
    match result {
        Ok(response) => {
            let rate_limit = outcome
                .rate_limit
                .or_else(|| RateLimit::from_headers(response.headers()));
            let page = response.into_inner();
            Ok(AggregatePage {
                truncated: page.data.len() >= query.page_size(),
                rows: page.data,
                window: query.window,
                rate_limit,
                meta: page.meta,
            })
        }
        Err(error) => Err(map_error::<Page<R>>(error, outcome, client).await),
    }
}

/// Turn the generated client's error into ours, using what the transport saw. `T` is the
/// success body type, re-parsed only to locate a decode failure.
async fn map_error<T: DeserializeOwned>(
    error: RawError<ApiErrorResponse>,
    outcome: Outcome,
    client: &Client,
) -> Error {
    let attempts = outcome.attempts.max(1);
    let rate_limited = |rate_limit: Option<RateLimit>| Error::RateLimited {
        rate_limit: rate_limit.map(Box::new),
        attempts: outcome.attempts,
    };
    match error {
        RawError::ErrorResponse(response) => {
            let status = response.status().as_u16();
            let rate_limit = outcome
                .rate_limit
                .clone()
                .or_else(|| RateLimit::from_headers(response.headers()));
            if status == 429 {
                return rate_limited(rate_limit);
            }
            let errors = response
                .into_inner()
                .errors
                .into_iter()
                .map(ApiErrorDetail::from)
                .collect();
            Error::Api {
                status,
                errors,
                request_id: outcome.request_id,
                rate_limit: rate_limit.map(Box::new),
                body: None,
            }
        }
        RawError::InvalidResponsePayload(body, source) => match outcome.status {
            _ if outcome.gave_up_on_rate_limit && outcome.status.is_none() => rate_limited(None),
            Some(429) => rate_limited(outcome.rate_limit),
            Some(status) if status >= 300 => api_error(status, &body, outcome),
            _ => decode_error::<T>(&body, source),
        },
        RawError::UnexpectedResponse(response) => {
            let status = response.status().as_u16();
            // The transport already read the body into memory, so this cannot block.
            let body = response.bytes().await.unwrap_or_default();
            if status == 429 {
                return rate_limited(outcome.rate_limit);
            }
            api_error(status, &body, outcome)
        }
        RawError::CommunicationError(source)
        | RawError::ResponseBodyError(source)
        | RawError::InvalidUpgrade(source) => {
            if source.is_timeout() {
                Error::Timeout {
                    attempts,
                    timeout: client.shared.timeout,
                    source,
                }
            } else {
                Error::Transport { attempts, source }
            }
        }
        // Parameters are validated before sending; this is the generated client's own
        // check of the same rules (e.g. the `group_by` pattern).
        RawError::InvalidRequest(reason) => Error::InvalidInput {
            field: "request",
            reason,
        },
        RawError::Custom(message) => Error::config(message),
    }
}

/// An error status whose body may be either error shape, or neither.
fn api_error(status: u16, body: &[u8], outcome: Outcome) -> Error {
    let parsed = parse_error_body(body);
    let raw_body = match &parsed {
        Some(_) => None,
        None => Some(excerpt(body, 4096)).filter(|b| !b.is_empty()),
    };
    Error::Api {
        status,
        errors: parsed.unwrap_or_default(),
        request_id: outcome.request_id,
        rate_limit: outcome.rate_limit.map(Box::new),
        body: raw_body,
    }
}

/// A 2xx body that is not what the spec says: find where it breaks.
fn decode_error<T: DeserializeOwned>(body: &[u8], source: serde_json::Error) -> Error {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let located = datadog_cnm_raw::with_readable_keys(|| {
        serde_path_to_error::deserialize::<_, T>(&mut deserializer)
    });
    let (path, source) = match located {
        Err(located) => (located.path().to_string(), located.into_inner()),
        Ok(_) => (String::from("."), source),
    };
    Error::Decode {
        body_excerpt: excerpt(body, 512),
        path,
        source,
    }
}
