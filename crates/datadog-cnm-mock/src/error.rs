//! JSON:API error responses, worded like the real server where we know its words.

use std::fmt;

use crate::json::escape;

/// The documentation page the real server points to when a parameter is out of range.
const DOCS: &str = "https://docs.datadoghq.com/api/latest/cloud-network-monitoring/";

/// An error response of the mock: an HTTP status and one JSON:API error object, serialized by
/// [`ApiError::body`] as `{"errors":[{"status":"400","title":"…","detail":"…"}]}`.
///
/// Returned by [`Dataset`](crate::Dataset) when a query string is invalid, and sent by the
/// server with `Content-Type: application/vnd.api+json`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status code (also sent as the string `status` member).
    pub status: u16,
    /// Short summary (`title`).
    pub title: String,
    /// Human-readable explanation (`detail`), when there is more to say than the title.
    pub detail: Option<String>,
    /// The query parameter at fault (`source.parameter`), when there is one.
    pub parameter: Option<String>,
}

impl ApiError {
    pub(crate) fn new(status: u16, title: impl Into<String>) -> Self {
        Self {
            status,
            title: title.into(),
            detail: None,
            parameter: None,
        }
    }

    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub(crate) fn parameter(mut self, parameter: &str) -> Self {
        self.parameter = Some(parameter.to_owned());
        self
    }

    /// A 400 about one query parameter.
    pub(crate) fn bad_parameter(parameter: &str, title: &str, detail: impl Into<String>) -> Self {
        Self::new(400, title).detail(detail).parameter(parameter)
    }

    /// The real server's exact body for a `limit` outside `1..=7500` (recorded from the API).
    pub(crate) fn invalid_limit() -> Self {
        Self::new(400, "Invalid limit")
            .detail(format!("Limit must meet requirements listed in {DOCS}"))
    }

    /// The real server's exact body for a DNS `server_ungrouped` combined with a server
    /// grouping (recorded from the API; it has no `detail`).
    pub(crate) fn server_ungrouped() -> Self {
        Self::new(
            400,
            "Cannot combine server_ungrouped with other server groupings or network.dns_query",
        )
    }

    pub(crate) fn forbidden(detail: &str) -> Self {
        Self::new(403, "Forbidden").detail(detail)
    }

    pub(crate) fn too_many_requests() -> Self {
        Self::new(429, "Too many requests")
    }

    /// The body: `{"errors":[{"status":…,"title":…,"detail":…,"source":{"parameter":…}}]}`,
    /// members in the order the real server writes them.
    pub fn body(&self) -> Vec<u8> {
        let mut out = String::with_capacity(128);
        out.push_str("{\"errors\":[{\"status\":\"");
        out.push_str(&self.status.to_string());
        out.push_str("\",\"title\":\"");
        out.push_str(&escape(&self.title));
        out.push('"');
        if let Some(detail) = &self.detail {
            out.push_str(",\"detail\":\"");
            out.push_str(&escape(detail));
            out.push('"');
        }
        if let Some(parameter) = &self.parameter {
            out.push_str(",\"source\":{\"parameter\":\"");
            out.push_str(&escape(parameter));
            out.push_str("\"}");
        }
        out.push_str("}]}");
        out.into_bytes()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.title)?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::ApiError;

    #[test]
    fn invalid_limit_is_byte_for_byte_the_recorded_body() {
        let recorded = "{\"errors\":[{\"status\":\"400\",\"title\":\"Invalid limit\",\"detail\":\"Limit must meet requirements listed in https://docs.datadoghq.com/api/latest/cloud-network-monitoring/\"}]}";
        assert_eq!(
            String::from_utf8_lossy(&ApiError::invalid_limit().body()),
            recorded
        );
    }

    #[test]
    fn server_ungrouped_is_byte_for_byte_the_recorded_body() {
        let recorded = "{\"errors\":[{\"status\":\"400\",\"title\":\"Cannot combine server_ungrouped with other server groupings or network.dns_query\"}]}";
        assert_eq!(
            String::from_utf8_lossy(&ApiError::server_ungrouped().body()),
            recorded
        );
    }
}
