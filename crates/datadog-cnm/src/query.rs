//! Query builders for both endpoints, and the validation they run before sending.

use std::time::{Duration, SystemTime};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::fetch;
use crate::model::{Connections, Dns};
use crate::window::Window;

/// The API's largest page.
pub const MAX_LIMIT: u32 = 7500;
/// The page size the API uses when `limit` is not sent.
pub const DEFAULT_LIMIT: u32 = 100;
/// The most group-by fields one query may use.
pub const MAX_GROUP_BY: usize = 10;
/// The window a query covers unless told otherwise: the last 15 minutes.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(15 * 60);
/// How far in the future a window may end (clock skew allowance).
const FUTURE_TOLERANCE: Duration = Duration::from_secs(60);

/// What both queries carry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Params {
    pub(crate) window: Option<Window>,
    pub(crate) group_by: Vec<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) query: Option<String>,
    pub(crate) limit: Option<u32>,
}

/// Validated parameters, ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub(crate) window: Window,
    pub(crate) group_by: Option<String>,
    pub(crate) tags: Option<String>,
    pub(crate) query: Option<String>,
    pub(crate) limit: Option<u32>,
}

impl Resolved {
    /// The number of rows that means "there may be more".
    pub(crate) fn page_size(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_LIMIT) as usize
    }
}

/// Which endpoint, for the rules that differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Connections,
    Dns,
}

impl Params {
    /// Check everything the API would reject, so that nothing invalid is ever sent.
    pub(crate) fn resolve(&self, endpoint: Endpoint, now: SystemTime) -> Result<Resolved> {
        let window = self
            .window
            .unwrap_or_else(|| Window::ending_at(now, DEFAULT_WINDOW));
        window.validate()?;
        if window.to > now + FUTURE_TOLERANCE {
            return Err(Error::invalid(
                "window",
                format!("{window} ends more than a minute in the future"),
            ));
        }
        if let Some(limit) = self.limit
            && !(1..=MAX_LIMIT).contains(&limit)
        {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {MAX_LIMIT} (got {limit})"),
            ));
        }
        if self.group_by.len() > MAX_GROUP_BY {
            return Err(Error::invalid(
                "group_by",
                format!(
                    "at most {MAX_GROUP_BY} fields (got {})",
                    self.group_by.len()
                ),
            ));
        }
        check_items("group_by", "field", &self.group_by)?;
        check_items("tags", "tag", &self.tags)?;
        if endpoint == Endpoint::Dns {
            check_server_ungrouped(&self.group_by)?;
        }
        if self.query.as_deref().is_some_and(|q| q.trim().is_empty()) {
            return Err(Error::invalid("query", "must not be empty"));
        }
        let join = |items: &[String]| (!items.is_empty()).then(|| items.join(","));
        Ok(Resolved {
            window,
            group_by: join(&self.group_by),
            tags: join(&self.tags),
            query: self.query.clone(),
            limit: self.limit,
        })
    }
}

fn check_items(field: &'static str, what: &str, items: &[String]) -> Result<()> {
    for item in items {
        if item.trim().is_empty() {
            return Err(Error::invalid(field, format!("a {what} is empty")));
        }
        if item.contains(',') {
            return Err(Error::invalid(
                field,
                format!("{what} `{item}` contains a comma; pass each {what} separately"),
            ));
        }
    }
    Ok(())
}

/// The DNS endpoint rejects `server_ungrouped` next to any other server grouping.
fn check_server_ungrouped(group_by: &[String]) -> Result<()> {
    let ungrouped = group_by.iter().any(|g| g == "server_ungrouped");
    let conflicting = group_by.iter().find(|g| {
        *g != "server_ungrouped" && (g.starts_with("server_") || *g == "network.dns_query")
    });
    match (ungrouped, conflicting) {
        (true, Some(other)) => Err(Error::invalid(
            "group_by",
            format!(
                "`server_ungrouped` cannot be combined with `{other}` (other server groupings or `network.dns_query`)"
            ),
        )),
        _ => Ok(()),
    }
}

macro_rules! query_builder {
    ($(#[$meta:meta])* $name:ident, $endpoint:expr, $output:ty, $fetch:path) => {
        $(#[$meta])*
        #[derive(Clone, Debug)]
        #[must_use = "a query does nothing until `send()` is awaited"]
        pub struct $name {
            pub(crate) client: Client,
            pub(crate) params: Params,
        }

        impl $name {
            pub(crate) fn new(client: Client) -> Self {
                Self { client, params: Params::default() }
            }

            /// The time window (default: the 15 minutes before the request is sent).
            pub fn window(mut self, window: Window) -> Self {
                self.params.window = Some(window);
                self
            }

            /// Group rows by these fields (at most 10), e.g. `["client_service", "server_team"]`.
            /// Replaces earlier calls.
            pub fn group_by(mut self, fields: impl IntoIterator<Item = impl Into<String>>) -> Self {
                self.params.group_by = fields.into_iter().map(Into::into).collect();
                self
            }

            /// Only traffic carrying all these `key:value` tags, e.g. `["env:prod"]`.
            /// Replaces earlier calls.
            pub fn tags(mut self, tags: impl IntoIterator<Item = impl Into<String>>) -> Self {
                self.params.tags = tags.into_iter().map(Into::into).collect();
                self
            }

            /// A search query (`AND`/`OR`/`NOT`, wildcards, parentheses), e.g.
            /// `client_team:networks AND NOT env:staging`. Takes precedence over `tags`.
            pub fn query(mut self, query: impl Into<String>) -> Self {
                self.params.query = Some(query.into());
                self
            }

            /// Rows to return, 1 to 7500 (the API's default is 100).
            pub fn limit(mut self, limit: u32) -> Self {
                self.params.limit = Some(limit);
                self
            }

            /// Validate, send (with retries), and decode.
            pub async fn send(self) -> Result<$output> {
                let resolved = self.params.resolve($endpoint, SystemTime::now())?;
                $fetch(&self.client, &resolved).await
            }
        }
    };
}

query_builder!(
    /// A query of aggregated TCP connections; from [`Client::connections`].
    ConnectionsQuery,
    Endpoint::Connections,
    Connections,
    fetch::connections
);

query_builder!(
    /// A query of aggregated DNS traffic; from [`Client::dns`]. Without `group_by` the
    /// server groups by `network.dns_query`.
    DnsQuery,
    Endpoint::Dns,
    Dns,
    fetch::dns
);

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Params {
        Params::default()
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn field_of(result: Result<Resolved>) -> Option<&'static str> {
        match result {
            Err(Error::InvalidInput { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn defaults_resolve_to_the_last_15_minutes_and_send_nothing_else() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let resolved = params().resolve(Endpoint::Connections, now).ok();
        assert_eq!(
            resolved,
            Some(Resolved {
                window: Window::ending_at(now, DEFAULT_WINDOW),
                group_by: None,
                tags: None,
                query: None,
                limit: None,
            })
        );
    }

    #[test]
    fn each_rule_names_its_field() {
        let now = SystemTime::now();
        let check = |p: Params, e: Endpoint| field_of(p.resolve(e, now));
        let limit = |l| Params {
            limit: Some(l),
            ..params()
        };
        assert_eq!(check(limit(0), Endpoint::Connections), Some("limit"));
        assert_eq!(check(limit(7501), Endpoint::Dns), Some("limit"));
        assert_eq!(check(limit(7500), Endpoint::Dns), None);
        let groups = |g: &[&str]| Params {
            group_by: strings(g),
            ..params()
        };
        let eleven: Vec<String> = (0..11).map(|i| format!("g{i}")).collect();
        assert_eq!(
            check(
                Params {
                    group_by: eleven,
                    ..params()
                },
                Endpoint::Connections
            ),
            Some("group_by")
        );
        assert_eq!(
            check(groups(&["a", ""]), Endpoint::Connections),
            Some("group_by")
        );
        assert_eq!(
            check(groups(&["a,b"]), Endpoint::Connections),
            Some("group_by")
        );
        assert_eq!(
            check(
                groups(&["server_ungrouped", "server_service"]),
                Endpoint::Dns
            ),
            Some("group_by")
        );
        assert_eq!(
            check(
                groups(&["server_ungrouped", "network.dns_query"]),
                Endpoint::Dns
            ),
            Some("group_by")
        );
        assert_eq!(
            check(
                groups(&["server_ungrouped", "client_service"]),
                Endpoint::Dns
            ),
            None
        );
        assert_eq!(
            check(
                groups(&["server_ungrouped", "server_service"]),
                Endpoint::Connections
            ),
            None
        );
        let tags = Params {
            tags: strings(&["env:prod,team:a"]),
            ..params()
        };
        assert_eq!(check(tags, Endpoint::Dns), Some("tags"));
        let query = Params {
            query: Some("  ".into()),
            ..params()
        };
        assert_eq!(check(query, Endpoint::Dns), Some("query"));
        let future = Params {
            window: Some(Window::ending_at(
                now + Duration::from_secs(3600),
                DEFAULT_WINDOW,
            )),
            ..params()
        };
        assert_eq!(check(future, Endpoint::Connections), Some("window"));
        let inverted = Params {
            window: Some(Window {
                from: now,
                to: now - Duration::from_secs(5),
            }),
            ..params()
        };
        assert_eq!(check(inverted, Endpoint::Connections), Some("window"));
    }
}
