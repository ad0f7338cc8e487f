//! `fetch/connections_7500` side by side: in every round, one page with bare `reqwest` +
//! `serde_json`, then the same page through the facade, from the same mock server; the
//! ratio is taken per round (see `support/ratio.rs`). Not a criterion benchmark: it
//! prints one line.
//!
//! `cargo bench -p datadog-cnm --bench fetch_ratio` (`ROUNDS=100` for more rounds).

#[path = "support/client.rs"]
mod client;
#[path = "support/decode.rs"]
mod decode;
#[path = "support/fetch.rs"]
mod fetch;
#[path = "support/ratio.rs"]
mod ratio;

use std::hint::black_box;
use std::time::Instant;

/// The allocator `ddcnm` uses (see `decode_ratio`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let rounds = ratio::rounds(40);
    let runtime = fetch::runtime();
    let fetch = runtime.block_on(fetch::Fetch::start());
    let mut measured = ratio::Rounds::new(&["bare_reqwest_serde", "datadog_cnm"]);
    for round in 0..rounds + 3 {
        let (bare, facade) = runtime.block_on(async {
            let start = Instant::now();
            black_box(fetch.plain().await);
            let bare = start.elapsed();
            let start = Instant::now();
            black_box(fetch.facade().await);
            (bare, start.elapsed())
        });
        if round >= 3 {
            measured.push(&[bare, facade]);
        }
    }
    println!("fetch_ratio/{}", measured.report("connections_7500"));
}
