//! Deterministic 7500-row response bodies, shaped like the API's.

use std::fmt::Write as _;

/// The API's largest page.
pub const ROWS: usize = 7500;

/// splitmix64: a tiny deterministic generator, so every run decodes the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A connections page: 7500 rows, 4 group-bys, all 17 metrics.
pub fn connections_body() -> Vec<u8> {
    let mut rng = Rng(7);
    let mut out = String::with_capacity(7 << 20);
    out.push_str(r#"{"data":["#);
    for row in 0..ROWS {
        if row > 0 {
            out.push(',');
        }
        let groups = [
            ("client_service", format!("svc-{:03}", rng.below(240))),
            ("server_service", format!("svc-{:03}", rng.below(240))),
            ("client_host", format!("i-{:016x}", rng.next())),
            ("server_host", format!("i-{:016x}", rng.next())),
        ];
        out.push_str(r#"{"attributes":{"#);
        for (i, metric) in datadog_cnm::Connection::METRICS.iter().enumerate() {
            let magnitude = if i < 4 { 10_000_000_000 } else { 1_000_000 };
            let _ = write!(out, r#""{}":{},"#, metric.name, rng.below(magnitude));
        }
        out.push_str(r#""group_bys":{"#);
        for (i, (key, value)) in groups.iter().enumerate() {
            let comma = if i > 0 { "," } else { "" };
            let _ = write!(out, r#"{comma}"{key}":["{value}"]"#);
        }
        out.push_str(r#"}},"id":""#);
        for (i, (key, value)) in groups.iter().enumerate() {
            let comma = if i > 0 { "," } else { "" };
            let _ = write!(out, "{comma}{key}:{value}");
        }
        out.push_str(r#"","type":"aggregated_connection"}"#);
    }
    out.push_str("]}");
    out.into_bytes()
}

/// A DNS page: 7500 rows, 2 group-bys, all 10 metrics.
pub fn dns_body() -> Vec<u8> {
    let mut rng = Rng(11);
    let mut out = String::with_capacity(6 << 20);
    out.push_str(r#"{"data":["#);
    for row in 0..ROWS {
        if row > 0 {
            out.push(',');
        }
        let service = format!("svc-{:03}", rng.below(240));
        let query = format!(
            "host-{:05}.zone-{}.example.internal",
            rng.below(100_000),
            rng.below(40)
        );
        let _ = write!(
            out,
            r#"{{"attributes":{{"group_bys":[{{"key":"client_service","value":"{service}"}},{{"key":"network.dns_query","value":"{query}"}}],"metrics":["#
        );
        for (i, key) in datadog_cnm::DnsMetricKey::KNOWN.iter().enumerate() {
            let metric = key.as_str();
            let comma = if i > 0 { "," } else { "" };
            let _ = write!(
                out,
                r#"{comma}{{"key":"{metric}","value":{}}}"#,
                rng.below(10_000_000)
            );
        }
        let _ = write!(
            out,
            r#"]}},"id":"client_service:{service},network.dns_query:{query}","type":"aggregated_dns"}}"#
        );
    }
    out.push_str("]}");
    out.into_bytes()
}
