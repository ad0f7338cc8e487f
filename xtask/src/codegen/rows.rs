//! The generated metric code of the row types: `Connection` with one field per connection
//! metric, `DnsMetrics` with one field per DNS key, `DnsMetricKey`, and each table
//! (`Connection::METRICS`, `DnsMetricKey::METRICS`) that the library, the mock and the
//! CLI read. The decoders, `Serialize` impls and helpers stay hand-written beside them in
//! `crates/datadog-cnm-raw/src/rows/`.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use super::metrics::{MetricSpec, MetricTables};

fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// `Metric { … }` for one metric.
fn metric(spec: &MetricSpec) -> TokenStream {
    let name = &spec.name;
    let field = &spec.field;
    let description = &spec.description;
    let label = &spec.label;
    let aggregation = ident(&capitalized(&spec.aggregation));
    let unit = ident(&capitalized(&spec.unit));
    let column = match spec.column {
        Some(column) => quote!(Some(#column)),
        None => quote!(None),
    };
    quote! {
        Metric {
            name: #name,
            field: #field,
            description: #description,
            aggregation: Aggregation::#aggregation,
            unit: Unit::#unit,
            label: #label,
            column: #column,
        }
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// The doc text of a metric's field or variant.
fn field_doc(spec: &MetricSpec) -> String {
    let unit = match spec.unit.as_str() {
        "count" => String::new(),
        unit => format!(", in {unit}"),
    };
    format!(
        "`{}`: {}\n\nAggregation: {}{unit}.",
        spec.name, spec.description, spec.aggregation
    )
}

/// The Rust source of `rows/generated_metrics.rs`.
pub fn generate(tables: &MetricTables) -> TokenStream {
    let connection = connection(&tables.connection);
    let dns = dns(&tables.dns);
    quote! {
        use std::collections::BTreeMap;

        use super::group_bys::GroupBys;
        use crate::metric::{Aggregation, Metric, Unit};

        #connection
        #dns
    }
}

fn connection(metrics: &[MetricSpec]) -> TokenStream {
    let count = metrics.len();
    let fields: Vec<Ident> = metrics.iter().map(|m| ident(&m.field)).collect();
    let docs = metrics.iter().map(field_doc);
    let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
    let members = names.iter().map(|name| format!("\"{name}\":"));
    let table = metrics.iter().map(metric);
    let indices = 0..count;
    quote! {
        /// Aggregated TCP traffic of one group over the query window.
        ///
        /// Every metric is optional: the API marks none as required. How each one combines
        /// over adjacent windows is in [`Connection::METRICS`].
        ///
        /// Serialized in the API's form (`{"attributes": {…}, "id": …, "type": …}`).
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct Connection {
            /// The row's id, built by the server from the group-by values.
            pub id: Option<String>,
            /// The group-by values of this row.
            pub group_bys: GroupBys,
            #(
                #[doc = #docs]
                pub #fields: Option<i64>,
            )*
            /// Attributes this version does not know, exactly as the server sent them.
            pub extra_attributes: BTreeMap<String, serde_json::Value>,
            /// Members of the row object other than `attributes`, `id` and `type` (for
            /// example JSON:API `meta` or `links`), and `type` itself when it is not
            /// `aggregated_connection`.
            pub extra_members: BTreeMap<String, serde_json::Value>,
        }

        impl Connection {
            /// The metrics this version knows, in field order.
            pub const METRICS: [Metric; #count] = [#(#table),*];

            /// The metrics as the fast path expects them: `"name":`.
            pub(crate) const MEMBERS: [&'static str; #count] = [#(#members),*];

            /// `(wire name, value)` of every metric, in field order.
            pub fn metrics(&self) -> [(&'static str, Option<i64>); #count] {
                [#((#names, self.#fields)),*]
            }

            /// The value of every metric, in field order.
            pub(crate) fn metric_values(&self) -> [Option<i64>; #count] {
                [#(self.#fields),*]
            }

            /// Set every metric, in field order.
            pub(crate) fn set_metrics(&mut self, values: [Option<i64>; #count]) {
                let [#(#fields),*] = values;
                #(self.#fields = #fields;)*
            }

            /// The field of metric number `index` (an index into [`Self::METRICS`]).
            pub(crate) fn metric_slot(&mut self, index: usize) -> Option<&mut Option<i64>> {
                // A `match` on literal indices compiles to a jump table.
                match index {
                    #(#indices => Some(&mut self.#fields),)*
                    _ => None,
                }
            }
        }
    }
}

fn dns(metrics: &[MetricSpec]) -> TokenStream {
    let count = metrics.len();
    let fields: Vec<Ident> = metrics.iter().map(|m| ident(&m.field)).collect();
    let variants: Vec<Ident> = metrics.iter().map(|m| ident(&m.variant)).collect();
    let docs: Vec<String> = metrics.iter().map(field_doc).collect();
    let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
    let table = metrics.iter().map(metric);
    quote! {
        /// The metrics of one DNS row, one field per key the API documents.
        ///
        /// Keys this version does not know are kept in [`DnsMetrics::extra`], never dropped.
        /// On the wire this is a list of `{"key": …, "value": …}` objects.
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
        pub struct DnsMetrics {
            #(
                #[doc = #docs]
                pub #fields: Option<i64>,
            )*
            /// Metrics under keys this version does not know, by key.
            pub extra: BTreeMap<String, Option<i64>>,
        }

        impl DnsMetrics {
            /// The known metrics in [`DnsMetricKey::KNOWN`] order.
            pub(crate) fn known(&self) -> [Option<i64>; #count] {
                [#(self.#fields),*]
            }

            /// The known metrics' fields in [`DnsMetricKey::KNOWN`] order.
            pub(crate) fn known_mut(&mut self) -> [&mut Option<i64>; #count] {
                [#(&mut self.#fields),*]
            }
        }

        /// The key of one DNS metric in a `GetAggregatedDns` row.
        ///
        /// The spec's `DnsMetricKey` is a closed enum; this one keeps its values and adds
        /// [`DnsMetricKey::Other`], so a key the server starts sending tomorrow is kept as
        /// text instead of failing the whole response.
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum DnsMetricKey {
            #(
                #[doc = #docs]
                #variants,
            )*
            /// A key this version does not know, exactly as the server sent it.
            Other(String),
        }

        impl DnsMetricKey {
            /// Every key the spec lists, in spec order.
            pub const KNOWN: [DnsMetricKey; #count] = [#(Self::#variants),*];

            /// The metrics of [`DnsMetricKey::KNOWN`], in the same order.
            pub const METRICS: [Metric; #count] = [#(#table),*];

            /// The key as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #(Self::#variants => #names,)*
                    Self::Other(key) => key,
                }
            }

            /// The known key spelled `wire`, or `None`; never allocates.
            pub fn known(wire: &str) -> Option<Self> {
                Some(match wire {
                    #(#names => Self::#variants,)*
                    _ => return None,
                })
            }
        }
    }
}
