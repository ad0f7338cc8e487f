//! `X-RateLimit-*` headers, as the API reports its rate limits.

use std::time::Duration;

use http::HeaderMap;
use serde::{Deserialize, Serialize};

/// The rate-limit state the API reported with a response.
///
/// Parsed from `X-RateLimit-Limit`, `-Remaining`, `-Period`, `-Reset` and `-Name`. Each
/// field is `None` when its header is missing or unreadable: a malformed header never
/// fails a request. Repeated values (`"7, 7"`, as proxies sometimes merge them) use the
/// first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Requests allowed per period (`X-RateLimit-Limit`).
    pub limit: Option<u64>,
    /// Requests left in the current period (`X-RateLimit-Remaining`).
    pub remaining: Option<u64>,
    /// Length of a period (`X-RateLimit-Period`, seconds).
    #[serde(with = "opt_secs")]
    pub period: Option<Duration>,
    /// Time until the current period ends (`X-RateLimit-Reset`, seconds).
    #[serde(with = "opt_secs")]
    pub reset: Option<Duration>,
    /// Which limit applies (`X-RateLimit-Name`).
    pub name: Option<String>,
}

impl RateLimit {
    /// Read the rate-limit headers; `None` when there are none at all.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let number = |name: &str| first_value(headers, name).and_then(|v| v.parse::<u64>().ok());
        let rate_limit = Self {
            limit: number("x-ratelimit-limit"),
            remaining: number("x-ratelimit-remaining"),
            period: number("x-ratelimit-period").map(Duration::from_secs),
            reset: number("x-ratelimit-reset").map(Duration::from_secs),
            name: first_value(headers, "x-ratelimit-name")
                .filter(|name| !name.is_empty())
                .map(str::to_owned),
        };
        (rate_limit != Self::default()).then_some(rate_limit)
    }

    /// `true` when the server said no request is left in this period.
    pub fn is_exhausted(&self) -> bool {
        self.remaining == Some(0)
    }
}

/// The first comma-separated value of the first `name` header, trimmed.
fn first_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let value = headers.get(name)?.to_str().ok()?;
    value.split(',').next().map(str::trim)
}

mod opt_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) => serializer.serialize_some(&duration.as_secs()),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(deserializer)?.map(Duration::from_secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, http::HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn parses_all_five_headers() {
        let parsed = RateLimit::from_headers(&headers(&[
            ("x-ratelimit-limit", "100"),
            ("x-ratelimit-remaining", "7"),
            ("x-ratelimit-period", "60"),
            ("x-ratelimit-reset", "13"),
            ("x-ratelimit-name", "cnm_aggregate"),
        ]));
        assert_eq!(
            parsed,
            Some(RateLimit {
                limit: Some(100),
                remaining: Some(7),
                period: Some(Duration::from_secs(60)),
                reset: Some(Duration::from_secs(13)),
                name: Some("cnm_aggregate".into()),
            })
        );
    }

    #[test]
    fn repeated_values_use_the_first_and_garbage_is_ignored() {
        let parsed = RateLimit::from_headers(&headers(&[
            ("x-ratelimit-reset", "7, 7"),
            ("x-ratelimit-limit", "lots"),
            ("x-ratelimit-remaining", "-1"),
        ]));
        assert_eq!(
            parsed,
            Some(RateLimit {
                reset: Some(Duration::from_secs(7)),
                ..RateLimit::default()
            })
        );
        assert_eq!(
            RateLimit::from_headers(&headers(&[("x-ratelimit-limit", "x")])),
            None
        );
        assert_eq!(RateLimit::from_headers(&HeaderMap::new()), None);
    }
}
