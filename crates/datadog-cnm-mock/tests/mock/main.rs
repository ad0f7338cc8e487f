//! Black-box tests of the mock server over real HTTP, with plain reqwest. One test binary with
//! modules, because linking is the slow part.

mod data;
mod faults;
mod support;
mod validation;
