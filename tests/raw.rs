//! The generated low-level client against httpmock servers: the exact requests it sends
//! and what it makes of the documented (and some undocumented) response bodies.

// Test code: a panic that shows the error is the right way to fail (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::num::NonZeroU32;

use datadog_cnm_raw::ConnectionsDocument;
use datadog_cnm_raw::mock::MockServerExt;
use datadog_cnm_raw::types::{ApiErrorItem, CnmGroupBy};
use datadog_cnm_raw::{BodyTooLarge, Client, DnsMetricKey, Error, Seam};
use datadog_cnm_tests::*;
use httpmock::MockServer;

const FROM: i64 = 1_764_000_000;
const TO: i64 = 1_764_003_600;

fn group_by(value: &str) -> CnmGroupBy {
    match value.parse() {
        Ok(group_by) => group_by,
        Err(e) => panic!("fixture group_by {value:?} rejected: {e}"),
    }
}

fn connections_doc_example() -> ConnectionsDocument {
    match serde_json::from_str(CONNECTIONS_DOC_EXAMPLE) {
        Ok(body) => body,
        Err(e) => panic!("the documentation example no longer parses: {e}"),
    }
}

#[tokio::test]
async fn connections_request_carries_every_parameter() {
    let server = MockServer::start_async().await;
    let recorder = Recorder::default();
    let groups = group_by("client_service,server_service");
    let body = connections_doc_example();
    let mock = server.get_aggregated_connections(|when, then| {
        let when = when
            .from(FROM)
            .to(TO)
            .group_by(&groups)
            .tags("env:prod,team:networks")
            .query("client_team:networks AND NOT server_service:db*")
            .limit(NonZeroU32::new(7500));
        let _ = when
            .into_inner()
            .header("accept", "application/json")
            .header_missing("api-version")
            .is_true(recorder.matcher());
        let _ = then.ok(&body);
    });
    let client = direct_client(&server);

    let response = client
        .get_aggregated_connections()
        .from(FROM)
        .to(TO)
        .group_by("client_service,server_service")
        .tags("env:prod,team:networks")
        .query("client_team:networks AND NOT server_service:db*")
        .limit(7500u32)
        .send()
        .await;

    mock.assert_async().await;
    let page = response.map(|r| r.into_inner());
    assert_eq!(page.ok(), Some(body));
    insta::assert_yaml_snapshot!(recorder.seen());
}

#[tokio::test]
async fn connections_request_without_parameters_sends_none() {
    let server = MockServer::start_async().await;
    let recorder = Recorder::default();
    let mock = server.get_aggregated_connections(|when, then| {
        let when = when
            .from(None)
            .to(None)
            .group_by(None)
            .tags(None)
            .query(None)
            .limit(None);
        let _ = when.into_inner().is_true(recorder.matcher());
        let _ = then.ok(&ConnectionsDocument::default());
    });
    let client = direct_client(&server);

    let page = client.get_aggregated_connections().send().await;

    mock.assert_async().await;
    assert!(page.is_ok(), "{page:?}");
    insta::assert_yaml_snapshot!(recorder.seen());
}

#[tokio::test]
async fn dns_request_carries_every_parameter() {
    let server = MockServer::start_async().await;
    let recorder = Recorder::default();
    let groups = group_by("network.dns_query,client_service");
    let mock = server.get_aggregated_dns(|when, then| {
        let when = when
            .from(FROM)
            .to(TO)
            .group_by(&groups)
            .tags("env:prod")
            .query("client_service:web*")
            .limit(NonZeroU32::new(1));
        let _ = when
            .into_inner()
            .header_missing("api-version")
            .is_true(recorder.matcher());
        let _ = then
            .into_inner()
            .status(200)
            .header("content-type", "application/vnd.api+json")
            .body(DNS_DOC_EXAMPLE);
    });
    let client = direct_client(&server);

    let response = client
        .get_aggregated_dns()
        .from(FROM)
        .to(TO)
        .group_by("network.dns_query,client_service")
        .tags("env:prod")
        .query("client_service:web*")
        .limit(1u32)
        .send()
        .await;

    mock.assert_async().await;
    assert!(response.is_ok(), "{response:?}");
    insta::assert_yaml_snapshot!(recorder.seen());
}

#[tokio::test]
async fn dns_request_without_parameters_sends_none() {
    let server = MockServer::start_async().await;
    let recorder = Recorder::default();
    let mock = server.get_aggregated_dns(|when, then| {
        let when = when
            .from(None)
            .to(None)
            .group_by(None)
            .tags(None)
            .query(None)
            .limit(None);
        let _ = when.into_inner().is_true(recorder.matcher());
        let _ = then.into_inner().status(200).body(r#"{"data":[]}"#);
    });
    let client = direct_client(&server);

    let page = client.get_aggregated_dns().send().await;

    mock.assert_async().await;
    assert_eq!(page.map(|p| p.into_inner().data.len()).ok(), Some(0));
    insta::assert_yaml_snapshot!(recorder.seen());
}

/// Serve `body` with `status` for any request to `path`.
async fn serve(status: u16, path: &str, body: &str) -> MockServer {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path(path);
            then.status(status)
                .header("content-type", "application/vnd.api+json")
                .body(body);
        })
        .await;
    server
}

fn direct_client(server: &MockServer) -> Client {
    Client::new_with_client(&server.base_url(), reqwest::Client::new(), Seam::new())
}

const CONNECTIONS_PATH: &str = "/api/v2/network/connections/aggregate";
const DNS_PATH: &str = "/api/v2/network/dns/aggregate";

#[tokio::test]
async fn connections_doc_example_decodes_all_17_metrics() {
    let server = serve(200, CONNECTIONS_PATH, CONNECTIONS_DOC_EXAMPLE).await;
    let page = match direct_client(&server)
        .get_aggregated_connections()
        .send()
        .await
    {
        Ok(response) => response.into_inner(),
        Err(e) => panic!("documentation example rejected: {e}"),
    };
    assert_eq!(page.data.len(), 1);
    let row = &page.data[0];
    assert_eq!(row.group("server_service"), Some("hucklebuck"));
    let metrics = [
        ("bytes_sent_by_client", row.bytes_sent_by_client, 100),
        ("bytes_sent_by_server", row.bytes_sent_by_server, 200),
        ("packets_sent_by_client", row.packets_sent_by_client, 10),
        ("packets_sent_by_server", row.packets_sent_by_server, 20),
        ("rtt_micro_seconds", row.rtt_micro_seconds, 800),
        ("tcp_closed_connections", row.tcp_closed_connections, 30),
        ("tcp_delivered_ce", row.tcp_delivered_ce, 4),
        (
            "tcp_established_connections",
            row.tcp_established_connections,
            40,
        ),
        ("tcp_probe0_count", row.tcp_probe0_count, 1),
        ("tcp_rcv_ooo_pack", row.tcp_rcv_ooo_pack, 3),
        ("tcp_recovery_count", row.tcp_recovery_count, 2),
        ("tcp_refusals", row.tcp_refusals, 7),
        ("tcp_reord_seen", row.tcp_reord_seen, 9),
        ("tcp_resets", row.tcp_resets, 5),
        ("tcp_retransmits", row.tcp_retransmits, 31),
        ("tcp_rto_count", row.tcp_rto_count, 11),
        ("tcp_timeouts", row.tcp_timeouts, 6),
    ];
    for (name, got, want) in metrics {
        assert_eq!(got, Some(want), "{name}");
    }
    insta::assert_json_snapshot!(page);
}

#[tokio::test]
async fn dns_doc_example_decodes_every_known_key() {
    let server = serve(200, DNS_PATH, DNS_DOC_EXAMPLE).await;
    let page = match direct_client(&server).get_aggregated_dns().send().await {
        Ok(response) => response.into_inner(),
        Err(e) => panic!("documentation example rejected: {e}"),
    };
    let metrics = &page.data[0].metrics;
    let keys: Vec<_> = metrics.iter().map(|(key, _)| key).collect();
    assert_eq!(keys, DnsMetricKey::KNOWN.to_vec());
    assert_eq!(metrics.responses_nxdomain, Some(1));
    insta::assert_json_snapshot!(page);
}

#[tokio::test]
async fn dns_unknown_metric_key_and_extra_fields_do_not_fail_the_response() {
    let server = serve(200, DNS_PATH, DNS_WITH_UNKNOWN_KEY).await;
    let page = match direct_client(&server).get_aggregated_dns().send().await {
        Ok(response) => response.into_inner(),
        Err(e) => panic!("newer server body rejected: {e}"),
    };
    let metrics = &page.data[0].metrics;
    assert_eq!(metrics.total_requests, Some(12));
    let refused = DnsMetricKey::Other("dns_responses.refused".into());
    assert_eq!(metrics.get(&refused), Some(2));
    assert_eq!(
        page.data[0].extra_attributes.get("sampled"),
        Some(&serde_json::Value::Bool(true)),
        "unknown attributes are kept"
    );
    assert!(
        page.data[0].extra_members.contains_key("relationships"),
        "unknown row members are kept"
    );
    assert!(
        page.extra_members.contains_key("meta"),
        "unknown document members are kept"
    );
    insta::assert_json_snapshot!(page);
}

#[tokio::test]
async fn connections_unknown_field_does_not_fail_the_response() {
    let server = serve(200, CONNECTIONS_PATH, CONNECTIONS_WITH_UNKNOWN_FIELD).await;
    let page = direct_client(&server)
        .get_aggregated_connections()
        .send()
        .await;
    let page = page.map(|p| p.into_inner());
    let row = page.as_ref().ok().map(|p| &p.data[0]);
    assert_eq!(
        row.and_then(|r| r.bytes_sent_by_client),
        Some(1),
        "{page:?}"
    );
    assert_eq!(
        row.and_then(|r| r.extra_attributes.get("tcp_zero_window_seconds")),
        Some(&serde_json::json!(12)),
        "unknown attributes are kept"
    );
}

fn error_items(error: Error<datadog_cnm_raw::types::ApiErrorResponse>) -> (u16, Vec<ApiErrorItem>) {
    match error {
        Error::ErrorResponse(response) => {
            let status = response.status().as_u16();
            (status, response.into_inner().errors)
        }
        other => panic!("expected a typed error response, got {other:?}"),
    }
}

#[tokio::test]
async fn jsonapi_error_body_is_parsed_with_title_and_detail() {
    // The body the real API returned for `limit=8000` (upstream's recorded cassette).
    let body = r#"{"errors":[{"status":"400","title":"Invalid limit","detail":"Limit must meet requirements listed in https://docs.datadoghq.com/api/latest/cloud-network-monitoring/"}]}"#;
    let server = serve(400, CONNECTIONS_PATH, body).await;
    let result = direct_client(&server)
        .get_aggregated_connections()
        .send()
        .await;
    let (status, errors) = error_items(result.err().unwrap_or_else(|| panic!("a 400 succeeded")));
    assert_eq!(status, 400);
    insta::assert_json_snapshot!(errors);
}

#[tokio::test]
async fn documented_string_error_body_is_still_parsed() {
    let server = serve(429, DNS_PATH, r#"{"errors":["Too many requests"]}"#).await;
    let result = direct_client(&server).get_aggregated_dns().send().await;
    let (status, errors) = error_items(result.err().unwrap_or_else(|| panic!("a 429 succeeded")));
    assert_eq!(status, 429);
    assert_eq!(
        errors,
        vec![ApiErrorItem::String("Too many requests".into())]
    );
}

#[tokio::test]
async fn server_errors_in_the_5xx_range_are_typed() {
    let server = serve(
        503,
        DNS_PATH,
        r#"{"errors":[{"status":"503","title":"Service Unavailable"}]}"#,
    )
    .await;
    let result = direct_client(&server).get_aggregated_dns().send().await;
    let (status, errors) = error_items(result.err().unwrap_or_else(|| panic!("a 503 succeeded")));
    assert_eq!(status, 503);
    assert_eq!(errors.len(), 1);
}

/// The seam keeps the status of an error answer whose body is not JSON: without it, the
/// generated decoder would report an HTML 429 from a proxy as a payload error without a
/// status, and nobody could tell it was worth retrying.
#[tokio::test]
async fn an_html_error_page_keeps_its_status_and_body() {
    let page = "<html><body>Too Many Requests</body></html>";
    let server = serve(429, CONNECTIONS_PATH, page).await;
    let result = direct_client(&server)
        .get_aggregated_connections()
        .send()
        .await;
    match result {
        Err(Error::UnexpectedResponse(response)) => {
            assert_eq!(response.status(), 429);
            assert!(response.extensions().get::<BodyTooLarge>().is_none());
            assert_eq!(response.text().await.unwrap(), page);
        }
        other => panic!("expected UnexpectedResponse, got {other:?}"),
    }
    // A success whose body does not decode stays a payload error: its status is 2xx.
    let server = serve(200, CONNECTIONS_PATH, page).await;
    let result = direct_client(&server)
        .get_aggregated_connections()
        .send()
        .await;
    assert!(
        matches!(result, Err(Error::InvalidResponsePayload(..))),
        "{result:?}"
    );
}

/// Bodies longer than the seam's limit are refused, whether `Content-Length` announces
/// them or they just keep coming.
#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_their_status() {
    let body = format!(r#"{{"data":[],"padding":"{}"}}"#, "x".repeat(4096));
    let server = serve(200, CONNECTIONS_PATH, &body).await;
    let small = Client::new_with_client(
        &server.base_url(),
        reqwest::Client::new(),
        Seam::new().with_body_limit(1024),
    );
    match small.get_aggregated_connections().send().await {
        Err(Error::UnexpectedResponse(response)) => {
            assert_eq!(response.status(), 200);
            assert_eq!(
                response.extensions().get::<BodyTooLarge>(),
                Some(&BodyTooLarge {
                    limit: 1024,
                    announced: Some(body.len() as u64)
                })
            );
        }
        other => panic!("expected a refused body, got {other:?}"),
    }
    let roomy = Client::new_with_client(
        &server.base_url(),
        reqwest::Client::new(),
        Seam::new().with_body_limit(body.len() as u64),
    );
    let page = roomy.get_aggregated_connections().send().await;
    assert!(
        page.is_ok(),
        "a body exactly at the limit is read: {page:?}"
    );
}

#[tokio::test]
async fn invalid_parameters_are_rejected_before_sending() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|_, then| {
            then.status(200).body(r#"{"data":[]}"#);
        })
        .await;
    let client = direct_client(&server);

    let zero_limit = client.get_aggregated_connections().limit(0u32).send().await;
    let eleven_groups = client
        .get_aggregated_dns()
        .group_by("a,b,c,d,e,f,g,h,i,j,k")
        .send()
        .await;
    let empty_group = client.get_aggregated_dns().group_by("a,,b").send().await;
    let ten_groups = client
        .get_aggregated_dns()
        .group_by("a,b,c,d,e,f,g,h,i,j")
        .send()
        .await;

    for rejected in [zero_limit.err(), eleven_groups.err(), empty_group.err()] {
        assert!(
            matches!(rejected, Some(Error::InvalidRequest(_))),
            "{rejected:?}"
        );
    }
    assert!(ten_groups.is_ok(), "{ten_groups:?}");
    any.assert_calls_async(1).await;
}
