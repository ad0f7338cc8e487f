//! Starts a mock CNM API on a free loopback port, prints its URL, lists the incidents in its
//! data, and serves until Ctrl-C.
//!
//! ```sh
//! cargo run -p datadog-cnm-mock --example serve [SEED] [SCENARIO]   # default, calm or flat
//! curl -H 'DD-API-KEY: x' -H 'DD-APPLICATION-KEY: y' \
//!     "$URL/api/v2/network/connections/aggregate?group_by=client_team&limit=5"
//! ```

use datadog_cnm_mock::{DEFAULT_SEED, MockServer, Scenario};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seed = match args.next() {
        Some(arg) => arg.parse()?,
        None => DEFAULT_SEED,
    };
    let scenario: Scenario = match args.next() {
        Some(arg) => arg.parse()?,
        None => Scenario::Default,
    };
    let server = MockServer::builder()
        .seed(seed)
        .scenario(scenario)
        .start()
        .await?;
    println!("{}", server.url());
    eprintln!("serving seed {seed}, scenario {scenario}; press Ctrl-C to stop");
    for incident in server.incidents() {
        eprintln!("  {incident}");
    }
    tokio::signal::ctrl_c().await?;
    let stats = server.stats();
    server.shutdown().await;
    eprintln!("served {} requests", stats.requests);
    Ok(())
}
