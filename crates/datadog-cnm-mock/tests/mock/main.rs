//! Black-box tests of the mock server over real HTTP, with plain reqwest. One test binary with
//! modules, because linking is the slow part.

// Test code: a panic that shows the error is the right way to fail (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod data;
mod faults;
mod incidents;
mod living;
mod paused;
mod properties;
mod scenarios;
mod support;
mod targets;
mod validation;
