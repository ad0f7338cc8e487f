//! The same query against several sites (or organisations) at once.

use std::future::Future;

use datadog_cnm_raw::{Connection, DnsRow, Row};
use futures::future::join_all;

use crate::client::Client;
use crate::error::Result;
use crate::page::{ConnectionsPage, DnsPage, Page};
use crate::query::{ConnectionsQuery, DnsQuery, Query};
use crate::site::Site;

/// Several clients — typically one per site, each with its own keys — queried together.
///
/// Every client runs the same query concurrently; results come back labelled by site, in
/// the order the clients were given, and one site's failure never loses another's rows.
///
/// ```no_run
/// # async fn run(us1: datadog_cnm::Client, eu1: datadog_cnm::Client) {
/// let per_site = us1.fan_out([eu1]).connections(|q| q.group_by(["client_service"])).await;
/// for (site, result) in per_site {
///     match result {
///         Ok(page) => println!("{site}: {} rows", page.rows.len()),
///         Err(error) => eprintln!("{site}: {error}"),
///     }
/// }
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct MultiSite {
    clients: Vec<Client>,
}

impl MultiSite {
    /// Query these clients together.
    pub fn new(clients: impl IntoIterator<Item = Client>) -> Self {
        Self {
            clients: clients.into_iter().collect(),
        }
    }

    /// The clients, in order.
    pub fn clients(&self) -> &[Client] {
        &self.clients
    }

    /// Run the connections query built by `build` on every client.
    pub async fn connections(
        &self,
        build: impl Fn(ConnectionsQuery) -> ConnectionsQuery,
    ) -> Vec<(Site, Result<ConnectionsPage>)> {
        self.query::<Connection>(build).await
    }

    /// Run the DNS query built by `build` on every client.
    pub async fn dns(&self, build: impl Fn(DnsQuery) -> DnsQuery) -> Vec<(Site, Result<DnsPage>)> {
        self.query::<DnsRow>(build).await
    }

    /// Run the query of rows `R` built by `build` on every client.
    pub async fn query<R: Row>(
        &self,
        build: impl Fn(Query<R>) -> Query<R>,
    ) -> Vec<(Site, Result<Page<R>>)> {
        self.each(|client| build(client.query::<R>()).send()).await
    }

    /// Run `run` on every client concurrently; results in client order, labelled by site.
    pub async fn each<T, F>(&self, run: impl Fn(&Client) -> F) -> Vec<(Site, Result<T>)>
    where
        F: Future<Output = Result<T>>,
    {
        let results = join_all(self.clients.iter().map(run)).await;
        self.clients
            .iter()
            .map(|client| client.site().clone())
            .zip(results)
            .collect()
    }
}

impl Client {
    /// This client and `others`, queried together (see [`MultiSite`]).
    pub fn fan_out(&self, others: impl IntoIterator<Item = Client>) -> MultiSite {
        MultiSite::new(std::iter::once(self.clone()).chain(others))
    }
}
