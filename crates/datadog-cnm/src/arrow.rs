//! Pages as Arrow [`RecordBatch`]es (feature `arrow`), in the schema `ddcnm export` and
//! `ddcnm … -o parquet` write, for DataFusion, Polars, DuckDB or anything else that reads
//! Arrow.
//!
//! # The schema
//!
//! One row per row of the page, columns in this order:
//!
//! | column | Arrow type | what |
//! |---|---|---|
//! | `window_start`, `window_end` | `Timestamp(Microsecond, "UTC")`, not null | the page's window, `[start, end)` |
//! | `site` | `Utf8`, not null | the Datadog site the rows come from (its domain, e.g. `datadoghq.eu`) |
//! | one per group-by field | `Utf8`, nullable | the row's value; the API's `N/A` is null; several values (connections may have them) joined by `,` |
//! | one per metric this version knows | `Int64`, nullable | the metric; null when the server did not send it |
//! | `extra_metrics` | `Map<Utf8, Int64>`, not null | metrics this version does not know, under their API names (usually empty) |
//! | `truncated` | `Boolean`, not null | the page came back with as many rows as its limit: groups may be missing |
//!
//! Column names are the API's names with `.` replaced by `_` ([`column_name`]), since
//! Spark and others read a dot as a nested field: `dns_responses.nxdomain` becomes
//! `dns_responses_nxdomain`, `network.dns_query` becomes `network_dns_query`. A group-by
//! field whose name is already a column (`site`, `truncated`, a metric), or is `date` (the
//! hive partition column of `ddcnm export`'s layout, which readers add to every row), gets
//! the prefix `group_` (`group_site`, `group_date`). Metric columns carry their API name, unit and aggregation as
//! field metadata (`api_name`, `unit`, `aggregation`).
//!
//! A metric the server sends that this version does not know is never dropped: it is in
//! `extra_metrics`, so the schema stays the same for every page of a query, and a newer
//! version that knows the metric gives it its own column.
//!
//! ```
//! use datadog_cnm::arrow::PageSchema;
//! use datadog_cnm::{Connection, Page, Window};
//!
//! let schema = PageSchema::<Connection>::new(["client_service", "server_service"])?;
//! let page = Page::<Connection> {
//!     rows: Vec::new(),
//!     window: Window::from_unix(1_764_000_000, 1_764_003_600)?,
//!     truncated: false,
//!     limit: 100,
//!     rate_limit: None,
//!     extra_members: Default::default(),
//! };
//! let batch = schema.record_batch(&page, "datadoghq.com")?;
//! assert_eq!(batch.num_rows(), 0);
//! assert_eq!(batch.schema().field(3).name(), "client_service");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The Arrow crates are re-exported ([`arrow_array`], [`arrow_schema`]): use them, or make
//! sure your own `arrow` (or DataFusion's) has the same major version, so that the types
//! match.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

pub use arrow_array;
pub use arrow_schema;

use arrow_array::builder::{Int64Builder, MapBuilder, StringBuilder};
use arrow_array::{
    ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use datadog_cnm_raw::{DnsRow, Row};

use crate::error::{Error, Result};
use crate::page::Page;
use crate::query::Query;

/// The start of the row's window.
pub const WINDOW_START: &str = "window_start";
/// The end of the row's window (exclusive).
pub const WINDOW_END: &str = "window_end";
/// The Datadog site.
pub const SITE: &str = "site";
/// Metrics this version does not know.
pub const EXTRA_METRICS: &str = "extra_metrics";
/// The page hit its limit.
pub const TRUNCATED: &str = "truncated";
/// The hive partition column of `ddcnm export`'s layout (`date=YYYY-MM-DD/`): readers with
/// hive partitioning add it to every row, so no group-by column is called that.
pub const PARTITION: &str = "date";
/// The prefix of a group-by column whose name another column already has.
pub const GROUP_PREFIX: &str = "group_";
/// What the API sends for a group-by field a row has no value for.
pub const NOT_AVAILABLE: &str = "N/A";
/// Between the values of a group-by field that has several.
pub const VALUE_SEPARATOR: &str = ",";
/// The DNS group-by value that asks not to group by server: no field, so no column.
pub const SERVER_UNGROUPED: &str = "server_ungrouped";
/// The time zone of the window columns.
pub const TIME_ZONE: &str = "UTC";

/// The column name of an API name: `.` becomes `_` (`dns_responses.nxdomain` →
/// `dns_responses_nxdomain`).
pub fn column_name(api_name: &str) -> String {
    api_name.replace('.', "_")
}

/// The Arrow type of the window columns: microseconds since the epoch, UTC.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(TIME_ZONE.into()))
}

/// The Arrow type of [`EXTRA_METRICS`]: a map from API name to value.
pub fn extra_metrics_type() -> DataType {
    let entries = Field::new(
        Field::MAP_ENTRIES_FIELD_DEFAULT_NAME,
        DataType::Struct(
            vec![
                Field::new(Field::MAP_KEY_FIELD_DEFAULT_NAME, DataType::Utf8, false),
                Field::new(Field::MAP_VALUE_FIELD_DEFAULT_NAME, DataType::Int64, true),
            ]
            .into(),
        ),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

/// The table layout of pages of `R` grouped by given fields: the Arrow schema, and the
/// conversion of a page into a [`RecordBatch`] of that schema. See the [module
/// documentation](self) for the columns.
pub struct PageSchema<R> {
    /// Each group-by field and its column name.
    groups: Vec<(String, String)>,
    schema: SchemaRef,
    rows: PhantomData<fn() -> R>,
}

impl<R> Clone for PageSchema<R> {
    fn clone(&self) -> Self {
        Self {
            groups: self.groups.clone(),
            schema: self.schema.clone(),
            rows: PhantomData,
        }
    }
}

impl<R> fmt::Debug for PageSchema<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageSchema")
            .field("groups", &self.groups)
            .field("schema", &self.schema)
            .finish()
    }
}

impl<R: Row> PageSchema<R> {
    /// The schema of pages grouped by `group_by` (the query's group-by fields, in the
    /// order their columns should have; DNS's `server_ungrouped` has no column).
    ///
    /// Fails with [`Error::InvalidInput`] when two fields would have the same column
    /// (`a.b` and `a_b`, or a field given twice).
    pub fn new(group_by: impl IntoIterator<Item = impl Into<String>>) -> Result<Self> {
        let metrics: Vec<Field> = R::METRICS
            .iter()
            .map(|metric| {
                Field::new(column_name(metric.name), DataType::Int64, true).with_metadata(
                    HashMap::from([
                        ("api_name".to_owned(), metric.name.to_owned()),
                        ("unit".to_owned(), metric.unit.as_str().to_owned()),
                        (
                            "aggregation".to_owned(),
                            metric.aggregation.as_str().to_owned(),
                        ),
                    ]),
                )
            })
            .collect();
        let fixed = [
            WINDOW_START,
            WINDOW_END,
            SITE,
            EXTRA_METRICS,
            TRUNCATED,
            PARTITION,
        ];
        let taken =
            |name: &str| fixed.contains(&name) || metrics.iter().any(|field| field.name() == name);
        let mut groups: Vec<(String, String)> = Vec::new();
        for key in group_by {
            let key: String = key.into();
            if key == SERVER_UNGROUPED {
                continue;
            }
            let mut column = column_name(&key);
            if taken(&column) {
                column = format!("{GROUP_PREFIX}{column}");
            }
            if taken(&column) {
                return Err(Error::invalid(
                    "group_by",
                    format!("`{key}` would be column `{column}`, which another column already is"),
                ));
            }
            if let Some((other, _)) = groups.iter().find(|(_, c)| *c == column) {
                return Err(Error::invalid(
                    "group_by",
                    format!("`{other}` and `{key}` would both be column `{column}`"),
                ));
            }
            groups.push((key, column));
        }
        let mut fields = vec![
            Field::new(WINDOW_START, timestamp_type(), false),
            Field::new(WINDOW_END, timestamp_type(), false),
            Field::new(SITE, DataType::Utf8, false),
        ];
        fields.extend(
            groups
                .iter()
                .map(|(_, column)| Field::new(column, DataType::Utf8, true)),
        );
        fields.extend(metrics);
        fields.push(Field::new(EXTRA_METRICS, extra_metrics_type(), false));
        fields.push(Field::new(TRUNCATED, DataType::Boolean, false));
        Ok(Self {
            groups,
            schema: Arc::new(Schema::new(fields)),
            rows: PhantomData,
        })
    }

    /// The schema of the pages `query` returns: grouped by its group-by fields, or, for a
    /// DNS query without any, by `network.dns_query` as the server does.
    pub fn of(query: &Query<R>) -> Result<Self> {
        match query.group_by_set() {
            [] if R::OPERATION == <DnsRow as Row>::OPERATION => Self::new(["network.dns_query"]),
            fields => Self::new(fields.iter().cloned()),
        }
    }

    /// The Arrow schema.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The group-by fields and their column names, in column order.
    pub fn group_columns(&self) -> impl Iterator<Item = (&str, &str)> {
        self.groups
            .iter()
            .map(|(key, column)| (key.as_str(), column.as_str()))
    }

    /// The rows of `page`, labelled with `site` (e.g. `client.site().domain()`), as one
    /// batch of this schema.
    pub fn record_batch(
        &self,
        page: &Page<R>,
        site: &str,
    ) -> std::result::Result<RecordBatch, ArrowError> {
        let rows = &page.rows;
        let n = rows.len();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        let timestamp = |at| {
            Arc::new(TimestampMicrosecondArray::from(vec![micros(at); n]).with_timezone(TIME_ZONE))
                as ArrayRef
        };
        columns.push(timestamp(page.window.from));
        columns.push(timestamp(page.window.to));
        columns.push(Arc::new(StringArray::from_iter_values(
            std::iter::repeat_n(site, n),
        )));
        let mut joined = String::new();
        for (key, _) in &self.groups {
            let mut column = StringBuilder::with_capacity(n, n * 16);
            for row in rows {
                joined.clear();
                for value in row.group_bys().values(key) {
                    if value == NOT_AVAILABLE {
                        continue;
                    }
                    if !joined.is_empty() {
                        joined.push_str(VALUE_SEPARATOR);
                    }
                    joined.push_str(value);
                }
                if joined.is_empty() {
                    column.append_null();
                } else {
                    column.append_value(&joined);
                }
            }
            columns.push(Arc::new(column.finish()));
        }
        for index in 0..R::METRICS.len() {
            columns.push(Arc::new(Int64Array::from_iter(
                rows.iter().map(|row| row.metric(index)),
            )));
        }
        let mut extra = MapBuilder::new(None, StringBuilder::new(), Int64Builder::new());
        for row in rows {
            for (name, value) in row.extra_metrics() {
                extra.keys().append_value(name);
                extra.values().append_option(value);
            }
            extra.append(true)?;
        }
        columns.push(Arc::new(extra.finish()));
        columns.push(Arc::new(BooleanArray::from(vec![page.truncated; n])));
        RecordBatch::try_new(self.schema.clone(), columns)
    }
}

/// `at` in microseconds since the Unix epoch (windows are whole seconds, never before it).
fn micros(at: std::time::SystemTime) -> i64 {
    let seconds = at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    i64::try_from(seconds)
        .unwrap_or(i64::MAX)
        .saturating_mul(1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::Window;
    use arrow_array::{Array, MapArray};
    use datadog_cnm_raw::Connection;

    fn page<R: Row>(rows: Vec<R>) -> Page<R> {
        Page {
            rows,
            window: Window::from_unix(3600, 7200).unwrap(),
            truncated: true,
            limit: 2,
            rate_limit: None,
            extra_members: Default::default(),
        }
    }

    #[test]
    fn columns_follow_the_api_names_with_underscores() {
        let schema =
            PageSchema::<DnsRow>::new(["network.dns_query", "site", "a_b", "date"]).unwrap();
        let names: Vec<&str> = schema
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(
            &names[..7],
            [
                "window_start",
                "window_end",
                "site",
                "network_dns_query",
                "group_site",
                "a_b",
                "group_date"
            ]
        );
        assert!(names.contains(&"dns_responses_nxdomain"));
        assert_eq!(names[names.len() - 2..], ["extra_metrics", "truncated"]);
        let nx = schema
            .schema()
            .field_with_name("dns_responses_nxdomain")
            .unwrap();
        assert_eq!(
            nx.metadata().get("api_name").map(String::as_str),
            Some("dns_responses.nxdomain")
        );
        let clash = PageSchema::<DnsRow>::new(["a.b", "a_b"]).unwrap_err();
        assert!(clash.to_string().contains("`a.b` and `a_b`"), "{clash}");
        let twice = PageSchema::<Connection>::new(["x", "x"]).unwrap_err();
        assert!(
            twice.to_string().contains("would both be column `x`"),
            "{twice}"
        );
    }

    #[test]
    fn a_batch_holds_every_value_nulls_and_unknown_metrics() {
        let text = r#"{"type":"aggregated_connection","attributes":{
            "group_bys":{"client_service":["web","api"],"server_service":["N/A"]},
            "bytes_sent_by_client":5,"tcp_timeouts":null,"brand_new":7}}"#;
        let row: Connection = serde_json::from_str(text).unwrap();
        let other: Connection = serde_json::from_str(
            r#"{"attributes":{"group_bys":{"client_service":["db"]},"bytes_sent_by_client":1}}"#,
        )
        .unwrap();
        let schema = PageSchema::<Connection>::new(["client_service", "server_service"]).unwrap();
        let batch = schema
            .record_batch(&page(vec![row, other]), "datadoghq.eu")
            .unwrap();
        assert_eq!(batch.num_rows(), 2);
        let strings = |name: &str| {
            let column = batch.column_by_name(name).unwrap();
            let column = column.as_any().downcast_ref::<StringArray>().unwrap();
            (0..column.len())
                .map(|i| column.is_valid(i).then(|| column.value(i).to_owned()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            strings("client_service"),
            [Some("web,api".to_owned()), Some("db".to_owned())]
        );
        assert_eq!(strings("server_service"), [None, None]);
        assert_eq!(strings("site"), vec![Some("datadoghq.eu".to_owned()); 2]);
        let ints = |name: &str| {
            let column = batch.column_by_name(name).unwrap();
            let column = column.as_any().downcast_ref::<Int64Array>().unwrap();
            column.iter().collect::<Vec<_>>()
        };
        assert_eq!(ints("bytes_sent_by_client"), [Some(5), Some(1)]);
        assert_eq!(ints("tcp_timeouts"), [None, None]);
        let extra = batch.column_by_name("extra_metrics").unwrap();
        let extra = extra.as_any().downcast_ref::<MapArray>().unwrap();
        assert_eq!(extra.value_length(0), 1);
        assert_eq!(extra.value_length(1), 0);
        let keys = extra.keys().as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(keys.value(0), "brand_new");
        let start = batch.column_by_name("window_start").unwrap();
        let start = start
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .unwrap();
        assert_eq!(start.value(0), 3_600_000_000);
        let truncated = batch.column_by_name("truncated").unwrap();
        assert_eq!(truncated.null_count(), 0);
    }
}
