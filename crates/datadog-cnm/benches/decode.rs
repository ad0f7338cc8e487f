//! `decode/*`: a 7500-row page from bytes to the facade's result types, beside what the
//! same bytes cost with other decoders, all measured in the same run:
//!
//! - `ignored_any_floor`: merely validating the JSON (`serde::de::IgnoredAny`);
//! - `serde_json_value`: a generic `serde_json::Value`;
//! - `plain_derive`: a straightforward `#[derive(Deserialize)]` model of the wire format
//!   (`BTreeMap` group-bys, one `String` per value) — what a generated client decodes into;
//! - `datadog_cnm`: what `send()` does (the generated response type with the hand-written
//!   rows), producing the rows `ConnectionsPage`/`DnsPage` hand out.
//!
//! Each result is dropped right after its iteration, outside the measurement
//! (`iter_batched` with `PerIteration`): decoding is timed, freeing the page later is not,
//! and the allocator reuses the same memory from one iteration to the next, as it does
//! for a program that decodes page after page.

#[path = "support/decode.rs"]
mod decode;
#[path = "support/fixtures.rs"]
mod fixtures;

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use serde::Deserialize;

/// The allocator `ddcnm` uses (see `decode_ratio`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The wire format as a plain derive would model it (connections).
#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainConnections {
    data: Vec<PlainRow<PlainConnectionAttributes>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainRow<A> {
    attributes: Option<A>,
    id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainConnectionAttributes {
    group_bys: BTreeMap<String, Vec<String>>,
    bytes_sent_by_client: Option<i64>,
    bytes_sent_by_server: Option<i64>,
    packets_sent_by_client: Option<i64>,
    packets_sent_by_server: Option<i64>,
    rtt_micro_seconds: Option<i64>,
    tcp_closed_connections: Option<i64>,
    tcp_delivered_ce: Option<i64>,
    tcp_established_connections: Option<i64>,
    tcp_probe0_count: Option<i64>,
    tcp_rcv_ooo_pack: Option<i64>,
    tcp_recovery_count: Option<i64>,
    tcp_refusals: Option<i64>,
    tcp_reord_seen: Option<i64>,
    tcp_resets: Option<i64>,
    tcp_retransmits: Option<i64>,
    tcp_rto_count: Option<i64>,
    tcp_timeouts: Option<i64>,
}

/// The wire format as a plain derive would model it (DNS).
#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainDns {
    data: Vec<PlainRow<PlainDnsAttributes>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainDnsAttributes {
    group_bys: Vec<PlainItem<String>>,
    metrics: Vec<PlainItem<Option<i64>>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainItem<V> {
    key: String,
    value: V,
}

fn bench(c: &mut Criterion) {
    let pages = [
        ("connections_7500", fixtures::connections_body()),
        ("dns_7500", fixtures::dns_body()),
    ];
    for (name, body) in pages {
        let dns = name.starts_with("dns");
        let mut group = c.benchmark_group(format!("decode/{name}"));
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.sample_size(40);
        group.bench_function("ignored_any_floor", |b| {
            b.iter(|| serde_json::from_slice::<serde::de::IgnoredAny>(black_box(&body)).map(drop))
        });
        // Ours right after the floor, so a machine that slows down or speeds up during the
        // run affects both alike.
        if dns {
            group.bench_function("datadog_cnm", |b| {
                b.iter_batched(
                    || (),
                    |()| decode::dns(black_box(&body)),
                    BatchSize::PerIteration,
                )
            });
            group.bench_function("plain_derive", |b| {
                b.iter_batched(
                    || (),
                    |()| serde_json::from_slice::<PlainDns>(black_box(&body)).ok(),
                    BatchSize::PerIteration,
                )
            });
        } else {
            group.bench_function("datadog_cnm", |b| {
                b.iter_batched(
                    || (),
                    |()| decode::connections(black_box(&body)),
                    BatchSize::PerIteration,
                )
            });
            group.bench_function("plain_derive", |b| {
                b.iter_batched(
                    || (),
                    |()| serde_json::from_slice::<PlainConnections>(black_box(&body)).ok(),
                    BatchSize::PerIteration,
                )
            });
        }
        group.bench_function("serde_json_value", |b| {
            b.iter_batched(
                || (),
                |()| serde_json::from_slice::<serde_json::Value>(black_box(&body)).ok(),
                BatchSize::PerIteration,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
