//! The report on a small fixed input (`fixtures.rs`): insta snapshots of the map's and a
//! chart's SVG, and the escaping of server text everywhere.

use std::time::Duration;

use datadog_cnm::analysis::{Measure, Order, Trend};
use datadog_cnm::{Connection, Row};

use super::collect::{self, Groups, Rank, SeriesWindows};
use super::edges::{self, MapMeasures};
use super::fixtures::*;
use super::model::{Part, ServiceMap};
use super::{chart, map};

fn measure<R: Row>(name: &str) -> Measure<R> {
    Measure::parse(name).unwrap_or_else(|e| panic!("{e}"))
}

fn service_map() -> ServiceMap {
    let groups = Groups::new(&["client_service".to_owned(), "server_service".to_owned()]);
    let measures = MapMeasures {
        rank: measure("total_bytes"),
        order: Order::Descending,
        bytes: measure("total_bytes"),
        retransmits: measure("tcp_retransmits"),
        packets: measure("packets_sent_by_client"),
    };
    match edges::service_map(&connections(3.25, false), &groups, &measures, 8) {
        Part::Shown(map) => map,
        Part::Missing(why) => panic!("{why}"),
    }
}

fn retransmits_chart() -> super::model::Chart {
    let (pages, _) = series_pages();
    let mut trend = Trend::new(measure::<Connection>("tcp_retransmits")).per_second(true);
    let step = Duration::from_secs(3600);
    for page in &pages {
        trend.push(page.window, page, page.window.duration() < step);
    }
    let groups = Groups::new(&["client_service".to_owned(), "server_service".to_owned()]);
    let windows = hours();
    let series = SeriesWindows {
        all: &windows,
        step,
        failed: &[],
    };
    collect::chart(
        "TCP retransmits per second",
        &trend,
        series,
        &groups,
        Rank::Peak,
        3,
    )
}

#[test]
fn the_map_of_a_small_fixed_input() {
    let map = service_map();
    let svg = map::svg(&map);
    assert_eq!(svg.matches("class=\"node\"").count(), map.nodes.len());
    assert_eq!(svg.matches("class=\"edge\"").count(), map.edges.len());
    assert!(
        svg.contains("marker-start"),
        "the cycle's edge is drawn reversed"
    );
    assert_balanced(&svg);
    assert_self_contained(&svg);
    insta::assert_snapshot!(svg);
}

#[test]
fn the_legend_of_a_small_fixed_input() {
    let legend = map::legend(&service_map());
    assert_balanced(&legend);
    insta::assert_snapshot!(legend);
}

#[test]
fn a_chart_of_a_small_fixed_input() {
    let chart = retransmits_chart();
    let labels: Vec<&str> = chart.lines.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["batch → db", "web → api", "api → db"]);
    let highlight = chart.highlight.clone().unwrap_or_default();
    assert!(
        highlight.contains("batch → db, 250/s in 2026-11-30 12:00 → 13:00"),
        "{highlight}"
    );
    let svg = chart::svg(&chart);
    assert_eq!(svg.matches("class=\"partial\"").count(), 2);
    assert_eq!(svg.matches("<polyline").count(), 3);
    assert_balanced(&svg);
    assert_self_contained(&svg);
    insta::assert_snapshot!(svg);
}

#[test]
fn server_text_is_escaped_everywhere() {
    let map = service_map();
    let svg = map::svg(&map);
    assert!(!svg.contains(EVIL));
    assert!(svg.contains(
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&gt;&lt;img src&#61;http://evil"
    ));
    let chart = chart::svg(&retransmits_chart());
    assert!(!chart.contains("<script"));
}
