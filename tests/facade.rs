//! The facade against httpmock servers: sites, environment, exact requests, credentials,
//! validation, parsed pages and API errors. (Security properties: `security.rs`.)

// Test code: a panic that shows the error is the right way to fail (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use datadog_cnm::{Client, DnsMetricKey, Error, Site, Window};
use datadog_cnm_tests::*;
use httpmock::MockServer;

const DNS_PATH: &str = "/api/v2/network/dns/aggregate";

fn window() -> Window {
    let to = UNIX_EPOCH + Duration::from_secs(1_764_003_600);
    Window::between(to - Duration::from_secs(3600), to).unwrap()
}

fn client_for(server: &MockServer) -> Client {
    keyed_client(&server.base_url())
}

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn every_site_has_its_api_base_url() {
    let expected = [
        (Site::Us1, "https://api.datadoghq.com"),
        (Site::Us3, "https://api.us3.datadoghq.com"),
        (Site::Us5, "https://api.us5.datadoghq.com"),
        (Site::Eu1, "https://api.datadoghq.eu"),
        (Site::Ap1, "https://api.ap1.datadoghq.com"),
        (Site::Ap2, "https://api.ap2.datadoghq.com"),
        (Site::Uk1, "https://api.uk1.datadoghq.com"),
        (Site::Us1Fed, "https://api.ddog-gov.com"),
        (Site::Us2Fed, "https://api.us2.ddog-gov.com"),
    ];
    assert_eq!(expected.len(), Site::ALL.len());
    for (site, base) in expected {
        let client = Client::builder()
            .site(site.clone())
            .api_key(API_KEY)
            .app_key(APP_KEY)
            .build();
        let client = client.unwrap_or_else(|e| panic!("{site}: {e}"));
        assert_eq!(client.base_url(), base, "{site:?}");
        assert_eq!(client.site(), &site);
    }
}

#[tokio::test]
async fn requests_go_to_the_site_base_url_plus_the_operation_path() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path(CONNECTIONS_PATH);
            then.status(200).body(r#"{"data":[]}"#);
        })
        .await;
    let site: Site = server.base_url().parse().unwrap();
    let client = Client::builder()
        .site(site)
        .api_key(API_KEY)
        .app_key(APP_KEY)
        .build();
    let page = client.unwrap().connections().send().await;
    assert!(page.is_ok(), "{page:?}");
    mock.assert_async().await;
}

#[test]
fn dd_site_variants_from_the_environment() {
    let cases = [
        ("datadoghq.eu", Site::Eu1),
        ("app.datadoghq.eu", Site::Eu1),
        ("https://api.us5.datadoghq.com", Site::Us5),
        ("eu", Site::Eu1),
        ("us3.datadoghq.com", Site::Us3),
        ("ddog-gov.com", Site::Us1Fed),
    ];
    for (value, site) in cases {
        let lookup = env(&[
            ("DD_SITE", value),
            ("DD_API_KEY", API_KEY),
            ("DD_APP_KEY", APP_KEY),
        ]);
        let client = Client::builder().with_env_lookup(lookup).build();
        let client = client.unwrap_or_else(|e| panic!("DD_SITE={value}: {e}"));
        assert_eq!(client.site(), &site, "DD_SITE={value}");
    }
    let garbage = Client::builder()
        .with_env_lookup(env(&[("DD_SITE", "datadoghq.moon")]))
        .build();
    let message = garbage.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("DD_SITE") && message.contains("datadoghq.moon"),
        "{message}"
    );
    assert!(
        message.contains("eu1 (datadoghq.eu)"),
        "lists valid names: {message}"
    );
}

#[test]
fn environment_keys_and_precedence() {
    let lookup = env(&[("DD_API_KEY", "from-env"), ("DD_APPLICATION_KEY", APP_KEY)]);
    let built = Client::builder().with_env_lookup(lookup).build();
    assert!(built.is_ok(), "DD_APPLICATION_KEY is accepted: {built:?}");

    // Explicit settings win over the environment.
    let lookup = env(&[("DD_SITE", "us3"), ("DD_API_KEY", "x"), ("DD_APP_KEY", "y")]);
    let built = Client::builder()
        .site(Site::Ap1)
        .with_env_lookup(lookup)
        .build();
    assert_eq!(built.ok().map(|c| c.site().clone()), Some(Site::Ap1));

    let missing = Client::builder()
        .with_env_lookup(env(&[("DD_APP_KEY", APP_KEY)]))
        .build();
    let message = missing.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("DD_API_KEY"), "{message}");
    let missing = Client::builder()
        .with_env_lookup(env(&[("DD_API_KEY", API_KEY)]))
        .build();
    let message = missing.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("DD_APP_KEY"), "{message}");
}

/// `datadog-cnm/<version> (rust; <os>; <arch>)`.
fn user_agent() -> String {
    format!(
        "datadog-cnm/{} (rust; {}; {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

#[tokio::test]
async fn exact_query_string_with_every_parameter_and_both_keys() {
    let server = MockServer::start_async().await;
    let w = window();
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(CONNECTIONS_PATH)
                .query_param("from", w.from_unix_secs().to_string())
                .query_param("to", w.to_unix_secs().to_string())
                .query_param("group_by", "client_service,server_service")
                .query_param("tags", "env:prod,team:networks")
                .query_param("query", "client_team:networks AND NOT env:staging")
                .query_param("limit", "7500")
                .query_param_count(".*", ".*", 6)
                .header("dd-api-key", API_KEY)
                .header("dd-application-key", APP_KEY)
                .header_missing("authorization")
                .header_missing("api-version")
                .header("user-agent", user_agent());
            then.status(200).body(CONNECTIONS_DOC_EXAMPLE);
        })
        .await;
    let page = client_for(&server)
        .connections()
        .window(w)
        .group_by(["client_service", "server_service"])
        .tags(vec!["env:prod".to_owned(), "team:networks".to_owned()])
        .query("client_team:networks AND NOT env:staging")
        .limit(7500)
        .send()
        .await;
    mock.assert_async().await;
    assert!(page.is_ok(), "{page:?}");
}

#[tokio::test]
async fn absent_parameters_are_not_sent_and_the_default_window_is_the_last_15_minutes() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.path(DNS_PATH)
                .query_param_exists("from")
                .query_param_exists("to")
                .query_param_missing("group_by")
                .query_param_missing("tags")
                .query_param_missing("query")
                .query_param_missing("limit");
            then.status(200).body(r#"{"data":[]}"#);
        })
        .await;
    let before = SystemTime::now();
    let page = client_for(&server).dns().send().await.unwrap();
    mock.assert_async().await;
    assert_eq!(page.window.duration(), Duration::from_secs(900));
    let skew = page
        .window
        .to
        .duration_since(before - Duration::from_secs(1));
    assert!(
        skew.is_ok_and(|d| d < Duration::from_secs(5)),
        "window ends now: {}",
        page.window
    );
    assert!(!page.truncated && page.rows.is_empty());
}

#[tokio::test]
async fn bearer_token_is_sent_instead_of_keys() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.path(DNS_PATH)
                .header("authorization", format!("Bearer {TOKEN}"))
                .header_missing("dd-api-key")
                .header_missing("dd-application-key");
            then.status(200).body(r#"{"data":[]}"#);
        })
        .await;
    let client = Client::builder()
        .base_url(server.base_url())
        .bearer_token(TOKEN)
        .build();
    let page = client.unwrap().dns().send().await;
    assert!(page.is_ok(), "{page:?}");
    mock.assert_async().await;
}

#[tokio::test]
async fn every_validation_rule_rejects_without_sending() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|_, then| {
            then.status(200).body(r#"{"data":[]}"#);
        })
        .await;
    let client = client_for(&server);
    let now = SystemTime::now();
    let eleven: Vec<String> = (0..11).map(|i| format!("tag{i}")).collect();
    let cases: Vec<(&str, Result<(), Error>)> = vec![
        (
            "limit",
            client.connections().limit(0).send().await.map(drop),
        ),
        ("limit", client.dns().limit(7501).send().await.map(drop)),
        (
            "group_by",
            client.connections().group_by(eleven).send().await.map(drop),
        ),
        (
            "group_by",
            client
                .connections()
                .group_by(["client_service", ""])
                .send()
                .await
                .map(drop),
        ),
        (
            "group_by",
            client.dns().group_by(["a,b"]).send().await.map(drop),
        ),
        (
            "group_by",
            client
                .dns()
                .group_by(["server_ungrouped", "server_service"])
                .send()
                .await
                .map(drop),
        ),
        (
            "group_by",
            client
                .dns()
                .group_by(["network.dns_query", "server_ungrouped"])
                .send()
                .await
                .map(drop),
        ),
        (
            "tags",
            client
                .dns()
                .tags(["env:prod,env:dev"])
                .send()
                .await
                .map(drop),
        ),
        ("query", client.dns().query(" ").send().await.map(drop)),
        (
            "window",
            client
                .connections()
                .window(Window { from: now, to: now })
                .send()
                .await
                .map(drop),
        ),
        (
            "window",
            client
                .connections()
                .window(Window::ending_at(
                    now + Duration::from_secs(600),
                    Duration::from_secs(60),
                ))
                .send()
                .await
                .map(drop),
        ),
    ];
    for (expected, result) in cases {
        match result {
            Err(Error::InvalidInput { field, .. }) => assert_eq!(field, expected),
            other => panic!("expected InvalidInput for {expected}, got {other:?}"),
        }
    }
    assert!(Window::between(now, now - Duration::from_secs(1)).is_err());
    any.assert_calls_async(0).await;
}

#[tokio::test]
async fn parsed_connections_page() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path(CONNECTIONS_PATH);
            then.status(200)
                .header("content-type", "application/vnd.api+json")
                .header("x-ratelimit-limit", "1000")
                .header("x-ratelimit-remaining", "998")
                .header("x-ratelimit-period", "60")
                .header("x-ratelimit-reset", "42")
                .header("x-ratelimit-name", "cnm_aggregate")
                .body(CONNECTIONS_DOC_EXAMPLE);
        })
        .await;
    let page = client_for(&server)
        .connections()
        .window(window())
        .limit(1)
        .send()
        .await;
    let page = page.unwrap();
    assert!(page.truncated, "1 row for limit 1");
    assert_eq!(page.rows[0].group("server_service"), Some("hucklebuck"));
    insta::assert_json_snapshot!(page);
}

#[tokio::test]
async fn parsed_dns_page_keeps_unknown_metric_keys() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path(DNS_PATH);
            then.status(200).body(DNS_WITH_UNKNOWN_KEY);
        })
        .await;
    let page = client_for(&server).dns().window(window()).send().await;
    let page = page.unwrap();
    let metrics = &page.rows[0].metrics;
    assert_eq!(metrics.total_requests, Some(12));
    assert_eq!(metrics.extra.get("dns_responses.refused"), Some(&Some(2)));
    assert_eq!(
        metrics.get(&DnsMetricKey::from("dns_responses.refused")),
        Some(2)
    );
    assert!(!page.truncated);
    insta::assert_json_snapshot!(page);
}

#[tokio::test]
async fn parsed_dns_doc_example_fills_every_named_metric() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path(DNS_PATH);
            then.status(200).body(DNS_DOC_EXAMPLE);
        })
        .await;
    let page = client_for(&server).dns().window(window()).send().await;
    let row = page.unwrap().rows.remove(0);
    assert_eq!(row.group("network.dns_query"), Some("example.com"));
    let m = row.metrics;
    let all = [
        m.total_requests,
        m.failures,
        m.successful_responses,
        m.failed_responses,
        m.timeouts,
        m.responses_nxdomain,
        m.responses_servfail,
        m.responses_other,
        m.success_latency_percentile,
        m.failure_latency_percentile,
    ];
    assert_eq!(all, [100, 7, 93, 5, 2, 1, 1, 3, 50, 75].map(Some));
    assert!(m.extra.is_empty());
}

#[tokio::test]
async fn a_400_with_a_jsonapi_body_yields_the_servers_title_and_detail() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path(CONNECTIONS_PATH);
            then.status(400)
                .header("content-type", "application/vnd.api+json")
                .body(r#"{"errors":[{"status":"400","title":"Invalid limit","detail":"Limit must meet requirements listed in https://docs.datadoghq.com/api/latest/cloud-network-monitoring/","source":{"parameter":"limit"}}]}"#);
        })
        .await;
    let error = client_for(&server).connections().send().await.err();
    let error = error.unwrap_or_else(|| panic!("a 400 succeeded"));
    assert_eq!(error.status(), Some(400));
    assert!(!error.is_retryable());
    match &error {
        Error::Api { errors, .. } => {
            assert_eq!(errors[0].title.as_deref(), Some("Invalid limit"));
            assert_eq!(errors[0].parameter.as_deref(), Some("limit"));
            assert!(
                errors[0]
                    .detail
                    .as_deref()
                    .is_some_and(|d| d.starts_with("Limit must meet"))
            );
        }
        other => panic!("expected Error::Api, got {other:?}"),
    }
    let text = error.to_string();
    assert!(
        text.contains("Invalid limit") && text.contains("Limit must meet requirements"),
        "{text}"
    );
}

/// A body far beyond the client's limit (230 MB against the default 64 MiB) is refused with
/// the typed error, whether `Content-Length` announces it or it just keeps coming, and the
/// client goes on working.
#[tokio::test]
async fn a_body_beyond_the_limit_is_refused_before_it_is_read_whole() {
    use datadog_cnm_mock::{CustomResponse, Fault};
    const HUGE: u64 = 230_000_000;
    let body = CustomResponse::new(200)
        .header("content-type", "application/vnd.api+json")
        .body(r#"{"data":[],"x":""#);
    let server = datadog_cnm_mock::MockServer::builder()
        .fault(Fault::Respond {
            response: body.clone().repeated_to(HUGE),
            times: 1,
        })
        .fault(Fault::Respond {
            response: body.repeated_to(HUGE).chunked(),
            times: 1,
        })
        .start()
        .await
        .unwrap();
    let client = client(server.url());
    let limit = 64 * 1024 * 1024;
    for announced in [Some(HUGE), None] {
        match client.connections().window(window()).send().await {
            Err(Error::BodyTooLarge {
                status: 200,
                limit: refused_at,
                announced: said,
            }) => {
                assert_eq!(refused_at, limit);
                assert_eq!(said, announced);
            }
            other => panic!("expected BodyTooLarge ({announced:?}), got {other:?}"),
        }
    }
    let page = client.connections().window(window()).send().await;
    assert!(page.is_ok(), "the client still works: {page:?}");
}
