//! The service map's layout: a layered drawing of a directed graph, written by hand.
//!
//! Clients sit left of the servers they call: every node gets a column (a layer) right of
//! its callers, so traffic flows left to right, a service that is both a client and a
//! server sits between its callers and its callees, and pure clients and pure servers of
//! a two-sided group-by (teams → services) form two columns. The steps are the classic
//! ones for layered drawings (Sugiyama et al.), kept small:
//!
//! 1. cycles are broken by reversing the edges that close one (found by a depth-first
//!    search from the top edges' nodes); those are drawn with their arrow at the start;
//! 2. layers by longest path, then each pure source moved next to its nearest callee;
//! 3. an edge that spans several layers passes through one waypoint per layer between;
//! 4. nodes and waypoints are ordered within each layer by the mean position of their
//!    neighbours, sweeping right and left, keeping the order with the fewest crossings;
//! 5. each layer is stacked, then pulled towards the mean height of its neighbours
//!    without reordering or overlapping (pooling adjacent violators); an edge leaves and
//!    enters its nodes at its own port, ports ordered like the nodes they lead to (as in
//!    a Sankey diagram).
//!
//! Everything is decided by the input's order and arithmetic on it: the same map gives
//! the same layout.

use super::model::{Edge, ServiceMap};
use super::svg::{clipped, text_width};

/// Node labels' font size.
pub(super) const FONT: f64 = 12.0;
/// Node labels longer than this are cut (the hover title has them whole).
pub(super) const MAX_LABEL: usize = 32;
const NODE_MIN_HEIGHT: f64 = 22.0;
const NODE_MAX_HEIGHT: f64 = 64.0;
const NODE_GAP: f64 = 8.0;
const WAYPOINT_GAP: f64 = 3.0;
const LAYER_GAP: f64 = 120.0;
const MARGIN: f64 = 16.0;
const MIN_WIDTH: f64 = 1.5;
const MAX_WIDTH: f64 = 10.0;
const SWEEPS: usize = 8;

/// An edge's stroke width: the square root of its share of the widest edge's bytes, so
/// that small edges stay visible.
pub fn edge_width(bytes: f64, max_bytes: f64) -> f64 {
    if max_bytes <= 0.0 || !bytes.is_finite() || bytes <= 0.0 {
        return MIN_WIDTH;
    }
    MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * (bytes / max_bytes).min(1.0).sqrt()
}

/// A vertex of the layout: a node, or an edge's waypoint in a layer it crosses.
#[derive(Clone, Debug)]
pub(super) struct Vertex {
    /// The node, or `None` for a waypoint.
    pub(super) node: Option<usize>,
    /// Its layer (column), from the left.
    pub(super) layer: usize,
    /// Position within its layer, from the top.
    pub(super) order: usize,
    /// Left edge.
    pub(super) x: f64,
    /// Top edge.
    pub(super) y: f64,
    /// Width (a waypoint: its column's).
    pub(super) width: f64,
    /// Height (a waypoint: its edge's width).
    pub(super) height: f64,
}

/// One edge as drawn: the vertices it passes, left to right.
#[derive(Clone, Debug)]
pub(super) struct Route {
    /// The edge's index in the map.
    pub(super) edge: usize,
    /// Its vertices, left to right: the two nodes and the waypoints between.
    pub(super) vertices: Vec<usize>,
    /// Drawn right to left: its arrow is at the start.
    pub(super) reversed: bool,
    /// Its stroke width.
    pub(super) width: f64,
}

/// Where everything goes.
pub(super) struct Layout {
    /// Nodes (indices as in the map), then waypoints.
    pub(super) vertices: Vec<Vertex>,
    /// Every edge between two different nodes.
    pub(super) routes: Vec<Route>,
    /// Edges from a node to itself.
    pub(super) loops: Vec<usize>,
    /// The drawing's width.
    pub(super) width: f64,
    /// The drawing's height.
    pub(super) height: f64,
}

/// Cycle breaking: the edges (as indices) that close a cycle, found by an iterative
/// depth-first search visiting nodes and their edges in input order.
fn back_edges(nodes: usize, edges: &[Edge]) -> Vec<bool> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); nodes];
    for (i, e) in edges.iter().enumerate() {
        if e.client != e.server && e.client < nodes && e.server < nodes {
            out[e.client].push(i);
        }
    }
    // 0: unseen, 1: on the stack, 2: done.
    let mut state = vec![0u8; nodes];
    let mut back = vec![false; edges.len()];
    for root in 0..nodes {
        if state[root] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = 1;
        while let Some((node, next)) = stack.last_mut() {
            let node = *node;
            if let Some(&edge) = out[node].get(*next) {
                *next += 1;
                let to = edges[edge].server;
                match state[to] {
                    0 => {
                        state[to] = 1;
                        stack.push((to, 0));
                    }
                    1 => back[edge] = true,
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    back
}

/// Layers by longest path over the edges as oriented (`from`, `to`), then pure sources
/// moved right next to their nearest successor.
fn layers(nodes: usize, oriented: &[(usize, usize)]) -> Vec<usize> {
    let mut indegree = vec![0usize; nodes];
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); nodes];
    for &(from, to) in oriented {
        indegree[to] += 1;
        out[from].push(to);
    }
    let mut layer = vec![0usize; nodes];
    let mut ready: Vec<usize> = (0..nodes).filter(|&n| indegree[n] == 0).collect();
    ready.reverse();
    let mut remaining = indegree.clone();
    while let Some(node) = ready.pop() {
        for &to in &out[node] {
            layer[to] = layer[to].max(layer[node] + 1);
            remaining[to] -= 1;
            if remaining[to] == 0 {
                ready.push(to);
            }
        }
    }
    for node in 0..nodes {
        if indegree[node] == 0
            && let Some(nearest) = out[node].iter().map(|&to| layer[to]).min()
        {
            layer[node] = nearest.saturating_sub(1);
        }
    }
    layer
}

/// Pairs of edges between two adjacent layers that cross, given each vertex's order.
fn crossings(links: &[(usize, usize)], order: &[usize]) -> usize {
    let mut count = 0;
    for (i, &(a, b)) in links.iter().enumerate() {
        for &(c, d) in &links[i + 1..] {
            let (oa, ob, oc, od) = (order[a], order[b], order[c], order[d]);
            if (oa < oc && ob > od) || (oa > oc && ob < od) {
                count += 1;
            }
        }
    }
    count
}

/// The layout of `map`.
pub(super) fn layout(map: &ServiceMap) -> Layout {
    let nodes = map.nodes.len();
    let max_bytes = map.edges.iter().map(|e| e.bytes).fold(0.0, f64::max);
    let back = back_edges(nodes, &map.edges);
    let mut loops = Vec::new();
    // (edge, from, to) as laid out: left to right.
    let mut oriented: Vec<(usize, usize, usize)> = Vec::new();
    for (i, e) in map.edges.iter().enumerate() {
        if e.client >= nodes || e.server >= nodes {
            continue;
        }
        if e.client == e.server {
            loops.push(i);
        } else if back[i] {
            oriented.push((i, e.server, e.client));
        } else {
            oriented.push((i, e.client, e.server));
        }
    }
    let pairs: Vec<(usize, usize)> = oriented.iter().map(|&(_, f, t)| (f, t)).collect();
    let layer = layers(nodes, &pairs);
    let mut vertices: Vec<Vertex> = (0..nodes)
        .map(|n| {
            let label = clipped(&map.nodes[n].label, MAX_LABEL);
            Vertex {
                node: Some(n),
                layer: layer[n],
                order: 0,
                x: 0.0,
                y: 0.0,
                width: (text_width(&label, FONT) + 16.0).max(48.0),
                height: NODE_MIN_HEIGHT,
            }
        })
        .collect();
    let mut routes: Vec<Route> = Vec::new();
    for &(edge, from, to) in &oriented {
        let width = edge_width(map.edges[edge].bytes, max_bytes);
        let mut path = vec![from];
        for l in layer[from] + 1..layer[to] {
            vertices.push(Vertex {
                node: None,
                layer: l,
                order: 0,
                x: 0.0,
                y: 0.0,
                width: 0.0,
                height: width,
            });
            path.push(vertices.len() - 1);
        }
        path.push(to);
        routes.push(Route {
            edge,
            vertices: path,
            reversed: back[edge],
            width,
        });
    }
    // Node heights: room for the ports on the busier side.
    for (v, vertex) in vertices.iter_mut().enumerate().take(nodes) {
        let sum = |outgoing: bool| -> f64 {
            routes
                .iter()
                .filter(|r| {
                    if outgoing {
                        r.vertices.first() == Some(&v)
                    } else {
                        r.vertices.last() == Some(&v)
                    }
                })
                .map(|r| r.width)
                .sum()
        };
        let needed = sum(true).max(sum(false)) + 6.0;
        vertex.height = needed.clamp(NODE_MIN_HEIGHT, NODE_MAX_HEIGHT);
    }
    let layer_count = vertices.iter().map(|v| v.layer + 1).max().unwrap_or(0);
    // Initial order: nodes in input order (the top edges' first), waypoints after.
    let mut by_layer: Vec<Vec<usize>> = vec![Vec::new(); layer_count];
    for (i, v) in vertices.iter().enumerate() {
        by_layer[v.layer].push(i);
    }
    // Links between adjacent layers, left vertex first.
    let links: Vec<(usize, usize)> = routes
        .iter()
        .flat_map(|r| r.vertices.windows(2).map(|w| (w[0], w[1])))
        .collect();
    let mut order: Vec<usize> = vec![0; vertices.len()];
    let set_order = |by_layer: &Vec<Vec<usize>>, order: &mut Vec<usize>| {
        for layer in by_layer {
            for (i, &v) in layer.iter().enumerate() {
                order[v] = i;
            }
        }
    };
    set_order(&by_layer, &mut order);
    let count = |order: &[usize]| crossings(&links, order);
    let mut best = (count(&order), by_layer.clone());
    for sweep in 0..SWEEPS {
        let rightwards = sweep % 2 == 0;
        let sequence: Vec<usize> = if rightwards {
            (1..layer_count).collect()
        } else {
            (0..layer_count.saturating_sub(1)).rev().collect()
        };
        for l in sequence {
            let mut keyed: Vec<(f64, usize, usize)> = by_layer[l]
                .iter()
                .map(|&v| {
                    let neighbours: Vec<usize> = links
                        .iter()
                        .filter_map(|&(a, b)| {
                            if rightwards && b == v {
                                Some(order[a])
                            } else if !rightwards && a == v {
                                Some(order[b])
                            } else {
                                None
                            }
                        })
                        .collect();
                    let key = if neighbours.is_empty() {
                        order[v] as f64
                    } else {
                        neighbours.iter().sum::<usize>() as f64 / neighbours.len() as f64
                    };
                    (key, order[v], v)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            by_layer[l] = keyed.into_iter().map(|(_, _, v)| v).collect();
            for (i, &v) in by_layer[l].iter().enumerate() {
                order[v] = i;
            }
        }
        let crossed = count(&order);
        if crossed < best.0 {
            best = (crossed, by_layer.clone());
        }
    }
    by_layer = best.1;
    set_order(&by_layer, &mut order);
    // Coordinates: columns as wide as their widest node, layers stacked and centred.
    let column_width: Vec<f64> = by_layer
        .iter()
        .map(|l| l.iter().map(|&v| vertices[v].width).fold(0.0, f64::max))
        .collect();
    let stacked = |l: &Vec<usize>| -> f64 {
        l.iter()
            .enumerate()
            .map(|(i, &v)| {
                let gap = if i == 0 {
                    0.0
                } else if vertices[v].node.is_some() {
                    NODE_GAP
                } else {
                    WAYPOINT_GAP
                };
                vertices[v].height + gap
            })
            .sum()
    };
    let heights: Vec<f64> = by_layer.iter().map(stacked).collect();
    let tallest = heights.iter().copied().fold(0.0, f64::max);
    let mut x = MARGIN;
    for (l, layer) in by_layer.iter().enumerate() {
        let mut y = MARGIN + (tallest - heights[l]) / 2.0;
        for (i, &v) in layer.iter().enumerate() {
            if i > 0 {
                y += if vertices[v].node.is_some() {
                    NODE_GAP
                } else {
                    WAYPOINT_GAP
                };
            }
            let vertex = &mut vertices[v];
            vertex.order = i;
            vertex.y = y;
            vertex.x = if vertex.node.is_some() {
                x
            } else {
                // A waypoint crosses its whole column.
                vertex.width = column_width[l];
                x
            };
            y += vertex.height;
        }
        x += column_width[l] + LAYER_GAP;
    }
    straighten(&mut vertices, &by_layer, &links);
    // Shift everything so that the topmost vertex is at the margin.
    let top = vertices.iter().map(|v| v.y).fold(f64::INFINITY, f64::min);
    let shift = if top.is_finite() { MARGIN - top } else { 0.0 };
    for v in &mut vertices {
        v.y += shift;
    }
    let bottom = vertices
        .iter()
        .map(|v| v.y + v.height)
        .fold(tallest + MARGIN, f64::max);
    let loop_room = if loops.is_empty() { 0.0 } else { 40.0 };
    let width = (x - LAYER_GAP + MARGIN + loop_room).max(2.0 * MARGIN);
    Layout {
        vertices,
        routes,
        loops,
        width,
        height: bottom + MARGIN,
    }
}

/// The gap above vertex `v` when it follows another in its layer.
fn gap_above(vertex: &Vertex) -> f64 {
    if vertex.node.is_some() {
        NODE_GAP
    } else {
        WAYPOINT_GAP
    }
}

/// Move each layer's vertices towards the mean height of their neighbours, keeping their
/// order and their gaps: rounds of sweeps, each layer placed by pooling adjacent
/// violators (vertices that would overlap share the mean of what they want), which
/// gives the placement closest to what each wants.
fn straighten(vertices: &mut [Vertex], by_layer: &[Vec<usize>], links: &[(usize, usize)]) {
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); vertices.len()];
    for &(a, b) in links {
        neighbours[a].push(b);
        neighbours[b].push(a);
    }
    let layers = by_layer.len();
    for round in 0..SWEEPS {
        let sequence: Vec<usize> = if round % 2 == 0 {
            (0..layers).collect()
        } else {
            (0..layers).rev().collect()
        };
        for l in sequence {
            let layer = &by_layer[l];
            // Where each wants its top, and its offset from the layer's first top when
            // stacked tight.
            let mut offset = 0.0;
            let mut wanted: Vec<(f64, f64)> = Vec::with_capacity(layer.len());
            for (i, &v) in layer.iter().enumerate() {
                let vertex = &vertices[v];
                if i > 0 {
                    offset += gap_above(vertex);
                }
                let centres: Vec<f64> = neighbours[v]
                    .iter()
                    .map(|&n| vertices[n].y + vertices[n].height / 2.0)
                    .collect();
                let top = if centres.is_empty() {
                    vertex.y
                } else {
                    centres.iter().sum::<f64>() / centres.len() as f64 - vertex.height / 2.0
                };
                wanted.push((top - offset, offset));
                offset += vertex.height;
            }
            // Blocks of consecutive vertices sharing one base: (first, count, base).
            let mut blocks: Vec<(usize, usize, f64)> = Vec::new();
            for (i, &(base, _)) in wanted.iter().enumerate() {
                blocks.push((i, 1, base));
                while blocks.len() > 1 {
                    let (_, n2, b2) = blocks[blocks.len() - 1];
                    let (s1, n1, b1) = blocks[blocks.len() - 2];
                    if b1 <= b2 {
                        break;
                    }
                    blocks.pop();
                    let merged = (b1 * n1 as f64 + b2 * n2 as f64) / (n1 + n2) as f64;
                    if let Some(last) = blocks.last_mut() {
                        *last = (s1, n1 + n2, merged);
                    }
                }
            }
            for (first, count, base) in blocks {
                for i in first..first + count {
                    vertices[layer[i]].y = base + wanted[i].1;
                }
            }
        }
    }
}

/// Where each route leaves (`out`) and enters (`into`) its end vertices: ports stacked
/// across the node in the order of the vertices they lead to.
pub(super) fn ports(layout: &Layout) -> (Vec<f64>, Vec<f64>) {
    let mut out = vec![0.0; layout.routes.len()];
    let mut into = vec![0.0; layout.routes.len()];
    for (v, vertex) in layout.vertices.iter().enumerate() {
        for outgoing in [true, false] {
            let mut here: Vec<(f64, usize, usize)> = layout
                .routes
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    let (end, next) = if outgoing {
                        (*r.vertices.first()?, *r.vertices.get(1)?)
                    } else {
                        (
                            *r.vertices.last()?,
                            *r.vertices.get(r.vertices.len().checked_sub(2)?)?,
                        )
                    };
                    (end == v).then(|| {
                        let n = &layout.vertices[next];
                        (n.y + n.height / 2.0, r.edge, i)
                    })
                })
                .collect();
            here.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let total: f64 = here.iter().map(|&(_, _, i)| layout.routes[i].width).sum();
            let room = (vertex.height - 4.0).max(1.0);
            let scale = if total > room { room / total } else { 1.0 };
            let mut y = vertex.y + vertex.height / 2.0 - total * scale / 2.0;
            for (_, _, i) in here {
                let w = layout.routes[i].width * scale;
                if outgoing {
                    out[i] = y + w / 2.0;
                } else {
                    into[i] = y + w / 2.0;
                }
                y += w;
            }
        }
    }
    (out, into)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::service_map_of;

    #[test]
    fn callers_sit_left_of_callees_and_cycles_are_broken() {
        // web → api → db, batch → db, db → api (a cycle), cache → cache (a loop).
        let m = service_map_of(
            &["web", "api", "db", "batch", "cache"],
            &[
                (0, 1, 100.0, Some(0.001)),
                (1, 2, 50.0, None),
                (3, 2, 10.0, Some(0.03)),
                (2, 1, 5.0, Some(0.2)),
                (4, 4, 1.0, None),
            ],
        );
        let layout = layout(&m);
        let layer = |n: usize| layout.vertices[n].layer;
        assert!(
            layer(0) < layer(1) && layer(1) < layer(2),
            "web, api, db in order"
        );
        assert_eq!(
            layer(3),
            layer(2) - 1,
            "a pure source sits next to its callee"
        );
        assert_eq!(layout.loops, [4]);
        let reversed: Vec<usize> = layout
            .routes
            .iter()
            .filter(|r| r.reversed)
            .map(|r| r.edge)
            .collect();
        assert_eq!(reversed, [3], "db → api closes the cycle");
        // Every vertex is inside the drawing.
        for v in &layout.vertices {
            assert!(v.x >= 0.0 && v.x + v.width <= layout.width, "{v:?}");
            assert!(v.y >= 0.0 && v.y + v.height <= layout.height, "{v:?}");
        }
    }

    #[test]
    fn long_edges_pass_through_waypoints() {
        // a → b → c and a → c: a → c crosses b's layer.
        let m = service_map_of(
            &["a", "b", "c"],
            &[(0, 1, 1.0, None), (1, 2, 1.0, None), (0, 2, 1.0, None)],
        );
        let layout = layout(&m);
        let long = layout
            .routes
            .iter()
            .find(|r| r.edge == 2)
            .map(|r| r.vertices.len());
        assert_eq!(long, Some(3));
        assert_eq!(layout.vertices.len(), 4);
    }

    #[test]
    fn ordering_removes_avoidable_crossings() {
        // Clients 0, 1 and servers 2, 3 with edges 0 → 3 and 1 → 2: in input order they
        // cross; the sweeps uncross them.
        let m = service_map_of(
            &["a", "b", "c", "d"],
            &[(0, 3, 1.0, None), (1, 2, 1.0, None)],
        );
        let layout = layout(&m);
        let links: Vec<(usize, usize)> = layout
            .routes
            .iter()
            .map(|r| (r.vertices[0], r.vertices[1]))
            .collect();
        let order: Vec<usize> = layout.vertices.iter().map(|v| v.order).collect();
        assert_eq!(crossings(&links, &order), 0);
    }
}
