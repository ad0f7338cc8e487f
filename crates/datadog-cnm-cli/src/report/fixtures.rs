//! Test data shared by the report's modules and `commands/report.rs`: fixed pages of a
//! small network (a chain, a cycle, a loop, a storm, a surge, a name that tries to become
//! markup), a map built by hand, and checks that hold for any document. It depends on the
//! model only, so every module's tests can use it.

use std::time::Duration;

use datadog_cnm::{Connection, DnsMetrics, DnsRow, Page, Row, Window};

use super::model::{Edge, Node, ServiceMap, Table};

/// A service name that tries to become markup.
pub(crate) const EVIL: &str = "<script>alert('x')</script>\"><img src=http://evil.example/x>";

/// 2026-11-30T10:30:00Z: a series' first, partial window starts here.
const START: i64 = 1_796_034_600;

/// A connection row of `client` → `server`.
pub(crate) fn conn(client: &str, server: &str, bytes: i64, retransmits: i64) -> Connection {
    Connection {
        group_bys: [("client_service", client), ("server_service", server)]
            .into_iter()
            .collect(),
        bytes_sent_by_client: Some(bytes / 5),
        bytes_sent_by_server: Some(bytes - bytes / 5),
        packets_sent_by_client: Some((bytes / 1500).max(1)),
        packets_sent_by_server: Some((bytes / 1000).max(1)),
        rtt_micro_seconds: Some(1200),
        tcp_retransmits: Some(retransmits),
        tcp_timeouts: Some(retransmits / 20),
        ..Connection::default()
    }
}

/// Group-by keys from strings.
pub(crate) fn keys(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| (*k).to_owned()).collect()
}

/// A row of `client` → `server` with round numbers: a quarter of the bytes from the
/// client, 1000 client packets.
pub(crate) fn flat(client: &str, server: &str, bytes: i64, retransmits: i64) -> Connection {
    Connection {
        group_bys: [("client_service", client), ("server_service", server)]
            .into_iter()
            .collect(),
        bytes_sent_by_client: Some(bytes / 4),
        bytes_sent_by_server: Some(bytes - bytes / 4),
        packets_sent_by_client: Some(1000),
        tcp_retransmits: Some(retransmits),
        ..Connection::default()
    }
}

/// A map of these nodes and `(client, server, bytes, retransmit ratio)` edges.
pub(crate) fn service_map_of(
    nodes: &[&str],
    edges: &[(usize, usize, f64, Option<f64>)],
) -> ServiceMap {
    ServiceMap {
        nodes: nodes
            .iter()
            .map(|n| Node {
                label: (*n).to_owned(),
                title: (*n).to_owned(),
            })
            .collect(),
        edges: edges
            .iter()
            .map(|&(client, server, bytes, ratio)| Edge {
                client,
                server,
                bytes,
                retransmit_ratio: ratio,
                title: format!("{client} → {server}"),
            })
            .collect(),
        summary: String::new(),
        list: Table {
            title: String::new(),
            note: None,
            head: Vec::new(),
            rows: Vec::new(),
            empty: String::new(),
        },
    }
}

/// A DNS row of `name`.
pub(crate) fn dns(name: &str, requests: i64, failures: i64) -> DnsRow {
    DnsRow {
        group_bys: [("network.dns_query", name)].into_iter().collect(),
        metrics: DnsMetrics {
            total_requests: Some(requests),
            failures: Some(failures),
            successful_responses: Some(requests - failures),
            responses_nxdomain: Some(failures / 2),
            timeouts: Some(failures / 4),
            ..DnsMetrics::default()
        },
        ..DnsRow::default()
    }
}

/// A page of `rows` for `window`.
pub(crate) fn page<R: Row>(rows: Vec<R>, window: Window) -> Page<R> {
    Page {
        rows,
        window,
        truncated: false,
        limit: 7500,
        rate_limit: None,
        extra_members: Default::default(),
    }
}

/// The whole window: 10:30 to 13:45.
pub(crate) fn whole() -> Window {
    Window::from_unix(START, START + 3 * 3600 + 900).unwrap_or_else(|e| panic!("{e}"))
}

/// The whole window in aligned hours: 10:30–11:00 and 13:00–13:45 are partial.
pub(crate) fn hours() -> Vec<Window> {
    whole()
        .split_aligned(Duration::from_secs(3600))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Traffic of one window, `scale` of an hour's: a chain (web → api → db), a cycle
/// (db → api), a loop (cache → cache), a client of two layers (batch), a storm on
/// batch → db in `storm` windows, and a name that tries to become markup.
pub(crate) fn connections(scale: f64, storm: bool) -> Vec<Connection> {
    let s = |n: i64| (n as f64 * scale) as i64;
    vec![
        conn("web", "api", s(9_000_000_000), s(90_000)),
        conn("api", "db", s(5_000_000_000), s(20_000)),
        conn("api", "cache", s(3_000_000_000), s(1_000)),
        conn(
            "batch",
            "db",
            s(800_000_000),
            s(if storm { 900_000 } else { 3_000 }),
        ),
        conn("db", "api", s(200_000_000), s(8_000)),
        conn("cache", "cache", s(50_000_000), 0),
        conn(EVIL, "api", s(10_000_000), s(400)),
        conn(
            "web",
            "cdn-edge-with-a-rather-long-name-01",
            s(60_000_000),
            s(50),
        ),
    ]
}

/// DNS names of one window.
pub(crate) fn names(scale: f64, surge: bool) -> Vec<DnsRow> {
    let s = |n: i64| (n as f64 * scale) as i64;
    vec![
        dns("api.internal", s(360_000), s(360)),
        dns("db.internal", s(180_000), s(180)),
        dns(
            "typo.internal",
            s(3_600),
            s(if surge { 72_000 } else { 3_500 }),
        ),
        dns(EVIL, s(36), 0),
    ]
}

/// The series' pages: hour-scaled traffic, the storm and the surge in the third window.
pub(crate) fn series_pages() -> (Vec<Page<Connection>>, Vec<Page<DnsRow>>) {
    let hours = hours();
    let conns = hours
        .iter()
        .enumerate()
        .map(|(i, w)| page(connections(w.duration().as_secs_f64() / 3600.0, i == 2), *w))
        .collect();
    let dns = hours
        .iter()
        .enumerate()
        .map(|(i, w)| page(names(w.duration().as_secs_f64() / 3600.0, i == 2), *w))
        .collect();
    (conns, dns)
}

/// Every tag opened is closed in order (void HTML elements and `/>` aside): a text that
/// escaped its escaping would unbalance them.
pub(crate) fn assert_balanced(document: &str) {
    const VOID: [&str; 3] = ["meta", "br", "!DOCTYPE"];
    let mut open: Vec<String> = Vec::new();
    let mut rest = document;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let end = rest
            .find('>')
            .unwrap_or_else(|| panic!("an unclosed `<` before: {}", &rest[..rest.len().min(80)]));
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '/')
            .collect();
        if tag.starts_with('/') {
            let top = open.pop();
            assert_eq!(
                top.as_deref(),
                Some(name.as_str()),
                "`</{name}>` closes {top:?}"
            );
        } else if !tag.ends_with('/') && !VOID.contains(&name.as_str()) {
            open.push(name.clone());
        }
        if name == "style" && !tag.starts_with('/') {
            // CSS is not markup: skip to its end.
            let close = rest
                .find("</style>")
                .unwrap_or_else(|| panic!("no </style>"));
            rest = &rest[close..];
        }
    }
    assert!(open.is_empty(), "never closed: {open:?}");
}

/// Nothing in `document` makes a browser load or run anything.
pub(crate) fn assert_self_contained(document: &str) {
    let lower = document.to_lowercase();
    for forbidden in [
        "src=",
        "href=",
        "srcset=",
        "action=",
        "@import",
        "<script",
        "<link",
        "<iframe",
        "<object",
        "<embed",
        "<img",
        "javascript:",
    ] {
        assert!(!lower.contains(forbidden), "`{forbidden}` in the document");
    }
    for (at, _) in lower.match_indices("url(") {
        assert!(
            lower[at..].starts_with("url(#"),
            "a url() outside the document: {}",
            &document[at..(at + 40).min(document.len())]
        );
    }
}
