//! From connection rows to the service map's data: rows joined into client → server
//! edges, the top ones by the ranking measure, their nodes, what was left out, and the
//! list shown beside the map. Pure, like the rest of `collect`.

use std::collections::BTreeMap;

use datadog_cnm::Row;
use datadog_cnm::analysis::{Measure, Number, Order};

use super::collect::{End, Groups, cell_value, column_head};
use super::map::ratio_colour;
use super::model::{Cell, Edge, Head, Node, Part, ServiceMap, Table, Tone};
use crate::format;

/// The measures the map is drawn and ranked with.
#[derive(Clone, Copy)]
pub struct MapMeasures<R> {
    /// What edges are ranked by (`--sort-by`, default total bytes).
    pub rank: Measure<R>,
    /// Which way.
    pub order: Order,
    /// Bytes in both directions: edge width.
    pub bytes: Measure<R>,
    /// TCP retransmits, over…
    pub retransmits: Measure<R>,
    /// …packets sent by the client: edge colour.
    pub packets: Measure<R>,
}

/// An edge before ranking: its rows' sums.
#[derive(Clone, Debug, Default)]
struct Sums {
    client: String,
    server: String,
    bytes: f64,
    retransmits: Option<f64>,
    packets: Option<f64>,
    /// The ranking measure: summed when it adds up, else the largest of the rows'.
    rank: Option<f64>,
}

fn add(into: &mut Option<f64>, value: Option<Number>) {
    if let Some(value) = value {
        *into = Some(into.unwrap_or(0.0) + value.as_f64());
    }
}

/// The service map of one page: rows joined into client → server edges (rows that differ
/// only in other keys add up), the first `n` by the ranking measure, and their nodes.
pub fn service_map<R: Row>(
    rows: &[R],
    groups: &Groups,
    measures: &MapMeasures<R>,
    n: usize,
) -> Part<ServiceMap> {
    if !groups.has_ends() {
        return Part::Missing(format!(
            "The map needs a client-side and a server-side group-by key (client_*, server_*), \
             e.g. --group-by client_service,server_service; this report groups connections by \
             {}.",
            groups.keys().join(",")
        ));
    }
    let additive = measures.rank.aggregation() == Some(datadog_cnm::Aggregation::Sum);
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    let mut sums: BTreeMap<(String, String), Sums> = BTreeMap::new();
    for row in rows {
        let (client, client_label) = groups.end(row.group_bys(), End::Client);
        let (server, server_label) = groups.end(row.group_bys(), End::Server);
        labels.insert(client.clone(), client_label);
        labels.insert(server.clone(), server_label);
        let edge = sums.entry((client.clone(), server.clone())).or_default();
        edge.client = client;
        edge.server = server;
        edge.bytes += measures.bytes.value(row).map_or(0.0, Number::as_f64);
        add(&mut edge.retransmits, measures.retransmits.value(row));
        add(&mut edge.packets, measures.packets.value(row));
        let value = measures.rank.value(row).map(Number::as_f64);
        edge.rank = match (edge.rank, value) {
            (Some(a), Some(b)) if additive => Some(a + b),
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
    if sums.is_empty() {
        return Part::Missing("No connections came back for this window.".to_owned());
    }
    let all_bytes: f64 = sums.values().map(|s| s.bytes).sum();
    let all_nodes = labels.len();
    let mut edges: Vec<Sums> = sums.into_values().collect();
    edges.sort_by(|a, b| {
        measures
            .order
            .compare(a.rank, b.rank)
            .then_with(|| b.bytes.total_cmp(&a.bytes))
            .then_with(|| (&a.client, &a.server).cmp(&(&b.client, &b.server)))
    });
    let total_edges = edges.len();
    edges.truncate(n);
    let mut ids: Vec<String> = Vec::new();
    let mut index = |id: &String| match ids.iter().position(|known| known == id) {
        Some(i) => i,
        None => {
            ids.push(id.clone());
            ids.len() - 1
        }
    };
    let placed: Vec<(usize, usize)> = edges
        .iter()
        .map(|e| (index(&e.client), index(&e.server)))
        .collect();
    let label_of = |id: &String| labels.get(id).cloned().unwrap_or_default();
    let nodes: Vec<Node> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let label = label_of(id);
            let sent: f64 = placed
                .iter()
                .zip(&edges)
                .filter(|((c, _), _)| *c == i)
                .map(|(_, e)| e.bytes)
                .sum();
            let received: f64 = placed
                .iter()
                .zip(&edges)
                .filter(|((_, s), _)| *s == i)
                .map(|(_, e)| e.bytes)
                .sum();
            let servers = placed.iter().filter(|(c, _)| *c == i).count();
            let clients = placed.iter().filter(|(_, s)| *s == i).count();
            let mut title = label.clone();
            if servers > 0 {
                title.push_str(&format!(
                    "\nclient of {servers} on this map: {}",
                    format::bytes(sent as i64)
                ));
            }
            if clients > 0 {
                title.push_str(&format!(
                    "\nserver of {clients} on this map: {}",
                    format::bytes(received as i64)
                ));
            }
            Node { label, title }
        })
        .collect();
    let shown_bytes: f64 = edges.iter().map(|e| e.bytes).sum();
    let ratio = |e: &Sums| match (e.retransmits, e.packets) {
        (Some(r), Some(p)) if p > 0.0 => Some(r / p),
        _ => None,
    };
    let rank_label = measures.rank.name();
    let shows_rank = ![measures.bytes, measures.retransmits].contains(&measures.rank)
        && measures.rank.name() != "tcp_retransmit_ratio";
    let map_edges: Vec<Edge> = edges
        .iter()
        .zip(&placed)
        .map(|(e, &(client, server))| {
            let mut title = format!(
                "{} → {}\nbytes: {}",
                label_of(&e.client),
                label_of(&e.server),
                format::bytes(e.bytes as i64)
            );
            if let Some(r) = e.retransmits {
                title.push_str(&format!("\nretransmits: {}", format::count(r as i64)));
            }
            if let Some(r) = ratio(e) {
                title.push_str(&format!(" ({} of client packets)", format::percent(r)));
            }
            if shows_rank && let Some(v) = e.rank {
                title.push_str(&format!(
                    "\n{rank_label}: {}",
                    format::value(measures.rank.unit(), Number::Float(v))
                ));
            }
            Edge {
                client,
                server,
                bytes: e.bytes,
                retransmit_ratio: ratio(e),
                title,
            }
        })
        .collect();
    let mut head = vec![
        Head::number("#", ""),
        Head::text("client"),
        Head::text("server"),
        Head::number("bytes", ""),
        Head::number("retransmits", ""),
        Head::number("retransmit %", ""),
    ];
    if shows_rank {
        head.push(column_head(measures.rank));
    }
    let list_rows: Vec<Vec<Cell>> = edges
        .iter()
        .zip(&map_edges)
        .enumerate()
        .map(|(i, (e, edge))| {
            let mut cells = vec![
                Cell::plain((i + 1).to_string()),
                Cell::plain(label_of(&e.client)),
                Cell::plain(label_of(&e.server)),
                Cell::plain(format::bytes(e.bytes as i64)),
                Cell::plain(
                    e.retransmits
                        .map_or("–".to_owned(), |r| format::count(r as i64)),
                ),
                Cell::toned(
                    edge.retransmit_ratio
                        .map_or("–".to_owned(), format::percent),
                    Tone::Swatch(ratio_colour(edge.retransmit_ratio)),
                ),
            ];
            if shows_rank {
                cells.push(cell_value(measures.rank.unit(), e.rank.map(Number::Float)));
            }
            cells
        })
        .collect();
    let share = |part: f64| {
        if all_bytes > 0.0 {
            format::percent(part / all_bytes)
        } else {
            "0 %".to_owned()
        }
    };
    let order = match measures.order {
        Order::Descending => "",
        Order::Ascending => ", smallest first",
    };
    let mut summary = format!(
        "The top {} of {} client → server pair{} by {rank_label}{order}, carrying {} of all \
         bytes.",
        map_edges.len(),
        format::count(total_edges as i64),
        if total_edges == 1 { "" } else { "s" },
        share(shown_bytes)
    );
    if total_edges > map_edges.len() {
        let hidden_nodes = all_nodes - nodes.len();
        summary.push_str(&format!(
            " Left out: {} pairs ({} of bytes){}; --map-edges N shows more.",
            format::count((total_edges - map_edges.len()) as i64),
            share(all_bytes - shown_bytes),
            if hidden_nodes > 0 {
                format!(
                    " and {} node{} that appear only in them",
                    format::count(hidden_nodes as i64),
                    if hidden_nodes == 1 { "" } else { "s" }
                )
            } else {
                String::new()
            }
        ));
    }
    Part::Shown(ServiceMap {
        nodes,
        edges: map_edges,
        summary,
        list: Table {
            title: "Edges on the map".to_owned(),
            note: None,
            head,
            rows: list_rows,
            empty: String::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{flat, keys};
    use datadog_cnm::Connection;

    fn measures() -> MapMeasures<Connection> {
        let m = |name| Measure::<Connection>::parse(name).unwrap();
        MapMeasures {
            rank: m("total_bytes"),
            order: Order::Descending,
            bytes: m("total_bytes"),
            retransmits: m("tcp_retransmits"),
            packets: m("packets_sent_by_client"),
        }
    }

    #[test]
    fn the_map_keeps_the_top_edges_and_says_what_it_left_out() {
        let rows = vec![
            flat("a", "b", 1000, 10),
            flat("c", "b", 500, 200),
            flat("a", "d", 100, 0),
            flat("e", "f", 10, 0),
        ];
        let groups = Groups::new(&keys(&["client_service", "server_service"]));
        let Part::Shown(map) = service_map(&rows, &groups, &measures(), 2) else {
            panic!("no map");
        };
        let labels: Vec<&str> = map.nodes.iter().map(|n| n.label.as_str()).collect();
        assert_eq!(labels, ["a", "b", "c"]);
        assert_eq!(
            map.edges
                .iter()
                .map(|e| (e.client, e.server))
                .collect::<Vec<_>>(),
            [(0, 1), (2, 1)]
        );
        assert_eq!(map.edges[1].retransmit_ratio, Some(0.2));
        assert!(
            map.summary
                .starts_with("The top 2 of 4 client → server pairs by total_bytes"),
            "{}",
            map.summary
        );
        assert!(
            map.summary
                .contains("Left out: 2 pairs (6.83 % of bytes) and 3 nodes"),
            "{}",
            map.summary
        );
        assert_eq!(map.list.rows.len(), 2);
        // A service that is both a client and a server is one node.
        let chain = vec![flat("a", "b", 10, 0), flat("b", "c", 10, 0)];
        let Part::Shown(map) = service_map(&chain, &groups, &measures(), 10) else {
            panic!("no map");
        };
        assert_eq!(map.nodes.len(), 3);
        // Without two ends there is no map, and the reader is told the fix.
        let one = Groups::new(&keys(&["client_service"]));
        let Part::Missing(why) = service_map(&rows, &one, &measures(), 10) else {
            panic!("a map without ends");
        };
        assert!(
            why.contains("--group-by client_service,server_service"),
            "{why}"
        );
    }

    #[test]
    fn rows_that_differ_in_other_keys_join_into_one_edge() {
        let mut prod = flat("a", "b", 1000, 10);
        prod.group_bys.push("env", "prod");
        let mut staging = flat("a", "b", 1000, 30);
        staging.group_bys.push("env", "staging");
        let groups = Groups::new(&keys(&["client_service", "server_service", "env"]));
        let Part::Shown(map) = service_map(&[prod, staging], &groups, &measures(), 10) else {
            panic!("no map");
        };
        assert_eq!(map.edges.len(), 1);
        assert_eq!(map.edges[0].bytes, 2000.0);
        assert_eq!(map.edges[0].retransmit_ratio, Some(0.02));
    }
}
