//! How to test that a client notices an incident: declare it on the bundled mock, query the
//! mock through `datadog_cnm`, and assert on what the client reports. Written to be copied.

// Test code: a panic that shows the error is the right way to fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, UNIX_EPOCH};

use datadog_cnm::{Client, Connection, Window};
use datadog_cnm_mock::{Effect, Incident, MockServer, Scenario};

const HOUR: Duration = Duration::from_secs(3_600);

/// The service pair with the most retransmits over `window`.
async fn most_retransmits(client: &Client, window: Window) -> (String, String) {
    let page = client
        .connections()
        .window(window)
        .group_by(["client_service", "server_service"])
        .limit(7500)
        .send()
        .await
        .unwrap();
    assert!(!page.truncated, "every pair fits in one page");
    let worst: &Connection = page
        .rows
        .iter()
        .max_by_key(|row| row.tcp_retransmits.unwrap_or(0))
        .unwrap();
    let service = |key| worst.group_bys.get(key).unwrap_or_default().to_owned();
    (service("client_service"), service("server_service"))
}

#[tokio::test]
async fn a_retransmit_storm_between_two_services_ranks_first_by_retransmits() {
    // A fixed clock (in the past: the client refuses windows in the future): the data, and
    // so every number below, is the same on every run.
    let now = UNIX_EPOCH + Duration::from_secs(1_764_151_200);
    let storm_start = now - 2 * HOUR;
    // Any pair that talks in the seed's data will do; with the default seed, orders-web
    // calls checkout-cache (`ddcnm mock-server`, then `ddcnm connections`, lists the pairs).
    let storm = Incident::new(
        "checkout-cache retransmit storm",
        storm_start,
        Duration::from_secs(30 * 60),
    )
    .tag("client_service", "orders-web")
    .tag("server_service", "checkout-cache")
    .metrics(["tcp_retransmits", "tcp_rto_count"])
    .effect(Effect::Scale(20.0));
    // `Calm`: the default scenario's living data, without its own incidents.
    let server = MockServer::builder()
        .scenario(Scenario::Calm)
        .now(now)
        .incident(storm)
        .start()
        .await
        .unwrap();
    let client = datadog_cnm_tests::client(server.url());

    let storm_hour = Window::ending_at(storm_start + HOUR / 2, HOUR);
    let hour_before = Window::ending_at(storm_start, HOUR);
    let culprit = ("orders-web".to_owned(), "checkout-cache".to_owned());
    assert_eq!(most_retransmits(&client, storm_hour).await, culprit);
    assert_ne!(most_retransmits(&client, hour_before).await, culprit);
}

#[tokio::test]
async fn the_default_scenario_names_what_it_placed() {
    let now = UNIX_EPOCH + Duration::from_secs(1_764_151_200);
    let server = MockServer::builder().now(now).start().await.unwrap();
    // The default scenario places a retransmit storm 2–4 hours before `now`; the server says
    // where, so a test can check that the client finds that very pair.
    let storm = server
        .incidents()
        .iter()
        .find(|incident| incident.name.starts_with("retransmit storm"))
        .unwrap();
    let tag = |key: &str| {
        let (_, value) = storm.target.iter().find(|(k, _)| k == key).unwrap();
        value.clone()
    };
    let client = datadog_cnm_tests::client(server.url());
    let last_six_hours = Window::ending_at(now, 6 * HOUR);
    assert!(storm.start >= now - 4 * HOUR && storm.end() <= now - 2 * HOUR);
    assert_eq!(
        most_retransmits(&client, last_six_hours).await,
        (tag("client_service"), tag("server_service"))
    );
}
