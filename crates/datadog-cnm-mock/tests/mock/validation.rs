//! Every validation and authentication rule, with its status and body.

use datadog_cnm_mock::MockServer;

use crate::support::{
    CONNECTIONS, DNS, KEYS, NOW_SECS, TestResult, assert_error, conn_group, dns_group, get,
    get_with, http, now,
};

const INVALID_LIMIT: &str = "{\"errors\":[{\"status\":\"400\",\"title\":\"Invalid limit\",\"detail\":\"Limit must meet requirements listed in https://docs.datadoghq.com/api/latest/cloud-network-monitoring/\"}]}";
const SERVER_UNGROUPED: &str = "{\"errors\":[{\"status\":\"400\",\"title\":\"Cannot combine server_ungrouped with other server groupings or network.dns_query\"}]}";

#[tokio::test]
async fn limit_outside_1_to_7500_or_not_an_integer_is_the_real_invalid_limit_body() -> TestResult {
    let server = MockServer::start().await?;
    for path in [CONNECTIONS, DNS] {
        for limit in [
            "0",
            "-1",
            "7501",
            "8000",
            "abc",
            "1.5",
            "",
            "99999999999999999999",
        ] {
            let reply = get(&server, path, &format!("limit={limit}")).await?;
            assert_error(&reply, 400, "Invalid limit")?;
            assert_eq!(reply.text, INVALID_LIMIT, "{path} limit={limit}");
        }
        for limit in ["1", "7500"] {
            let reply = get(&server, path, &format!("limit={limit}")).await?;
            assert_eq!(reply.status, 200, "{path} limit={limit}: {}", reply.text);
        }
    }
    Ok(())
}

#[tokio::test]
async fn more_than_ten_group_by_fields_is_a_400() -> TestResult {
    let server = MockServer::start().await?;
    let keys = [
        "client_service",
        "server_service",
        "client_team",
        "server_team",
        "client_env",
        "server_env",
        "client_host",
        "server_host",
        "env",
        "extra_one",
        "extra_two",
    ];
    for path in [CONNECTIONS, DNS] {
        let eleven = keys.join(",");
        let reply = get(&server, path, &format!("group_by={eleven}")).await?;
        assert_error(&reply, 400, "Too many group_by fields")?;
        let body = reply.json()?;
        assert_eq!(body["errors"][0]["source"]["parameter"], "group_by");
        let detail = body["errors"][0]["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("At most 10"), "{detail}");
        let ten = keys[..10].join(",");
        let reply = get(&server, path, &format!("group_by={ten}&limit=1")).await?;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    Ok(())
}

#[tokio::test]
async fn dns_server_ungrouped_cannot_be_combined_with_server_groupings() -> TestResult {
    let server = MockServer::start().await?;
    for group_by in [
        "server_ungrouped,server_service",
        "server_service,server_ungrouped",
        "server_ungrouped,network.dns_query",
        "client_service,server_ungrouped,server_host",
    ] {
        let reply = get(&server, DNS, &format!("group_by={group_by}")).await?;
        assert_error(
            &reply,
            400,
            "Cannot combine server_ungrouped with other server groupings or network.dns_query",
        )?;
        assert_eq!(reply.text, SERVER_UNGROUPED, "{group_by}");
    }

    // Alone: one row for all DNS traffic.
    let total = get(&server, DNS, "group_by=server_ungrouped").await?;
    let rows = total.rows()?;
    assert_eq!(rows.len(), 1, "{}", total.text);
    assert_eq!(rows[0]["id"], "");
    assert_eq!(rows[0]["attributes"]["group_bys"], serde_json::json!([]));

    // With client keys: grouped by those only.
    let reply = get(
        &server,
        DNS,
        "group_by=client_service,server_ungrouped&limit=3",
    )
    .await?;
    for row in reply.rows()? {
        assert!(dns_group(&row, "client_service").is_some(), "{row}");
        assert_eq!(
            row["attributes"]["group_bys"].as_array().map(Vec::len),
            Some(1)
        );
    }

    // Connections know no such marker: it is an unknown key like any other.
    let reply = get(
        &server,
        CONNECTIONS,
        "group_by=server_ungrouped,server_service&limit=1",
    )
    .await?;
    assert_eq!(reply.status, 200);
    Ok(())
}

#[tokio::test]
async fn from_and_to_must_be_unix_seconds_with_from_before_to() -> TestResult {
    let server = MockServer::builder().now(now()).start().await?;
    let cases = [
        ("from=abc", "Invalid from", "from"),
        ("from=1.5", "Invalid from", "from"),
        ("from=-1", "Invalid from", "from"),
        ("to=99999999999999", "Invalid to", "to"),
        ("to=", "Invalid to", "to"),
        ("from=1000&to=1000", "Invalid time window", "from"),
        ("from=2000&to=1000", "Invalid time window", "from"),
        ("from=1900000000", "Invalid time window", "from"), // after `now`
    ];
    for path in [CONNECTIONS, DNS] {
        for (query, title, parameter) in cases {
            let reply = get(&server, path, query).await?;
            assert_error(&reply, 400, title)?;
            assert_eq!(
                reply.json()?["errors"][0]["source"]["parameter"],
                parameter,
                "{query}"
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_default_window_is_the_last_15_minutes_of_the_clock() -> TestResult {
    let server = MockServer::builder().now(now()).start().await?;
    let (before, to) = (NOW_SECS - 900, NOW_SECS);
    for path in [CONNECTIONS, DNS] {
        let default = get(&server, path, "").await?;
        let explicit = get(&server, path, &format!("from={before}&to={to}")).await?;
        assert_eq!(default.status, 200);
        assert_eq!(default.text, explicit.text);

        let only_to = get(&server, path, "to=1700000900").await?;
        let explicit = get(&server, path, "from=1700000000&to=1700000900").await?;
        assert_eq!(only_to.text, explicit.text);

        let only_from = get(&server, path, "from=1799990000").await?;
        let explicit = get(&server, path, &format!("from=1799990000&to={to}")).await?;
        assert_eq!(only_from.text, explicit.text);
    }
    Ok(())
}

#[tokio::test]
async fn malformed_query_and_tags_are_400s() -> TestResult {
    let server = MockServer::start().await?;
    for path in [CONNECTIONS, DNS] {
        for query in [
            "web",
            "(env:prod",
            "env:prod)",
            "env:prod%20OR",
            "NOT",
            "env:",
            "-%20env:prod",
        ] {
            let reply = get(&server, path, &format!("query={query}")).await?;
            assert_error(&reply, 400, "Invalid query")?;
            assert_eq!(reply.json()?["errors"][0]["source"]["parameter"], "query");
        }
        for tags in ["prod", "env:prod,staging", ":prod"] {
            let reply = get(&server, path, &format!("tags={tags}")).await?;
            assert_error(&reply, 400, "Invalid tags")?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn unknown_group_by_keys_report_n_a() -> TestResult {
    let server = MockServer::start().await?;
    let reply = get(
        &server,
        CONNECTIONS,
        "group_by=client_team,pod_name&limit=3",
    )
    .await?;
    for row in reply.rows()? {
        assert_eq!(conn_group(&row, "pod_name").as_deref(), Some("N/A"));
        assert!(crate::support::id(&row).ends_with(",pod_name:N/A"), "{row}");
    }
    let reply = get(&server, DNS, "group_by=network.dns_query,pod_name&limit=3").await?;
    for row in reply.rows()? {
        assert_eq!(dns_group(&row, "pod_name").as_deref(), Some("N/A"));
    }
    Ok(())
}

#[tokio::test]
async fn missing_empty_or_wrong_credentials_are_403() -> TestResult {
    let server = MockServer::start().await?;
    let api = ("DD-API-KEY", "k");
    let app = ("DD-APPLICATION-KEY", "a");
    for path in [CONNECTIONS, DNS] {
        let rejected: [&[(&str, &str)]; 6] = [
            &[],
            &[api],
            &[app],
            &[api, ("DD-APPLICATION-KEY", "")],
            &[("DD-API-KEY", " "), app],
            &[("Authorization", "Bearer ")],
        ];
        for headers in rejected {
            let reply = get_with(&server, path, "", headers).await?;
            assert_error(&reply, 403, "Forbidden")?;
            assert!(reply.json()?["errors"][0]["detail"].is_string());
        }
        let bearer = get_with(&server, path, "", &[("Authorization", "Bearer t0ken")]).await?;
        assert_eq!(bearer.status, 200);
        let lower = get_with(
            &server,
            path,
            "",
            &[("dd-api-key", "k"), ("dd-application-key", "a")],
        )
        .await?;
        assert_eq!(lower.status, 200);
    }
    assert_eq!(server.stats().rejected, 12);

    let strict = MockServer::builder()
        .require_keys("right-api", "right-app")
        .start()
        .await?;
    let wrong = get_with(
        &strict,
        CONNECTIONS,
        "",
        &[("DD-API-KEY", "right-api"), ("DD-APPLICATION-KEY", "wrong")],
    )
    .await?;
    assert_error(&wrong, 403, "Forbidden")?;
    assert!(!wrong.text.contains("wrong") && !wrong.text.contains("right-api"));
    let bearer = get_with(&strict, CONNECTIONS, "", &[("Authorization", "Bearer x")]).await?;
    assert_error(&bearer, 403, "Forbidden")?;
    let right = get_with(
        &strict,
        CONNECTIONS,
        "",
        &[
            ("DD-API-KEY", "right-api"),
            ("DD-APPLICATION-KEY", "right-app"),
        ],
    )
    .await?;
    assert_eq!(right.status, 200);

    let token = MockServer::builder()
        .require_bearer_token("tok")
        .start()
        .await?;
    let right = get_with(&token, DNS, "", &[("Authorization", "bearer tok")]).await?;
    assert_eq!(right.status, 200);
    let keys = get_with(&token, DNS, "", &KEYS).await?;
    assert_error(&keys, 403, "Forbidden")?;
    Ok(())
}

#[tokio::test]
async fn unknown_paths_are_404_and_other_methods_405() -> TestResult {
    let server = MockServer::start().await?;
    for path in [
        "/",
        "/api/v2/network/connections",
        "/api/v2/network/dns/aggregate/",
    ] {
        let reply = get(&server, path, "").await?;
        assert_error(&reply, 404, "Not Found")?;
    }
    let response = http()?
        .post(format!("{}{CONNECTIONS}", server.url()))
        .header(KEYS[0].0, KEYS[0].1)
        .header(KEYS[1].0, KEYS[1].1)
        .body("{}")
        .send()
        .await?;
    assert_eq!(response.status(), 405);
    assert_eq!(
        response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok()),
        Some("GET")
    );
    // One client, one keep-alive connection: a request body is read and discarded, a HEAD
    // response has no body, and the next request on the connection still parses.
    let client = http()?;
    let url = format!("{}{CONNECTIONS}?limit=1", server.url());
    for method in [
        reqwest::Method::POST,
        reqwest::Method::HEAD,
        reqwest::Method::GET,
    ] {
        let response = client
            .request(method.clone(), &url)
            .header(KEYS[0].0, KEYS[0].1)
            .header(KEYS[1].0, KEYS[1].1)
            .body("ignored")
            .send()
            .await?;
        let expected = if method == reqwest::Method::GET {
            200
        } else {
            405
        };
        assert_eq!(response.status(), expected, "{method}");
        response.bytes().await?;
    }
    Ok(())
}
