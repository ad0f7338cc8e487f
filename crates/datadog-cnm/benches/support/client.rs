//! A client of a bench's mock server: the one way every bench builds it.

use datadog_cnm::Client;
use datadog_cnm_mock::MockServer;

/// A client of `server`, with the keys any mock accepts.
pub fn client_for(server: &MockServer) -> Client {
    match Client::builder()
        .base_url(server.url())
        .api_key("bench")
        .app_key("bench")
        .build()
    {
        Ok(client) => client,
        Err(e) => panic!("client: {e}"),
    }
}
