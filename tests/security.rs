//! The security and error-reporting properties we promise: keys never printed, never
//! sent elsewhere by a redirect, never sent in clear text off the machine; TLS compiled in;
//! every error kind a clear sentence.

// Test code: a panic that shows the error is the right way to fail (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use datadog_cnm::{Client, Error, RetryPolicy, Site};
use datadog_cnm_tests::*;
use httpmock::MockServer;

fn client_for(server: &MockServer) -> Client {
    keyed_client(&server.base_url())
}

/// One example of every error kind, as users see it.
#[tokio::test]
async fn error_display_of_every_kind() {
    let mut shown = Vec::new();
    let server = MockServer::start_async().await;
    let client = client_for(&server);
    let invalid = client.connections().limit(9000).send().await.err();
    shown.push(("InvalidInput", invalid.map(|e| e.to_string())));
    let config = Client::builder()
        .base_url("http://example.com")
        .api_key("a")
        .app_key("b")
        .build();
    shown.push(("Config", config.err().map(|e| e.to_string())));
    let refused = refused_client().connections().send().await.err();
    shown.push(("Transport", refused.map(|e| redact_port(&e.to_string()))));
    for (status, body) in [
        (
            400,
            r#"{"errors":[{"status":"400","title":"Invalid limit","detail":"Limit must meet requirements"}]}"#,
        ),
        (403, r#"{"errors":["Forbidden"]}"#),
        (502, "<html><body>Bad Gateway</body></html>"),
        (
            429,
            r#"{"errors":[{"status":"429","title":"Too many requests"}]}"#,
        ),
        (
            200,
            r#"{"data":[{"attributes":{"bytes_sent_by_client":"lots"}}]}"#,
        ),
    ] {
        let server = MockServer::start_async().await;
        server
            .mock_async(|_, then| {
                then.status(status)
                    .header("x-ratelimit-limit", "100")
                    .header("x-ratelimit-period", "60")
                    .header("x-ratelimit-reset", "17")
                    .header("x-ratelimit-name", "cnm_aggregate")
                    .body(body);
            })
            .await;
        let label = match status {
            429 => "RateLimited",
            200 => "Decode",
            _ => "Api",
        };
        let error = client_for(&server).connections().send().await.err();
        shown.push((label, error.map(|e| e.to_string())));
    }
    let text: Vec<String> = shown
        .into_iter()
        .map(|(kind, error)| match error {
            Some(error) => format!("{kind}: {error}"),
            None => panic!("{kind}: no error"),
        })
        .collect();
    insta::assert_snapshot!(text.join("\n"));
}

fn refused_client() -> Client {
    // Bind then drop a listener: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .api_key(API_KEY)
        .app_key(APP_KEY)
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap()
}

/// Ports and times differ between runs; snapshots show `PORT`, `FROM` and `TO`.
fn redact_port(text: &str) -> String {
    let mut out = text.to_owned();
    for (marker, placeholder) in [("127.0.0.1:", "PORT"), ("from=", "FROM"), ("to=", "TO")] {
        let mut redacted = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(at) = rest.find(marker) {
            let (head, tail) = rest.split_at(at + marker.len());
            redacted.push_str(head);
            redacted.push_str(placeholder);
            rest = tail.trim_start_matches(|c: char| c.is_ascii_digit());
        }
        redacted.push_str(rest);
        out = redacted;
    }
    out
}

#[tokio::test]
async fn debug_of_a_configured_client_redacts_the_keys() {
    let client = Client::builder()
        .site(Site::Eu1)
        .api_key(API_KEY)
        .app_key(APP_KEY)
        .retry(RetryPolicy::default().max_attempts(5))
        .timeout(Duration::from_secs(20))
        .proxy("http://proxyuser:proxy-secret@proxy.internal:3128")
        .build()
        .unwrap();
    let debug = format!("{client:?}");
    for secret in [API_KEY, APP_KEY, "proxy-secret", "proxyuser"] {
        assert!(!debug.contains(secret), "{secret} leaked: {debug}");
    }
    insta::assert_snapshot!(format!("{client:#?}"));
    let builder = Client::builder().api_key(API_KEY).bearer_token(TOKEN);
    let debug = format!("{builder:?}");
    assert!(
        !debug.contains(API_KEY) && !debug.contains(TOKEN),
        "{debug}"
    );
    let bearer = Client::builder().bearer_token(TOKEN).build().unwrap();
    assert!(!format!("{bearer:?}").contains(TOKEN));
}

#[tokio::test]
async fn keys_never_appear_in_errors() {
    let server = MockServer::start_async().await;
    // What *we* add: Display/Debug of errors for requests that carried the keys (a server
    // echoing them back is the next test).
    server
        .mock_async(|_, then| {
            then.status(500).body("internal error");
        })
        .await;
    let errors = vec![
        client_for(&server).connections().send().await.err(),
        refused_client().dns().send().await.err(),
        client_for(&server).dns().limit(0).send().await.err(),
        Client::builder()
            .api_key(format!("{API_KEY}\n"))
            .app_key("x\u{7f}")
            .build()
            .err(),
    ];
    for error in errors.into_iter().flatten() {
        for text in [
            error.to_string(),
            format!("{error:?}"),
            format!("{error:#?}"),
        ] {
            assert!(!text.contains(API_KEY) && !text.contains(APP_KEY), "{text}");
        }
    }
}

/// Servers and proxies echo what they were sent ("invalid key …"), and may send terminal
/// escape sequences: errors redact the keys wherever the answer held them, and show
/// control characters escaped.
#[tokio::test]
async fn a_server_echoing_the_keys_is_redacted_and_its_control_characters_escaped() {
    let hostile = "\u{1b}]0;owned\u{7}\u{1b}[2J\r\nline\u{202e}";
    let answers = [
        (
            403,
            format!(
                r#"{{"errors":[{{"title":"Forbidden","detail":"key {API_KEY} / app {APP_KEY} not valid {}"}}]}}"#,
                hostile.escape_default()
            ),
        ),
        (403, format!(r#"{{"errors":["bad key {API_KEY}"]}}"#)),
        (502, format!("upstream refused {APP_KEY} {hostile}")),
        (200, format!(r#"{{"errors":["key {API_KEY} revoked"]}}"#)),
        (
            200,
            format!(r#"{{"data":[{{"attributes":{{"bytes_sent_by_client":"{API_KEY}"}}}}]}}"#),
        ),
        (
            200,
            format!(r#"{{"data":[{{"attributes":{{"group_bys":{{"{APP_KEY}":5}}}}}}]}}"#),
        ),
    ];
    for (status, body) in answers {
        let server = MockServer::start_async().await;
        server
            .mock_async(|_, then| {
                then.status(status).body(&body);
            })
            .await;
        let error = client_for(&server).connections().send().await.unwrap_err();
        let shown = error.to_string();
        for text in [shown.clone(), format!("{error:?}"), format!("{error:#?}")] {
            assert!(
                !text.contains(API_KEY) && !text.contains(APP_KEY),
                "{status} {body}: {text}"
            );
        }
        assert!(shown.contains("** redacted **"), "{status} {body}: {shown}");
        assert!(
            !shown.contains(|c: char| c.is_control() || c == '\u{202e}'),
            "{status} {body}: {shown:?}"
        );
    }
}

#[tokio::test]
async fn a_redirect_to_another_port_never_receives_the_keys() {
    let api = MockServer::start_async().await;
    let elsewhere = MockServer::start_async().await;
    let stolen = elsewhere
        .mock_async(|_, then| {
            then.status(200).body(r#"{"data":[]}"#);
        })
        .await;
    let location = elsewhere.url(CONNECTIONS_PATH);
    api.mock_async(|_, then| {
        then.status(302).header("location", location.as_str());
    })
    .await;
    let result = client_for(&api).connections().send().await;
    stolen.assert_calls_async(0).await;
    match result {
        Err(error) => {
            assert_eq!(error.status(), Some(302));
            assert!(
                error.to_string().contains("redirects are not followed"),
                "{error}"
            );
        }
        Ok(page) => panic!("followed a redirect: {page:?}"),
    }
}

#[test]
fn plain_http_is_refused_except_to_loopback() {
    let build = |url: &str, insecure: bool| {
        Client::builder()
            .base_url(url)
            .api_key(API_KEY)
            .app_key(APP_KEY)
            .allow_insecure_http(insecure)
            .build()
    };
    let refused = build("http://example.com", false);
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("refusing plain http://"), "{message}");
    assert!(build("http://example.com", true).is_ok());
    assert!(build("https://example.com", false).is_ok());
    for loopback in [
        "http://127.0.0.1:8126",
        "http://localhost:1",
        "http://[::1]:9",
    ] {
        assert!(build(loopback, false).is_ok(), "{loopback}");
    }
    assert!(matches!(
        build("ftp://example.com", false),
        Err(Error::Config { .. })
    ));
    assert!(matches!(
        build("not a url", false),
        Err(Error::Config { .. })
    ));
    let bad_proxy = Client::builder()
        .proxy("::not a proxy::")
        .api_key(API_KEY)
        .app_key(APP_KEY)
        .build();
    assert!(matches!(bad_proxy, Err(Error::Config { .. })));
}

/// The TLS backend is compiled in: an `https://` request opens with a TLS ClientHello.
#[tokio::test]
async fn tls_backend_is_compiled_in() {
    use tokio::io::AsyncReadExt;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().map(|a| a.port()).unwrap();
    let accept = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.ok()?;
        let mut head = [0u8; 3];
        socket.read_exact(&mut head).await.ok()?;
        Some(head)
    });
    let client = Client::builder()
        .base_url(format!("https://127.0.0.1:{port}"))
        .api_key(API_KEY)
        .app_key(APP_KEY)
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();
    let result = client.connections().send().await;
    let head = accept.await.ok().flatten();
    // 0x16 = TLS handshake record, 0x03 0x01 = the record-layer version of a ClientHello.
    assert_eq!(
        head.map(|h| h[0]),
        Some(0x16),
        "no TLS ClientHello; got {head:?}"
    );
    assert!(matches!(result, Err(Error::Transport { .. })), "{result:?}");
}
