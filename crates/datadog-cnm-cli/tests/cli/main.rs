//! `ddcnm` end to end: the real binary against the bundled mock server.
//!
//! Every command runs with a cleared environment, so a developer's real `DD_*` keys can
//! never be used. Windows are fixed, so numbers are stable; times and ports are redacted
//! in snapshots all the same.

// Test code: a panic that shows the error is the right way to fail (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod analysis;
mod demo;
mod exit_codes;
mod export;
mod output;
mod report;
mod settings;
mod support;
