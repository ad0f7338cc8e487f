//! Bytes to the facade's result types, exactly as `send()` does it: the generated client
//! decodes the body with `serde_json::from_slice` into its response type, whose row type
//! is the hand-written `Connection`/`DnsRow` the facade hands out unchanged.

// Each bench target uses its own subset of these helpers.
#![allow(dead_code)]

use datadog_cnm::{Connection, DnsRow};
use datadog_cnm_raw::{ConnectionsDocument, DnsDocument};

/// A connections body as `send()` decodes it.
pub fn connections(body: &[u8]) -> Vec<Connection> {
    match serde_json::from_slice::<ConnectionsDocument>(body) {
        Ok(page) => page.data,
        Err(e) => panic!("fixture does not decode: {e}"),
    }
}

/// A DNS body as `send()` decodes it.
pub fn dns(body: &[u8]) -> Vec<DnsRow> {
    match serde_json::from_slice::<DnsDocument>(body) {
        Ok(page) => page.data,
        Err(e) => panic!("fixture does not decode: {e}"),
    }
}
