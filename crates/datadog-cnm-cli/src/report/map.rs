//! The service map as SVG: edges along the routes of [`super::layout`], width by bytes,
//! colour by TCP retransmit ratio, an arrowhead at the server, a `<title>` on every node
//! and edge; and its legend.

use std::fmt::Write as _;

use super::layout::{FONT, MAX_LABEL, edge_width, layout, ports};
use super::model::ServiceMap;
use super::svg::{clipped, escape, num, text_width};
use crate::format;

/// Colours of TCP retransmit ratios: up to each bound (exclusive), this colour. The
/// bins are fixed, so colours compare between reports, and logarithmic, since healthy
/// links retransmit well under 0.1 % of their packets and 1 % is already bad.
pub const RATIO_BINS: [(f64, &str, &str); 5] = [
    (0.0001, "#3b6fb6", "< 0.01 %"),
    (0.0005, "#4e9f91", "0.01–0.05 %"),
    (0.002, "#d6a21e", "0.05–0.2 %"),
    (0.01, "#e0661f", "0.2–1 %"),
    (f64::INFINITY, "#c41d3b", "≥ 1 %"),
];

/// The colour of an edge without a retransmit ratio (no packets were counted).
pub const UNKNOWN_COLOUR: &str = "#9aa0a6";

/// The colour of a retransmit ratio.
pub fn ratio_colour(ratio: Option<f64>) -> &'static str {
    match ratio {
        Some(r) if r.is_finite() => RATIO_BINS
            .iter()
            .find(|(bound, _, _)| r < *bound)
            .map_or(RATIO_BINS[RATIO_BINS.len() - 1].1, |(_, colour, _)| colour),
        _ => UNKNOWN_COLOUR,
    }
}

/// A curve from (x0, y0) to (x1, y1), leaving and arriving horizontally.
fn curve(path: &mut String, x0: f64, y0: f64, x1: f64, y1: f64) {
    let dx = ((x1 - x0) / 2.0).max(20.0);
    let _ = write!(
        path,
        " C{} {} {} {} {} {}",
        num(x0 + dx),
        num(y0),
        num(x1 - dx),
        num(y1),
        num(x1),
        num(y1)
    );
}

/// The map as one `<svg>` element.
pub fn svg(map: &ServiceMap) -> String {
    let layout = layout(map);
    let (out_ports, in_ports) = ports(&layout);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg class=\"map\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" \
         aria-label=\"Service map: {} nodes, {} edges\" font-family=\"system-ui, sans-serif\" \
         font-size=\"{FONT}\">",
        map.nodes.len(),
        map.edges.len(),
        w = num(layout.width),
        h = num(layout.height),
    );
    // One arrowhead per colour, sized in pixels rather than by the stroke.
    svg.push_str("<defs>");
    let colours = RATIO_BINS
        .iter()
        .map(|(_, colour, _)| *colour)
        .chain([UNKNOWN_COLOUR]);
    for (i, colour) in colours.enumerate() {
        let _ = writeln!(
            svg,
            "<marker id=\"arrow{i}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" \
             markerWidth=\"9\" markerHeight=\"9\" markerUnits=\"userSpaceOnUse\" \
             orient=\"auto-start-reverse\"><path d=\"M0 0L10 5L0 10z\" fill=\"{colour}\"/>\
             </marker>"
        );
    }
    svg.push_str("</defs>\n");
    let marker = |colour: &str| {
        RATIO_BINS
            .iter()
            .position(|(_, c, _)| *c == colour)
            .unwrap_or(RATIO_BINS.len())
    };
    // Widest edges first, so that thin ones stay visible on top.
    let mut drawing: Vec<usize> = (0..layout.routes.len()).collect();
    drawing.sort_by(|&a, &b| {
        layout.routes[b]
            .width
            .total_cmp(&layout.routes[a].width)
            .then(layout.routes[a].edge.cmp(&layout.routes[b].edge))
    });
    svg.push_str("<g class=\"edges\" fill=\"none\" stroke-opacity=\"0.8\">\n");
    for i in drawing {
        let route = &layout.routes[i];
        let edge = &map.edges[route.edge];
        let colour = ratio_colour(edge.retransmit_ratio);
        let first = &layout.vertices[route.vertices[0]];
        let (mut x, mut y) = (first.x + first.width, out_ports[i]);
        let mut path = format!("M{} {}", num(x), num(y));
        let last_index = route.vertices.len() - 1;
        for (k, &v) in route.vertices.iter().enumerate().skip(1) {
            let vertex = &layout.vertices[v];
            let target_y = if k == last_index {
                in_ports[i]
            } else {
                vertex.y + vertex.height / 2.0
            };
            curve(&mut path, x, y, vertex.x, target_y);
            x = vertex.x;
            y = target_y;
            if k != last_index {
                x += vertex.width;
                let _ = write!(path, " L{} {}", num(x), num(y));
            }
        }
        let arrow = if route.reversed {
            format!(" marker-start=\"url(#arrow{})\"", marker(colour))
        } else {
            format!(" marker-end=\"url(#arrow{})\"", marker(colour))
        };
        let _ = writeln!(
            svg,
            "<path class=\"edge\" d=\"{path}\" stroke=\"{colour}\" stroke-width=\"{}\"{arrow}><title>{}</title>\
             </path>",
            num(route.width),
            escape(&edge.title)
        );
    }
    let max_bytes = map.edges.iter().map(|e| e.bytes).fold(0.0, f64::max);
    for &e in &layout.loops {
        let edge = &map.edges[e];
        let Some(vertex) = layout.vertices.get(edge.client) else {
            continue;
        };
        let colour = ratio_colour(edge.retransmit_ratio);
        let (xr, cy) = (vertex.x + vertex.width, vertex.y + vertex.height / 2.0);
        let _ = writeln!(
            svg,
            "<path class=\"edge\" d=\"M{} {} C{} {} {} {} {} {}\" stroke=\"{colour}\" stroke-width=\"{}\" \
             marker-end=\"url(#arrow{})\"><title>{}</title></path>",
            num(xr),
            num(cy - 5.0),
            num(xr + 36.0),
            num(cy - 24.0),
            num(xr + 36.0),
            num(cy + 24.0),
            num(xr + 2.0),
            num(cy + 5.0),
            num(edge_width(edge.bytes, max_bytes).min(4.0)),
            marker(colour),
            escape(&edge.title)
        );
    }
    svg.push_str("</g>\n<g class=\"nodes\">\n");
    for vertex in &layout.vertices {
        let Some(n) = vertex.node else { continue };
        let node = &map.nodes[n];
        let _ = writeln!(
            svg,
            "<g class=\"node\"><title>{}</title><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"4\" \
             fill=\"#fff\" stroke=\"#8c959f\"/><text x=\"{}\" y=\"{}\" \
             dominant-baseline=\"central\">{}</text></g>",
            escape(&node.title),
            num(vertex.x),
            num(vertex.y),
            num(vertex.width),
            num(vertex.height),
            num(vertex.x + 8.0),
            num(vertex.y + vertex.height / 2.0),
            escape(&clipped(&node.label, MAX_LABEL))
        );
    }
    svg.push_str("</g></svg>");
    svg
}

/// The map's legend as a small `<svg>`: the colours of retransmit ratios and three
/// widths, the widest labelled with the top edge's bytes.
pub fn legend(map: &ServiceMap) -> String {
    let max_bytes = map.edges.iter().map(|e| e.bytes).fold(0.0, f64::max);
    let mut svg = String::from(
        "<svg class=\"legend\" viewBox=\"0 0 640 58\" width=\"640\" height=\"58\" role=\"img\" \
         aria-label=\"Legend\" font-family=\"system-ui, sans-serif\" font-size=\"12\">",
    );
    svg.push_str("\n<text x=\"0\" y=\"12\">TCP retransmits per client packet:</text>\n");
    let mut x = 0.0;
    let swatches = RATIO_BINS
        .iter()
        .map(|(_, colour, label)| (*colour, *label))
        .chain([(UNKNOWN_COLOUR, "unknown")]);
    for (colour, label) in swatches {
        let _ = writeln!(
            svg,
            "<line x1=\"{}\" y1=\"26\" x2=\"{}\" y2=\"26\" stroke=\"{colour}\" \
             stroke-width=\"6\"/><text x=\"{}\" y=\"30\">{}</text>",
            num(x),
            num(x + 22.0),
            num(x + 27.0),
            escape(label)
        );
        x += 36.0 + text_width(label, 12.0);
    }
    svg.push_str("<text x=\"0\" y=\"52\">Width: bytes (square root)</text>\n");
    let mut x = 170.0;
    for (share, label) in [
        (0.01, "1 %".to_owned()),
        (0.25, "25 %".to_owned()),
        (1.0, format::bytes(max_bytes as i64)),
    ] {
        let _ = writeln!(
            svg,
            "<line x1=\"{}\" y1=\"48\" x2=\"{}\" y2=\"48\" stroke=\"#59636e\" \
             stroke-width=\"{}\"/><text x=\"{}\" y=\"52\">{}</text>",
            num(x),
            num(x + 30.0),
            num(edge_width(share * max_bytes, max_bytes)),
            num(x + 35.0),
            escape(&label)
        );
        x += 50.0 + text_width(&label, 12.0);
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::service_map_of;

    #[test]
    fn ratios_pick_their_bin() {
        assert_eq!(ratio_colour(Some(0.0)), "#3b6fb6");
        assert_eq!(ratio_colour(Some(0.0001)), "#4e9f91");
        assert_eq!(ratio_colour(Some(0.0015)), "#d6a21e");
        assert_eq!(ratio_colour(Some(0.006)), "#e0661f");
        assert_eq!(ratio_colour(Some(0.5)), "#c41d3b");
        assert_eq!(ratio_colour(Some(f64::NAN)), UNKNOWN_COLOUR);
        assert_eq!(ratio_colour(None), UNKNOWN_COLOUR);
    }

    #[test]
    fn the_same_map_gives_the_same_svg() {
        let m = service_map_of(
            &["web", "api", "db"],
            &[(0, 1, 100.0, Some(0.001)), (1, 2, 50.0, Some(0.07))],
        );
        assert_eq!(svg(&m), svg(&m));
        assert!(svg(&m).contains("marker-end=\"url(#arrow4)\""));
    }
}
