//! Starts a mock CNM API on a free loopback port, prints its URL, and serves until Ctrl-C.
//!
//! ```sh
//! cargo run -p datadog-cnm-mock --example serve [SEED]
//! curl -H 'DD-API-KEY: x' -H 'DD-APPLICATION-KEY: y' \
//!     "$URL/api/v2/network/connections/aggregate?group_by=client_team&limit=5"
//! ```

use datadog_cnm_mock::{DEFAULT_SEED, MockServer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed = match std::env::args().nth(1) {
        Some(arg) => arg.parse()?,
        None => DEFAULT_SEED,
    };
    let server = MockServer::builder().seed(seed).start().await?;
    println!("{}", server.url());
    eprintln!("serving seed {seed}; press Ctrl-C to stop");
    tokio::signal::ctrl_c().await?;
    let stats = server.stats();
    server.shutdown().await;
    eprintln!("served {} requests", stats.requests);
    Ok(())
}
