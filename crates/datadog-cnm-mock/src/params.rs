//! Query-string parsing and validation, in the real server's order and words where known.

use crate::endpoint::Endpoint;
use crate::error::ApiError;
use crate::query::{Expr, parse_query, parse_tags};
use crate::shape::MAX_TIMESTAMP;

/// The real API's page size bounds and default.
pub(crate) const MAX_LIMIT: i64 = 7_500;
pub(crate) const DEFAULT_LIMIT: usize = 100;
pub(crate) const MAX_GROUP_BY: usize = 10;
/// The default window when `from` and/or `to` are missing.
const DEFAULT_SPAN: u64 = 15 * 60;

/// Connections grouping when the request has none: the service map view.
pub(crate) const DEFAULT_CONN_GROUP_BY: [&str; 2] = ["client_service", "server_service"];
/// DNS grouping when the request has none (documented upstream).
pub(crate) const DEFAULT_DNS_GROUP_BY: [&str; 1] = ["network.dns_query"];
const SERVER_UNGROUPED: &str = "server_ungrouped";

/// A validated request.
#[derive(Debug)]
pub(crate) struct Params {
    pub(crate) from: u64,
    pub(crate) to: u64,
    /// Distinct keys in request order; empty means one row for everything.
    pub(crate) group_by: Vec<String>,
    pub(crate) filter: Option<Expr>,
    pub(crate) limit: usize,
}

#[derive(Default)]
struct Raw {
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
    tags: Option<String>,
    query: Option<String>,
    limit: Option<String>,
}

/// Parses a raw (percent-encoded) query string; `now` is in Unix seconds.
pub(crate) fn parse(endpoint: Endpoint, query: &str, now: u64) -> Result<Params, ApiError> {
    let mut raw = Raw::default();
    // Repeated parameters: the last one wins. Unknown parameters are ignored, as upstream.
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let slot = match name.as_ref() {
            "from" => &mut raw.from,
            "to" => &mut raw.to,
            "group_by" => &mut raw.group_by,
            "tags" => &mut raw.tags,
            "query" => &mut raw.query,
            "limit" => &mut raw.limit,
            _ => continue,
        };
        *slot = Some(value.into_owned());
    }

    let limit = match raw.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(text) => match text.parse::<i64>() {
            Ok(n @ 1..=MAX_LIMIT) => n as usize,
            _ => return Err(ApiError::invalid_limit()),
        },
    };
    let group_by = group_by(endpoint, raw.group_by.as_deref())?;
    let (from, to) = window(raw.from.as_deref(), raw.to.as_deref(), now)?;
    let filter = match raw.query.as_deref().map(str::trim) {
        Some(q) if !q.is_empty() => Some(parse_query(q)?),
        _ => parse_tags(raw.tags.as_deref().unwrap_or(""))?,
    };
    Ok(Params {
        from,
        to,
        group_by,
        filter,
        limit,
    })
}

fn group_by(endpoint: Endpoint, raw: Option<&str>) -> Result<Vec<String>, ApiError> {
    let listed: Vec<&str> = raw
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .collect();
    if listed.len() > MAX_GROUP_BY {
        return Err(ApiError::bad_parameter(
            "group_by",
            "Too many group_by fields",
            format!(
                "At most {MAX_GROUP_BY} group_by fields are allowed, got {}",
                listed.len()
            ),
        ));
    }
    if listed.is_empty() {
        let default: &[&str] = match endpoint {
            Endpoint::Connections => &DEFAULT_CONN_GROUP_BY,
            Endpoint::Dns => &DEFAULT_DNS_GROUP_BY,
        };
        return Ok(default.iter().map(|&k| k.to_owned()).collect());
    }
    if endpoint == Endpoint::Dns && listed.contains(&SERVER_UNGROUPED) {
        let conflict = listed.iter().any(|&k| {
            k != SERVER_UNGROUPED && (k.starts_with("server_") || k == "network.dns_query")
        });
        if conflict {
            return Err(ApiError::server_ungrouped());
        }
    }
    let mut keys: Vec<String> = Vec::with_capacity(listed.len());
    for key in listed {
        let marker = endpoint == Endpoint::Dns && key == SERVER_UNGROUPED;
        if !marker && !keys.iter().any(|k| k == key) {
            keys.push(key.to_owned());
        }
    }
    Ok(keys)
}

fn window(from: Option<&str>, to: Option<&str>, now: u64) -> Result<(u64, u64), ApiError> {
    let now = now.min(MAX_TIMESTAMP as u64);
    let from = from.map(|text| timestamp("from", text)).transpose()?;
    let to = to.map(|text| timestamp("to", text)).transpose()?;
    let (from, to) = match (from, to) {
        (Some(from), Some(to)) => (from, to),
        (Some(from), None) => (from, now),
        (None, Some(to)) => (to.saturating_sub(DEFAULT_SPAN), to),
        (None, None) => (now.saturating_sub(DEFAULT_SPAN), now),
    };
    if from >= to {
        return Err(ApiError::bad_parameter(
            "from",
            "Invalid time window",
            format!("`from` ({from}) must be earlier than `to` ({to})"),
        ));
    }
    Ok((from, to))
}

fn timestamp(name: &str, text: &str) -> Result<u64, ApiError> {
    match text.parse::<i64>() {
        Ok(t @ 0..=MAX_TIMESTAMP) => Ok(t as u64),
        _ => {
            let shown: String = text.chars().take(40).collect();
            Err(ApiError::bad_parameter(
                name,
                &format!("Invalid {name}"),
                format!(
                    "`{name}` must be a Unix timestamp in seconds between 0 and \
                     {MAX_TIMESTAMP}, got `{shown}`"
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::ApiError;
    use crate::endpoint::Endpoint;

    const NOW: u64 = 1_800_000_000;

    #[test]
    fn default_windows() -> Result<(), ApiError> {
        let p = parse(Endpoint::Connections, "", NOW)?;
        assert_eq!((p.from, p.to), (NOW - 900, NOW));
        let p = parse(Endpoint::Connections, "to=1000", NOW)?;
        assert_eq!((p.from, p.to), (100, 1000));
        let p = parse(Endpoint::Connections, "from=1000", NOW)?;
        assert_eq!((p.from, p.to), (1000, NOW));
        Ok(())
    }

    #[test]
    fn group_by_defaults_dedupes_and_drops_the_marker() -> Result<(), ApiError> {
        let p = parse(Endpoint::Connections, "group_by=", NOW)?;
        assert_eq!(p.group_by, ["client_service", "server_service"]);
        let p = parse(Endpoint::Dns, "", NOW)?;
        assert_eq!(p.group_by, ["network.dns_query"]);
        let p = parse(
            Endpoint::Dns,
            "group_by=client_service,server_ungrouped,client_service",
            NOW,
        )?;
        assert_eq!(p.group_by, ["client_service"]);
        let p = parse(Endpoint::Dns, "group_by=server_ungrouped", NOW)?;
        assert!(p.group_by.is_empty());
        Ok(())
    }

    #[test]
    fn query_takes_precedence_over_tags() -> Result<(), ApiError> {
        // The invalid `tags` is never looked at.
        let p = parse(Endpoint::Dns, "tags=nocolon&query=env:prod", NOW)?;
        assert!(p.filter.is_some());
        assert!(parse(Endpoint::Dns, "tags=nocolon&query=%20", NOW).is_err());
        Ok(())
    }
}
