//! API keys and bearer tokens: kept secret, sent as sensitive headers, never printed.

use std::borrow::Cow;
use std::fmt;

use http::{HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};

/// How requests authenticate.
#[derive(Clone)]
pub(crate) enum Credentials {
    /// `DD-API-KEY` + `DD-APPLICATION-KEY`.
    Keys {
        api_key: SecretString,
        app_key: SecretString,
    },
    /// `Authorization: Bearer <token>` (OAuth access token).
    Bearer(SecretString),
}

impl Credentials {
    /// The headers to send, marked sensitive (HTTP/2 never indexes them, and `http`'s
    /// `Debug` hides them). Fails, without echoing the value, when one cannot be a header.
    pub(crate) fn headers(&self) -> Result<HeaderMap> {
        let mut headers = HeaderMap::with_capacity(2);
        match self {
            Self::Keys { api_key, app_key } => {
                headers.insert(API_KEY, sensitive(api_key.expose_secret(), "API key")?);
                headers.insert(
                    APP_KEY,
                    sensitive(app_key.expose_secret(), "application key")?,
                );
            }
            Self::Bearer(token) => {
                let value = format!("Bearer {}", token.expose_secret());
                headers.insert(
                    http::header::AUTHORIZATION,
                    sensitive(&value, "bearer token")?,
                );
            }
        }
        Ok(headers)
    }
}

impl Credentials {
    /// The secrets as they are sent, those long enough to be told from ordinary words
    /// (Datadog's keys are 32 and 40 characters; replacing a one-letter test key would
    /// garble every message).
    fn secrets(&self) -> impl Iterator<Item = &str> {
        let (first, second) = match self {
            Self::Keys { api_key, app_key } => (api_key, Some(app_key)),
            Self::Bearer(token) => (token, None),
        };
        std::iter::once(first)
            .chain(second)
            .map(|secret| secret.expose_secret().trim())
            .filter(|secret| secret.chars().count() >= MIN_REDACTED_LEN)
    }

    /// `text` with every secret in it replaced by `** redacted **`: servers and proxies
    /// echo what they were sent ("invalid API key abc…"), and what they answer ends up in
    /// errors and logs.
    pub(crate) fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut text = Cow::Borrowed(text);
        for secret in self.secrets() {
            if text.contains(secret) {
                text = Cow::Owned(text.replace(secret, REDACTED));
            }
        }
        text
    }
}

/// The shortest secret redacted from answers.
const MIN_REDACTED_LEN: usize = 6;

/// What a secret is replaced with.
pub(crate) const REDACTED: &str = "** redacted **";

/// `DD-API-KEY`.
pub(crate) const API_KEY: HeaderName = HeaderName::from_static("dd-api-key");
/// `DD-APPLICATION-KEY`.
pub(crate) const APP_KEY: HeaderName = HeaderName::from_static("dd-application-key");

fn sensitive(value: &str, what: &str) -> Result<HeaderValue> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(Error::config(format!("the {what} is empty")));
    }
    let mut header = HeaderValue::from_str(trimmed).map_err(|_| {
        Error::config(format!(
            "the {what} contains characters that cannot be sent in an HTTP header (check for \
             quotes or line breaks copied with it)"
        ))
    })?;
    header.set_sensitive(true);
    Ok(header)
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Keys { .. } => f
                .debug_struct("Keys")
                .field("api_key", &Redacted)
                .field("app_key", &Redacted)
                .finish(),
            Self::Bearer(_) => f.debug_tuple("Bearer").field(&Redacted).finish(),
        }
    }
}

/// Prints `** redacted **`.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}
