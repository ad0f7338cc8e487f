//! Plain-reqwest helpers: these tests see the mock as any HTTP client would.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use datadog_cnm_mock::MockServer;
use serde_json::Value;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A fixed clock for the default window, so bodies do not depend on when tests run.
pub const NOW_SECS: u64 = 1_800_000_000;

pub fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

pub const CONNECTIONS: &str = "/api/v2/network/connections/aggregate";
pub const DNS: &str = "/api/v2/network/dns/aggregate";

pub const KEYS: [(&str, &str); 2] = [
    ("DD-API-KEY", "test-api-key-value"),
    ("DD-APPLICATION-KEY", "test-app-key-value"),
];

pub fn http() -> Result<reqwest::Client, reqwest::Error> {
    // No proxy: a developer's HTTP_PROXY must not intercept loopback traffic.
    reqwest::Client::builder().no_proxy().build()
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_str(&self.text)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn rows(&self) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
        match self.json()? {
            Value::Object(mut body) => match body.remove("data") {
                Some(Value::Array(rows)) => Ok(rows),
                other => Err(format!("`data` is not an array: {other:?}").into()),
            },
            other => Err(format!("body is not an object: {other}").into()),
        }
    }

    /// The five rate-limit headers, parsed.
    pub fn rate_limit(&self) -> Result<RateLimit, Box<dyn std::error::Error>> {
        let number = |name: &str| -> Result<u64, Box<dyn std::error::Error>> {
            Ok(self
                .header(name)
                .ok_or_else(|| format!("missing {name}"))?
                .parse()?)
        };
        Ok(RateLimit {
            limit: number("x-ratelimit-limit")?,
            period: number("x-ratelimit-period")?,
            remaining: number("x-ratelimit-remaining")?,
            reset: number("x-ratelimit-reset")?,
            name: self
                .header("x-ratelimit-name")
                .ok_or("missing x-ratelimit-name")?
                .to_owned(),
        })
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u64,
    pub period: u64,
    pub remaining: u64,
    pub reset: u64,
    pub name: String,
}

/// `GET {path}?{query}` with valid credentials.
pub async fn get(server: &MockServer, path: &str, query: &str) -> Result<Reply, reqwest::Error> {
    get_with(server, path, query, &KEYS).await
}

/// `GET {path}?{query}` with exactly these headers.
pub async fn get_with(
    server: &MockServer,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
) -> Result<Reply, reqwest::Error> {
    let mut request = http()?.get(format!("{}{path}?{query}", server.url()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await?;
    Ok(Reply {
        status,
        headers,
        text,
    })
}

pub fn id(row: &Value) -> String {
    row["id"].as_str().unwrap_or_default().to_owned()
}

/// A connection row's value for a group-by key.
pub fn conn_group(row: &Value, key: &str) -> Option<String> {
    row["attributes"]["group_bys"][key][0]
        .as_str()
        .map(str::to_owned)
}

/// A DNS row's value for a group-by key.
pub fn dns_group(row: &Value, key: &str) -> Option<String> {
    row["attributes"]["group_bys"]
        .as_array()?
        .iter()
        .find(|g| g["key"] == key)
        .and_then(|g| g["value"].as_str())
        .map(str::to_owned)
}

pub fn conn_metric(row: &Value, metric: &str) -> Option<i64> {
    row["attributes"][metric].as_i64()
}

pub fn dns_metrics(row: &Value) -> BTreeMap<String, i64> {
    row["attributes"]["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m["key"].as_str()?.to_owned(), m["value"].as_i64()?)))
        .collect()
}

/// Asserts a JSON:API error response: status, media type, body, rate-limit headers.
pub fn assert_error(reply: &Reply, status: u16, title: &str) -> TestResult {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(
        reply.header("content-type"),
        Some("application/vnd.api+json")
    );
    let body = reply.json()?;
    assert_eq!(body["errors"][0]["status"], status.to_string(), "{body}");
    assert_eq!(body["errors"][0]["title"], title, "{body}");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1));
    reply.rate_limit()?;
    Ok(())
}
