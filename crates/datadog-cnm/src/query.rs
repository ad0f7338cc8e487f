//! The query of either endpoint: its builder, and the validation it runs before sending.

use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant, SystemTime};

use datadog_cnm_raw::{Connection, DnsRow, Operation, QueryParams, Row};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::page::Page;
use crate::request::Request;
use crate::window::Window;

/// How far in the future a window may end (clock skew allowance).
const FUTURE_TOLERANCE: Duration = Duration::from_secs(60);

/// A query of one endpoint, chosen by its row type: [`ConnectionsQuery`] or [`DnsQuery`].
///
/// Build it from [`Client::connections`], [`Client::dns`] or [`Client::query`], set what
/// to ask, then [`send`](Self::send) it for one page or turn it into a
/// [`series`](Self::series) of windows. Code written against `Query<R>` works for both
/// endpoints:
///
/// ```no_run
/// use datadog_cnm::{Client, Query, Row};
///
/// async fn busiest<R: Row>(client: &Client) -> Result<Option<String>, datadog_cnm::Error> {
///     let page = client.query::<R>().limit(1).send().await?;
///     Ok(page.rows.first().and_then(|row| row.id()).map(str::to_owned))
/// }
/// ```
#[derive(Clone)]
#[must_use = "a query does nothing until `send()` is awaited"]
pub struct Query<R> {
    client: Client,
    params: Params,
    rows: PhantomData<fn() -> R>,
}

/// A query of aggregated TCP connections (`GET /api/v2/network/connections/aggregate`).
pub type ConnectionsQuery = Query<Connection>;

/// A query of aggregated DNS traffic (`GET /api/v2/network/dns/aggregate`). Without
/// `group_by` the server groups by `network.dns_query`.
pub type DnsQuery = Query<DnsRow>;

/// What a query carries before it is validated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Params {
    window: Option<Window>,
    group_by: Vec<String>,
    tags: Vec<String>,
    query: Option<String>,
    limit: Option<u32>,
}

impl Client {
    /// A query of aggregated TCP connections (`GET /api/v2/network/connections/aggregate`).
    pub fn connections(&self) -> ConnectionsQuery {
        self.query()
    }

    /// A query of aggregated DNS traffic (`GET /api/v2/network/dns/aggregate`).
    pub fn dns(&self) -> DnsQuery {
        self.query()
    }

    /// A query of the endpoint that returns rows of type `R`, for code generic over both.
    pub fn query<R: Row>(&self) -> Query<R> {
        Query {
            client: self.clone(),
            params: Params::default(),
            rows: PhantomData,
        }
    }
}

impl<R: Row> Query<R> {
    /// The API's largest page.
    pub const MAX_LIMIT: u32 = 7500;
    /// The page size the API uses when `limit` is not sent.
    pub const DEFAULT_LIMIT: u32 = 100;
    /// The most group-by fields one query may use.
    pub const MAX_GROUP_BY: usize = 10;
    /// The window a query covers unless told otherwise: the 15 minutes before it is sent.
    pub const DEFAULT_WINDOW: Duration = Duration::from_secs(15 * 60);

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

    /// Only traffic carrying all these `key:value` tags, e.g. `["env:prod"]`. Replaces
    /// earlier calls.
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

    /// The client this query goes through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The window set with [`window`](Self::window), if any.
    pub fn window_set(&self) -> Option<Window> {
        self.params.window
    }

    /// The limit set with [`limit`](Self::limit), if any.
    pub fn limit_set(&self) -> Option<u32> {
        self.params.limit
    }

    /// The fields set with [`group_by`](Self::group_by) (empty when none were).
    pub fn group_by_set(&self) -> &[String] {
        &self.params.group_by
    }

    /// Validate, send (with retries), and decode one page.
    pub async fn send(self) -> Result<Page<R>> {
        let request = self.params.resolve::<R>(self.client.wall_time())?;
        self.client.executor().execute::<R>(&request).await
    }

    /// This query over `window` instead of the one it was built with, within `deadline`:
    /// what a series sends for each of its windows.
    /// Check this query over `window` as sending it would, without sending anything.
    pub(crate) fn check_window(&self, window: Window) -> Result<()> {
        let mut params = self.params.clone();
        params.window = Some(window);
        params.resolve::<R>(self.client.wall_time()).map(drop)
    }

    pub(crate) async fn send_window(
        &self,
        window: Window,
        deadline: Option<(Instant, Duration)>,
    ) -> Result<Page<R>> {
        let mut params = self.params.clone();
        params.window = Some(window);
        let mut request = params.resolve::<R>(self.client.wall_time())?;
        request.deadline = deadline;
        self.client.executor().execute::<R>(&request).await
    }
}

impl<R> fmt::Debug for Query<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Query")
            .field("client", &self.client)
            .field("params", &self.params)
            .finish()
    }
}

impl Params {
    /// Check everything the API would reject, so that nothing invalid is ever sent.
    fn resolve<R: Row>(&self, now: SystemTime) -> Result<Request> {
        let window = self
            .window
            .unwrap_or_else(|| Window::ending_at(now, Query::<R>::DEFAULT_WINDOW));
        window.validate()?;
        if window.to > now + FUTURE_TOLERANCE {
            return Err(Error::invalid(
                "window",
                format!("{window} ends more than a minute in the future"),
            ));
        }
        let max_limit = Query::<R>::MAX_LIMIT;
        if let Some(limit) = self.limit
            && !(1..=max_limit).contains(&limit)
        {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {max_limit} (got {limit})"),
            ));
        }
        let max_group_by = Query::<R>::MAX_GROUP_BY;
        if self.group_by.len() > max_group_by {
            return Err(Error::invalid(
                "group_by",
                format!(
                    "at most {max_group_by} fields (got {})",
                    self.group_by.len()
                ),
            ));
        }
        check_items("group_by", "field", &self.group_by)?;
        if let Some((_, field)) = self
            .group_by
            .iter()
            .enumerate()
            .find(|(i, field)| self.group_by[..*i].contains(field))
        {
            return Err(Error::invalid(
                "group_by",
                format!("`{field}` is named twice; name each field once"),
            ));
        }
        check_items("tags", "tag", &self.tags)?;
        if R::OPERATION == Operation::GetAggregatedDns {
            check_server_ungrouped(&self.group_by)?;
        }
        if self.query.as_deref().is_some_and(|q| q.trim().is_empty()) {
            return Err(Error::invalid("query", "must not be empty"));
        }
        let join = |items: &[String]| (!items.is_empty()).then(|| items.join(","));
        Ok(Request {
            window,
            deadline: None,
            page_size: self.limit.unwrap_or(Query::<R>::DEFAULT_LIMIT),
            params: QueryParams {
                from: Some(window.from_unix_secs()),
                to: Some(window.to_unix_secs()),
                group_by: join(&self.group_by),
                tags: join(&self.tags),
                query: self.query.clone(),
                limit: self.limit,
            },
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

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Params {
        Params::default()
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn field_of(result: Result<Request>) -> Option<&'static str> {
        match result {
            Err(Error::InvalidInput { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn defaults_resolve_to_the_last_15_minutes_and_send_nothing_else() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let window = Window::ending_at(now, ConnectionsQuery::DEFAULT_WINDOW);
        let resolved = params().resolve::<Connection>(now).ok();
        assert_eq!(
            resolved,
            Some(Request {
                window,
                deadline: None,
                page_size: 100,
                params: QueryParams {
                    from: Some(window.from_unix_secs()),
                    to: Some(window.to_unix_secs()),
                    ..QueryParams::default()
                },
            })
        );
    }

    #[test]
    fn each_rule_names_its_field() {
        let now = SystemTime::now();
        let check = |p: Params, e: Operation| match e {
            Operation::GetAggregatedDns => field_of(p.resolve::<DnsRow>(now)),
            _ => field_of(p.resolve::<Connection>(now)),
        };
        let limit = |l| Params {
            limit: Some(l),
            ..params()
        };
        assert_eq!(
            check(limit(0), Operation::GetAggregatedConnections),
            Some("limit")
        );
        assert_eq!(
            check(limit(7501), Operation::GetAggregatedDns),
            Some("limit")
        );
        assert_eq!(check(limit(7500), Operation::GetAggregatedDns), None);
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
                Operation::GetAggregatedConnections
            ),
            Some("group_by")
        );
        assert_eq!(
            check(groups(&["a", ""]), Operation::GetAggregatedConnections),
            Some("group_by")
        );
        assert_eq!(
            check(
                groups(&["a", "b", "a"]),
                Operation::GetAggregatedConnections
            ),
            Some("group_by")
        );
        assert_eq!(
            check(groups(&["a,b"]), Operation::GetAggregatedConnections),
            Some("group_by")
        );
        assert_eq!(
            check(
                groups(&["server_ungrouped", "server_service"]),
                Operation::GetAggregatedDns
            ),
            Some("group_by")
        );
        assert_eq!(
            check(
                groups(&["server_ungrouped", "network.dns_query"]),
                Operation::GetAggregatedDns
            ),
            Some("group_by")
        );
        assert_eq!(
            check(
                groups(&["server_ungrouped", "client_service"]),
                Operation::GetAggregatedDns
            ),
            None
        );
        assert_eq!(
            check(
                groups(&["server_ungrouped", "server_service"]),
                Operation::GetAggregatedConnections
            ),
            None
        );
        let tags = Params {
            tags: strings(&["env:prod,team:a"]),
            ..params()
        };
        assert_eq!(check(tags, Operation::GetAggregatedDns), Some("tags"));
        let query = Params {
            query: Some("  ".into()),
            ..params()
        };
        assert_eq!(check(query, Operation::GetAggregatedDns), Some("query"));
        let future = Params {
            window: Some(Window::ending_at(
                now + Duration::from_secs(3600),
                DnsQuery::DEFAULT_WINDOW,
            )),
            ..params()
        };
        assert_eq!(
            check(future, Operation::GetAggregatedConnections),
            Some("window")
        );
        let inverted = Params {
            window: Some(Window {
                from: now,
                to: now - Duration::from_secs(5),
            }),
            ..params()
        };
        assert_eq!(
            check(inverted, Operation::GetAggregatedConnections),
            Some("window")
        );
    }
}
