//! The hand-written row and document types, decoded 7500 rows per page.
//!
//! `cargo xtask codegen` swaps progenitor's generated row and document schemas for these
//! types (progenitor `with_replacement`), so a page reaches the caller without any
//! conversion. Decoding is fast and lossless:
//!
//! - `document.rs`: `{"data": [...]}`; from serde_json the array comes as one piece of text,
//!   which `reader.rs` walks row after row, in the shape the server sends.
//! - `decode.rs`: one row, on that fast path or with a general serde decoder that handles
//!   anything valid; both build the same row for any text (property-tested).
//! - `generated_metrics.rs` (written by `cargo xtask codegen` from the spec's `x-cnm-*`
//!   extensions): the `Connection` and `DnsMetrics` structs with one field per metric,
//!   `DnsMetricKey`, and the metric tables.
//! - `connection.rs`, `dns.rs`: decoding and serializing the two row types;
//!   `group_bys.rs`: their group-by values, compactly stored; `metric_key.rs`: conversions
//!   of the open DNS metric key; `text.rs`: shared serde pieces.
//!
//! Members this version does not know are kept (`extra_attributes`, `extra_members`,
//! `DnsMetrics::extra`), never dropped.

mod connection;
pub(crate) mod decode;
#[rustfmt::skip]
#[allow(missing_docs, unused_qualifications, clippy::all, clippy::pedantic)]
mod generated_metrics;
mod dns;
mod document;
mod group_bys;
mod metric_key;
mod reader;
mod text;

use std::marker::PhantomData;

use serde::de::{DeserializeOwned, DeserializeSeed};

pub use dns::DnsRow;
pub use document::{ConnectionsDocument, DnsDocument, Document};
pub use generated_metrics::{Connection, DnsMetricKey, DnsMetrics};
pub use group_bys::GroupBys;

use decode::RowDecode;
use document::GeneralDocument;

/// Where a response body stops being a document of `R` rows (see
/// [`crate::locate_decode_error`]).
pub(crate) fn locate_decode_error<R: RowDecode + DeserializeOwned>(
    body: &[u8],
) -> Option<(String, serde_json::Error)> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value: serde_json::Value = match serde_path_to_error::deserialize(&mut deserializer) {
        Ok(value) => value,
        Err(error) => return Some((error.path().to_string(), error.into_inner())),
    };
    // Keys read from a `Value` come as text, which the path tracker records (serde_json
    // hands keys read from bytes over as bytes, which it does not).
    let mut track = serde_path_to_error::Track::new();
    let tracked = serde_path_to_error::Deserializer::new(&value, &mut track);
    let error = GeneralDocument::<R>(PhantomData)
        .deserialize(tracked)
        .err()?;
    // The same general decoder straight from the body fails at the same member, and its
    // error also says where that is in the text.
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let positioned = GeneralDocument::<R>(PhantomData)
        .deserialize(&mut deserializer)
        .err();
    Some((track.path().to_string(), positioned.unwrap_or(error)))
}

#[cfg(test)]
mod decode_paths;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_errors_are_located_by_path() {
        let cases = [
            (
                r#"{"data":[{"attributes":{}},{"attributes":{"tcp_resets":"x"}}]}"#,
                "data[1].attributes.tcp_resets",
            ),
            (
                r#"{"data":[{"attributes":{"group_bys":{"client_service":[1]}}}]}"#,
                "data[0].attributes.group_bys.client_service[0]",
            ),
            (r#"{"data":[{"attributes":{}}],"meta":{"#, "meta.?"),
            (r#"{"data":5}"#, "data"),
            (
                r#"{"data":[{"attributes":{"group_bys":{"client_service":null},"bytes_sent_by_client":1}}]}"#,
                "data[0].attributes.group_bys.client_service",
            ),
            (
                r#"{"data":[{"attributes":{"bytes_sent_by_client":1,"group_bys":{"client_service":null}},"id":"x"}]}"#,
                "data[0].attributes.group_bys.client_service",
            ),
        ];
        for (body, path) in cases {
            assert!(serde_json::from_str::<ConnectionsDocument>(body).is_err());
            let (found, _) = locate_decode_error::<Connection>(body.as_bytes())
                .unwrap_or_else(|| panic!("not located: {body}"));
            assert_eq!(found, path, "{body}");
        }
        let ok = r#"{"data":[{"attributes":{"metrics":[{"key":"dns_timeouts","value":1}]}}]}"#;
        assert!(locate_decode_error::<DnsRow>(ok.as_bytes()).is_none());
        let bad = r#"{"data":[{"attributes":{"metrics":[{"key":"dns_timeouts","value":-0}]}}]}"#;
        let (path, _) = locate_decode_error::<DnsRow>(bad.as_bytes()).unwrap();
        assert_eq!(path, "data[0].attributes.metrics[0].value");
    }
}
