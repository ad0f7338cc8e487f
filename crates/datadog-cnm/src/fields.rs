//! The group-by fields of each endpoint: the usual ones, with what they mean and an example.
//!
//! The API does not publish a list: any tag key of the hosts or containers on either side
//! of a connection works, prefixed with `client_` or `server_` (`client_kube_namespace`,
//! `server_availability-zone`, …), and DNS traffic also groups by `network.dns_query`. A
//! field the API does not know is not an error: every row has `N/A` for it.
//!
//! The metrics are in the tables generated from the spec ([`Row::METRICS`]) and the derived
//! metrics in [`crate::analysis::DERIVED`].
//!
//! [`Row::METRICS`]: crate::Row::METRICS

use datadog_cnm_raw::Operation;

/// A field to group rows by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupByField {
    /// The name, as `group_by` takes it.
    pub name: &'static str,
    /// What it groups by.
    pub description: &'static str,
    /// A typical value.
    pub example: &'static str,
    /// The endpoints that group by it.
    pub operations: &'static [Operation],
}

const BOTH: &[Operation] = &[
    Operation::GetAggregatedConnections,
    Operation::GetAggregatedDns,
];
const DNS: &[Operation] = &[Operation::GetAggregatedDns];

/// The usual group-by fields; see the module documentation for the others.
pub const GROUP_BY_FIELDS: [GroupByField; 13] = [
    GroupByField {
        name: "client_service",
        description: "The service (APM `service` tag) of the client side.",
        example: "checkout-web",
        operations: BOTH,
    },
    GroupByField {
        name: "server_service",
        description: "The service of the server side.",
        example: "orders-db",
        operations: BOTH,
    },
    GroupByField {
        name: "client_team",
        description: "The `team` tag of the client side.",
        example: "payments",
        operations: BOTH,
    },
    GroupByField {
        name: "server_team",
        description: "The `team` tag of the server side.",
        example: "storage",
        operations: BOTH,
    },
    GroupByField {
        name: "client_env",
        description: "The `env` tag of the client side.",
        example: "prod",
        operations: BOTH,
    },
    GroupByField {
        name: "server_env",
        description: "The `env` tag of the server side.",
        example: "prod",
        operations: BOTH,
    },
    GroupByField {
        name: "client_host",
        description: "The host of the client side (many groups: use a large --limit).",
        example: "i-0a1b2c3d4e5f",
        operations: BOTH,
    },
    GroupByField {
        name: "server_host",
        description: "The host of the server side.",
        example: "i-0f9e8d7c6b5a",
        operations: BOTH,
    },
    GroupByField {
        name: "client_availability-zone",
        description: "The cloud availability zone of the client side.",
        example: "us-east-1a",
        operations: BOTH,
    },
    GroupByField {
        name: "server_availability-zone",
        description: "The cloud availability zone of the server side.",
        example: "us-east-1b",
        operations: BOTH,
    },
    GroupByField {
        name: "client_kube_namespace",
        description: "The Kubernetes namespace of the client side.",
        example: "checkout",
        operations: BOTH,
    },
    GroupByField {
        name: "network.dns_query",
        description: "The DNS name queried (DNS's default grouping).",
        example: "api.stripe.com",
        operations: DNS,
    },
    GroupByField {
        name: "server_ungrouped",
        description: "No server-side grouping (DNS only; not with other server fields or \
                      network.dns_query).",
        example: "",
        operations: DNS,
    },
];

/// The usual group-by fields of `operation`.
///
/// ```
/// use datadog_cnm::{Operation, fields};
///
/// let dns: Vec<&str> = fields::group_by_fields(Operation::GetAggregatedDns).map(|f| f.name).collect();
/// assert!(dns.contains(&"network.dns_query"));
/// assert!(!fields::group_by_fields(Operation::GetAggregatedConnections).any(|f| f.name == "network.dns_query"));
/// ```
pub fn group_by_fields(operation: Operation) -> impl Iterator<Item = &'static GroupByField> {
    GROUP_BY_FIELDS
        .iter()
        .filter(move |field| field.operations.contains(&operation))
}
