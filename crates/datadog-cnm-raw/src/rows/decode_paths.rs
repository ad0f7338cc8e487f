//! Rows decode to the same values whichever decoder reads them.
//!
//! From serde_json, a page's `data` array (or a lone row) goes to a fast reader that handles
//! the shape the server sends and leaves anything else to the general decoder; the
//! `General*` seeds make the general decoder read every row directly. These properties
//! generate rows in the usual shape and in many unusual ones (member order, whitespace,
//! duplicates, escapes, nulls, unknown members, floats, out-of-range integers, wrong types)
//! and check that both ways give the same rows, or both fail.

use std::marker::PhantomData;

use proptest::prelude::*;
use serde::de::{DeserializeOwned, DeserializeSeed};

use super::decode::GeneralRow;
use super::document::GeneralDocument;
use super::{Connection, ConnectionsDocument, DnsDocument, DnsRow};

/// A JSON value whose objects keep member order and duplicates, and a number written
/// exactly as given.
#[derive(Clone, Debug)]
enum Json {
    Null,
    Number(String),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn render(&self, pretty: bool, out: &mut String) {
        let gap = if pretty { "\n  " } else { "" };
        match self {
            Json::Null => out.push_str("null"),
            Json::Number(n) => out.push_str(n),
            Json::Str(s) => out.push_str(&serde_json::to_string(s).unwrap_or_default()),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(gap);
                    item.render(pretty, out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(gap);
                    out.push_str(&serde_json::to_string(key).unwrap_or_default());
                    out.push_str(if pretty { " : " } else { ":" });
                    value.render(pretty, out);
                }
                out.push('}');
            }
        }
    }
}

fn text(value: &Json, pretty: bool) -> String {
    let mut out = String::new();
    value.render(pretty, &mut out);
    out
}

/// Mostly plain strings, sometimes with escapes or non-ASCII text.
fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-z0-9.|:-]{0,24}",
        1 => "[a-z\"\\\\/\n\t]{1,8}",
        1 => "[é日本\u{1F600}a-z]{1,6}",
    ]
}

/// Mostly integers in range, sometimes `null`, floats, huge numbers or other types.
fn metric_value() -> impl Strategy<Value = Json> {
    prop_oneof![
        12 => any::<i64>().prop_map(|n| Json::Number(n.to_string())),
        3 => (0i64..100_000).prop_map(|n| Json::Number(n.to_string())),
        2 => Just(Json::Null),
        1 => Just(Json::Number("9223372036854775808".into())),
        1 => Just(Json::Number("-9223372036854775809".into())),
        1 => Just(Json::Number("18446744073709551616".into())),
        1 => Just(Json::Number("1.5".into())),
        1 => Just(Json::Number("2e3".into())),
        1 => Just(Json::Number("-0".into())),
        1 => string().prop_map(Json::Str),
    ]
}

/// A metric name: usually one of `known`, sometimes another.
fn metric_name(known: &'static [crate::Metric]) -> impl Strategy<Value = String> {
    let names: Vec<&'static str> = known.iter().map(|metric| metric.name).collect();
    prop_oneof![
        10 => proptest::sample::select(names).prop_map(str::to_owned),
        1 => "[a-z_.]{1,12}",
    ]
}

fn connection_group_bys() -> impl Strategy<Value = Json> {
    let values = prop_oneof![
        6 => proptest::collection::vec(string().prop_map(Json::Str), 0..3).prop_map(Json::Array),
        1 => string().prop_map(Json::Str),
        1 => Just(Json::Array(vec![Json::Null])),
    ];
    prop_oneof![
        10 => proptest::collection::vec(("[a-z_]{1,14}", values), 0..5).prop_map(Json::Object),
        1 => Just(Json::Null),
        1 => Just(Json::Array(vec![])),
    ]
}

fn connection_attributes() -> impl Strategy<Value = Json> {
    let member = prop_oneof![
        12 => (metric_name(&Connection::METRICS), metric_value()),
        2 => connection_group_bys().prop_map(|g| ("group_bys".to_owned(), g)),
    ];
    prop_oneof![
        12 => proptest::collection::vec(member, 0..22).prop_map(Json::Object),
        1 => Just(Json::Null),
        1 => Just(Json::Number("1".into())),
    ]
}

fn dns_item(value: impl Strategy<Value = Json>) -> impl Strategy<Value = Json> {
    const KNOWN: [&str; 4] = [
        "dns_total_requests",
        "dns_failures",
        "network.dns_query",
        "dns_timeouts",
    ];
    let fields = (
        prop_oneof![
            8 => proptest::sample::select(&KNOWN[..]).prop_map(str::to_owned),
            1 => string(),
        ],
        value,
        0u8..12,
    );
    fields.prop_map(|(key, value, shape)| {
        let key = ("key".to_owned(), Json::Str(key));
        let value = ("value".to_owned(), value);
        Json::Object(match shape {
            0 => vec![key],
            1 => vec![value],
            2 => vec![value, key],
            3 => vec![key, value, ("unit".into(), Json::Str("count".into()))],
            _ => vec![key, value],
        })
    })
}

fn dns_attributes() -> impl Strategy<Value = Json> {
    let group_bys = prop_oneof![
        8 => proptest::collection::vec(dns_item(string().prop_map(Json::Str)), 0..3).prop_map(Json::Array),
        1 => Just(Json::Null),
    ];
    let metrics = prop_oneof![
        8 => proptest::collection::vec(dns_item(metric_value()), 0..12).prop_map(Json::Array),
        1 => Just(Json::Null),
    ];
    let member = prop_oneof![
        4 => group_bys.prop_map(|g| ("group_bys".to_owned(), g)),
        4 => metrics.prop_map(|m| ("metrics".to_owned(), m)),
        1 => Just(("sampled".to_owned(), Json::Null)),
    ];
    proptest::collection::vec(member, 0..4).prop_map(Json::Object)
}

/// A row object around `attributes`, with its other members in any order.
fn row(attributes: impl Strategy<Value = Json>, kind: &'static str) -> impl Strategy<Value = Json> {
    let member = prop_oneof![
        6 => attributes.prop_map(|a| ("attributes".to_owned(), a)),
        3 => prop_oneof![3 => string().prop_map(Json::Str), 1 => Just(Json::Null)]
            .prop_map(|id| ("id".to_owned(), id)),
        3 => prop_oneof![
            6 => Just(Json::Str(kind.to_owned())),
            1 => Just(Json::Str("something_else".to_owned())),
            1 => Just(Json::Null),
        ]
        .prop_map(|t| ("type".to_owned(), t)),
        1 => Just(("links".to_owned(), Json::Object(vec![("self".into(), Json::Str("/x".into()))]))),
    ];
    proptest::collection::vec(member, 0..5).prop_map(Json::Object)
}

/// `text` decoded with `seed` (the general decoder), to the end.
fn general<'de, S: DeserializeSeed<'de>>(seed: S, text: &'de str) -> serde_json::Result<S::Value> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = seed.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// Both decoders agree on `text`: equal values, or both fail.
fn same_either_way<T: DeserializeOwned + PartialEq + std::fmt::Debug>(
    text: &str,
    general: serde_json::Result<T>,
) {
    let usual = serde_json::from_str::<T>(text);
    match (usual, general) {
        (Ok(usual), Ok(general)) => assert_eq!(usual, general, "{text}"),
        (Err(_), Err(_)) => {}
        (usual, general) => panic!("{text}\nusual: {usual:?}\ngeneral: {general:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn connection_rows_decode_the_same_either_way(
        row in row(connection_attributes(), "aggregated_connection"),
        pretty: bool,
    ) {
        let text = text(&row, pretty);
        same_either_way::<Connection>(&text, general(GeneralRow(PhantomData), &text));
    }

    #[test]
    fn dns_rows_decode_the_same_either_way(
        row in row(dns_attributes(), "aggregated_dns"),
        pretty: bool,
    ) {
        let text = text(&row, pretty);
        same_either_way::<DnsRow>(&text, general(GeneralRow(PhantomData), &text));
    }

    #[test]
    fn pages_decode_the_same_either_way(
        connections in proptest::collection::vec(row(connection_attributes(), "aggregated_connection"), 0..4),
        dns in proptest::collection::vec(row(dns_attributes(), "aggregated_dns"), 0..4),
        pretty: bool,
    ) {
        let page = |rows| Json::Object(vec![
            ("data".into(), Json::Array(rows)),
            ("meta".into(), Json::Object(vec![("page".into(), Json::Number("1".into()))])),
        ]);
        let connections = text(&page(connections), pretty);
        let general_connections = general(GeneralDocument(PhantomData), &connections);
        same_either_way::<ConnectionsDocument>(&connections, general_connections);
        let dns = text(&page(dns), pretty);
        same_either_way::<DnsDocument>(&dns, general(GeneralDocument(PhantomData), &dns));
    }
}

#[test]
fn rows_decode_from_a_value_and_from_a_reader() {
    let text = r#"{"attributes":{"group_bys":{"client_service":["web"]},"tcp_resets":3,"new":1},
        "id":"web","type":"aggregated_connection"}"#;
    let direct: Connection = serde_json::from_str(text).unwrap();
    let value: serde_json::Value = serde_json::from_str(text).unwrap();
    let from_value: Connection = serde_json::from_value(value).unwrap();
    let from_reader: Connection = serde_json::from_reader(text.as_bytes()).unwrap();
    assert_eq!(direct.tcp_resets, Some(3));
    assert_eq!(
        direct.extra_attributes.get("new"),
        Some(&serde_json::json!(1))
    );
    assert_eq!(from_value, direct);
    assert_eq!(from_reader, direct);
}

#[test]
fn rows_decode_from_a_deserializer_that_sees_through_newtypes() {
    // serde's own map deserializer treats a newtype struct as its contents, so the row
    // arrives as a map instead of as text.
    let members = vec![
        ("id", serde_json::json!("web")),
        ("type", serde_json::json!("aggregated_connection")),
        (
            "attributes",
            serde_json::json!({"tcp_resets": 3, "group_bys": {"client_service": ["web"]}}),
        ),
    ];
    let map = serde::de::value::MapDeserializer::<_, serde_json::Error>::new(members.into_iter());
    let row = <Connection as serde::Deserialize>::deserialize(map).unwrap();
    assert_eq!(row.id.as_deref(), Some("web"));
    assert_eq!(row.tcp_resets, Some(3));
    assert_eq!(row.group("client_service"), Some("web"));
    assert!(row.extra_members.is_empty());
}

#[test]
fn an_error_in_a_row_names_the_problem() {
    let text = r#"{"data":[{"attributes":{"tcp_resets":1.5}}]}"#;
    let error = serde_json::from_str::<ConnectionsDocument>(text)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        error.starts_with("invalid type: floating point `1.5`, expected an int64 metric or null"),
        "{error}"
    );
    assert_eq!(
        error.matches(" at line ").count(),
        1,
        "one position: {error}"
    );
}
