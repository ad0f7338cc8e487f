//! The one place where the generated client touches the network.

use bytes::Bytes;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};

use crate::{Client, Error};

/// The generated client's inner value: how its requests reach the network.
///
/// Each call of an operation's `send()` is exactly one HTTP exchange with the client's own
/// `reqwest::Client` (its default headers, timeouts and proxy apply); retrying is the
/// caller's decision. Along the way the seam:
///
/// - drops the `api-version` header progenitor adds (the Datadog API does not use it);
/// - reads the body in full, in blocks, refusing to read more than
///   [`body_limit`](Self::body_limit) bytes (also when `Content-Length` announces more);
/// - makes sure every answered request keeps its status: a response whose body is too
///   large, or an error status whose body is not the API's error document (an HTML page
///   from a proxy, an empty body, a gateway's `{"message": …}`), comes back as
///   [`Error::UnexpectedResponse`] with its real status, headers and body, where the
///   generated decoder would otherwise report only a JSON error. A body too large carries
///   [`BodyTooLarge`] in its extensions.
///
/// So a caller can tell from any result what the server said: a decoded document, an
/// `ErrorResponse` or `UnexpectedResponse` (status and headers), an
/// `InvalidResponsePayload` (only ever a 2xx whose body does not decode), or a
/// `CommunicationError` (no response).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seam {
    body_limit: u64,
}

impl Default for Seam {
    fn default() -> Self {
        Self {
            body_limit: Self::DEFAULT_BODY_LIMIT,
        }
    }
}

impl Seam {
    /// The default body limit: 64 MiB, about ten times the largest real page (7500 rows
    /// with long group-by values).
    pub const DEFAULT_BODY_LIMIT: u64 = 64 * 1024 * 1024;

    /// A seam with the default body limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Refuse bodies longer than `bytes` (after decompression).
    #[must_use]
    pub fn with_body_limit(mut self, bytes: u64) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The longest body read, in bytes.
    pub fn body_limit(&self) -> u64 {
        self.body_limit
    }
}

/// Found in the extensions of a response returned as [`Error::UnexpectedResponse`] when its
/// body was longer than the [`Seam`]'s limit; the body was not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyTooLarge {
    /// The limit, in bytes.
    pub limit: u64,
    /// The length `Content-Length` announced, when the response was refused on it before
    /// its body was read; `None` when the body ran past the limit while being read.
    pub announced: Option<u64>,
}

/// The body as read, kept in the response's extensions for `post`.
#[derive(Clone)]
struct ReadBody(Bytes);

/// Name of the header progenitor adds to every request; the Datadog API does not use it.
const API_VERSION_HEADER: &str = "api-version";

impl ClientHooks<Seam> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        request.headers_mut().remove(API_VERSION_HEADER);
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let limit = self.inner().body_limit;
        tracing::trace!(method = %request.method(), url = %shown_url(request.url()), "sending");
        let mut response = self.client().execute(request).await?;
        if tracing::enabled!(tracing::Level::TRACE) {
            let rate_limit: Vec<String> = response
                .headers()
                .iter()
                .filter(|(name, _)| {
                    name.as_str().starts_with("x-ratelimit-") || *name == "retry-after"
                })
                .map(|(name, value)| format!("{name}: {}", masked(value.to_str().unwrap_or("?"))))
                .collect();
            tracing::trace!(
                status = response.status().as_u16(),
                headers = %rate_limit.join(", "),
                "answered"
            );
        }
        let announced = response.content_length();
        if let Some(length) = announced.filter(|&length| length > limit) {
            let refused = BodyTooLarge {
                limit,
                announced: Some(length),
            };
            return Ok(rebuild(&response, Bytes::new(), Some(refused)));
        }
        // A body of announced length is read into a buffer of that size. Without a length,
        // blocks are kept as they come and joined at the end: a growing buffer would hold
        // its old and new allocations at once, up to three times the limit.
        let body = match announced {
            Some(length) => {
                let mut body = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
                while let Some(block) = response.chunk().await? {
                    if (body.len() + block.len()) as u64 > limit {
                        let refused = BodyTooLarge {
                            limit,
                            announced: None,
                        };
                        return Ok(rebuild(&response, Bytes::new(), Some(refused)));
                    }
                    body.extend_from_slice(&block);
                }
                body
            }
            None => {
                let mut blocks: Vec<Bytes> = Vec::new();
                let mut total: u64 = 0;
                while let Some(block) = response.chunk().await? {
                    total += block.len() as u64;
                    if total > limit {
                        drop(blocks);
                        let refused = BodyTooLarge {
                            limit,
                            announced: None,
                        };
                        return Ok(rebuild(&response, Bytes::new(), Some(refused)));
                    }
                    blocks.push(block);
                }
                let mut body = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
                for block in blocks {
                    body.extend_from_slice(&block);
                }
                body
            }
        };
        Ok(rebuild(&response, Bytes::from(body), None))
    }

    async fn post<E>(
        &self,
        result: &reqwest::Result<reqwest::Response>,
        _info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        let Ok(response) = result else {
            return Ok(());
        };
        let body = response
            .extensions()
            .get::<ReadBody>()
            .map(|read| read.0.clone())
            .unwrap_or_default();
        let refused = response.extensions().get::<BodyTooLarge>().copied();
        let unreadable_error = !response.status().is_success()
            && serde_json::from_slice::<crate::types::ApiErrorResponse>(&body).is_err();
        if refused.is_some() || unreadable_error {
            return Err(Error::UnexpectedResponse(rebuild(response, body, refused)));
        }
        Ok(())
    }
}

/// `url` as a log may show it: no user info, and the values of query parameters that
/// look like secrets (`api_key`, `token`, …) replaced by `…`. The API's own parameters
/// (`from`, `to`, `group_by`, …) stay as they are.
fn shown_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    // Cannot fail for http(s) URLs; ignored either way, as the log is best effort.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let lower = name.to_ascii_lowercase();
                let secret = ["key", "token", "secret", "password", "signature", "auth"]
                    .iter()
                    .any(|word| lower.contains(word));
                let value = if secret {
                    "…".to_owned()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    shown.to_string()
}

/// A header value for the log with every run of 20 or more letters and digits replaced by
/// `…`: rate-limit headers hold numbers and short names, and a server (or proxy) that
/// echoes a key into one — keys are 32 or 40 such characters — must not get it logged.
fn masked(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= 20 {
            out.push('…');
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in value.chars() {
        if c.is_alphanumeric() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// A response with the status, version and headers of `response` and the given body.
fn rebuild(
    response: &reqwest::Response,
    body: Bytes,
    refused: Option<BodyTooLarge>,
) -> reqwest::Response {
    let mut rebuilt = http::Response::new(body.clone());
    *rebuilt.status_mut() = response.status();
    *rebuilt.version_mut() = response.version();
    *rebuilt.headers_mut() = response.headers().clone();
    rebuilt.extensions_mut().insert(ReadBody(body));
    if let Some(refused) = refused {
        rebuilt.extensions_mut().insert(refused);
    }
    reqwest::Response::from(rebuilt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_header_values_mask_long_tokens() {
        assert_eq!(masked("12, 12"), "12, 12");
        assert_eq!(masked("cnm_aggregate"), "cnm_aggregate");
        assert_eq!(
            masked("Wed, 21 Oct 2026 07:28:00 GMT"),
            "Wed, 21 Oct 2026 07:28:00 GMT"
        );
        assert_eq!(masked("key-0123456789abcdef0123456789abcdef"), "key-…");
    }

    #[test]
    fn logged_urls_hide_user_info_and_secret_parameters() {
        let url = reqwest::Url::parse(
            "https://me:pw@api.example/p?api_key=k&from=1&group_by=a%2Cb&Token=t",
        )
        .unwrap();
        let shown = shown_url(&url);
        assert_eq!(
            shown,
            "https://api.example/p?api_key=%E2%80%A6&from=1&group_by=a%2Cb&Token=%E2%80%A6"
        );
        assert!(!shown.contains("pw") && !shown.contains("=k&") && !shown.contains("=t"));
    }
}
